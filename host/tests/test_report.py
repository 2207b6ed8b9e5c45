"""leakrig report on a log written through the store from synthetic frames."""
import struct
import subprocess
import sys

from leakrig.report import PANELS, detector_series, make_report
from synthetic_log import write_log


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_png_and_html(tmp_path):
    log = tmp_path / "run.sqlite"
    run_id, n = write_log(log)
    png, html_path, panels, data = make_report(log, tmp_path / "rep")
    assert panels == list(PANELS)
    w, h = png_size(png)
    assert w >= 1000 and h >= 1000
    page = html_path.read_text()
    assert 'src="data:image/png;base64,' in page
    for words in ("leak_suspected", "leak_confirmed", "orbit-soak", "<th>samples</th><td>%d</td>" % n,
                  "<th>CRC errors</th><td>3</td>", "2 (5 frames missing, 5 recovered, 0 lost)",
                  "1.507 mL/min", "minimum pressure in 7.50 h"):
        assert words in page, words
    assert len(data.t) == n and data.compensated[0] is not None


def test_report_command_and_its_mistakes(tmp_path):
    log = tmp_path / "run.sqlite"
    write_log(log, hours=0.2, dt=1.0)
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "report", str(log)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    png, page = r.stdout.split()
    assert png.endswith("run-report/report.png") and page.endswith("report.html")
    for args, words in ((["--run", "7"], "run 7 has no samples"), ([], "no such log")):
        target = str(log) if args else str(tmp_path / "missing.sqlite")
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "report", target] + args,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_report_of_samples_without_values(tmp_path):
    """A board without sensors logs only t and q: the report still renders."""
    from leakrig.link import Frame
    from leakrig.store import Store

    store = Store(tmp_path / "bare.sqlite")
    store.start_run()
    for i in range(50):
        store.add_frame(Frame(i, "S", {"t": "%.1f" % (i / 10), "q": "8"}, b"", 0.0))
    store.end_run({})
    store.close()
    png, page, _, _ = make_report(tmp_path / "bare.sqlite", tmp_path / "r")
    assert png.exists() and "no detector output" in page.read_text()


def test_learning_is_shaded_and_its_values_left_out(tmp_path):
    """A compensated pressure from a thermal model still being fitted (here
    1.25 MPa now and then in the first hour) is not drawn once the log has
    settled values: the span is shaded instead."""
    log = tmp_path / "run.sqlite"
    write_log(log, hours=2.0, dt=2.0, learn_s=3600.0)
    png, _, _, data = make_report(log, tmp_path / "rep")
    assert png.exists()
    compensated, rate, spans, settled = detector_series(data)
    assert settled and len(spans) == 1
    assert spans[0][0] == 0.0 and 3590.0 <= spans[0][1] <= 3602.0
    assert max(data.compensated) == 1.25e6
    shown = [v for v in compensated if v is not None]
    assert shown and max(shown) < 310000.0
    assert all(v is None for v, t in zip(rate, data.t) if t < 3598.0)
    assert all(v is not None for v, t in zip(rate, data.t) if t > 3600.0)


def test_learning_only_log_keeps_its_values(tmp_path):
    """A log that never left learning still shows what the detector said."""
    log = tmp_path / "run.sqlite"
    write_log(log, hours=0.5, dt=2.0, learn_s=1e9)
    _, _, _, data = make_report(log, tmp_path / "rep")
    compensated, rate, spans, settled = detector_series(data)
    assert not settled and len(spans) == 1
    assert compensated == data.compensated and rate == data.rate
