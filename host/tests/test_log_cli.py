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
