"""Logged runs as regression tests: each recording in a folder is replayed
through a virtual board (hil_tests/test_recordings.py) and the board's
events are compared with what is expected of it.

What is expected comes from `NAME.expect.toml` beside the recording, or,
without one, from the events the recording itself holds:

    leak = false        # no leak in this run: a leak event fails, even one
                        # the recorded board raised (a nuisance alarm), unless
                        # [[events]] lists it as expected
    tolerance_s = 60    # how far an event's time may move (default: 3
                        # sample intervals + 10 s)
    kinds = ["leak_suspected", "leak_detected", "gross_leak", "cleared"]
    [[events]]          # the events expected (default: the recording's)
    event = "leak_detected"
    t_s = 9120.0        # in the recording's time (s since its board booted)
"""
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

LEAK_EVENTS = ("leak_suspected", "leak_detected", "gross_leak")
DEFAULT_KINDS = LEAK_EVENTS + ("cleared", "sensor_fault", "sensor_ok")
SUFFIXES = (".sqlite", ".sqlite.gz", ".csv", ".csv.gz", ".db")
EXPECT_SUFFIX = ".expect.toml"


def find(folder):
    """The recordings in a folder, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError("--recordings %s: not a folder" % folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))


def stem(path):
    name = Path(path).name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return Path(path).stem


def expect_path(path):
    return Path(path).with_name(stem(path) + EXPECT_SUFFIX)


class Expectations:
    def __init__(self, events, kinds=DEFAULT_KINDS, leak=None, tolerance_s=None, source=""):
        self.events = sorted(events)      # (t_s in the recording's time, name)
        self.kinds = tuple(kinds)
        self.leak = leak                  # False: a no-leak run; True: must see a leak event
        self.tolerance_s = tolerance_s
        self.source = source


def expectations(recording_path, recording):
    """Expectations for a recording (recording.Recording, windowed)."""
    path = expect_path(recording_path)
    data = {}
    if path.exists():
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError("%s: %s" % (path, exc))
    unknown = set(data) - {"leak", "tolerance_s", "kinds", "events"}
    if unknown:
        raise ValueError("%s: unknown key(s) %s" % (path, ", ".join(sorted(unknown))))
    kinds = tuple(data.get("kinds", DEFAULT_KINDS))
    if "events" in data:
        try:
            events = [(float(e["t_s"]), str(e["event"])) for e in data["events"]]
        except (KeyError, TypeError, ValueError):
            raise ValueError("%s: each [[events]] needs event and t_s" % path)
    else:
        events = [(t, name) for t, name, _ in recording.events if name in kinds and t is not None]
    leak = data.get("leak")
    if leak is not None and not isinstance(leak, bool):
        raise ValueError("%s: leak must be true or false" % path)
    if leak is False and "events" not in data:
        # a run marked no-leak: the leak events its board raised were nuisance
        events = [(t, name) for t, name in events if name not in LEAK_EVENTS]
    tol = data.get("tolerance_s")
    if tol is None:
        tol = 3.0 * recording.interval_s + 10.0
    return Expectations(events, kinds, leak, float(tol), str(path) if path.exists() else "the recording")


def compare(expected, recording, got):
    """Problems (one line each) between what was expected and the events the
    board raised: got is [(board t_s, name)], board time since its boot,
    which is the replay's time. An empty list: the run passes."""
    problems = []
    tol = expected.tolerance_s
    got = sorted((t, name) for t, name in got if name in expected.kinds)
    used = [False] * len(got)
    for t_rec, name in expected.events:
        if name not in expected.kinds:
            continue
        want = recording.scenario_time(t_rec)
        best = None
        for i, (t, n) in enumerate(got):
            if not used[i] and n == name and abs(t - want) <= tol:
                if best is None or abs(t - want) < abs(got[best][0] - want):
                    best = i
        if best is None:
            problems.append("expected %s at %.1f s (from %s): none within %.0f s"
                            % (name, t_rec, expected.source, tol))
        else:
            used[best] = True
    for i, (t, name) in enumerate(got):
        if used[i]:
            continue
        t_rec = recording.recorded_time(t)
        if name.startswith("sensor_") and _in_gap(recording, t):
            continue  # the log has a gap there: the replayed sensor is silent
        if expected.leak is False and name in LEAK_EVENTS:
            problems.append("%s at %.1f s on a run marked no-leak (nuisance alarm)" % (name, t_rec))
        else:
            problems.append("unexpected %s at %.1f s" % (name, t_rec))
    if expected.leak is True and not any(n in LEAK_EVENTS for _, n in got):
        problems.append("no leak event on a run marked leak = true")
    return problems


def _in_gap(recording, board_t, margin_samples=3):
    """True when the log has no sample for some channel near board time t
    (a sensor event there answers the replay's silence)."""
    step = recording.interval_s / recording.speed
    for k in range(-margin_samples, margin_samples + 1):
        tau = board_t + k * step
        for key in recording.channels:
            if recording.value(key, tau) is None:
                return True
    return False
