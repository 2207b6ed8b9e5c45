"""leakrig deploy: put the firmware and a board definition on a board."""
import json

from . import add, add_port
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "deploy", "copy the firmware and board definition to a board with mpremote",
            "leakrig deploy --board pico --port /dev/ttyACM0")
    p.add_argument("--board", help="board definition name (boards/NAME.json); default: the one "
                                   "that fits what the board says it is (sys.implementation._machine)")
    add_port(p)
    p.add_argument("--config", help="JSON file with board config to write as config.json")
    p.add_argument("--source", action="store_true",
                   help="deploy the .py sources instead of modules compiled with mpy-cross "
                        "for the board's architecture (the default)")
    p.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")
    return p


def run(args):
    from ..deploy import deploy

    config = None
    if args.config:
        try:
            with open(args.config) as f:
                config = json.load(f)
        except (OSError, ValueError) as exc:
            raise UserError("--config %s: %s" % (args.config, exc))
    board = args.board or _board_of(args.port)
    deploy(args.port, board, config=config, reset=not args.no_reset, mpy=not args.source)
    return 0


def _board_of(port):
    """The board definition for the board on port, when --board is not given.

    Firmware that answers `status` names the definition it runs; asking it
    does not interrupt it, so a running watchdog keeps being fed. Otherwise
    (a new board, no firmware running, so no watchdog either) the board's own
    sys.implementation._machine, through mpremote, tells."""
    from ..boards import for_machine, names
    from ..deploy import mpremote
    from ..errors import LinkError
    from ..link import BoardLink

    try:
        with BoardLink(port) as link:
            reply = link.command("status", timeout=2.0)
        if reply.kind == "R" and reply.fields.get("board") in names():
            board = reply.fields["board"]
            print("deploy: the firmware on %s runs board definition %r" % (port, board))
            return board
    except LinkError:
        pass
    machine = mpremote(port, "exec", "import sys; print(sys.implementation._machine)").strip()
    board = for_machine(machine)
    if board is None:
        raise UserError("no board definition fits %r: give --board (one of %s)" % (machine, ", ".join(names())))
    print("deploy: %s says it is %r: board definition %r" % (port, machine, board))
    return board
