"""`leakrig demo` (what `make demo` runs), cut short: a fresh virtual board,
the firmware deployed, a log, a summary and a report, and a second run that
starts from a fresh board again."""
import subprocess
import sys


def demo(out):
    return subprocess.run([sys.executable, "-m", "leakrig.cli", "demo", "--scenario", "nominal",
                           "--hours", "0.1", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)


def test_demo_logs_summarises_and_reports(tmp_path):
    out = tmp_path / "demo"
    r = demo(out)
    assert r.returncode == 0, r.stderr
    lines = dict(ln.split(None, 1) for ln in r.stdout.splitlines() if ln and not ln.startswith(" "))
    assert int(lines["samples"].split()[0]) >= 360
    assert lines["gaps"].startswith("0 ") and lines["CRC"] == "errors   0"
    assert lines["log"].strip() == str(out / "run.sqlite")
    assert (out / "run-report" / "report.png").stat().st_size > 10000
    assert (out / "run-report" / "report.html").exists()
    # Off a terminal, progress comes as whole lines, not carriage returns.
    assert "\r" not in r.stderr and "Traceback" not in r.stderr
    assert "demo: deploy: copied" in r.stderr
    first = [ln for ln in r.stderr.splitlines() if "deploy: copied" in ln][0]

    # The second run wipes the flash: the same files are copied again, so
    # no firmware ran before the deploy to move the rig's clock.
    r = demo(out)
    assert r.returncode == 0, r.stderr
    assert [ln for ln in r.stderr.splitlines() if "deploy: copied" in ln][0] == first
    assert ", 0 already there" in first


def test_demo_refuses_what_it_cannot_run(tmp_path):
    for args, words in ((["--hours", "-1"], "--hours must be positive"),
                        (["--rate", "0"], "--rate must be between 0.01 and 1000 Hz"),
                        (["--scenario", "nope"], "Unknown scenario 'nope'")):
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "demo", "--out", str(tmp_path / "d")] + args,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
