"""`leakrig log --report`: the run's report is drawn when logging ends."""
import subprocess
import sys

from board_fixture import board  # noqa: F401  (fixture)


def test_log_with_report(board, tmp_path):
    out = tmp_path / "run.sqlite"
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "log", "--port", board.port, "--out", str(out),
                        "--samples", "60", "--report", "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    png = tmp_path / "run-report" / "report.png"
    assert "report       %s" % png in r.stdout
    assert png.stat().st_size > 10000
    page = (tmp_path / "run-report" / "report.html").read_text()
    assert 'src="data:image/png;base64,' in page


def test_logger_started_after_the_boot_reads_back_its_start(tmp_path):
    """A logger started shortly after a reset (here after the board has
    already answered a status, so its first frames are gone from the port)
    asks the ring buffer for the boot's start: the log holds the hello (the
    board's name) and every sample from the first, with no gap counted."""
    import sqlite3

    from board_fixture import _answers
    from leakrig.deploy import deploy
    from leakrig.logger import Logger, format_summary
    from leakrig.sim.rig import build_virtual_board

    vb = build_virtual_board("sim", "nominal")
    vb.start()
    try:
        deploy(vb.port, "sim", config={"rate_hz": 10}, progress=lambda s: None)
        assert _answers(vb.port)  # reads (and so loses) the boot's first frames
        logger = Logger(vb.port, str(tmp_path / "run.sqlite"))
        try:
            logger.run(max_samples=40)
        finally:
            logger.close()
    finally:
        vb.stop()
    s = logger.summary()
    assert s["backfilled"] >= 2 and s["gaps"] == 0 and s["lost"] == 0
    assert "read back from the board's ring buffer" in format_summary(s)
    db = sqlite3.connect(str(tmp_path / "run.sqlite"))
    seqs = [r[0] for r in db.execute("SELECT seq FROM samples ORDER BY boot, seq")]
    boots = {r[0] for r in db.execute("SELECT boot FROM samples")}
    assert boots == {0}, "a resent hello is not a new boot"
    assert seqs[0] == 1, seqs[:10]  # the first sample after the hello (seq 0)
    assert db.execute("SELECT board, firmware FROM runs").fetchone() == ("sim", "0.1.0")
    ts = [r[0] for r in db.execute("SELECT t_s FROM samples ORDER BY boot, seq")]
    # every sample from the boot's first (the seq numbers between them went
    # to the replies to the status check): 0.1 s apart after the first
    # cycle, which waits for the first DS18B20 conversion (750 ms)
    assert ts[0] == 0.0 and ts[1] < 1.0, ts[:10]
    assert all(abs(b - a - 0.1) < 1e-6 for a, b in zip(ts[1:], ts[2:])), ts[:10]
    assert abs(s["board_time_s"] - ts[-1]) < 1e-6


def test_log_without_out_names_its_file(board, tmp_path):
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "log", "--port", board.port, "--samples", "5",
                        "--quiet"], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    made = list(tmp_path.glob("leakrig-*.sqlite"))
    assert len(made) == 1 and "leakrig log: logging to %s" % made[0].name in r.stderr
    assert "log          %s" % made[0].name in r.stdout
