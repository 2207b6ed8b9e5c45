"""leakrig status: ask a board for its status."""
from . import add, add_port
from ..errors import LinkError


def add_parser(sub):
    p = add(sub, "status", "ask the board for its status (exit 0 when it answers)",
            "leakrig status --port /dev/ttyACM0")
    add_port(p)
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for the answer (default 5, or $LEAKRIG_ANSWER_TIMEOUT)")
    return p


def run(args):
    from ..link import BoardLink
    from ..remote import answer_timeout

    with BoardLink(args.port) as link:
        reply = link.command("status", timeout=args.timeout or answer_timeout(5.0))
    if reply.kind != "R":
        raise LinkError("board answered with an error: %s" % reply.fields.get("msg", "?"))
    for k, v in reply.fields.items():
        if k not in ("cmd", "id"):
            print("%-12s %s" % (k, v))
    return 0
