"""leakrig mpy: compile the firmware with mpy-cross for each board."""
from . import add


def add_parser(sub):
    p = add(sub, "mpy", "compile the firmware to .mpy for each board's architecture and report code size",
            "leakrig mpy --board pico",
            description="Compile every firmware module (main.py and boot.py stay source) with "
                        "mpy-cross for the board's architecture (armv6m, armv7emsp, xtensawin) into "
                        "build/mpy/<board>/, report the code size per board, and (without --out) "
                        "keep firmware/package.json (for mip) in step with the modules. Without --board, "
                        "every board with an architecture is built; the virtual board (arch null) "
                        "is built only when named, as portable bytecode.")
    p.add_argument("--board", action="append", help="board definition name (repeatable; default: all real boards)")
    p.add_argument("--out", help="output folder (default: build/mpy)")
    p.add_argument("--files", action="store_true", help="list every file's size")
    return p


def run(args):
    from .. import boards
    from ..fwpath import firmware_dir
    from ..mpy import build, package_json, package_json_text

    names = args.board or [n for n in boards.names() if boards.load(n).get("arch")]
    for n in names:
        boards.path(n)  # unknown board: one clear line before any work
    print("%-8s %-10s %6s %9s %9s %6s" % ("board", "arch", "files", "py_bytes", "mpy_bytes", "ratio"))
    for name in names:
        b = build(name, args.out)
        print("%-8s %-10s %6d %9d %9d %6.2f" % (name, b.arch or "bytecode", len(b.files),
                                               b.py_bytes, b.mpy_bytes, b.mpy_bytes / b.py_bytes))
        if args.files:
            for rel, py, mpy in b.files:
                print("    %-30s %7d %7d" % (rel, py, mpy))
    if args.out:
        return 0  # a build elsewhere leaves the source tree alone
    pj = firmware_dir() / "package.json"
    text = package_json_text(package_json())
    if not pj.exists() or pj.read_text() != text:
        pj.write_text(text)
        print("updated %s" % pj)
    return 0
