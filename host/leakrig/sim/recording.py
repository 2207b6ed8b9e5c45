"""A logged run played back through the emulated chips.

A recording is the samples of one boot of a leakrig log (SQLite), or a CSV
with t_s,pressure_pa,temperature_c and any other channel by its frame key
(p2, T2, pa, Ta, Tr). Each sensor role of the board reads the channels its
definition names (`keys`): the chip is given the logged value at the
simulated time, and the firmware's driver reads it back to within the
part's resolution.

Time: scenario time tau reads the recording at t_s = start_s + speed * tau,
in the recording's own time axis (board seconds since its boot); the
virtual board restarts it at each boot, so a replayed board samples at the
times the recorded one did. A conversion reads the sample whose cycle it
falls in (the last one at or before it); more than `gap_factor` sample
intervals after the last sample is a gap in the log, and a
sample that lacks a channel (its sensor failed on the recorded board) is a
hole in that channel. In a gap or a hole the sensor does not answer (I2C
NACK, SPI reads 0xFF, no 1-Wire presence), as a failed sensor does: the
recording's firmware saw no reading there, and the replay makes none up.
"""
import bisect
import csv
import json
import math
import sqlite3

# The frame key of each channel a log may hold, and its quantity.
PRESSURE_KEYS = ("p", "p2", "pa")
TEMPERATURE_KEYS = ("T", "T2", "Ta", "Tr")
CHANNEL_KEYS = PRESSURE_KEYS + TEMPERATURE_KEYS
# CSV column names for the two primary channels (analyze's format).
_CSV_NAMES = {"pressure_pa": "p", "temperature_c": "T"}


class RecordingError(ValueError):
    pass


class Recording:
    """Samples of one boot: times (s, ascending) and, per channel key, a
    value or None per sample. Build with load()."""

    def __init__(self, times, channels, source="", events=(), gap_factor=1.5):
        if not times:
            raise RecordingError("%s: no samples" % (source or "recording"))
        self.times = list(times)
        self.channels = {k: list(v) for k, v in channels.items()}
        self.source = source
        self.events = list(events)   # (t_s, name, fields) the recorded board raised
        steps = sorted(b - a for a, b in zip(self.times, self.times[1:]) if b > a)
        self.interval_s = steps[len(steps) // 2] if steps else 1.0
        self.max_distance_s = gap_factor * self.interval_s
        self.start_s = 0.0
        self.speed = 1.0

    @property
    def first_s(self):
        return self.times[0]

    @property
    def last_s(self):
        return self.times[-1]

    def keys(self):
        """Channel keys with at least one value."""
        return [k for k, v in self.channels.items() if any(x is not None for x in v)]

    def window(self, start_s=None, end_s=None, speed=1.0):
        """Play from start_s (default: the recording's time zero, its boot)
        to end_s (default: its last sample), `speed` recorded seconds per
        scenario second."""
        if speed <= 0:
            raise RecordingError("speed must be positive")
        lo = 0 if start_s is None else bisect.bisect_left(self.times, start_s)
        hi = len(self.times) if end_s is None else bisect.bisect_right(self.times, end_s)
        if hi <= lo:
            raise RecordingError("%s: no samples between %s and %s s" % (self.source, start_s, end_s))
        out = Recording(self.times[lo:hi], {k: v[lo:hi] for k, v in self.channels.items()},
                        self.source, [e for e in self.events
                                      if (start_s is None or e[0] >= start_s)
                                      and (end_s is None or e[0] <= end_s)])
        out.interval_s, out.max_distance_s = self.interval_s, self.max_distance_s
        out.start_s = 0.0 if start_s is None else float(start_s)
        out.speed = float(speed)
        return out

    def recorded_time(self, scenario_s):
        return self.start_s + self.speed * scenario_s

    def scenario_time(self, recorded_s):
        return (recorded_s - self.start_s) / self.speed

    @property
    def duration_s(self):
        """Scenario seconds from time zero to the last sample."""
        return max(0.0, self.scenario_time(self.last_s))

    def _index(self, t):
        """Index of the sample whose cycle recorded time t falls in: the last
        one at or before t (a board stamps a cycle, then converts and reads
        its sensors). None in a gap: more than `gap_factor` intervals after
        the last sample. Before the first sample the first one holds (a
        board starting up)."""
        times = self.times
        if t <= times[0]:
            return 0
        j = bisect.bisect_right(times, t + 1e-6) - 1
        if t - times[j] > self.max_distance_s:
            return None
        return j

    def value(self, key, scenario_s):
        """The logged value of channel `key` at scenario time, or None (a gap
        in the log, or a sample without that channel)."""
        j = self._index(self.recorded_time(scenario_s))
        if j is None:
            return None
        return self.channels[key][j]


def load(path, boot=None):
    """A Recording from a leakrig log (one boot: `boot`, or the one with the
    most samples) or a CSV. RecordingError for a file that is neither."""
    path = str(path)
    if path.endswith(".gz"):
        return _load_gz(path, boot)
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise RecordingError("cannot read %s: %s" % (path, exc.strerror or exc))
    if head.startswith(b"SQLite format 3"):
        return _load_log(path, boot)
    return _load_csv(path)


def _load_gz(path, boot):
    """A gzipped log or CSV (recordings kept in a repository)."""
    import gzip
    import os
    import shutil
    import tempfile

    fd, tmp = tempfile.mkstemp(suffix="-" + os.path.basename(path[:-3]))
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
            shutil.copyfileobj(src, out)
        rec = load(tmp, boot)
    except OSError as exc:
        raise RecordingError("cannot read %s: %s" % (path, getattr(exc, "strerror", None) or exc))
    finally:
        os.unlink(tmp)
    rec.source = path
    return rec


def _num(x):
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _load_log(path, boot):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            boots = db.execute("SELECT run_id, boot, count(*) FROM samples GROUP BY run_id, boot "
                               "ORDER BY run_id, boot").fetchall()
            if not boots:
                raise RecordingError("%s: the log holds no samples" % path)
            if boot is None:
                run_id, boot_no, _ = max(boots, key=lambda r: r[2])
            else:
                chosen = [r for r in boots if r[1] == boot]
                if not chosen:
                    raise RecordingError("%s: no boot %d (boots: %s)"
                                         % (path, boot, ", ".join(str(r[1]) for r in boots)))
                run_id, boot_no, _ = chosen[-1]
            rows = db.execute("SELECT t_s, pressure_pa, temperature_c, extra FROM samples "
                              "WHERE run_id=? AND boot=? ORDER BY seq", (run_id, boot_no)).fetchall()
            events = db.execute("SELECT t_s, event, fields FROM events WHERE run_id=? AND boot=? "
                                "ORDER BY seq", (run_id, boot_no)).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise RecordingError("%s: not a readable leakrig log (%s)" % (path, exc))
    times = []
    channels = {k: [] for k in CHANNEL_KEYS}
    for t, p, temp, extra in rows:
        try:
            fields = json.loads(extra) if extra else {}
        except ValueError:
            fields = {}
        times.append(float(t))
        channels["p"].append(_num(p))
        channels["T"].append(_num(temp))
        for k in CHANNEL_KEYS:
            if k not in ("p", "T"):
                channels[k].append(_num(fields.get(k)))
    channels = {k: v for k, v in channels.items() if any(x is not None for x in v)}
    evs = []
    for t, name, fields in events:
        try:
            f = json.loads(fields) if fields else {}
        except ValueError:
            f = {}
        evs.append((None if t is None else float(t), name, f))
    return Recording(times, channels, path, evs)


def _load_csv(path):
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise RecordingError("%s: empty file" % path)
            names = [_CSV_NAMES.get(h.strip(), h.strip()) for h in header]
            if "t_s" not in names:
                raise RecordingError("%s: no t_s column (needs t_s and channels such as "
                                     "pressure_pa, temperature_c, p2, T2, pa, Ta, Tr)" % path)
            cols = [(i, n) for i, n in enumerate(names) if n in CHANNEL_KEYS]
            if not cols:
                raise RecordingError("%s: no channel column (pressure_pa, temperature_c, "
                                     "p2, T2, pa, Ta, Tr)" % path)
            it = names.index("t_s")
            times = []
            channels = {n: [] for _, n in cols}
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    t = float(row[it])
                except (ValueError, IndexError):
                    raise RecordingError("%s:%d: t_s is not a number" % (path, lineno))
                if times and t < times[-1]:
                    raise RecordingError("%s:%d: t_s goes backwards" % (path, lineno))
                times.append(t)
                for i, n in cols:
                    channels[n].append(_num(row[i]) if i < len(row) and row[i].strip() else None)
    except UnicodeDecodeError:
        raise RecordingError("%s: not a text CSV file" % path)
    except csv.Error as exc:
        raise RecordingError("%s: bad CSV (%s)" % (path, exc))
    return Recording(times, channels, path)


class Silence:
    """A fault schedule (faults.Schedule's interface) that is active while
    any of a role's replayed channels has no value: the sensor NACKs."""

    def __init__(self, recording, keys, also=None):
        self.recording = recording
        self.keys = tuple(keys)
        self.also = also

    def active(self, scenario_s):
        for k in self.keys:
            if self.recording.value(k, scenario_s) is None:
                return True
        return bool(self.also is not None and self.also.active(scenario_s))


class ReplaySpec:
    """A scenario's [recording]: the windowed recording, the channel keys to
    play (None: all it holds) and what the other sensors read: "physics"
    (the scenario's loop) or "absent" (they do not answer)."""

    def __init__(self, recording, channels=None, others="physics"):
        self.recording = recording
        self.channels = None if channels is None else tuple(channels)
        self.others = others

    def plays(self, key):
        return key in self.recording.channels and (self.channels is None or key in self.channels)

    def role_keys(self, spec):
        """The channel keys of a sensor (its definition's `keys`) played from
        the recording."""
        return [k for k in spec.get("keys", ()) if self.plays(k)]
