"""Deploying the firmware to a board with mpremote, the same way for a real
board and a virtual one: stage the files, copy what changed (mpremote skips
files whose SHA-256 already matches), check every file's hash on the board,
then reset."""
import hashlib
import json
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

from . import boards
from .errors import UserError
from .fwpath import firmware_dir, repo_root


def firmware_sources():
    """(local path, path on the board) for every firmware file."""
    fw = firmware_dir()
    out = [(fw / "main.py", "main.py"), (fw / "boot.py", "boot.py")]
    for p in sorted((fw / "leakrig_fw").rglob("*.py")):
        out.append((p, str(p.relative_to(fw))))
    return out


def stage(board_name, config=None, dest=None, mpy=True):
    """Copy the files for board_name into a staging folder; return it.
    mpy=True (the default) stages the modules compiled with mpy-cross for
    the board's architecture (see leakrig.mpy): a board then needs no RAM to
    compile them; mpy=False stages their source."""
    board_def = boards.load(board_name)
    problems = boards.validate(board_def)
    if problems:
        # A board that boots with a definition its firmware refuses sits at
        # its REPL (or crash-loops): say so here, before copying anything.
        raise UserError("board %s: %s" % (board_name, "; ".join(problems)))
    if dest is None:
        # A folder of its own per deploy: several boards deploy at once in tests.
        base = repo_root() / "build" / "deploy"
        base.mkdir(parents=True, exist_ok=True)
        dest = tempfile.mkdtemp(prefix=board_name + "-", dir=str(base))
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if mpy:
        from .mpy import build
        build(board_name, out_root=dest)
        built = dest / board_name
        for entry in built.iterdir():
            shutil.move(str(entry), str(dest / entry.name))
        built.rmdir()
    else:
        for src, rel in firmware_sources():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
    (dest / "board.json").write_text(json.dumps(board_def, indent=1, sort_keys=True))
    if config:
        (dest / "config.json").write_text(json.dumps(config, sort_keys=True))
    return dest


def mpremote(port, *args, timeout=120):
    cmd = [sys.executable, "-m", "mpremote", "connect", port] + list(args)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UserError("mpremote on %s timed out (is a board there?)" % port)
    if proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise UserError("mpremote on %s failed: %s" % (port, msg[-1] if msg else "exit %d" % proc.returncode))
    return proc.stdout


def local_hashes(staged):
    out = {}
    for p in sorted(staged.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(staged))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# Removes the other form of each module first: a board imports foo.py before
# foo.mpy, so a stale source file would shadow a fresh .mpy.
_HASH_SCRIPT = """
import hashlib, binascii, os
for _p in %r:
    try:
        os.remove(_p)
    except OSError:
        pass
for _p in %r:
    try:
        _h = hashlib.sha256()
        with open(_p, 'rb') as _f:
            while True:
                _b = _f.read(512)
                if not _b:
                    break
                _h.update(_b)
        print(_p, binascii.hexlify(_h.digest()).decode())
    except OSError:
        print(_p, '-')
"""


def _other_forms(paths):
    """For each module path, the same module in the other form (.py <-> .mpy)."""
    out = []
    for p in paths:
        if p.startswith("leakrig_fw/") and p.endswith(".py"):
            out.append(p[:-3] + ".mpy")
        elif p.endswith(".mpy"):
            out.append(p[:-4] + ".py")
    return sorted(out)


def deploy(port, board_name, config=None, progress=print, reset=True, mpy=True):
    """Stage, copy, verify, reset. Returns the list of files verified."""
    staged = stage(board_name, config, mpy=mpy)
    try:
        return _copy_and_verify(port, board_name, staged, progress, reset)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _copy_and_verify(port, board_name, staged, progress, reset):
    n_files = sum(1 for p in staged.rglob("*") if p.is_file())
    progress("deploy: %d files for board %r to %s" % (n_files, board_name, port))
    entries = sorted(p.name for p in staged.iterdir())
    args = ["fs", "cp", "-r"] + [str(staged / e) for e in entries] + [":./"]
    out = mpremote(port, *args)
    # mpremote copies a file only when its hash differs, and names each one
    # it skips; its "cp" lines name the arguments, not the files.
    same = sum(1 for ln in out.splitlines() if ln.startswith("Up to date:"))
    progress("deploy: copied %d changed file(s), %d already there" % (n_files - same, same))
    want = local_hashes(staged)
    out = mpremote(port, "exec", _HASH_SCRIPT % (_other_forms(want), sorted(want)))
    got = dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)
    bad = [p for p, h in want.items() if got.get(p) != h]
    if bad:
        raise UserError("deploy: hash mismatch on the board for %s" % ", ".join(bad))
    progress("deploy: %d files verified by SHA-256" % len(want))
    if reset:
        mpremote(port, "reset")
    return sorted(want)
