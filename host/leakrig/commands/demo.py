"""leakrig demo: the whole path on a simulated rig — virtual board, real
firmware deployed with mpremote, logging and leak detection — in about a
minute."""
import shutil
import sys
import time
from pathlib import Path

from . import ProgressLine, add


def add_parser(sub):
    p = add(sub, "demo", "run a simulated rig end to end and summarise the log",
            "leakrig demo --scenario seep_1ml_min --hours 6")
    p.add_argument("--scenario", default="ms22", help="scenario to simulate (default: ms22)")
    p.add_argument("--board", default="sim", help="board definition (default: sim)")
    p.add_argument("--hours", type=float, default=4.5,
                   help="rig time to log, hours (default: 4.5: the ms22 puncture comes at 3 h)")
    p.add_argument("--rate", type=float, default=1.0, help="sample rate, Hz (default: 1)")
    p.add_argument("--max-minutes", type=float, default=60.0,
                   help="wall-clock limit, minutes (default: 60); the demo says so if it stops there")
    p.add_argument("--out", default="out/demo", help="folder for the log and report (default: out/demo)")
    return p


def say(text):
    print("demo: " + text, file=sys.stderr, flush=True)


def run(args):
    from ..deploy import deploy
    from ..logger import Logger, format_summary
    from ..report import make_report
    from ..sim.rig import build_virtual_board

    from ..errors import UserError
    from leakrig_fw.config import SCHEMA

    if not args.max_minutes > 0:
        raise UserError("--max-minutes must be positive, not %g" % args.max_minutes)
    if not args.hours > 0:
        raise UserError("--hours must be positive, not %g" % args.hours)
    lo, hi = SCHEMA["rate_hz"][2:4]
    if not lo <= args.rate <= hi:
        raise UserError("--rate must be between %g and %g Hz, not %g" % (lo, hi, args.rate))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "run.sqlite"
    for stale in (log_path, Path(str(log_path) + "-wal"), Path(str(log_path) + "-shm")):
        if stale.exists():
            stale.unlink()
    # A fresh board every time: firmware left in the flash by the last demo
    # would start sampling at power-up, and in lockstep its samples move
    # the rig's clock on before the deploy, so the puncture would come at a
    # different board time from run to run.
    shutil.rmtree(out / "flash", ignore_errors=True)
    t0 = time.monotonic()
    board = build_virtual_board(args.board, args.scenario, lockstep=True, flash_dir=out / "flash")
    board.start()
    try:
        say("virtual board %r on %s, scenario %r (lockstep time)" % (args.board, board.port, args.scenario))
        deploy(board.port, args.board, config={"rate_hz": args.rate}, progress=say)
        say("logging %.1f h of rig time at %g Hz" % (args.hours, args.rate))
        line = ProgressLine(10.0)
        logger = Logger(board.port, str(log_path), name="demo-" + args.scenario,
                        notes="leakrig demo", progress=lambda lg: _progress(lg, line))
        try:
            logger.run(board_duration_s=args.hours * 3600.0, duration_s=args.max_minutes * 60.0)
        finally:
            logger.close()
        if line.tty:
            sys.stderr.write("\n")
    finally:
        board.stop()
    summary = logger.summary()
    wall = time.monotonic() - t0
    logged_h = summary.get("board_time_s", 0.0) / 3600.0
    if logged_h < 0.99 * args.hours:
        say("stopped at the %g min wall-clock limit after %.2f h of the %g h of rig time asked "
            "(--max-minutes for more, --hours for less)" % (args.max_minutes, logged_h, args.hours))
    print(format_summary(summary, logger.events))
    if summary["samples"]:
        say("drawing the report")
        png, page, _, _ = make_report(log_path, out / "run-report")
        print("report       %s\n             %s" % (png, page))
    else:
        from ..errors import LinkError

        raise LinkError("no samples came from the virtual board on %s" % board.port)
    print("wall time    %.1f s" % wall)
    if summary["crashes"]:
        from ..errors import BoardCrashed

        raise BoardCrashed("the board crashed %d time(s) during the demo (last: %s)"
                           % (summary["crashes"], summary["last_crash"]))
    return 0


def _progress(logger, line):
    line.show("demo: %6d samples, t=%8.0f s board time, %d events, %d gaps, %d CRC errors"
              % (logger.samples, (logger.last_t or 0.0), len(logger.events),
                 logger.stats.gaps, logger.stats.crc_errors))
