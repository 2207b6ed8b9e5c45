"""leakrig export: write a log's samples as CSV."""
import csv
import json
import sqlite3
import sys

from . import add
from ..errors import UserError

COLUMNS = ["t_s", "pressure_pa", "temperature_c", "quality", "rate_pa_s", "rate_sigma_pa_s",
           "state", "host_utc", "run_id", "boot", "seq"]


def add_parser(sub):
    p = add(sub, "export", "export a log's samples to CSV",
            "leakrig export run.sqlite --csv run.csv")
    p.add_argument("log", help="SQLite log written by `leakrig log`")
    p.add_argument("--csv", required=True, help="output CSV file ('-' for stdout)")
    p.add_argument("--run", type=int, help="only this run id (default: all runs)")
    return p


def run(args):
    from ..store import open_log

    try:
        db = open_log(args.log)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc))
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


class _nullctx:
    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        self.f.flush()
