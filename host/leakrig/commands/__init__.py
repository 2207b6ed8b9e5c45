"""One module per `leakrig` subcommand."""
import argparse
import sys
import time


def add(subparsers, name, help, example, description=None):
    """A subparser whose help ends with an example."""
    return subparsers.add_parser(
        name, help=help, description=description or help,
        epilog="example:\n  " + example, formatter_class=argparse.RawDescriptionHelpFormatter)


PORT_HELP = ("serial device or pyserial URL (rfc2217://host:port); default: $LEAKRIG_PORT, "
             "else the one MicroPython board on USB")


def add_port(p):
    """--port, optional: the CLI fills it in before the command runs."""
    p.add_argument("--port", help=PORT_HELP)
    p.set_defaults(_needs_port=True)


class ProgressLine:
    """A progress line on stderr: redrawn in place on a terminal; off one
    (a file, a CI console) a whole line every every_s seconds, not one long
    line of carriage returns."""

    def __init__(self, every_s):
        self.every_s = every_s
        self._last = 0.0
        self.tty = sys.stderr.isatty()

    def show(self, text):
        if self.tty:
            sys.stderr.write("\r" + text + "   ")
        else:
            now = time.monotonic()
            if now - self._last < self.every_s:
                return
            self._last = now
            sys.stderr.write(text + "\n")
        sys.stderr.flush()
