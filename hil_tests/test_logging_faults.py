"""Logging without loss through link faults: an unplug is reconnected and
its gap backfilled from the board's ring buffer; a logger killed with
SIGKILL leaves a store that opens clean and lost at most about a second."""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from board_control import reboot


def _log_cmd(port, out, *extra):
    return [sys.executable, "-m", "leakrig.cli", "log", "--port", port, "--out", str(out), "--quiet"] + list(extra)


def _seqs(db_path):
    db = sqlite3.connect(str(db_path))
    rows = db.execute("SELECT boot, seq FROM samples ORDER BY boot, seq").fetchall()
    db.close()
    return rows


def _wait_storing(proc, out, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists():
            try:
                if _seqs(out):
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.1)


def _finish(proc, out, timeout, rig=None):
    """The logger's output once it ends; if it has not ended in `timeout`
    seconds it is stopped (woken first, if stopped) and the test fails with
    what it said and the store's link events."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    _reap(proc)
    stdout, stderr = proc.communicate()
    events = []
    if out.exists():
        db = sqlite3.connect(str(out))
        events = db.execute("SELECT kind, detail FROM link_events").fetchall()[-30:]
        db.close()
    board = ""
    if rig is not None and rig.simulated:
        vb = rig.vboard
        board = "board: plugged %s, host away %s, port -> %s" % (
            vb._plugged, vb.host_away(), os.path.realpath(vb.port))
    pytest.fail("the logger had not ended after %d s\nstdout: %s\nstderr: %s\nlink events: %s\n%s"
                % (timeout, stdout[-2000:], stderr[-2000:], events, board))


def _reap(proc):
    """Stop a logger for good, even one that was SIGSTOPped: it must not keep
    the port from the tests that follow."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()


def test_unplug_is_reconnected_and_gap_backfilled(dut, rig, tmp_path, record):
    if not rig.simulated:
        pytest.skip("needs a rig that can pull the cable")
    out = tmp_path / "unplug.sqlite"
    dut.samples(3)
    dut.close()
    proc = subprocess.Popen(_log_cmd(dut.port, out, "--board-duration", "600"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Pull the cable once the logger is storing (lockstep time runs as fast
    # as the logger reads, so a fixed wait says nothing about board time).
    _wait_storing(proc, out)
    try:
        rig.unplug(board_seconds=5.0)
        stdout, stderr = _finish(proc, out, timeout=120)
    finally:
        _reap(proc)
    assert proc.returncode == 0, stderr
    seqs = [s for b, s in _seqs(out)]
    db = sqlite3.connect(str(out))
    reconnects = db.execute("SELECT count(*) FROM link_events WHERE kind='reconnect'").fetchone()[0]
    gaps = db.execute("SELECT count(*) FROM link_events WHERE kind='gap'").fetchone()[0]
    db.close()
    record("reconnects", reconnects, "", low=1)
    record("gaps_seen", gaps, "", low=1)
    record("samples_stored", len(seqs), "", low=300)
    assert "recovered" in stdout
    lost_line = [ln for ln in stdout.splitlines() if ln.startswith("gaps")][0]
    lost = int(lost_line.split("recovered by resend,")[1].split()[0])
    record("frames_lost_after_backfill", lost, "frames", high=0)


def test_logger_killed_leaves_clean_store(dut, tmp_path, record):
    out = tmp_path / "kill.sqlite"
    # In lockstep time the board runs on while the restarted logger's resend
    # request travels: hundreds of frames a second, more on a loaded host.
    # A ring of 1024 frames (and the bytes to hold them) keeps what this test checks (the backfill from
    # the ring) apart from how busy the host is.
    dut.configure(ring_frames=1024, ring_bytes=1024 * 192)
    reboot(dut)
    dut.close()
    proc = subprocess.Popen(_log_cmd(dut.port, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4.0)
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(str(out))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n, last = db.execute("SELECT count(*), max(host_utc) FROM samples").fetchone()
    db.close()
    record("samples_kept", n, "", low=1)
    record("unsaved_window_s", round(killed_at - last, 2), "s", high=1.5)

    # A logger started again on the same store asks the board for what the
    # killed one had read but not committed, and what came while none ran.
    again = subprocess.run(_log_cmd(dut.port, out, "--board-duration", "5"),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    db = sqlite3.connect(str(out))
    runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    resumed = db.execute("SELECT count(*) FROM link_events WHERE kind='resume'").fetchone()[0]
    lo, hi, distinct = db.execute("SELECT min(seq), max(seq), count(DISTINCT seq) FROM "
                                  "(SELECT seq FROM samples UNION ALL SELECT seq FROM events)").fetchone()
    db.close()
    assert runs == 2 and resumed == 1
    # Replies to commands use sequence numbers too and are not stored: count
    # only what the second logger reported lost.
    lost_line = [ln for ln in again.stdout.splitlines() if ln.startswith("gaps")][0]
    m = re.search(r"(\d+) frames missing, (\d+) recovered by resend, (\d+) lost", lost_line)
    missing, recovered, lost = (int(x) for x in m.groups())
    record("frames_missing_at_restart", missing, "frames", low=1)
    record("frames_recovered_after_restart", recovered, "frames", low=1)
    # The board holds its last ring_frames frames: what was missed beyond
    # those is gone (in lockstep time the killed logger's unsaved half
    # second can be hundreds of frames).
    ring = int(dut.command("config get ring_frames")["ring_frames"])
    print(again.stdout)  # shown when the test fails: the second logger's summary
    db = sqlite3.connect(str(out))
    print(db.execute("SELECT kind, detail FROM link_events").fetchall()[-40:])
    db.close()
    record("frames_lost_across_restart", lost, "frames", high=max(0, missing - ring))
    assert hi - lo + 1 - distinct <= 3 + lost, (lo, hi, distinct)  # status replies are not stored



def test_host_slow_to_reconnect_loses_nothing(dut, rig, tmp_path, record):
    """The cable is out for a few seconds and the host takes seconds more
    to come back (here: the logger is stopped meanwhile). A board's time
    runs on at its own pace, not the VM's, so its ring still holds all it
    wrote."""
    if not rig.simulated:
        pytest.skip("needs a rig that can pull the cable")
    out = tmp_path / "slow-host.sqlite"
    dut.samples(3)
    dut.close()
    proc = subprocess.Popen(_log_cmd(dut.port, out, "--board-duration", "30"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_storing(proc, out)
        os.kill(proc.pid, signal.SIGSTOP)
        board_0, wall_0 = rig.clock.now_s, time.monotonic()
        rig.unplug()
        time.sleep(2.0)
        rig.replug()
        time.sleep(3.0)  # the host is away 3 s more after the replug
        board_away = rig.clock.now_s - board_0
        wall_away = time.monotonic() - wall_0
        os.kill(proc.pid, signal.SIGCONT)
        stdout, stderr = _finish(proc, out, timeout=120, rig=rig)
    finally:
        _reap(proc)
    assert proc.returncode == 0, stderr
    record("board_time_while_host_away_s", round(board_away, 2), "s", high=round(wall_away + 1.0, 2))
    lost_line = [ln for ln in stdout.splitlines() if ln.startswith("gaps")][0]
    m = re.search(r"(\d+) frames missing, (\d+) recovered by resend, (\d+) lost", lost_line)
    missing, recovered, lost = (int(x) for x in m.groups())
    record("frames_missing_while_away", missing, "frames", low=1)
    record("frames_lost_after_backfill", lost, "frames", high=0)
