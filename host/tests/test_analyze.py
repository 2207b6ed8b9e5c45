"""`leakrig analyze` end to end in a subprocess."""
import json
import sqlite3
import subprocess
import sys

from leakrig.synth import Trace


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "leakrig.cli", "analyze", *args],
                          capture_output=True, text=True, timeout=120)


def _trace_rows(seconds=900):
    tr = Trace(seed=9, dt=0.1, orbital_k=0.0, leak_ml_min=1.0, leak_onset_s=400.0)
    return list(tr.samples(seconds))


def test_csv_json_events_and_summary(tmp_path):
    path = tmp_path / "run.csv"
    with open(path, "w") as f:
        f.write("t_s,pressure_pa,temperature_c,quality,note\n")
        for t, p, temp in _trace_rows():
            f.write("%.1f,%.2f,%.4f,0,x\n" % (t, p, temp))
    r = _cli(str(path), "--json", "--param", "learn_s=120", "--param", "compliance_ml_per_kpa=3.3")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    events = lines[:-1]
    summary = lines[-1]["summary"]
    detected = [e for e in events if e["event"] == "leak_detected"]
    assert detected and 400.0 < detected[0]["t_s"] < 460.0
    assert detected[0]["rate_pa_s"] < 0 and "time_to_min_s" in detected[0]
    assert summary["samples"] == 9000 and summary["events"] == len(events)
    assert abs(summary["rate_ml_min"] - 1.0) < 0.1
    table = _cli(str(path), "--param", "learn_s=120")
    assert table.returncode == 0 and "leak_detected" in table.stdout


def test_sqlite_log(tmp_path):
    path = tmp_path / "run.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE samples (run_id INTEGER, boot INTEGER, seq INTEGER, t_s REAL, "
               "pressure_pa REAL, temperature_c REAL, quality INTEGER)")
    db.executemany("INSERT INTO samples VALUES (1, 0, ?, ?, ?, ?, 0)",
                   [(i, t, p, temp) for i, (t, p, temp) in enumerate(_trace_rows())])
    db.commit()
    db.close()
    r = _cli(str(path), "--json", "--param", "learn_s=120")
    assert r.returncode == 0, r.stderr
    assert any(json.loads(x).get("event") == "leak_detected" for x in r.stdout.splitlines())


def test_bad_files_give_one_line_and_nonzero_exit(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"t_s,pressure_pa,temperature_c\n1,abc,2\n")
    for path in (bad, garbage, tmp_path / "missing.csv"):
        r = _cli(str(path))
        assert r.returncode != 0
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_replaying_a_board_log_gives_the_boards_events(tmp_path):
    """The firmware's detector reads its values as sent, so `leakrig
    analyze` on the log of a run repeats the board's own events: the same
    names at the same times with the same rates and forecasts."""
    import json

    from leakrig.deploy import deploy
    from leakrig.logger import Logger
    from leakrig.sim.rig import build_virtual_board

    log = tmp_path / "run.sqlite"
    vb = build_virtual_board("sim", "intermittent")  # 0.6 mm, open 2 min in every 10, from 30 min
    vb.start()
    try:
        deploy(vb.port, "sim", config={"rate_hz": 1, "detector": {"learn_s": 900}}, progress=lambda s: None)
        logger = Logger(vb.port, str(log))
        try:
            logger.run(board_duration_s=2700, duration_s=240)
        finally:
            logger.close()
    finally:
        vb.stop()
    board = [(float(e["t"]), e["ev"], e.get("r"), e.get("ttm")) for e in logger.events
             if e.get("ev") in ("leak_suspected", "leak_detected", "gross_leak", "cleared", "sensor_fault")]
    assert board and board[0][0] > 1800.0, board  # nothing before the leak opens

    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "analyze", str(log), "--json",
                        "--param", "learn_s=900"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    replay = [json.loads(ln) for ln in r.stdout.splitlines()]
    replay = [(e["t_s"], e["event"], "%.4f" % e["rate_pa_s"],
               None if e["time_to_min_s"] is None else "%.0f" % e["time_to_min_s"])
              for e in replay if "event" in e]
    assert replay == board, (replay, board)


def test_replay_follows_a_zero_made_during_the_run(tmp_path):
    """A `zeroed` event in a log makes the replay shift the detector before
    the next sample, as the board did: no fault where the readings step."""
    import random

    from leakrig.analyze import read_samples, read_shifts, replay
    from leakrig.link import Frame
    from leakrig.store import Store

    rng = random.Random(5)
    store = Store(tmp_path / "run.sqlite")
    store.start_run()
    seq = 0
    for i in range(3000):
        t = i * 0.1
        p = 300000.0 + rng.gauss(0, 20.0) - (198675.0 if i >= 2000 else 0.0)
        if i == 2000:
            store.add_frame(Frame(seq, "E", {"ev": "zeroed", "t": "%.3f" % t, "offset": "198675.000",
                                             "shift": "198675.000"}, b"", 0.0))
            seq += 1
        store.add_frame(Frame(seq, "S", {"t": "%.3f" % t, "p": "%.3f" % p, "T": "20.000", "q": "0"}, b"", 0.0))
        seq += 1
    store.end_run({})
    store.close()
    path = str(tmp_path / "run.sqlite")
    assert read_shifts(path) == {2000: 198675.0}
    events, _ = replay(read_samples(path), {"learn_s": 60.0}, read_shifts(path))
    assert "sensor_fault" not in [e["event"] for e in events]
    events, _ = replay(read_samples(path), {"learn_s": 60.0})
    assert "sensor_fault" in [e["event"] for e in events]


def test_replay_reports_progress():
    from leakrig.analyze import replay

    calls = []
    samples = [(i * 0.1, 300000.0 + (i % 7), 20.0, 0) for i in range(25000)]
    replay(samples, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(10000, 25000), (20000, 25000)]


def test_a_single_precision_board_log_replays_exactly_on_the_32bit_vm(tmp_path):
    """A log from a board-faithful virtual Pico (32-bit VM, single precision):
    `leakrig analyze` replays it on the same kind of VM and gives the
    board's own events, with rates and forecasts equal to the digit."""
    import pytest

    from leakrig.deploy import deploy
    from leakrig.logger import Logger
    from leakrig.sim import vmenv
    from leakrig.sim.rig import build_virtual_board

    if not vmenv.mcu32_binary():
        pytest.skip("no 32-bit single-precision VM (docs/boards.md)")
    log = tmp_path / "pico.sqlite"
    vb = build_virtual_board("pico", "intermittent")
    assert vb.faithful
    vb.start()
    try:
        deploy(vb.port, "pico", config={"rate_hz": 1, "detector": {"learn_s": 900}}, progress=lambda s: None)
        logger = Logger(vb.port, str(log))
        try:
            logger.run(board_duration_s=2700, duration_s=240)
        finally:
            logger.close()
    finally:
        vb.stop()
    board = [(float(e["t"]), e["ev"], e.get("r"), e.get("ttm")) for e in logger.events
             if e.get("ev") in ("leak_suspected", "leak_detected", "gross_leak", "cleared", "sensor_fault")]
    assert board and board[0][0] > 1800.0, board

    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "analyze", str(log), "--json",
                        "--param", "learn_s=900"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    replay = [json.loads(ln) for ln in r.stdout.splitlines()]
    replay = [(e["t_s"], e["event"], "%.4f" % e["rate_pa_s"],
               None if e["time_to_min_s"] is None else "%.0f" % e["time_to_min_s"])
              for e in replay if "event" in e]
    assert replay == board, (replay, board)


def _write_csv(path, rows):
    with open(path, "w") as f:
        f.write("t_s,pressure_pa,temperature_c\n")
        for t, p, temp in rows:
            f.write("%.1f,%.3f,%.3f\n" % (t, p, temp))


def _track_lines(stdout):
    return [x for x in (json.loads(ln) for ln in stdout.splitlines()) if "event" not in x and "summary" not in x]


def test_every_adds_the_detectors_output_per_interval_as_json_and_csv(tmp_path):
    """--every 10 over 900 s of data: 89 rows (one per 10 s after the first
    sample), in time order among the events, with the rate, its sigma, the
    compensated pressure and the forecast; --csv writes the same rows."""
    import csv as csvmod

    path = tmp_path / "run.csv"
    _write_csv(path, _trace_rows())
    out = tmp_path / "track.csv"
    r = _cli(str(path), "--json", "--every", "10", "--csv", str(out), "--param", "learn_s=120",
             "--param", "min_pressure_pa=250000")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    track = _track_lines(r.stdout)
    assert len(track) == 89
    assert [row["t_s"] for row in track] == [round(0.1 + 10.0 * (k + 1), 1) for k in range(89)]
    times = [x["t_s"] for x in lines[:-1]]
    assert times == sorted(times) and "summary" in lines[-1]
    for row in track:
        assert set(row) == {"t_s", "state", "rate_pa_s", "rate_sigma_pa_s", "pc_pa", "time_to_min_s"}
    late = [row for row in track if row["t_s"] > 500.0]
    assert all(row["state"] == "leak" for row in late)
    truth = Trace(leak_ml_min=1.0).leak_pa_s
    assert all(abs(row["rate_pa_s"] - truth) < 3.0 * row["rate_sigma_pa_s"] + 0.05 * abs(truth)
               for row in late)
    assert all(row["time_to_min_s"] and row["time_to_min_s"] > 0 for row in late)
    with open(out, newline="") as f:
        table = list(csvmod.DictReader(f))
    assert len(table) == 89
    assert [float(x["rate_pa_s"]) for x in table] == [row["rate_pa_s"] for row in track]
    assert [float(x["pc_pa"]) for x in table] == [row["pc_pa"] for row in track]
    bad = _cli(str(path), "--every", "0")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_every_on_the_32bit_vm_gives_the_same_rows(tmp_path):
    """The VM replay emits a tracking line per interval too: the same times
    and states, rates within single precision of the double replay."""
    import pytest

    from leakrig.sim import vmenv

    if not vmenv.mcu32_binary():
        pytest.skip("no 32-bit single-precision VM (docs/boards.md)")
    path = tmp_path / "run.csv"
    _write_csv(path, _trace_rows())
    png = tmp_path / "track.png"
    runs = [_cli(str(path), "--json", "--every", "30", "--param", "learn_s=120", "--vm", vm, "--png", str(png))
            for vm in ("host", "mcu32")]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    host, vm = (_track_lines(r.stdout) for r in runs)
    assert len(host) == len(vm) == 29
    assert [(x["t_s"], x["state"]) for x in host] == [(x["t_s"], x["state"]) for x in vm]
    for a, b in zip(host, vm):
        assert abs(a["rate_pa_s"] - b["rate_pa_s"]) <= 0.01 * abs(a["rate_pa_s"]) + 0.01
        assert abs(a["pc_pa"] - b["pc_pa"]) < 1.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
