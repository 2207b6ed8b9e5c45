"""leakrig report: plots and a self-contained HTML page for a logged run."""
import sys

from . import add
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "report", "write a PNG and a self-contained HTML report of a logged run",
            "leakrig report run.sqlite --out report/ --run 2",
            description="Plots the run's loop pressure, temperature, compensated pressure (when "
                        "the samples carry it) and leak rate with its ±1σ/±2σ band, marks the "
                        "events on every panel, and writes report.png and report.html (the PNG "
                        "embedded) with a summary: samples, duration, gaps, CRC errors, events, "
                        "final rate and the detector's verdict or forecast.")
    p.add_argument("log", help="SQLite log written by `leakrig log`")
    p.add_argument("--out", help="output folder (default: <log>-report next to the log)")
    p.add_argument("--run", type=int, help="run id (default: the latest run with samples)")
    return p


def run(args):
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    from ..report import make_report

    out = args.out or str(Path(args.log).with_suffix("")) + "-report"
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError("cannot write the report to %s: %s" % (out, exc.strerror or exc))
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        tasks = {}

        def progress(step, done, total):
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        try:
            png, html_path, _, data = make_report(args.log, out, args.run, progress)
        except (FileNotFoundError, ValueError) as exc:
            raise UserError(str(exc))
        except OSError as exc:
            raise UserError("cannot write the report to %s: %s" % (out, exc))
    print("report: run %s, %d samples, %d events" % (data.run.get("id", "?"), len(data.t), len(data.events)),
          file=sys.stderr)
    print(png)
    print(html_path)
    return 0
