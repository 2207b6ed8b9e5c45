"""A board definition on its board-faithful VM (32-bit words, single
precision, the board's heap), deployed as .mpy as the board gets it, run
through an MS-22 puncture variant that fits a short board time: what heap it
keeps free, whether it crashed or rebooted, and what the detector found.
Used by the board matrix test and bench/board_budget.py."""
import tempfile
import time
from pathlib import Path

from .. import boards
from ..hil import DUT
from .scenario import load_scenario

# The MS-22 puncture at onset_s, after a learning period short enough for a
# run of minutes (the default 2 h is a board parameter).
ONSET_S = 480.0
LEARN_S = 360.0


def ms22_variant(folder, onset_s=ONSET_S):
    """A copy of the bundled ms22 scenario with the puncture at onset_s."""
    text = load_scenario("ms22").path.read_text()
    lines = []
    for line in text.splitlines():
        if line.split("=")[0].strip() == "onset_s":
            line = "onset_s = %r" % onset_s
        lines.append(line)
    path = Path(folder) / "ms22_budget.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class BudgetRun:
    """Figures of one run (see run_board)."""

    def __init__(self, board):
        self.board = board
        self.faithful = None
        self.board_heap = boards.load(board).get("sim_heap_kb", 0) * 1024
        self.mem_low = None
        self.board_s = 0.0
        self.samples = 0
        self.crashes = []      # messages of crash events
        self.reboots = 0       # boots after the first sample (a hello, or board time going back)
        self.detected_t = None  # board time of leak_detected / gross_leak
        self.detected_event = None
        self.onset_board_s = None
        self.mpy_bytes = None
        self.wall_s = 0.0

    @property
    def headroom(self):
        """Fraction of the board's heap free at the high-water mark of the
        firmware's live data (the VM's heap is the board's plus what the
        simulator's own modules hold: vmenv.sim_modules_heap_bytes)."""
        if not self.board_heap or self.mem_low is None or self.mem_low < 0:
            return None
        return self.mem_low / self.board_heap


def run_board(board, board_s=600.0, rate_hz=10.0, progress=None):
    """Deploy `board` on a fresh virtual board and run board_s seconds of
    board time at rate_hz. Returns a BudgetRun."""
    from ..deploy import deploy
    from ..mpy import build
    from .rig import build_virtual_board

    result = BudgetRun(board)
    wall0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="leakrig-budget-") as tmp:
        built = build(board, Path(tmp) / "mpy")
        result.mpy_bytes = built.mpy_bytes
        scenario = ms22_variant(tmp)
        vb = build_virtual_board(board, scenario, cpu=None)
        result.faithful = vb.faithful
        vb.start()
        try:
            config = {"rate_hz": rate_hz, "detector": {"learn_s": LEARN_S}}
            deploy(vb.port, board, config=config, progress=progress or (lambda s: None))
            # The scenario's clock started with the VM; the firmware's boots now.
            result.onset_board_s = ONSET_S - vb.hardware.clock.now_s
            dut = DUT(vb.port, board, vb)
            try:
                for f in dut.frames(timeout=max(120.0, board_s)):
                    if f.kind == "H":
                        if result.samples:
                            result.reboots += 1
                    elif f.kind == "E":
                        ev = f.fields.get("ev")
                        if ev == "crash":
                            result.crashes.append(f.fields.get("msg", "?"))
                        elif ev in ("leak_detected", "gross_leak") and result.detected_t is None:
                            result.detected_t = float(f.fields["t"])
                            result.detected_event = ev
                    elif f.kind == "S":
                        t = float(f.fields["t"])
                        if t < result.board_s - 1.0:
                            result.reboots += 1  # a boot whose hello was not seen
                        result.samples += 1
                        result.board_s = t
                        if result.board_s >= board_s:
                            break
                status = dut.command("status", timeout=30.0)
                result.mem_low = int(status["mem_low"])
            finally:
                dut.close()
        finally:
            vb.stop()
    result.wall_s = time.monotonic() - wall0
    return result


def real_boards():
    """The board definitions of real boards (not the unix-port `sim`)."""
    return [b for b in boards.names() if boards.load(b).get("mcu") != "unix"]
