"""`leakrig status`: exit 0 when the board answers, non-zero with one clear
line when it does not (no port, or a port with no firmware behind it)."""
import os
import pty
import subprocess
import sys

from board_fixture import board  # noqa: F401  (fixture)


def leakrig(*args):
    return subprocess.run([sys.executable, "-m", "leakrig.cli"] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_status_answers(board):
    r = leakrig("status", "--port", board.port)
    assert r.returncode == 0, r.stderr
    assert "running" in r.stdout and "sim" in r.stdout


def test_status_silent_port_fails_with_one_line():
    master, slave = pty.openpty()
    try:
        r = leakrig("status", "--port", os.ttyname(slave), "--timeout", "1")
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode != 0
    assert "no answer" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_status_missing_port_fails_with_one_line():
    r = leakrig("status", "--port", "/dev/no-such-port")
    assert r.returncode != 0
    assert "no such port" in r.stderr and "Traceback" not in r.stderr


def test_status_at_repl_says_so_and_reset_brings_the_firmware_back(board, tmp_path):
    """After mpremote has stopped the firmware (a soft reset from the raw REPL
    leaves a board at its prompt without running main.py), status and log
    name the REPL and the way out; the reset they name brings the firmware
    back."""
    from leakrig.deploy import mpremote

    mpremote(board.port, "soft-reset")
    r = leakrig("status", "--port", board.port, "--timeout", "2")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "friendly REPL" in r.stderr and "mpremote connect %s reset" % board.port in r.stderr
    # A logger started on it warns once the port has been silent, says why,
    # and ends with an error, not an empty log and exit 0.
    r = leakrig("log", "--port", board.port, "--out", str(tmp_path / "run.sqlite"),
                "--duration", "6.5", "--quiet")
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith("leakrig log: warning: no frames from %s for 5 s" % board.port)
    assert "friendly REPL" in lines[0]
    assert "nothing was logged" in lines[1]
    # and the monitor says so on its screen
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "monitor", "--port", board.port, "--once",
                        "--wait", "0.5"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, COLUMNS="200", LEAKRIG_ANSWER_TIMEOUT="3"))
    assert "the board is at its REPL, not running the firmware" in r.stdout, r.stdout
    mpremote(board.port, "reset")
    r = leakrig("status", "--port", board.port, "--timeout", "60")
    assert r.returncode == 0, r.stderr


def test_repl_state_reads_the_prompt():
    from leakrig.link import repl_state

    assert repl_state(b"SyntaxError: invalid syntax\n>>> ") == "friendly"
    assert repl_state(b"raw REPL; CTRL-B to exit\r\n>") == "raw"
    assert repl_state(b"OK\x04\x04>") == "raw"
    assert repl_state(b"") is None
    assert repl_state(b"noise on the line") is None
    assert repl_state(b"x >>> then more text") is None


def test_version_names_host_and_firmware():
    from leakrig_fw import VERSION

    r = leakrig("--version")
    assert r.returncode == 0
    assert r.stdout.strip().startswith("leakrig ") and r.stdout.strip().endswith("(firmware %s)" % VERSION)


def test_output_into_a_closed_pipe_is_no_traceback(tmp_path):
    """`leakrig ... | head -1`: the reader goes away; no traceback."""
    from synthetic_log import write_log

    log = tmp_path / "run.sqlite"
    write_log(log, hours=1.0)
    r = subprocess.run("%s -m leakrig.cli export %s --csv - | head -1" % (sys.executable, log), shell=True,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith("t_s,") and "Traceback" not in r.stderr, r.stderr
