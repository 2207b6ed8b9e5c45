"""leakrig monitor: the view from synthetic frames, and --once against a
virtual board in a subprocess."""
import io
import subprocess
import sys

from rich.console import Console

from board_fixture import board  # noqa: F401  (fixture)
from leakrig.link import Frame, LinkStats
from leakrig.monitor import BLOCKS, MonitorState, Trend, sparkline


def test_sparkline():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == BLOCKS
    assert sparkline([None, 5.0, 5.0]) == " " + BLOCKS[4] * 2
    assert sparkline([]) == "" and len(sparkline(range(100), width=20)) == 20


def test_trend_buckets_board_time():
    tr = Trend(span_s=320.0, width=32)  # 10 s buckets
    for i in range(1000):  # 10 Hz for 100 s: a ramp
        tr.add(i / 10.0, float(i))
    vals = tr.values()
    assert len(vals) == 10 and vals[0] == sum(range(100)) / 100.0
    assert all(b > a for a, b in zip(vals, vals[1:]))
    for i in range(300):  # 1 Hz for 300 s more: the oldest buckets go
        tr.add(100.0 + i, 5.0)
    assert len(tr.values()) == 32 and tr.values()[-1] == 5.0
    tr.add(500.0, 7.0)  # a gap of board time: empty buckets between
    vals = tr.values()
    assert len(vals) == 32 and vals[-1] == 7.0 and vals[-2] is None
    tr.add(3.0, 1.0)  # board time went back (a reboot): afresh
    assert tr.values() == [1.0]
    assert tr.label() == "5 min" and Trend(60.0).label() == "60 s"


def _text(renderable):
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(renderable)
    return out.getvalue()


def test_view_shows_values_band_events_and_link_health():
    stats = LinkStats()
    stats.frames, stats.gaps, stats.missing, stats.crc_errors = 500, 2, 7, 3
    state = MonitorState(stats)
    state.feed(Frame(0, "H", {"fw": "0.1.0", "board": "pico", "rate": "10"}, b"", 0))
    for i in range(40):
        state.feed(Frame(i + 1, "S", {"t": "%.1f" % i, "p": str(301234.5 - i), "T": "20.125", "pc": "300100.0",
                                      "q": "0", "r": "-0.0500", "ur": "0.0100", "st": "leak"}, b"", 0))
    state.feed(Frame(99, "E", {"ev": "leak_confirmed", "t": "39.0", "rml": "1.5", "ttm": "27000"}, b"", 0))
    text = _text(state.render("/dev/ttyACM0"))
    for words in (
            "301.195 kPa", "20.125 °C", "300.100 kPa", "-0.0500 Pa/s", "± 0.0100 (1σ)",
            "[-0.0700, -0.0300]", "leak_confirmed", "rml=1.5", "CRC errors   3",
            "2 (7 frames missing)", "pico", "/dev/ttyACM0"):
        assert words in text, (words, text)
    assert BLOCKS[-1] in text and BLOCKS[0] in text  # the falling pressure's sparkline
    assert "last 10 min, range 0.0295 kPa" in text  # bucket means 18.75 s apart


def test_once_against_a_virtual_board(board):
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "monitor", "--port", board.port, "--once",
                        "--wait", "1.5"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "sampling" in out and "fw " in out
    frames = int(out.split("frames")[1].split()[0])
    assert frames > 0, out
    assert "CRC errors   0" in out
    assert " kPa" in out and "°C" in out
    print(out)


def _tail(screen):
    """The end of a terminal's output, escapes dropped, for a failure message."""
    import re
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))
    return text[-1500:]


def test_keys_stop_start_and_quit_on_a_terminal(board):
    """Live mode with a pseudo-terminal as stdin: x stops sampling on the
    board, s starts it again, q quits with exit 0."""
    import os
    import pty
    import time

    from leakrig.remote import ask

    master, slave = pty.openpty()
    # A terminal of a size people use: on a smaller one the live view is
    # taller than the screen and rich cuts it at the bottom ("..."), where
    # the footer that says "sent stop" is (the environment can name a size
    # too, which wins).
    import fcntl
    import struct
    import termios
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "leakrig.cli", "monitor", "--port", board.port],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            env=dict(os.environ, LINES="50", COLUMNS="160"))
    os.close(slave)
    screen = b""

    def pump_until(marker, timeout=30.0):
        """Read the screen until marker shows (or the deadline passes)."""
        nonlocal screen
        import select
        end = time.monotonic() + timeout
        while marker not in screen and time.monotonic() < end:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    screen += os.read(master, 65536)
                except OSError:
                    return

    try:
        pump_until(b"leakrig monitor")
        assert b"leakrig monitor" in screen, _tail(screen)
        os.write(master, b"x")
        pump_until(b"sent stop")
        assert b"sent stop" in screen, _tail(screen)
        os.write(master, b"s")
        pump_until(b"sent start")
        assert b"sent start" in screen, _tail(screen)
        os.write(master, b"q")
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert ask(board.port, "status", timeout=60)["state"] == "running"
