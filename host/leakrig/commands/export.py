"""leakrig export: write a log's samples as CSV, or a Serial Studio project
for viewing the board's live port with the fields the log carries."""
import csv
import json
import sqlite3
import sys

from . import add
from ..errors import UserError

COLUMNS = ["t_s", "pressure_pa", "temperature_c", "quality", "rate_pa_s", "rate_sigma_pa_s",
           "state", "host_utc", "run_id", "boot", "seq"]


def add_parser(sub):
    p = add(sub, "export", "export a log's samples to CSV, or a Serial Studio project for the live port",
            "leakrig export run.sqlite --csv run.csv --serial-studio rig.json")
    p.add_argument("log", help="SQLite log written by `leakrig log`")
    p.add_argument("--csv", help="output CSV file ('-' for stdout)")
    p.add_argument("--serial-studio", metavar="FILE.json",
                   help="Serial Studio project file with a dataset for each sample field in the log")
    p.add_argument("--run", type=int, help="only this run id (default: all runs)")
    return p


def run(args):
    from ..store import open_log

    if not args.csv and not args.serial_studio:
        raise UserError("say what to write: --csv FILE and/or --serial-studio FILE.json")
    try:
        db = open_log(args.log)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc))
    if args.serial_studio:
        _serial_studio(db, args)
    if not args.csv:
        return 0
    where, params = ("WHERE run_id = ?", (args.run,)) if args.run is not None else ("", ())
    try:
        rows = db.execute("SELECT %s, extra FROM samples %s ORDER BY run_id, boot, seq"
                          % (", ".join(COLUMNS), where), params).fetchall()
    except sqlite3.DatabaseError as exc:
        raise UserError("%s: %s" % (args.log, exc))
    extra_keys = sorted({k for r in rows if r[-1] for k in json.loads(r[-1])})
    out = sys.stdout if args.csv == "-" else None
    try:
        f = out or open(args.csv, "w", newline="")
    except OSError as exc:
        raise UserError("cannot write %s: %s" % (args.csv, exc))
    with f if out is None else _nullctx(f):
        w = csv.writer(f)
        w.writerow(COLUMNS + extra_keys)
        for r in rows:
            extra = json.loads(r[-1]) if r[-1] else {}
            w.writerow(list(r[:-1]) + [extra.get(k, "") for k in extra_keys])
    if out is None:
        print("export: %d samples to %s" % (len(rows), args.csv), file=sys.stderr)
    return 0


def _serial_studio(db, args):
    from ..serialstudio import keys_in_log, project

    try:
        keys = keys_in_log(db, args.run)
    except sqlite3.DatabaseError as exc:
        raise UserError("%s: %s" % (args.log, exc))
    try:
        with open(args.serial_studio, "w") as f:
            json.dump(project(keys), f, indent=2, ensure_ascii=False)
    except OSError as exc:
        raise UserError("cannot write %s: %s" % (args.serial_studio, exc))
    print("export: Serial Studio project with %d fields to %s" % (len(keys), args.serial_studio),
          file=sys.stderr)


class _nullctx:
    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        self.f.flush()
