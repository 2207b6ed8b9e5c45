"""A logger killed with SIGKILL keeps what it read up to about a second
before the kill, at any frame rate: at a low rate the 128-row commit
trigger never fires, so only the 0.5 s commit interval keeps the promise.
The board is a pty the test writes 20 sample frames a second into."""
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import time
import tty

from leakrig import fwpath  # noqa: F401
from leakrig_fw import frame

RATE_HZ = 20
STREAM_S = 3.0
UNSAVED_S = 1.5  # the guarantee: at most about 1 s unsaved (docs/reliability.md)


def _runs(path):
    try:
        db = sqlite3.connect(str(path))
        try:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_logger_killed_at_a_low_rate_keeps_all_but_the_last_second(tmp_path):
    out = tmp_path / "slow.sqlite"
    master, slave = pty.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    proc = subprocess.Popen([sys.executable, "-m", "leakrig.cli", "log", "--port", port, "--out", str(out),
                             "--quiet", "--no-resend"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _runs(out):  # the logger is up once its run is stored
            assert proc.poll() is None and time.monotonic() < deadline, "logger did not start"
            time.sleep(0.05)
        os.write(master, frame.encode(0, "H", [("fw", "0.1.0"), ("board", "pico"), ("rate", RATE_HZ)]))
        written = []  # (time written, seq)
        start = time.time()
        seq = 0
        while time.time() - start < STREAM_S:
            seq += 1
            os.write(master, frame.encode(seq, "S", [("t", "%.2f" % (seq / RATE_HZ)), ("p", "300000.0"),
                                                     ("T", "20.0"), ("q", 0), ("r", "0.0"), ("ur", "0.1"),
                                                     ("st", "ok")]))
            written.append((time.time(), seq))
            time.sleep(1.0 / RATE_HZ)
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    db = sqlite3.connect(str(out))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = [s for (s,) in db.execute("SELECT seq FROM samples ORDER BY seq")]
    db.close()
    assert len(written) < 128  # the row trigger alone would commit none of them
    due = [s for t, s in written if t <= killed_at - UNSAVED_S]
    assert len(due) >= RATE_HZ  # a second of frames that must have been kept
    assert stored[:len(due)] == due, (len(stored), len(due))
