"""leakrig monitor: a live terminal view of a board's telemetry."""
import select
import sys
import time

from . import add, add_port
from ..errors import LinkError


def add_parser(sub):
    p = add(sub, "monitor", "live view: pressure, temperature, leak rate with its band, events, link health",
            "leakrig monitor --port /dev/ttyACM0",
            description="A live terminal view of the board's telemetry. Keys (when stdin is a "
                        "terminal): s starts sampling, x stops it, q quits. It does not log: run "
                        "`leakrig log` for a record. --once prints one snapshot and exits.")
    add_port(p)
    p.add_argument("--once", action="store_true", help="print one snapshot after --wait seconds and exit")
    p.add_argument("--wait", type=float, default=2.0, help="--once: seconds of telemetry to gather (default 2)")
    p.add_argument("--trend", type=float, default=10.0,
                   help="minutes of board time the sparklines cover (default 10)")
    p.add_argument("--refresh", type=float, default=4.0, help="screen refreshes per second (default 4)")
    return p


class _Keys:
    """Single key presses from a terminal, without blocking; nothing when
    stdin is not a terminal."""

    def __init__(self):
        self.fd = None
        if sys.stdin.isatty():
            import termios
            import tty
            self.fd = sys.stdin.fileno()
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def read(self):
        if self.fd is None:
            return ""
        import os
        out = ""
        while select.select([self.fd], [], [], 0)[0]:
            out += os.read(self.fd, 32).decode(errors="ignore")
        return out

    def close(self):
        if self.fd is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


def _status(link, state):
    from ..remote import answer_timeout, check
    try:
        state.on_status(check(link.command("status", timeout=answer_timeout(3.0)), "status"))
    except LinkError:
        from ..link import repl_state

        if repl_state(link.reader.text_tail):
            state.message = "the board is at its REPL, not running the firmware: mpremote connect PORT reset"
        else:
            state.message = "no answer to status"


def run(args):
    from rich.console import Console
    from rich.live import Live

    from ..link import BoardLink
    from ..monitor import MonitorState

    if not args.trend > 0:
        from ..errors import UserError

        raise UserError("--trend must be a positive number of minutes, not %g" % args.trend)
    link = BoardLink(args.port)
    state = MonitorState(link.stats, trend_s=args.trend * 60.0)
    console = Console()
    try:
        _status(link, state)
        if args.once:
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline:
                for f in link.read_frames():
                    state.feed(f)
            console.print(state.render(args.port))
            return 0
        keys = _Keys()
        try:
            with Live(state.render(args.port), console=console, refresh_per_second=args.refresh,
                      screen=False) as live:
                next_draw = 0.0
                while True:
                    try:
                        for f in link.read_frames():
                            state.feed(f)
                    except LinkError:
                        link = _reopen(link, state, args.port)
                    for key in keys.read().lower():
                        if key == "q":
                            return 0
                        if key in "sx":
                            _command(link, state, "start" if key == "s" else "stop")
                    now = time.monotonic()
                    if now >= next_draw:
                        live.update(state.render(args.port))
                        next_draw = now + 1.0 / args.refresh
        except KeyboardInterrupt:
            return 0
        finally:
            keys.close()
    finally:
        link.close()


def _command(link, state, text):
    from ..remote import answer_timeout, check
    try:
        check(link.command(text, timeout=answer_timeout(3.0)), text)
        state.sampling = text == "start"
        state.message = "sent %s" % text
    except LinkError as exc:
        state.message = str(exc)


def _reopen(link, state, port):
    """After an unplug: keep the screen, retry the port once a second."""
    from ..link import BoardLink
    link.close()
    state.message = "port lost, reconnecting"
    while True:
        time.sleep(1.0)
        try:
            new = BoardLink(port)
        except LinkError:
            continue
        new.stats = state.stats
        new.reader.stats = state.stats
        state.stats.reconnects += 1
        state.message = "reconnected"
        return new
