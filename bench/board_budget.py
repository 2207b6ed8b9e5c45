"""Each real board's budget on the 32-bit single-precision VM, as `name: value`
lines per board: the firmware's heap at the high-water mark of its live data
and the headroom that leaves (fraction of the board's heap; target >= 0.15),
from a virtual board running an MS-22 puncture at 10 Hz; the detector's cost
per sample with the board's windows, as a ratio to a plain running mean in
the same VM run (the stable figure on a shared machine); and the size of the
firmware as .mpy. LEAKRIG_BUDGET_BOARD_S sets the board time (default 600 s).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "host"))
from leakrig import boards  # noqa: E402
from leakrig.sim.budget import real_boards, run_board  # noqa: E402
from leakrig.sim.vmenv import MCU32_NAME, mcu32_binary  # noqa: E402

sys.path.insert(0, HERE)
from detector_cost import vm_cost  # noqa: E402

BOARD_S = float(os.environ.get("LEAKRIG_BUDGET_BOARD_S", "600"))

def main():
    binary = mcu32_binary()
    if binary is None:
        sys.exit("board_budget: no %s (docs/boards.md says how to get one)" % MCU32_NAME)
    print("board_seconds: %.0f" % BOARD_S)
    for board in real_boards():
        windows = int(((boards.load(board).get("config") or {}).get("detector") or {}).get("windows", 8))
        run = run_board(board, board_s=BOARD_S)
        print("%s_heap_kb: %d" % (board, run.board_heap // 1024))
        print("%s_high_water_bytes: %d" % (board, run.board_heap - run.mem_low))
        print("%s_headroom: %.3f" % (board, run.headroom))
        print("%s_crashes: %d" % (board, len(run.crashes)))
        print("%s_reboots: %d" % (board, run.reboots))
        print("%s_detection_delay_s: %s" % (board, "none" if run.detected_t is None
                                            else "%.1f" % (run.detected_t - run.onset_board_s)))
        print("%s_detector_windows: %d" % (board, windows))
        print("%s_detector_cost_over_running_mean_vm32: %.0f" % (board, vm_cost(binary, windows, samples=0)[1]))
        print("%s_mpy_bytes: %d" % (board, run.mpy_bytes))


if __name__ == "__main__":
    main()
