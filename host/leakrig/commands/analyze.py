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
    return p


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

    params = _params(args)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    samples = analyze.read_samples(args.input)
    console = Console(stderr=True)
    # a bar on a terminal only, and only for a log long enough to wait for
    with Progress(TextColumn("replaying"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=console, transient=True,
                  disable=not console.is_terminal or len(samples) < 50000) as bar:
        task = bar.add_task("replay", total=len(samples))
        try:
            events, summary = analyze.replay(samples, params, analyze.read_shifts(args.input),
                                             progress=lambda done, total: bar.update(task, completed=done))
        except ValueError as exc:
            raise UserError(str(exc))
    if args.json:
        analyze.print_json(events, summary, sys.stdout)
    else:
        analyze.print_table(events, summary, sys.stdout)
    return 0
