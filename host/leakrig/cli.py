"""The `leakrig` command. Each subcommand is a module in leakrig.commands with
add_parser(subparsers) and run(args) -> exit code; a new one is one row in
COMMANDS."""
import argparse
import importlib
import sys

from .errors import UserError

COMMANDS = ("sim", "deploy", "log", "status", "export", "demo", "mpy", "ports", "config", "calibrate", "decay", "report", "monitor", "analyze")


def _version():
    from importlib.metadata import PackageNotFoundError, version

    from . import fwpath  # noqa: F401  (puts the firmware on the path)
    from leakrig_fw import VERSION

    try:
        host = version("leakrig")
    except PackageNotFoundError:
        host = "?"
    return "leakrig %s (firmware %s)" % (host, VERSION)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="leakrig",
        description="Leak detection for coolant test loops: deploy to a board, "
                    "log and watch its telemetry, replay the detector, simulate a rig.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module("leakrig.commands." + name)
        p = module.add_parser(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "_needs_port", False) and not args.port:
            from .ports import resolve_port

            args.port, how = resolve_port(args.port)
            print("leakrig %s: port %s (%s)" % (args.command, args.port, how), file=sys.stderr)
        return args._run(args) or 0
    except UserError as exc:
        print("leakrig %s: error: %s" % (args.command, exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("leakrig %s: interrupted" % args.command, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`leakrig status | head -2`):
        # stop quietly, and keep Python from complaining at exit as well
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
