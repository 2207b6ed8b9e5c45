"""Logged runs as regression tests: each recording (hil_tests/recordings, or
the folder given with --recordings) is played through the virtual board's
sensors from a fresh boot, and the events the firmware raises are compared
with those expected (leakrig/recordings.py: the recording's own events, or
NAME.expect.toml beside it). A firmware that raises a nuisance alarm on an
old recording fails by the recording's name."""
from pathlib import Path

import pytest

from board_control import start_scenario
from leakrig import recordings
from leakrig.sim.scenario import for_recording

HERE = Path(__file__).resolve().parent


def pytest_generate_tests(metafunc):
    if "recording_path" in metafunc.fixturenames:
        folder = metafunc.config.getoption("--recordings") or HERE / "recordings"
        paths = recordings.find(folder)
        metafunc.parametrize("recording_path", paths, ids=[recordings.stem(p) for p in paths])


_REPLAYED = {}  # recording path -> (Recording, events the board raised)


def _replay(dut, rig, path):
    """Play a recording through the board from a fresh boot; (the windowed
    Recording, [(board t_s, event name)]). Each recording is played once."""
    key = str(path)
    if key not in _REPLAYED:
        scenario = for_recording(path)
        rec = scenario.recording.recording
        start_scenario(dut, rig, scenario, round(1.0 / rec.interval_s, 3))
        frames = dut.run_for(rec.duration_s - dut.board_time_s, host_timeout_s=800)
        got = [(float(f.fields["t"]), f.fields.get("ev", "")) for f in frames if f.kind == "E"]
        _REPLAYED[key] = (rec, got)
    return _REPLAYED[key]


@pytest.mark.timeout(900)
def test_recording_gives_the_expected_events(dut, rig, record, recording_path):
    if not rig.simulated:
        pytest.skip("a recording is replayed through a virtual board's sensors")
    rec, got = _replay(dut, rig, recording_path)
    problems = recordings.compare(recordings.expectations(recording_path, rec), rec, got)
    record("event_mismatches", len(problems), "")
    assert not problems, "%s:\n  %s" % (recording_path.name, "\n  ".join(problems))


@pytest.mark.timeout(900)
def test_a_nuisance_alarm_fails_and_passes_once_expected(dut, rig, tmp_path):
    """The MS-22 recording stands for a run with a nuisance alarm: marked
    no-leak, the alarm the board raises on it fails the comparison, naming
    it; with the alarm listed as expected, the same replay passes."""
    if not rig.simulated:
        pytest.skip("a recording is replayed through a virtual board's sensors")
    shipped = HERE / "recordings" / "ms22_puncture.sqlite.gz"
    rec, got = _replay(dut, rig, shipped)
    path = tmp_path / "night_run.sqlite.gz"
    path.write_bytes(shipped.read_bytes())
    expect = recordings.expect_path(path)

    expect.write_text("leak = false\n")
    problems = recordings.compare(recordings.expectations(path, rec), rec, got)
    assert any("leak_detected" in p and "nuisance" in p for p in problems), problems

    alarms = [(t, n) for t, n in got if n in recordings.LEAK_EVENTS]
    assert alarms
    expect.write_text("leak = false\n" + "".join(
        "[[events]]\nevent = %r\nt_s = %r\n" % (n, rec.recorded_time(t)) for t, n in alarms)
        .replace("'", '"'))
    assert recordings.compare(recordings.expectations(path, rec), rec, got) == []
