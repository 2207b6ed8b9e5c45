"""leakrig sim: start a virtual board and print its port."""
import signal
import sys
import threading

from . import add
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "sim", "start a virtual board (simulated rig) and print its port",
            "leakrig sim --scenario ms22 &   # first line printed is the port",
            description="Start a virtual board: a pseudo-terminal with the MicroPython "
                        "unix port behind it, its sensors emulated at register level and "
                        "driven by the rig simulator. The first line printed is the port; "
                        "it runs until interrupted (Ctrl-C or SIGTERM).")
    p.add_argument("--board", default="sim", help="board definition wired to the simulator (default: sim)")
    p.add_argument("--scenario", default="nominal", help="scenario name or .toml path (default: nominal)")
    p.add_argument("--replay", metavar="RUN",
                   help="play a logged run (a leakrig .sqlite log, or a CSV with t_s,pressure_pa,"
                        "temperature_c and other channels by key) through the emulated sensors, "
                        "from the board's boot; sensors the log lacks read the scenario's physics")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    p.add_argument("--speed", default="lockstep",
                   help="'lockstep' (time advances when the firmware sleeps), 'realtime', "
                        "or a real-time factor such as 10")
    p.add_argument("--flash", help="flash folder (default: a new temporary folder)")
    p.add_argument("--heap-kb", type=int, default=None, help="VM heap size in KiB (default: the board's)")
    p.add_argument("--cpu", default=None,
                   help="CPU for the VM and the simulator's thread that answers it: 'auto' (one "
                        "CPU for both, so that their hand-overs stay on it), 'none' (the "
                        "kernel places them), or a CPU number (default: $LEAKRIG_SIM_CPU or auto)")
    return p


def replay_scenario(run_path, base=None):
    from ..sim.scenario import for_recording

    try:
        return for_recording(run_path, base)
    except (ValueError, OSError) as exc:
        raise UserError(str(exc))


def parse_speed(text):
    if text == "lockstep":
        return True, 1.0
    if text == "realtime":
        return False, 1.0
    try:
        factor = float(text)
    except ValueError:
        raise UserError("--speed: expected lockstep, realtime or a number, got %r" % text)
    if factor <= 0:
        raise UserError("--speed must be positive")
    return False, factor


def run(args):
    from ..sim.rig import build_virtual_board

    lockstep, speed = parse_speed(args.speed)
    scenario = args.scenario
    if args.replay:
        scenario = replay_scenario(args.replay, args.scenario)
    board = build_virtual_board(args.board, scenario, seed=args.seed, lockstep=lockstep,
                                speed=speed, flash_dir=args.flash, heap_kb=args.heap_kb,
                                cpu="auto" if args.cpu is None else args.cpu)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    board.start()
    print(board.port, flush=True)
    what = ("replaying %s (%.0f s)" % (args.replay, scenario.duration_s) if args.replay
            else "scenario %r" % args.scenario)
    print("virtual board %r, %s, %s; flash: %s; Ctrl-C to stop"
          % (args.board, what, args.speed, board.flash_dir), file=sys.stderr, flush=True)
    print("use it from another shell: export LEAKRIG_PORT=%s; leakrig deploy; leakrig monitor"
          % board.port, file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        board.stop()
    return 0
