"""A run's report: one PNG with the loop's pressure, temperature, compensated
pressure and leak rate (with its uncertainty band), the events marked on
every panel, and a self-contained HTML page with that PNG embedded, a
summary table and the event list."""
import base64
import html
import json
import sqlite3
import time

# Keys under which a sample frame may carry the temperature-compensated pressure.
COMPENSATED_KEYS = ("pc", "p_comp", "pcomp")
PANELS = ("Loop pressure", "Loop temperature", "Compensated pressure", "Leak rate")
MAX_POINTS = 6000  # per line; longer series are drawn as a min/max envelope


class RunData:
    def __init__(self):
        self.run = {}
        self.stats = {}
        self.t = []          # board time, s, continuous across reboots
        self.pressure = []
        self.temperature = []
        self.compensated = []
        self.rate = []
        self.sigma = []
        self.state = []
        self.quality = []
        self.events = []     # (t, name, fields)
        self.link_gaps = 0


def latest_run(db):
    row = db.execute("SELECT max(run_id) FROM samples").fetchone()
    return row[0] if row else None


def load(db, run_id, progress=None):
    """Read one run from an open log. Board time restarts at each boot; the
    boots are laid end to end so the x axis never runs backwards."""
    data = RunData()
    row = db.execute("SELECT id, name, notes, port, board, firmware, started_utc, ended_utc, stats "
                     "FROM runs WHERE id=?", (run_id,)).fetchone()
    if row:
        data.run = dict(zip(("id", "name", "notes", "port", "board", "firmware",
                             "started_utc", "ended_utc"), row[:8]))
        data.stats = json.loads(row[8]) if row[8] else {}
    data.link_gaps = db.execute("SELECT count(*) FROM link_events WHERE run_id=? AND kind='gap'",
                                (run_id,)).fetchone()[0]
    total = db.execute("SELECT count(*) FROM samples WHERE run_id=?", (run_id,)).fetchone()[0]
    offsets = {}
    last_boot, offset, last_t = None, 0.0, 0.0
    cur = db.execute("SELECT boot, t_s, pressure_pa, temperature_c, rate_pa_s, rate_sigma_pa_s, state, "
                     "quality, extra FROM samples WHERE run_id=? ORDER BY boot, seq", (run_id,))
    done = 0
    while True:
        rows = cur.fetchmany(20000)
        if not rows:
            break
        for boot, t, p, temp, r, ur, st, q, extra in rows:
            if boot != last_boot:
                if last_boot is not None:
                    offset = last_t
                offsets[boot] = offset
                last_boot = boot
            x = t + offset
            last_t = x
            pc = None
            if extra:
                fields = json.loads(extra)
                for k in COMPENSATED_KEYS:
                    if k in fields:
                        try:
                            pc = float(fields[k])
                        except ValueError:
                            pass
                        break
            data.t.append(x)
            data.pressure.append(p)
            data.temperature.append(temp)
            data.compensated.append(pc)
            data.rate.append(r)
            data.sigma.append(ur)
            data.state.append(st)
            data.quality.append(q)
        done += len(rows)
        if progress:
            progress(done, total)
    for boot, t, name, fields in db.execute(
            "SELECT boot, t_s, event, fields FROM events WHERE run_id=? ORDER BY boot, seq", (run_id,)):
        x = (t or 0.0) + offsets.get(boot, offsets[max(offsets)] if offsets else 0.0)
        data.events.append((x, name, json.loads(fields) if fields else {}))
    return data


def time_axis(duration_s):
    """(divisor, label) so the axis reads in s, min or h."""
    if duration_s > 3 * 3600:
        return 3600.0, "board time (h)"
    if duration_s > 180:
        return 60.0, "board time (min)"
    return 1.0, "board time (s)"


def _series(t, y, also=None):
    """(x, y) without missing values, as numpy arrays; a long series becomes
    its min/max envelope over MAX_POINTS/2 buckets, so spikes stay visible.
    With also (a series of the same length), returns (x, y, also) taken at
    the same samples, so a band stays paired with its line."""
    import numpy as np

    def arr(values):
        return np.asarray([np.nan if a is None else a for a in values], dtype=float)

    x = np.asarray(t, dtype=float)
    v = arr(y)
    ok = np.isfinite(v)
    w = arr(also) if also is not None else None
    if w is not None:
        ok &= np.isfinite(w)
    x, v = x[ok], v[ok]
    w = w[ok] if w is not None else None
    if len(v) > MAX_POINTS:
        edges = np.linspace(0, len(v), MAX_POINTS // 2 + 1).astype(int)
        keep = []
        for a, b in zip(edges[:-1], edges[1:]):
            if b > a:
                seg = v[a:b]
                keep += sorted({a + int(np.argmin(seg)), a + int(np.argmax(seg))})
        keep = np.asarray(keep)
        x, v = x[keep], v[keep]
        w = w[keep] if w is not None else None
    return (x, v) if also is None else (x, v, w)


def summary(data):
    """The numbers at the top of the report, as (label, text) rows."""
    s = data.stats
    duration = (data.t[-1] - data.t[0]) if len(data.t) > 1 else 0.0
    rows = [("run", "%s%s" % (data.run.get("id", "?"),
                              " (%s)" % data.run["name"] if data.run.get("name") else "")),
            ("board", "%s, firmware %s" % (data.run.get("board") or "?", data.run.get("firmware") or "?")),
            ("samples", "%d" % len(data.t)),
            ("duration", "%.1f s board time (%.2f h)" % (duration, duration / 3600.0)),
            ("gaps", "%d (%d frames missing, %d recovered, %d lost)"
             % (s.get("gaps", data.link_gaps), s.get("missing", 0), s.get("recovered", 0), s.get("lost", 0))),
            ("CRC errors", "%d" % s.get("crc_errors", 0)),
            ("events", "%d" % len(data.events))]
    last_rate = next(((r, u) for r, u in zip(reversed(data.rate), reversed(data.sigma)) if r is not None), None)
    rows.append(("final leak rate", "%.4g ± %.2g Pa/s" % (last_rate[0], last_rate[1] or 0.0)
                 if last_rate else "no detector output in this log"))
    if data.state and data.state[-1]:
        rows.append(("detector state", data.state[-1]))
    rows.append(("verdict / forecast", verdict(data)))
    if data.run.get("notes"):
        rows.append(("notes", data.run["notes"]))
    return rows


def verdict(data):
    """From the last detector event: its name, the rate in mL/min and the
    time until the loop reaches its minimum pressure, when it says them."""
    for t, name, fields in reversed(data.events):
        if any(k in fields for k in ("rml", "ttm", "verdict", "r")):
            parts = ["%s at t=%.1f s" % (fields.get("verdict") or name, t)]
            if "rml" in fields:
                parts.append("%s mL/min" % fields["rml"])
            if fields.get("ttm") not in (None, ""):
                try:
                    parts.append("minimum pressure in %.2f h" % (float(fields["ttm"]) / 3600.0))
                except ValueError:
                    pass
            return ", ".join(parts)
    return "no detector event"


def detector_series(data):
    """(compensated, rate, learning spans, settled) for the detector panels.

    While the detector learns the loop's thermal response (its first
    learn_s of board time, no leak assumed) its compensated pressure and
    rate come from a model still being fitted and can be far off. Those
    spans are shaded, and their values left out of the two detector panels
    when the log has settled values too (the monitor shows "—" then)."""
    spans = learning_spans(data)
    settled = any(st is not None and st != "learning" for st in data.state)
    compensated, rate = data.compensated, data.rate
    if spans and settled:
        compensated = [None if st == "learning" else v for v, st in zip(compensated, data.state)]
        rate = [None if st == "learning" else v for v, st in zip(rate, data.state)]
    return compensated, rate, spans, settled


def learning_spans(data):
    """(start, end) board times of the runs of samples in the learning state."""
    spans = []
    start = prev = None
    for t, st in zip(data.t, data.state):
        if st == "learning":
            if start is None:
                start = t
            prev = t
        elif start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, prev))
    return spans


def _robust_ylim(ax, y):
    """Limits from the 0.5-99.5 percentiles, so one wild value does not
    flatten the rest of the line."""
    import numpy as np

    lo, hi = np.nanpercentile(y, [0.5, 99.5])
    pad = max(hi - lo, 1e-3) * 0.3
    ax.set_ylim(lo - pad, hi + pad)


def draw_rate_panel(ax, t, rate, sigma, x_of, empty_note):
    """The leak rate with its ±1σ and ±2σ bands (sigma None: no band)."""
    x, r, u = _series(t, rate, also=[0.0 if s is None else s for s in sigma])
    if len(r):
        import numpy as np
        if np.any(u > 0):
            ax.fill_between(x_of(x), r - 2 * u, r + 2 * u, color="tab:green", alpha=0.15, lw=0,
                            label="±2σ")
            ax.fill_between(x_of(x), r - u, r + u, color="tab:green", alpha=0.3, lw=0, label="±1σ")
        ax.plot(x_of(x), r, color="tab:green", lw=0.9, label="leak rate")
        ax.axhline(0.0, color="0.4", lw=0.6)
        _robust_ylim(ax, r)
        ax.legend(loc="upper left", fontsize=8, ncol=3)
    else:
        ax.text(0.5, 0.5, empty_note, transform=ax.transAxes, ha="center", va="center", color="0.5")
    ax.set_ylabel("Pa/s")
    ax.set_title(PANELS[3] + " (negative: pressure falling)", loc="left", fontsize=10)


TRACK_PANELS = ("Compensated pressure", "Leak rate", "Time to minimum pressure")


def render_track_png(track, path, title="leakrig analyze", min_pressure_pa=None):
    """The detector's output replayed by `leakrig analyze --every`: the
    compensated pressure, the rate with its bands (the report's rate panel)
    and the time to the minimum pressure. Returns the panel titles."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [row["t_s"] for row in track]
    duration = (t[-1] - t[0]) if len(t) > 1 else 0.0
    div, xlabel = time_axis(duration)

    def x_of(x):
        return x / div

    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [2, 3, 2]})
    fig.suptitle(title, fontsize=12)
    learning = [row["state"] == "learning" for row in track]
    settled = not all(learning)

    def shown(key):
        return [None if (settled and ln) else row[key] for row, ln in zip(track, learning)]

    ax = axes[0]
    x, y = _series(t, shown("pc_pa"))
    if len(y):
        ax.plot(x_of(x), y / 1000.0, color="tab:purple", lw=0.8)
        _robust_ylim(ax, y / 1000.0)
    ax.set_ylabel("kPa")
    ax.set_title(TRACK_PANELS[0], loc="left", fontsize=10)
    draw_rate_panel(axes[1], t, shown("rate_pa_s"), [row["rate_sigma_pa_s"] for row in track], x_of,
                    "no leak rate")
    ax = axes[2]
    x, y = _series(t, shown("time_to_min_s"))
    if len(y):
        ax.plot(x_of(x), y / 3600.0, color="tab:brown", lw=0.9)
    else:
        ax.text(0.5, 0.5, "no forecast (no falling rate)", transform=ax.transAxes, ha="center",
                va="center", color="0.5")
    ax.set_ylabel("h")
    target = "" if min_pressure_pa is None else " (%.0f kPa)" % (min_pressure_pa / 1000.0)
    ax.set_title(TRACK_PANELS[2] + target, loc="left", fontsize=10)
    ax.set_xlabel(xlabel)
    for a in axes:
        a.grid(True, alpha=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return list(TRACK_PANELS)


def render_png(data, path, progress=None):
    """Draw the four panels; returns their titles (top to bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    duration = (data.t[-1] - data.t[0]) if len(data.t) > 1 else 0.0
    div, xlabel = time_axis(duration)
    fig, axes = plt.subplots(4, 1, figsize=(11, 11), sharex=True,
                             gridspec_kw={"height_ratios": [3, 2, 2, 3]})
    title = "leakrig run %s" % data.run.get("id", "?")
    if data.run.get("name"):
        title += " - %s" % data.run["name"]
    fig.suptitle(title, fontsize=13)

    def x_of(x):
        return x / div

    compensated, rate, spans, settled = detector_series(data)

    ax = axes[0]
    x, y = _series(data.t, data.pressure)
    if len(y):
        ax.plot(x_of(x), y / 1000.0, color="tab:blue", lw=0.8, label="pressure")
    ax.set_ylabel("kPa")
    ax.set_title(PANELS[0], loc="left", fontsize=10)
    if progress:
        progress()

    ax = axes[1]
    x, y = _series(data.t, data.temperature)
    if len(y):
        ax.plot(x_of(x), y, color="tab:red", lw=0.8)
    ax.set_ylabel("°C")
    ax.set_title(PANELS[1], loc="left", fontsize=10)
    if progress:
        progress()

    ax = axes[2]
    x, y = _series(data.t, compensated)
    if len(y):
        ax.plot(x_of(x), y / 1000.0, color="tab:purple", lw=0.8)
        _robust_ylim(ax, y / 1000.0)
    else:
        ax.text(0.5, 0.5, "no compensated pressure in this log", transform=ax.transAxes,
                ha="center", va="center", color="0.5")
    ax.set_ylabel("kPa")
    ax.set_title(PANELS[2], loc="left", fontsize=10)
    if progress:
        progress()

    ax = axes[3]
    draw_rate_panel(ax, data.t, rate, data.sigma, x_of, "no leak rate in this log")
    ax.text(0.99, 0.04, verdict(data), transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.9})
    ax.set_xlabel(xlabel)

    colours = {"leak": "tab:red", "gross": "darkred", "fault": "tab:orange", "clear": "tab:green"}
    for i, (t, name, _) in enumerate(data.events):
        colour = next((c for k, c in colours.items() if k in name), "0.3")
        for a in axes:
            a.axvline(x_of(t), color=colour, lw=0.8, ls="--", alpha=0.8)
        axes[0].annotate(name, (x_of(t), 1.0), xycoords=("data", "axes fraction"),
                         xytext=(2, -4 - 11 * (i % 4)), textcoords="offset points",
                         fontsize=7, color=colour, va="top", rotation=0)
    for i, (a, b) in enumerate(spans):
        for ax in axes:
            ax.axvspan(x_of(a), x_of(b), color="0.85", alpha=0.5, lw=0, zorder=0)
        if i == 0:
            note = "detector learning" + (" (values hidden)" if settled else "")
            axes[3].text(x_of((a + b) / 2.0), 0.5, note, transform=axes[3].get_xaxis_transform(),
                         ha="center", va="center", fontsize=8, color="0.35")
    for a in axes:
        a.grid(True, alpha=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    if progress:
        progress()
    return list(PANELS)


def render_html(data, png_bytes, path, log_path):
    rows = "\n".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(v))
                     for k, v in summary(data))
    events = "\n".join(
        "<tr><td>%.3f</td><td>%s</td><td>%s</td></tr>"
        % (t, html.escape(name), html.escape(" ".join("%s=%s" % (k, v) for k, v in fields.items()
                                                        if k not in ("ev", "t"))))
        for t, name, fields in data.events) or '<tr><td colspan="3">none</td></tr>'
    page = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>leakrig report: run %(run)s</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #f3f3f3; }
img { max-width: 100%%; }
</style></head><body>
<h1>leakrig report: run %(run)s</h1>
<p>Log <code>%(log)s</code>, written %(when)s.</p>
<h2>Summary</h2>
<table>
%(rows)s
</table>
<h2>Plots</h2>
<img alt="pressure, temperature, compensated pressure and leak rate" src="data:image/png;base64,%(png)s">
<h2>Events</h2>
<table><tr><th>t (s)</th><th>event</th><th>fields</th></tr>
%(events)s
</table>
</body></html>
""" % {"run": html.escape(str(data.run.get("id", "?"))), "log": html.escape(str(log_path)),
       "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "rows": rows,
       "png": base64.b64encode(png_bytes).decode(), "events": events}
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)


def make_report(log_path, out_dir, run_id=None, progress=None):
    """Write report.png and report.html for one run of a log; returns
    (png path, html path, panel titles). progress(step, done, total) if given."""
    from pathlib import Path

    from .store import open_log

    db = open_log(str(log_path))
    try:
        if run_id is None:
            run_id = latest_run(db)
            if run_id is None:
                raise ValueError("%s holds no samples" % log_path)
        elif not db.execute("SELECT 1 FROM samples WHERE run_id=? LIMIT 1", (run_id,)).fetchone():
            known = [r[0] for r in db.execute("SELECT DISTINCT run_id FROM samples ORDER BY run_id")]
            raise ValueError("run %d has no samples in %s (runs: %s)"
                             % (run_id, log_path, ", ".join(map(str, known)) or "none"))
        data = load(db, run_id, progress=(lambda d, t: progress("reading samples", d, t)) if progress else None)
    except sqlite3.DatabaseError as exc:
        raise ValueError("%s: %s" % (log_path, exc))
    finally:
        db.close()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "report.png"
    html_path = out / "report.html"
    steps = [0]

    def step():
        steps[0] += 1
        if progress:
            progress("plotting", steps[0], 4)

    panels = render_png(data, png, progress=step)
    render_html(data, png.read_bytes(), html_path, log_path)
    return png, html_path, panels, data
