"""Recordings read for replay (leakrig.sim.recording): a CSV or a log, the
sample a conversion reads, gaps and holes, windows, and errors in one line."""
import subprocess
import sys

import pytest

from leakrig.sim import recording
from leakrig.sim.scenario import for_recording, parse_scenario


def _csv(tmp_path, rows, header="t_s,pressure_pa,temperature_c,Tr"):
    path = tmp_path / "run.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_a_conversion_reads_the_sample_of_its_cycle(tmp_path):
    rec = recording.load(_csv(tmp_path, ["%d,%d,20.0,%d" % (t, 300000 + t, t) for t in range(10)]))
    assert rec.interval_s == 1.0 and rec.keys() == ["p", "T", "Tr"]
    assert rec.value("p", 3.0) == 300003.0
    assert rec.value("p", 3.9) == 300003.0      # later in the same cycle
    assert rec.value("p", -5.0) == 300000.0     # before the first sample: it holds
    assert rec.value("p", 10.4) == 300009.0     # within 1.5 intervals of the last
    assert rec.value("p", 11.0) is None         # after the log: nothing to read


def test_a_gap_and_a_missing_channel_give_no_reading(tmp_path):
    rows = ["%d,%d,20.0,%s" % (t, 300000 + t, "" if t == 4 else "5") for t in range(10)]
    rows = [r for r in rows if not r.startswith(("6,", "7,", "8,"))]  # lost frames
    rec = recording.load(_csv(tmp_path, rows))
    assert rec.value("Tr", 4.2) is None and rec.value("p", 4.2) == 300004.0
    assert rec.value("p", 5.5) == 300005.0 and rec.value("p", 6.6) is None
    assert rec.value("p", 9.0) == 300009.0
    silent = recording.Silence(rec, ["Tr"])
    assert silent.active(4.5) and not silent.active(3.5)


def test_window_and_speed(tmp_path):
    rec = recording.load(_csv(tmp_path, ["%d,%d,20.0,1" % (t, t) for t in range(100)]))
    w = rec.window(start_s=50, end_s=80, speed=2.0)
    assert w.value("p", 0.0) == 50.0 and w.value("p", 10.0) == 70.0
    assert w.duration_s == 15.0 and w.scenario_time(60.0) == 5.0
    with pytest.raises(recording.RecordingError):
        rec.window(start_s=500)


def test_a_scenario_plays_a_recording_and_bad_ones_say_why(tmp_path):
    path = _csv(tmp_path, ["%d,300000,20.0,5" % t for t in range(30)])
    sc = for_recording(path)
    assert sc.duration_s == 29.0 and sc.recording.plays("p") and not sc.recording.plays("p2")
    sc = parse_scenario({"recording": {"path": str(path), "channels": ["p"], "others": "absent"}}, "x")
    assert sc.recording.plays("p") and not sc.recording.plays("T")
    for bad, words in (({"path": str(tmp_path / "none.csv")}, "cannot read"),
                       ({"path": str(path), "channels": ["q"]}, "channel keys"),
                       ({"path": str(path), "speed": 0}, "speed")):
        with pytest.raises(ValueError, match=words):
            parse_scenario({"recording": bad}, "x")
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("t_s,pressure_pa\n1,2\nx,3\n")
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "sim", "--replay", str(garbage)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "t_s is not a number" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
