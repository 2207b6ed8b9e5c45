"""Offline replay of the firmware's own detector (firmware/leakrig_fw/detector.py)
over a CSV file or a leakrig SQLite log: the events it raises, and a summary."""
import csv
import os
import json
import math
import sqlite3

from . import fwpath
from .errors import UserError

fwpath.ensure()
from leakrig_fw.detector import Detector  # noqa: E402

NEEDED = ("t_s", "pressure_pa", "temperature_c")


def _num(text):
    if text is None or str(text).strip() == "":
        return float("nan")
    return float(text)


def read_samples(path):
    """Yield (t_s, pressure_pa, temperature_c, quality); UserError for a file
    that is neither a CSV with the needed columns nor a leakrig log."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise UserError("cannot read %s: %s" % (path, exc.strerror or exc))
    if head.startswith(b"SQLite format 3"):
        return _read_sqlite(path)
    return _read_csv(path)


def _read_sqlite(path):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        cols = {row[1] for row in db.execute("PRAGMA table_info(samples)")}
        missing = [c for c in NEEDED if c not in cols]
        if missing:
            raise UserError("%s: no samples table with %s" % (path, ", ".join(missing)))
        has_q = "quality" in cols
        order = "run_id, boot, seq" if {"run_id", "boot", "seq"} <= cols else "rowid"
        rows = db.execute("SELECT t_s, pressure_pa, temperature_c%s FROM samples ORDER BY %s"
                          % (", quality" if has_q else "", order)).fetchall()
    except sqlite3.DatabaseError as exc:
        from .store import log_error

        raise UserError(log_error(path, exc))
    out = []
    for row in rows:
        t, p, temp = row[0], row[1], row[2]
        # a quality the logger could not read (NULL) is not trusted
        q = (1 if row[3] is None else int(row[3])) if has_q else 0
        out.append((float(t), float("nan") if p is None else float(p),
                    float("nan") if temp is None else float(temp), q))
    return out


def _read_csv(path):
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise UserError("%s: empty file" % path)
            names = [h.strip() for h in header]
            missing = [c for c in NEEDED if c not in names]
            if missing:
                raise UserError("%s: header lacks %s (needs %s)" % (path, ", ".join(missing), ",".join(NEEDED)))
            it, ip, iT = (names.index(c) for c in NEEDED)
            iq = names.index("quality") if "quality" in names else None
            out = []
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    t = float(row[it])
                    p = _num(row[ip])
                    temp = _num(row[iT])
                    q = int(float(row[iq])) if iq is not None and row[iq].strip() else 0
                except (ValueError, IndexError):
                    raise UserError("%s:%d: not a number where one is needed" % (path, lineno))
                out.append((t, p, temp, q))
    except UnicodeDecodeError:
        raise UserError("%s: not a text CSV file" % path)
    except csv.Error as exc:
        raise UserError("%s: bad CSV (%s)" % (path, exc))
    return out


def _clean(x):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return round(x, 6) if isinstance(x, float) else x


def read_shifts(path):
    """{sample index: Pa} for a log whose board was zeroed again while it
    ran (its `zeroed` events): the samples from that index on read that much
    lower, and the detector's references move with them, as on the board.
    Empty for a CSV."""
    try:
        with open(path, "rb") as f:
            if not f.read(16).startswith(b"SQLite format 3"):
                return {}
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "events" not in tables:
            return {}
        zeroed = db.execute("SELECT run_id, boot, seq, fields FROM events WHERE event='zeroed' "
                            "ORDER BY run_id, boot, seq").fetchall()
        shifts = {}
        for run_id, boot, seq, fields in zeroed:
            # samples are read in (run_id, boot, seq) order: the first one after the event
            idx = db.execute("SELECT count(*) FROM samples WHERE (run_id, boot, seq) < (?, ?, ?)",
                             (run_id, boot, seq)).fetchone()[0]
            delta = float(json.loads(fields).get("shift", "0"))
            shifts[idx] = shifts.get(idx, 0.0) + delta
        return shifts
    except (OSError, sqlite3.DatabaseError, ValueError):
        return {}


TRACK_FIELDS = ("t_s", "state", "rate_pa_s", "rate_sigma_pa_s", "pc_pa", "time_to_min_s")


class _Every:
    """Board-time ticks every `every_s` seconds of data (ms, as the board
    counts), from the first sample: due(t_ms) is True once per tick."""

    def __init__(self, every_s):
        self.step = int(round(every_s * 1000.0))
        if self.step <= 0:
            raise ValueError("--every wants a positive number of seconds")
        self.next = None

    def due(self, t_ms):
        if self.next is None:
            self.next = t_ms + self.step
            return False
        if t_ms < self.next:
            return False
        while self.next <= t_ms:
            self.next += self.step
        return True


def replay(samples, params=None, shifts=None, progress=None, every_s=None, track=None):
    """Run the detector; return (events, summary). Each event is a dict.
    shifts: {sample index: Pa} from read_shifts(); progress(done, total)
    every 10,000 samples. With every_s and a list `track`, one dict of the
    detector's output (TRACK_FIELDS) is appended to it per every_s seconds
    of data."""
    det = Detector(**(params or {}))
    tick = _Every(every_s) if every_s else None
    events = []
    n = 0
    total = len(samples)
    for t, p, temp, q in samples:
        if shifts and n in shifts:
            det.shift(shifts[n])
        n += 1
        if progress and n % 10000 == 0:
            progress(n, total)
        # Board time in ms, as the board's detector takes it (frames carry it to the ms).
        t_ms = int(round(t * 1000.0))
        ev = det.update_ms(t_ms, p, temp, q)
        if tick is not None and tick.due(t_ms) and track is not None:
            track.append({"t_s": _clean(t), "state": det.state, "rate_pa_s": _clean(det.rate_pa_s),
                          "rate_sigma_pa_s": _clean(det.rate_sigma_pa_s),
                          "pc_pa": _clean(det.compensated_pa), "time_to_min_s": _clean(det.time_to_min_s)})
        while ev:
            events.append({"t_s": _clean(t), "event": ev, "rate_pa_s": _clean(det.rate_pa_s),
                           "rate_sigma_pa_s": _clean(det.rate_sigma_pa_s),
                           "rate_ml_min": _clean(det.rate_ml_min),
                           "time_to_min_s": _clean(det.time_to_min_s), "state": det.state})
            ev = det.pending()
    summary = {"samples": n, "events": len(events), "state": det.state,
               "rate_pa_s": _clean(det.rate_pa_s), "rate_sigma_pa_s": _clean(det.rate_sigma_pa_s),
               "rate_ml_min": _clean(det.rate_ml_min), "time_to_min_s": _clean(det.time_to_min_s),
               "pa_per_k": _clean(det.thermal_pa_per_k), "lag_s": _clean(det.thermal_lag_s),
               "noise_pa": _clean(det.noise_pa)}
    return events, summary


def print_json(events, summary, out, track=()):
    """Events and tracking rows in board-time order (an event before the
    row of the same sample), then the summary."""
    rows = sorted([(ev["t_s"], 0, i, ev) for i, ev in enumerate(events)]
                  + [(row["t_s"], 1, i, row) for i, row in enumerate(track)], key=lambda r: r[:3])
    for _, _, _, row in rows:
        out.write(json.dumps(row) + "\n")
    out.write(json.dumps({"summary": summary}) + "\n")


def write_track_csv(track, path):
    """The tracking rows as a CSV table (TRACK_FIELDS; empty cells for none)."""
    try:
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(TRACK_FIELDS)
            for row in track:
                w.writerow(["" if row[k] is None else row[k] for k in TRACK_FIELDS])
    except OSError as exc:
        raise UserError("cannot write %s: %s" % (path, exc.strerror or exc))


def print_table(events, summary, out):
    def f(x, fmt):
        return "-" if x is None else fmt % x
    out.write("%10s  %-15s %10s %9s %9s %11s\n" % ("t_s", "event", "rate_Pa/s", "±1σ", "mL/min", "to_min_s"))
    for ev in events:
        out.write("%10.1f  %-15s %10s %9s %9s %11s\n" % (
            ev["t_s"], ev["event"], f(ev["rate_pa_s"], "%.3f"), f(ev["rate_sigma_pa_s"], "%.3f"),
            f(ev["rate_ml_min"], "%.3f"), f(ev["time_to_min_s"], "%.0f")))
    out.write("%d samples, %d events, final state %s, rate %s ± %s Pa/s, thermal %s Pa/K, lag %s s\n" % (
        summary["samples"], summary["events"], summary["state"], f(summary["rate_pa_s"], "%.3f"),
        f(summary["rate_sigma_pa_s"], "%.3f"), f(summary["pa_per_k"], "%.0f"), f(summary["lag_s"], "%.1f")))


def log_board(path):
    """The board a leakrig log names (its hello frame), or None."""
    try:
        with open(path, "rb") as f:
            if not f.read(16).startswith(b"SQLite format 3"):
                return None
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            row = db.execute("SELECT board FROM runs WHERE board IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            db.close()
    except (OSError, sqlite3.DatabaseError):
        return None
    return row[0] if row else None


def _vm_value(text):
    return None if text == "-" else float(text)


def replay_on_vm(samples, params=None, shifts=None, progress=None, binary=None, heap_kb=None,
                 every_s=None, track=None):
    """replay() inside a MicroPython VM (`binary`, e.g. the 32-bit
    single-precision one): the firmware's detector with the board's own
    arithmetic. Event values come as the board formats them in its frames
    (rates to 4 decimals, forecast to the second); tracking rows likewise,
    pc to the mPa."""
    tick = _Every(every_s) if every_s else None
    import subprocess
    import threading
    from pathlib import Path

    from .sim import vmenv

    binary = binary or vmenv.micropython_binary()
    driver = Path(__file__).resolve().parent / "vmreplay" / "_detreplay.py"
    env = dict(os.environ)
    env["MICROPYPATH"] = str(fwpath.firmware_dir())
    cmd = [binary]
    if heap_kb:
        cmd += ["-X", "heapsize=%d" % (heap_kb * 1024)]
    cmd.append(str(driver))
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, bufsize=1 << 16)
    except OSError as exc:
        raise UserError("cannot run %s: %s" % (binary, exc.strerror or exc))

    def feed():
        try:
            w = proc.stdin.write
            for name, value in sorted((params or {}).items()):
                w("p %s %r\n" % (name, float(value)))
            if tick is not None:
                w("v %d\n" % tick.step)
            for i, (t, p, temp, q) in enumerate(samples):
                if shifts and i in shifts:
                    w("z %r\n" % shifts[i])
                # the values as the board's frame carried them (3 decimals)
                w("s %d %s %s %d\n" % (int(round(t * 1000.0)),
                                       "nan" if p != p else "%.3f" % p,
                                       "nan" if temp != temp else "%.3f" % temp, q))
            w("e\n")
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    events = []
    final = None
    total = len(samples)
    for line in proc.stdout:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "E" and len(parts) == 8:
            events.append({"t_s": int(parts[2]) / 1000.0, "event": parts[1],
                           "rate_pa_s": _vm_value(parts[3]), "rate_sigma_pa_s": _vm_value(parts[4]),
                           "rate_ml_min": _vm_value(parts[5]), "time_to_min_s": _vm_value(parts[6]),
                           "state": parts[7]})
        elif parts[0] == "T" and len(parts) == 7:
            if track is not None:
                track.append({"t_s": int(parts[1]) / 1000.0, "state": parts[2],
                              "rate_pa_s": _vm_value(parts[3]), "rate_sigma_pa_s": _vm_value(parts[4]),
                              "pc_pa": _vm_value(parts[5]), "time_to_min_s": _vm_value(parts[6])})
        elif parts[0] == "P" and progress:
            progress(int(parts[1]), total)
        elif parts[0] == "F" and len(parts) == 10:
            final = parts
    err = proc.stderr.read()
    proc.wait()
    feeder.join(5)
    if final is None:
        last = err.strip().splitlines()[-1] if err.strip() else "exit %d" % proc.returncode
        raise UserError("replay on %s failed: %s" % (binary, last))
    v = [_vm_value(x) for x in final[2:9]]
    summary = {"samples": int(final[9]), "events": len(events), "state": final[1],
               "rate_pa_s": v[0], "rate_sigma_pa_s": v[1], "rate_ml_min": v[2], "time_to_min_s": v[3],
               "pa_per_k": v[4], "lag_s": v[5], "noise_pa": v[6]}
    return events, summary
