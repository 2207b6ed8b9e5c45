"""One module per `leakrig` subcommand."""
import argparse


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
