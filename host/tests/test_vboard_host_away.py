"""The virtual board with a host that is slow, away or gone: unplug, replug
and stop never wait behind output nobody reads, and while no host has the
port open the board's time runs no faster than the wall clock."""
import threading
import time

import pytest
import serial

from leakrig.sim.vboard import VirtualBoard


@pytest.fixture
def board(tmp_path):
    vb = VirtualBoard(flash_dir=tmp_path / "flash").start()
    yield vb
    vb.stop()


def _at_prompt(ser, timeout=30.0):
    ser.write(b"\r\x03\x03\r")
    buf = b""
    deadline = time.monotonic() + timeout
    while b">>> " not in buf and time.monotonic() < deadline:
        buf += ser.read(ser.in_waiting or 1)
    assert b">>> " in buf, buf


def _wait_full(ser, timeout=30.0):
    """Until the host side holds a port's worth of unread output."""
    deadline = time.monotonic() + timeout
    while ser.in_waiting < 2048 and time.monotonic() < deadline:
        time.sleep(0.05)


def _returns_within(call, seconds):
    """Run call in a thread; True if it returned within seconds."""
    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def test_replug_and_unplug_do_not_wait_for_a_host_that_stopped_reading(board):
    ser = serial.Serial(board.port, timeout=0.5)
    try:
        _at_prompt(ser)
        # The VM prints for ever; the host reads no more, so the pty fills
        # and the board's output waits on it.
        ser.write(b"exec(\"while 1: print('x' * 200)\")\r")
        _wait_full(ser)
        time.sleep(0.5)
        assert _returns_within(board.replug, 15), "replug waits for a host that does not read"
        assert _returns_within(board.unplug, 15), "unplug waits for a host that does not read"
    finally:
        ser.close()
    assert _returns_within(board.replug, 15)


def _sleeper(board):
    """The VM at its prompt, in a loop of 100 ms lockstep sleeps."""
    ser = serial.Serial(board.port, timeout=0.5)
    _at_prompt(ser)
    ser.write(b"import time\r")
    ser.write(b"exec('while 1: time.sleep_ms(100)')\r")
    return ser


def test_board_time_is_paced_by_the_wall_clock_while_no_host_listens(board):
    clock = board.hardware.clock
    ser = _sleeper(board)
    # With a host on the port, lockstep time runs free: a minute of board
    # time passes well within this deadline.
    start = clock.now_s
    deadline = time.monotonic() + 120
    while clock.now_s - start < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clock.now_s - start >= 60
    ser.close()
    assert board.host_away()
    # Nobody has the port open: board time follows the wall clock at most.
    board_0, wall_0 = clock.now_s, time.monotonic()
    time.sleep(3.0)
    board_dt, wall_dt = clock.now_s - board_0, time.monotonic() - wall_0
    assert 0 < board_dt <= wall_dt + 0.5, (board_dt, wall_dt)
    # Unplugged is the same.
    with serial.Serial(board.port, timeout=0.5):
        assert not board.host_away()
    board.unplug()
    assert board.host_away()
    board_0, wall_0 = clock.now_s, time.monotonic()
    time.sleep(2.0)
    board_dt, wall_dt = clock.now_s - board_0, time.monotonic() - wall_0
    assert board_dt <= wall_dt + 0.5, (board_dt, wall_dt)
    board.replug()
    # A host back on the port: free running again.
    with serial.Serial(board.port, timeout=0.5):
        start = clock.now_s
        deadline = time.monotonic() + 120
        while clock.now_s - start < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert clock.now_s - start >= 60


def test_a_host_that_reads_slowly_is_still_there(board):
    """A full port (its host has not read yet) is not an absent host: what
    the board writes waits for it instead of being dropped mid-frame."""
    ser = serial.Serial(board.port, timeout=0.5)
    try:
        _at_prompt(ser)
        ser.write(b"exec(\"for i in range(3000): print('line %05d ' % i + 'x' * 60)\")\r")
        _wait_full(ser)
        time.sleep(1.0)  # the port stays full a while: the host is slow, not gone
        assert not board.host_away()
        got = b""
        deadline = time.monotonic() + 120
        while b"line 02999" not in got and time.monotonic() < deadline:
            got += ser.read(65536)
    finally:
        ser.close()
    lines = [ln.strip() for ln in got.split(b"\n") if ln.startswith(b"line ")]
    numbers = [int(ln.split()[1]) for ln in lines]
    assert numbers == list(range(numbers[0], 3000)), "lines lost or cut while the host read slowly"
    assert numbers[0] == 0


def test_a_cable_pulled_by_hand_stays_out_until_replugged(board):
    """unplug() by hand holds until replug(): the pump, which plugs the cable
    back for scheduled link faults, must not undo it, nor leave the board
    half plugged (a port with no device behind it) when the two meet."""
    import os
    for _ in range(20):
        board.unplug()
        time.sleep(0.2)  # several pump turns
        assert not os.path.exists(board.port), "the pump plugged a held cable back in"
        assert board.host_away()
        board.replug()
        assert os.path.exists(board.port)
        with serial.Serial(board.port, timeout=0.5):
            assert not board.host_away()


def test_a_scheduled_unplug_and_a_replug_by_hand_leave_a_working_port(board):
    """unplug_for() and replug() from two threads at once: afterwards the
    port exists and a host that opens it is seen."""
    import os
    for _ in range(30):
        t = threading.Thread(target=board.unplug_for, args=(0.0,))
        t.start()
        board.replug()
        t.join()
        deadline = time.monotonic() + 30
        while not os.path.exists(board.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        with serial.Serial(board.port, timeout=0.5):
            assert not board.host_away()
