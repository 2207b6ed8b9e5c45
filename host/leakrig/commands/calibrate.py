"""leakrig calibrate: tare the loop pressure, set the loop's compliance."""
from . import add, add_port
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "calibrate", "zero the pressure reading, or set the loop compliance (Pa/s to mL/min)",
            "leakrig calibrate --port /dev/ttyACM0 zero --reference-pa 101325",
            description="`zero`: the board takes its current pressure reading as REFERENCE "
                        "(default 0 Pa, i.e. gauge pressure) and saves the offset. `compliance`: "
                        "saves the loop's compliance in mL/kPa, measured with a reference leak "
                        "(bleed a known volume, read the pressure drop), so the detector reports "
                        "leak rates in mL/min.")
    p.add_argument("what", choices=("zero", "compliance"))
    add_port(p)
    p.add_argument("--reference-pa", type=float, default=0.0,
                   help="zero: the true pressure now, Pa (default 0)")
    p.add_argument("--ml-per-kpa", type=float, help="compliance: mL of coolant per kPa of loop pressure")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for the answer (default 5, or $LEAKRIG_ANSWER_TIMEOUT)")
    return p


def run(args):
    from ..remote import ask

    if args.what == "zero":
        fields = ask(args.port, "zero %r" % args.reference_pa, args.timeout)
        print("zero offset %s Pa saved (the pressure now reads %g Pa)"
              % (fields.get("zero_offset_pa", "?"), args.reference_pa))
        return 0
    if args.ml_per_kpa is None or args.ml_per_kpa <= 0:
        raise UserError("calibrate compliance needs --ml-per-kpa, a positive number")
    fields = ask(args.port, "config set compliance_ml_per_kpa %r" % args.ml_per_kpa, args.timeout)
    print("compliance %s mL/kPa saved" % fields.get("compliance_ml_per_kpa", "?"))
    return 0
