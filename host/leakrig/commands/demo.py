"""leakrig demo: the whole path on a simulated rig — virtual board, real
firmware deployed with mpremote, logging and leak detection — in about a
minute."""
import sys
import time
from pathlib import Path

from . import add


def add_parser(sub):
    p = add(sub, "demo", "run a simulated rig end to end and summarise the log",
            "leakrig demo --scenario seep_1ml_min --hours 6")
    p.add_argument("--scenario", default="ms22", help="scenario to simulate (default: ms22)")
    p.add_argument("--board", default="sim", help="board definition (default: sim)")
    p.add_argument("--hours", type=float, default=4.5,
                   help="rig time to log, hours (default: 4.5: the ms22 puncture comes at 3 h)")
    p.add_argument("--rate", type=float, default=1.0, help="sample rate, Hz (default: 1)")
    p.add_argument("--out", default="out/demo", help="folder for the log and report (default: out/demo)")
    return p


def say(text):
    print("demo: " + text, file=sys.stderr, flush=True)


def run(args):
    from ..deploy import deploy
    from ..logger import Logger, format_summary
    from ..sim.rig import build_virtual_board

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "run.sqlite"
    if log_path.exists():
        log_path.unlink()
    t0 = time.monotonic()
    board = build_virtual_board(args.board, args.scenario, lockstep=True, flash_dir=out / "flash")
    board.start()
    try:
        say("virtual board %r on %s, scenario %r (lockstep time)" % (args.board, board.port, args.scenario))
        deploy(board.port, args.board, config={"rate_hz": args.rate}, progress=say)
        say("logging %.1f h of rig time at %g Hz" % (args.hours, args.rate))
        logger = Logger(board.port, str(log_path), name="demo-" + args.scenario,
                        notes="leakrig demo", progress=_progress)
        try:
            logger.run(board_duration_s=args.hours * 3600.0, duration_s=600)
        finally:
            logger.close()
        sys.stderr.write("\n")
    finally:
        board.stop()
    summary = logger.summary()
    print(format_summary(summary, logger.events))
    print("wall time    %.1f s" % (time.monotonic() - t0))
    return 0


def _progress(logger):
    sys.stderr.write("\rdemo: %6d samples, t=%8.0f s board time, %d events, %d gaps, %d CRC errors "
                     % (logger.samples, (logger.last_t or 0.0), len(logger.events),
                        logger.stats.gaps, logger.stats.crc_errors))
    sys.stderr.flush()
