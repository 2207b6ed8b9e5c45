"""leakrig log: stream a board's telemetry into a SQLite log."""
import sys
import time

from . import ProgressLine, add, add_port


def add_parser(sub):
    p = add(sub, "log", "log a board's telemetry to SQLite (checks CRCs, reports and backfills gaps)",
            "leakrig log --port /dev/ttyACM0 --out run.sqlite --name soak-1 --duration 3600")
    add_port(p)
    p.add_argument("--out", help="SQLite file (created or appended to; logging again to the same file and port "
                                 "asks the board for frames missed in between); default: "
                                 "leakrig-YYYYmmdd-HHMMSS.sqlite here, from the UTC time")
    p.add_argument("--name", help="run name")
    p.add_argument("--notes", help="free-text notes stored with the run")
    p.add_argument("--samples", type=int, help="stop after this many samples")
    p.add_argument("--duration", type=float, help="stop after this many seconds (host time)")
    p.add_argument("--board-duration", type=float, help="stop after this many seconds of board time")
    p.add_argument("--no-resend", action="store_true", help="do not ask the board to resend missing frames")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--report", action="store_true",
                   help="when logging ends (a limit, or Ctrl-C), draw this run's report next to the "
                        "log, as `leakrig report` does")
    return p


def _progress(logger, line):
    s = logger.stats
    line.show("logging: %d samples, %d events, %d gaps, %d CRC errors"
              % (logger.samples, len(logger.events), s.gaps, s.crc_errors))


def _warn(text):
    sys.stderr.write("%sleakrig log: warning: %s\n" % ("\n" if sys.stderr.isatty() else "", text))
    sys.stderr.flush()


def run(args):
    from ..errors import LinkError, UserError
    from ..logger import Logger, format_summary

    if not args.out:
        args.out = time.strftime("leakrig-%Y%m%d-%H%M%S.sqlite", time.gmtime())
        print("leakrig log: logging to %s" % args.out, file=sys.stderr)
    line = ProgressLine(60.0)
    try:
        logger = Logger(args.port, args.out, name=args.name, notes=args.notes,
                        resend=not args.no_resend,
                        progress=None if args.quiet else (lambda lg: _progress(lg, line)),
                        warn=_warn)
    except ValueError as exc:  # the store: a path that cannot be opened, a file that is no log
        raise UserError(str(exc))
    try:
        logger.run(max_samples=args.samples, duration_s=args.duration,
                   board_duration_s=args.board_duration)
    except KeyboardInterrupt:
        logger.finish()
    finally:
        logger.close()
    if not args.quiet and line.tty:
        sys.stderr.write("\n")
    print(format_summary(logger.summary(), logger.events))
    if logger.stats.frames == 0:
        raise LinkError("no frames from the board on %s: nothing was logged" % args.port)
    if args.report:
        from pathlib import Path

        from ..report import make_report

        if logger.samples == 0:
            print("report       none: no samples in this run")
            return 0
        out = str(Path(args.out).with_suffix("")) + "-report"
        png, page, _, _ = make_report(args.out, out, logger.store.run_id)
        print("report       %s\n             %s" % (png, page))
    return 0
