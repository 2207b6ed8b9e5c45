"""leakrig decay: run a pressure-decay test on the board and print its verdict."""
import sys
import time

from . import add, add_port
from ..errors import LinkError


def add_parser(sub):
    p = add(sub, "decay", "run a pressure-decay test (fill, stabilise, test, vent) and print the verdict",
            "leakrig decay --port /dev/ttyACM0 --reject 1.0 --stabilise 600 --test 120",
            description="The board times the phases on its own samples and sends an event as each "
                        "begins (operate the fill and vent valves on them), then fits the pressure "
                        "decay over the test phase and judges it against the reject limit with its "
                        "uncertainty. Exit status: 0 PASS, 1 FAIL, 2 INCONCLUSIVE (a sensor fault, "
                        "too few samples, or an uncertainty across the limit).")
    add_port(p)
    p.add_argument("--reject", type=float, default=2.0, help="reject limit, Pa/s of pressure decay (default 2)")
    p.add_argument("--fill", type=float, default=30.0, help="fill phase, s (default 30)")
    p.add_argument("--stabilise", type=float, default=60.0, help="stabilise phase, s (default 60)")
    p.add_argument("--test", type=float, default=120.0, help="test phase, s (default 120)")
    p.add_argument("--vent", type=float, default=10.0, help="vent phase, s (default 10)")
    p.add_argument("--coverage", type=float, default=2.0, help="coverage factor on the rate's uncertainty (default 2)")
    p.add_argument("--min-fill", type=float, default=None,
                   help="pressure, Pa, the loop must hold at the start of the test phase "
                        "(default: the board's min_pressure_pa)")
    p.add_argument("--timeout", type=float, default=None,
                   help="host seconds to wait for the verdict (default: the phases' length plus 60 s)")
    return p


def run(args):
    from ..link import BoardLink
    from ..remote import check

    text = "decay start reject=%r fill=%r stabilise=%r test=%r vent=%r coverage=%r" % (
        args.reject, args.fill, args.stabilise, args.test, args.vent, args.coverage)
    if args.min_fill is not None:
        text += " min_fill=%r" % args.min_fill
    total = args.fill + args.stabilise + args.test + args.vent
    timeout = args.timeout if args.timeout is not None else total + 60.0
    with BoardLink(args.port) as link:
        check(link.command(text), "decay start")
        sys.stderr.write("decay: fill (%.0f s of %.0f s in all)\n" % (args.fill, total))
        deadline = time.monotonic() + timeout
        result = None
        while result is None:
            if time.monotonic() > deadline:
                raise LinkError("no decay verdict from the board within %.0f s" % timeout)
            for f in link.read_frames():
                if f.kind != "E":
                    continue
                ev = f.fields.get("ev")
                if ev == "decay_phase":
                    sys.stderr.write("decay: %s at t=%s s\n" % (f.fields.get("phase"), f.fields.get("t")))
                elif ev == "sensor_fault":
                    sys.stderr.write("decay: sensor fault at t=%s s (%s)\n"
                                     % (f.fields.get("t"), f.fields.get("sensor") or f.fields.get("msg", "detector")))
                elif ev == "decay_result":
                    result = f.fields
                    break
    verdict = result.get("verdict", "INCONCLUSIVE")
    print("%s  rate %s ± %s Pa/s (1σ) against a reject limit of %s Pa/s: %s"
          % (verdict, result.get("r"), result.get("ur"), result.get("reject"), result.get("reason", "")))
    return {"PASS": 0, "FAIL": 1}.get(verdict, 2)
