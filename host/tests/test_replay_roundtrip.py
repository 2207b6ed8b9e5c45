"""Record on a board, replay in CI: a run logged from a board-faithful
virtual Pico (32-bit VM, single precision) and played back through the same
board's emulated chips gives the same run: the same events at the same
times, every channel's samples equal to the frame's 3 decimals (the chips
read back the logged values exactly, well within each part's resolution),
and the detector's rate and state on every sample equal to the 4 decimals
the frames carry."""
import json
import sqlite3

import pytest

from leakrig.deploy import deploy
from leakrig.logger import Logger
from leakrig.sim import vmenv
from leakrig.sim.budget import ms22_variant
from leakrig.sim.rig import build_virtual_board
from leakrig.sim.scenario import for_recording

CHANNELS = ("p2", "T2", "pa", "Ta", "Tr")


def _log(board, scenario, out, seconds):
    vb = build_virtual_board(board, scenario)
    vb.start()
    try:
        deploy(vb.port, board, config={"rate_hz": 1, "detector": {"learn_s": 360}}, progress=lambda s: None)
        logger = Logger(vb.port, str(out))
        try:
            logger.run(board_duration_s=seconds, duration_s=400)
        finally:
            logger.close()
    finally:
        vb.stop()
    return vb


def _samples(path):
    db = sqlite3.connect(str(path))
    rows = db.execute("SELECT t_s, pressure_pa, temperature_c, rate_pa_s, state, extra FROM samples "
                      "ORDER BY boot, seq").fetchall()
    events = db.execute("SELECT t_s, event, fields FROM events ORDER BY boot, seq").fetchall()
    db.close()
    return {round(r[0], 3): r for r in rows}, [(round(t, 3), e, json.loads(f).get("r"))
                                               for t, e, f in events if e != "boot"]


@pytest.mark.timeout(900)
def test_a_logged_run_replays_to_the_same_run(tmp_path):
    if not vmenv.mcu32_binary():
        pytest.skip("no 32-bit single-precision VM (docs/boards.md)")
    original = tmp_path / "original.sqlite"
    vb = _log("pico", ms22_variant(tmp_path, 480.0), original, 900)
    assert vb.faithful
    replayed = tmp_path / "replayed.sqlite"
    _log("pico", for_recording(original), replayed, 900)

    a, a_events = _samples(original)
    b, b_events = _samples(replayed)
    assert any(e == "leak_detected" for _, e, _ in a_events), a_events
    # the replaying board may run a few seconds past the recording's end
    # before the logger stops (its sensors then answer nothing): the run to
    # compare is the recorded span
    end = max(a)
    assert b_events[:len(a_events)] == a_events
    assert [e for e in b_events[len(a_events):] if e[0] <= end] == []
    common = sorted(set(a) & set(b))
    assert len(common) >= 0.99 * len(a), (len(common), len(a))
    for t in common:
        ra, rb = a[t], b[t]
        assert ra[1:5] == rb[1:5], (t, ra, rb)  # p, T, detector rate, state
        ea, eb = json.loads(ra[5] or "{}"), json.loads(rb[5] or "{}")
        for key in CHANNELS:
            assert ea.get(key) == eb.get(key), (t, key, ea.get(key), eb.get(key))
