"""The live view of a board's telemetry: latest values, the leak rate with
its band, detector state, recent events, link health and sparklines. The
state is fed frames; render() gives a rich renderable, so the live loop and
a one-shot snapshot draw the same thing."""
import collections
import time

BLOCKS = "▁▂▃▄▅▆▇█"
COMPENSATED_KEYS = ("pc", "p_comp", "pcomp")


def sparkline(values, width=32):
    """The last `width` values as unicode blocks, scaled to their own range;
    missing values are blanks."""
    vals = list(values)[-width:]
    nums = [v for v in vals if v is not None]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = hi - lo
    out = []
    for v in vals:
        if v is None:
            out.append(" ")
        elif span <= 0:
            out.append(BLOCKS[len(BLOCKS) // 2])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int((v - lo) / span * len(BLOCKS)))])
    return "".join(out)


class Trend:
    """Bucket means of a value over the last span_s of board time, `width`
    buckets, for a sparkline that shows minutes of trend whatever the
    sample rate. A bucket with no value is None; board time going back (a
    reboot) starts afresh."""

    def __init__(self, span_s=600.0, width=32):
        self.span_s = float(span_s)
        self.width = width
        self.bucket_s = self.span_s / width
        self._buckets = collections.deque()  # [index, sum, count]

    def add(self, t, value):
        if t is None or value is None:
            return
        idx = int(t // self.bucket_s)
        b = self._buckets
        if b and idx < b[-1][0]:
            b.clear()
        if b and b[-1][0] == idx:
            b[-1][1] += value
            b[-1][2] += 1
        else:
            b.append([idx, value, 1])
        while b and b[0][0] <= idx - self.width:
            b.popleft()

    def values(self):
        """Means, oldest first, from the first bucket held to the last."""
        if not self._buckets:
            return []
        first, last = self._buckets[0][0], self._buckets[-1][0]
        means = {i: s / n for i, s, n in self._buckets}
        return [means.get(i) for i in range(first, last + 1)]

    def label(self):
        return ("%.0f min" % (self.span_s / 60.0)) if self.span_s >= 120 else ("%.0f s" % self.span_s)


def _num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class MonitorState:
    def __init__(self, stats, trend_s=600.0):
        self.stats = stats          # leakrig.link.LinkStats of the link being watched
        self.values = {}            # last sample's fields
        self.samples = 0
        # sparklines: bucket means over the last trend_s of board time
        self.pressure = Trend(trend_s)
        self.temperature = Trend(trend_s)
        self.compensated = Trend(trend_s)
        self.rate = Trend(trend_s)
        self.events = collections.deque(maxlen=6)
        self.board = {}             # from the hello frame or a status reply
        self.sampling = None        # True/False when known
        self.message = ""
        self.last_frame_at = None

    def feed(self, f):
        self.last_frame_at = time.monotonic()
        if f.kind == "S":
            self.samples += 1
            fields = self.values = f.fields
            t = _num(fields.get("t"))
            self.pressure.add(t, _num(fields.get("p")))
            self.temperature.add(t, _num(fields.get("T")))
            if fields.get("st") != "learning":
                # (while learning, the model behind it is still being fitted)
                self.compensated.add(t, next((_num(fields[k]) for k in COMPENSATED_KEYS if k in fields), None))
            self.rate.add(t, _num(fields.get("r")))
            self.sampling = True
        elif f.kind == "E":
            self.events.append(f.fields)
        elif f.kind == "H":
            self.board.update(board=f.fields.get("board"), fw=f.fields.get("fw"),
                              rate=f.fields.get("rate"))
            self.message = "board booted"

    def on_status(self, fields):
        self.board.update({k: fields.get(k) for k in ("board", "fw", "rate") if k in fields})
        self.sampling = fields.get("state") == "running"

    def render(self, port=""):
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        v = self.values
        p, temp, r, ur = (_num(v.get(k)) for k in ("p", "T", "r", "ur"))
        pc = next((_num(v[k]) for k in COMPENSATED_KEYS if k in v), None)

        def fmt(x, scale=1.0, digits=3, unit=""):
            return "—" if x is None else "%.*f %s" % (digits, x / scale, unit)

        readings = Table.grid(padding=(0, 2))
        readings.add_column(style="bold")
        readings.add_column(justify="right")
        readings.add_column()
        def trend(series, style, scale=1.0, unit=""):
            vals = series.values()
            nums = [x for x in vals if x is not None]
            if len(nums) < 2:
                return ""
            return Text(sparkline(vals), style=style) + Text("  last %s, range %.4g %s" % (
                series.label(), (max(nums) - min(nums)) / scale, unit), style="dim")

        readings.add_row("pressure", fmt(p, 1000.0, 3, "kPa"), trend(self.pressure, "cyan", 1000.0, "kPa"))
        readings.add_row("temperature", fmt(temp, 1.0, 3, "°C"), trend(self.temperature, "magenta", 1.0, "K"))
        readings.add_row("compensated", fmt(pc, 1000.0, 3, "kPa"),
                         trend(self.compensated, "blue", 1000.0, "kPa"))
        if r is not None:
            band = "± %.4f (1σ)   2σ band [%.4f, %.4f]" % (ur or 0.0, r - 2 * (ur or 0.0), r + 2 * (ur or 0.0))
            style = "red" if ur and abs(r) > 3 * ur else "green"
            readings.add_row("leak rate", Text("%.4f Pa/s" % r, style=style), trend(self.rate, style, 1.0, "Pa/s"))
            readings.add_row("", "", band)
        else:
            readings.add_row("leak rate", "—", "")
        readings.add_row("detector", v.get("st", "—"), "")
        readings.add_row("quality", v.get("q", "—"), "board time %s s" % v.get("t", "—"))

        s = self.stats
        age = "—" if self.last_frame_at is None else "%.1f s ago" % (time.monotonic() - self.last_frame_at)
        link = Table.grid(padding=(0, 2))
        link.add_column(style="bold")
        link.add_column()
        link.add_row("frames", "%d (samples %d, last %s)" % (s.frames, self.samples, age))
        link.add_row("gaps", "%d (%d frames missing)" % (s.gaps, s.missing))
        link.add_row("CRC errors", "%d" % s.crc_errors)
        link.add_row("other bytes", "%d" % s.garbage_bytes)
        link.add_row("reconnects", "%d" % s.reconnects)

        events = Table.grid(padding=(0, 2))
        if self.events:
            for ev in list(self.events)[::-1]:
                extra = " ".join("%s=%s" % (k, x) for k, x in ev.items() if k not in ("ev", "t"))
                events.add_row(ev.get("t", "?"), Text(ev.get("ev", "?"), style="yellow"), extra)
        else:
            events.add_row("none yet")

        state = {True: "sampling", False: "stopped", None: "?"}[self.sampling]
        title = "leakrig monitor · %s · fw %s · %s Hz · %s" % (
            self.board.get("board") or "?", self.board.get("fw") or "?",
            self.board.get("rate") or "?", state)
        footer = "%s   keys: s start  x stop  q quit%s" % (port, "   — " + self.message if self.message else "")
        # The keys and the answer to the last one come first: a terminal too
        # short for the whole view loses its bottom, never them.
        return Panel(Group(Text(footer, style="dim"), Panel(readings, title="Loop"), Panel(link, title="Link"),
                           Panel(events, title="Last events")),
                     title=title, title_align="left")
