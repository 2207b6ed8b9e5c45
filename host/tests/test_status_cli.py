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
