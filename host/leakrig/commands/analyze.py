"""leakrig analyze: replay the firmware's detector over a CSV or a log."""
import json
import sys

from . import add
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "analyze", "run the board's leak detector offline over a CSV or a SQLite log",
            "leakrig analyze run.csv --json --param compliance_ml_per_kpa=3.3")
    p.add_argument("input", help="CSV with a header naming t_s,pressure_pa,temperature_c "
                                 "(quality optional), or a leakrig SQLite log")
    p.add_argument("--json", action="store_true", help="one JSON object per line, then a summary line")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="detector parameter (docs/detector.md), repeatable")
    p.add_argument("--config", help="board config JSON; its \"detector\" object gives parameters")
    p.add_argument("--every", type=float, metavar="S",
                   help="also the detector's output (state, rate and its sigma, compensated pressure, "
                        "time to minimum) once per S seconds of data: JSON lines with --json, "
                        "and in --csv")
    p.add_argument("--csv", metavar="OUT", help="write those per-S rows as a CSV table to OUT "
                                                "(every 10 s unless --every says)")
    p.add_argument("--png", metavar="OUT", help="draw them (compensated pressure, rate with its "
                                                "band) to OUT, as the report's panels")
    p.add_argument("--vm", default="auto", metavar="WHERE",
                   help="where the detector runs: auto (a log from a 32-bit single-precision board "
                        "replays on the 32-bit VM, with that board's arithmetic), host (this Python, "
                        "double precision), mcu32, or a MicroPython binary's path")
    return p


def _where(args, board_name):
    """(binary or None for this Python, board definition or None)."""
    import os

    from .. import boards
    from ..sim import vmenv

    board_def = None
    if board_name:
        try:
            board_def = boards.load(board_name)
        except (UserError, OSError):
            board_def = None
    choice = args.vm
    if choice == "host":
        return None, board_def
    if choice == "mcu32":
        found = vmenv.mcu32_binary()
        if not found:
            raise UserError("--vm mcu32: no %s found (see docs/boards.md)" % vmenv.MCU32_NAME)
        return found, board_def
    if choice != "auto":
        if not os.access(choice, os.X_OK):
            raise UserError("--vm %s: not an executable MicroPython" % choice)
        return choice, board_def
    if board_def is None or board_def.get("mcu", "unix") == "unix":
        return None, board_def
    found = vmenv.mcu32_binary()
    if not found:
        sys.stderr.write("leakrig: the log is from %s (single precision); replaying in double "
                         "precision, so rates may differ in the last digits (install %s: "
                         "docs/boards.md)\n" % (board_name, vmenv.MCU32_NAME))
        return None, board_def
    return found, board_def


def _params(args):
    params = {}
    if args.config:
        try:
            with open(args.config) as f:
                cfg = json.load(f)
        except (OSError, ValueError) as exc:
            raise UserError("cannot read config %s: %s" % (args.config, exc))
        params.update(cfg.get("detector") or {})
        for key in ("min_pressure_pa", "compliance_ml_per_kpa"):
            if key in cfg and key not in params:
                params[key] = cfg[key]
    for item in args.param:
        name, sep, value = item.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise UserError("--param wants NAME=NUMBER, got %r" % item)
    return params


def run(args):
    from .. import analyze

    every_s = args.every
    if every_s is not None and not every_s > 0:
        raise UserError("--every wants a positive number of seconds, got %g" % every_s)
    if every_s is None and (args.csv or args.png):
        every_s = 10.0
    track = [] if every_s else None
    samples = analyze.read_samples(args.input)
    binary, board_def = _where(args, analyze.log_board(args.input))
    # the board definition's detector defaults, as deployed, under what is given here
    params = dict(((board_def or {}).get("config") or {}).get("detector") or {})
    params.update(_params(args))
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    # a bar on a terminal only, and only for a log long enough to wait for
    with Progress(TextColumn("replaying"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=console, transient=True,
                  disable=not console.is_terminal or len(samples) < 50000) as bar:
        task = bar.add_task("replay", total=len(samples))
        try:
            show = lambda done, total: bar.update(task, completed=done)  # noqa: E731
            shifts = analyze.read_shifts(args.input)
            if binary is None:
                events, summary = analyze.replay(samples, params, shifts, progress=show,
                                                 every_s=every_s, track=track)
            else:
                events, summary = analyze.replay_on_vm(samples, params, shifts, progress=show,
                                                       binary=binary, every_s=every_s, track=track)
        except ValueError as exc:
            raise UserError(str(exc))
    if args.csv:
        analyze.write_track_csv(track, args.csv)
    if args.png:
        from ..report import render_track_png

        try:
            render_track_png(track, args.png, title="leakrig analyze %s" % args.input,
                             min_pressure_pa=params.get("min_pressure_pa"))
        except OSError as exc:
            raise UserError("cannot write %s: %s" % (args.png, exc.strerror or exc))
    if args.json:
        analyze.print_json(events, summary, sys.stdout, track if args.every else ())
    else:
        analyze.print_table(events, summary, sys.stdout)
    return 0
