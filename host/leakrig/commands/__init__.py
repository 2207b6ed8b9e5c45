"""One module per `leakrig` subcommand."""
import argparse


def add(subparsers, name, help, example, description=None):
    """A subparser whose help ends with an example."""
    return subparsers.add_parser(
        name, help=help, description=description or help,
        epilog="example:\n  " + example, formatter_class=argparse.RawDescriptionHelpFormatter)
