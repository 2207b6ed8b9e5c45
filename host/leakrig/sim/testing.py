"""Run MicroPython code on the real VM against simulated hardware, for tests
of drivers and firmware modules."""
import subprocess
import tempfile
from pathlib import Path

from ..fwpath import firmware_dir
from . import affinity
from .clock import SimClock
from .hardware import SimHardware
from .link import LinkServer
from .vmenv import vm_command, vm_environment


class VMHarness:
    """Simulated buses plus a way to run a script on the VM against them.

    h = VMHarness(); h.i2c(0).attach(0x76, emulator); rc, out = h.run(script)
    `import machine` in the script gives the sim machine API, bound to h.
    The firmware folder is on the VM's path, so `leakrig_fw` imports.
    """

    def __init__(self, lockstep=True):
        self.clock = SimClock(lockstep=lockstep)
        self.hardware = SimHardware(self.clock)
        self._dir = tempfile.TemporaryDirectory(prefix="lrvm")
        self.socket_path = Path(self._dir.name) / "sim.sock"
        self.cpu = affinity.choose()  # the VM and its server thread on one CPU
        self.server = LinkServer(self.hardware, str(self.socket_path), cpu=self.cpu)

    def i2c(self, bus_id):
        return self.hardware.i2c(bus_id)

    def spi(self, bus_id):
        return self.hardware.spi(bus_id)

    def onewire(self, pin_id):
        return self.hardware.onewire(pin_id)

    def run(self, script, timeout=60, heap_kb=None, binary=None):
        """Run script text on the VM (binary: another MicroPython, e.g. the
        32-bit one); return (exit code, stdout+stderr text)."""
        env = vm_environment(self.socket_path, extra_path=[firmware_dir()])
        cmd = vm_command(heap_kb=heap_kb, boot=False, binary=binary) + ["-c", script]
        cpu = self.cpu
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=self._dir.name,
                              preexec_fn=lambda: affinity.pin(cpu))
        return proc.returncode, proc.stdout + proc.stderr

    def close(self):
        self.server.close()
        self._dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
