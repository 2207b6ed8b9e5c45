"""leakrig ports: list serial ports and name the MicroPython boards on them."""
import json

from . import add


def add_parser(sub):
    p = add(sub, "ports", "list serial ports and name the MicroPython boards on them (by USB VID:PID)",
            "leakrig ports --all")
    p.add_argument("--all", action="store_true", help="also list ports without a USB device (ttyS*)")
    p.add_argument("--json", action="store_true", help="one JSON object per port")
    return p


def run(args):
    from ..ports import describe, is_micropython, likely_board, scan, usb_id

    ports = scan(include_all=args.all)
    if args.json:
        for p in ports:
            print(json.dumps({"port": p.device, "usb": usb_id(p), "what": describe(p),
                              "micropython": is_micropython(p), "board": likely_board(p),
                              "serial_number": p.serial_number}))
        return 0
    if not ports:
        print("no USB serial ports found (a virtual board's port is printed by `leakrig sim`; "
              "a network rig is a URL such as rfc2217://host:4000)")
        return 0
    print("%-22s %-10s %-12s %s" % ("port", "usb", "board", "what"))
    for p in ports:
        what = describe(p)
        if p.serial_number:
            what += "  [serial %s]" % p.serial_number
        print("%-22s %-10s %-12s %s" % (p.device, usb_id(p), likely_board(p) or "-", what))
    return 0
