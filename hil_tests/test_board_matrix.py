"""Each real board definition on a board-faithful virtual board: the 32-bit
single-precision VM with the board's heap, the firmware deployed as .mpy,
10 minutes of board time at 10 Hz through an MS-22 puncture. The board must
detect it, never crash or reboot, and keep at least 15 % of its heap free
at the high-water mark of the firmware's live data. 24 h soaks of the same:
`make soak-boards` (LEAKRIG_BOARD_SOAK_S)."""
import os

import pytest

from leakrig.sim.budget import ONSET_S, real_boards, run_board
from leakrig.sim.vmenv import MCU32_NAME, mcu32_binary

BOARD_S = float(os.environ.get("LEAKRIG_BOARD_SOAK_S", "600"))
RATE_HZ = float(os.environ.get("LEAKRIG_BOARD_RATE_HZ", "10"))
MIN_HEADROOM = 0.15

pytestmark = pytest.mark.skipif(
    mcu32_binary() is None,
    reason="no 32-bit single-precision MicroPython (%s): docs/boards.md says how to get one" % MCU32_NAME)


@pytest.mark.timeout(max(600, int(BOARD_S)))
@pytest.mark.parametrize("board", real_boards())
def test_board_runs_within_its_heap(board, record):
    run = run_board(board, board_s=BOARD_S, rate_hz=RATE_HZ)
    assert run.faithful
    record("board_seconds", round(run.board_s, 1), "s", low=BOARD_S)
    record("crashes", len(run.crashes), "", high=0)
    record("reboots", run.reboots, "", high=0)
    record("heap_headroom", round(run.headroom, 3), "", low=MIN_HEADROOM)
    record("heap_free_at_high_water", run.mem_low, "B")
    record("mpy_bytes", run.mpy_bytes, "B")
    if BOARD_S > run.onset_board_s:
        record("puncture_detected", int(run.detected_t is not None), "", low=1)
        delay = run.detected_t - run.onset_board_s
        record("detection_delay_s", round(delay, 1), "s", low=0.0, high=max(60.0, 300.0 / RATE_HZ))
