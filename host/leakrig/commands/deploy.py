"""leakrig deploy: put the firmware and a board definition on a board."""
import json

from . import add
from ..errors import UserError


def add_parser(sub):
    p = add(sub, "deploy", "copy the firmware and board definition to a board with mpremote",
            "leakrig deploy --board pico --port /dev/ttyACM0")
    p.add_argument("--board", required=True, help="board definition name (boards/NAME.json)")
    p.add_argument("--port", required=True, help="serial device or pyserial URL")
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
    deploy(args.port, args.board, config=config, reset=not args.no_reset, mpy=not args.source)
    return 0
