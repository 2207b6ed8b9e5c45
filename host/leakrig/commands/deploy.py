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
    board = args.board
    if not board:
        from ..boards import for_machine, names
        from ..deploy import mpremote

        machine = mpremote(args.port, "exec", "import sys; print(sys.implementation._machine)").strip()
        board = for_machine(machine)
        if board is None:
            raise UserError("no board definition fits %r: give --board (one of %s)"
                            % (machine, ", ".join(names())))
        print("deploy: %s says it is %r: board definition %r" % (args.port, machine, board))
    deploy(args.port, board, config=config, reset=not args.no_reset, mpy=not args.source)
    return 0
