"""leakrig config: read or change the board's saved configuration."""
from . import add, add_port
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "config", "read (get) or change (set) the board's configuration",
            "leakrig config set --port /dev/ttyACM0 rate_hz 20",
            description="`config get` prints the board's configuration (all keys, or the ones "
                        "named); `config set KEY VALUE` validates the value on the board and saves "
                        "it there (temp file, backup, rename). Keys and ranges: docs/protocol.md; "
                        "detector parameters as detector.NAME (docs/detector.md), used from the "
                        "board's next boot.")
    actions = p.add_subparsers(dest="action", metavar="get|set")
    actions.required = True
    get = add(actions, "get", "print the board's configuration",
              "leakrig config get --port /dev/ttyACM0 rate_hz ring_frames")
    get.add_argument("keys", nargs="*", metavar="KEY", help="keys to print (default: all)")
    put = add(actions, "set", "validate and save one key on the board",
              "leakrig config set --port /dev/ttyACM0 min_pressure_pa 150000")
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    for q in (get, put):
        add_port(q)
        q.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for the answer (default 5, or $LEAKRIG_ANSWER_TIMEOUT)")
    return p


def _key_ok(key):
    """KEY or detector.NAME: identifiers joined by dots."""
    return all(part.isidentifier() for part in key.split("."))


def run(args):
    from ..remote import ask

    if args.action == "set":
        key, value = args.key, args.value
        if not _key_ok(key) or not value or any(c.isspace() for c in value):
            raise UserError("config set: bad key or value %r %r" % (key, value))
        fields = ask(args.port, "config set %s %s" % (key, value), args.timeout)
        print("%-22s %s%s" % (key, fields.get(key, value), "  (saved)" if fields.get("saved") == "1" else ""))
        return 0
    for key in args.keys:
        if not _key_ok(key):
            raise UserError("config get: bad key %r" % key)
    fields = ask(args.port, " ".join(["config", "get"] + args.keys), args.timeout)
    for k, v in fields.items():
        print("%-22s %s" % (k, v))
    return 0
