"""The virtual board: a pseudo-terminal that behaves like a MicroPython board
on USB. Behind it runs the MicroPython unix port with the board's flash
folder as its working directory and the simulator's machine/time/onewire on
its path. The unix port exits on a soft reset; the board restarts it and
prints what a board prints, so mpremote and the host tool cannot tell."""
import errno
import fcntl
import os
import pty
import select
import shutil
import signal
import subprocess
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

from . import affinity
from .clock import SimClock
from .hardware import SimHardware
from .link import LinkServer
from .vmenv import RESET_EXIT_CODE, vm_command, vm_environment

_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
_FRIENDLY_PROMPT = b"\r\n>>> "
_SOFT_REBOOT = b"MPY: soft reboot\r\n"
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_INTERRUPT_WAIT_S = 0.5  # a VM busy and silent this long after a ^C gets a SIGINT


def _set_raw(fd):
    """No echo, no line editing, no output translation, no signals: a ^C from
    the host is handled by the board (see VirtualBoard._forward_host_input),
    and ^\\ and ^Z mean nothing on a board."""
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.ICRNL | termios.IXON | termios.IXOFF | termios.INLCR | termios.IGNCR | termios.ISTRIP)
    attrs[1] &= ~termios.OPOST
    attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
    cc = attrs[6]
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class VirtualBoard:
    """Start with start(); the port to open is .port (a stable symlink to the
    current pty, so an unplug and replug keeps the name)."""

    def __init__(self, flash_dir=None, hardware=None, heap_kb=None, run_dir=None,
                 link_faults=None, rng=None, cpu="auto", vm_binary=None):
        self._own_run_dir = run_dir is None
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="leakrig-sim-"))
        self.flash_dir = Path(flash_dir) if flash_dir else self.run_dir / "flash"
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        self.hardware = hardware or SimHardware(SimClock())
        self.heap_kb = heap_kb
        self.vm_binary = vm_binary  # None: the default unix port (vmenv)
        self.port = str(self.run_dir / "tty")
        self.link_faults = link_faults  # object with .apply(bytes) -> bytes, or None
        self.boots = 0
        self.watchdog_resets = 0
        self._proc = None
        self._inner = None
        self._outer = None
        self._raw = False
        self._stop = threading.Event()
        self._plugged = True
        self._held_out = False  # unplugged by hand: only replug() ends it
        self.on_boot = None  # called as each VM boots (the rig restarts a replay)
        self._lock = threading.RLock()
        # Waits for a slow host with the lock released (unplug, replug and
        # stop must never queue behind output nobody reads).
        self._host_reads = threading.Condition(self._lock)
        self._pending_in = bytearray()
        self._interrupt_at = None  # when the host last sent a ^C (see _check_interrupt)
        self._interrupt_cpu = 0.0
        self._output_since_interrupt = False
        self._resets_seen = 0
        self._thread = None
        self.unplug_until_s = None  # simulated time at which a timed unplug ends
        # The VM and the server's thread share one CPU (sim/affinity.py).
        self.cpu = None if cpu is None else affinity.choose(None if cpu == "auto" else cpu)
        self.server = LinkServer(self.hardware, str(self.run_dir / "sim.sock"), cpu=self.cpu)
        self.hardware.watchdog.cpu_clock = self.vm_cpu_s
        self.hardware.clock.host_away = self.host_away

    # --- lifecycle --------------------------------------------------------
    def start(self):
        self._open_outer()
        self._start_vm(boot=True)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._kill_vm()
        self.server.close()
        if self._outer is not None:
            try:
                os.close(self._outer)
            except OSError:
                pass
        self._outer = None
        try:
            os.unlink(self.port)
        except OSError:
            pass
        if self._own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def vm_pid(self):
        return self._proc.pid if self._proc else None

    # --- the USB side -----------------------------------------------------
    def _open_outer(self):
        """A new USB device. The board keeps only the master side: whether a
        host has the port open is then the master's hang-up flag (host_away),
        and the slave's raw settings stay for the next host that opens it."""
        master, slave = pty.openpty()
        _set_raw(slave)
        tmp = self.port + ".new"
        try:
            os.unlink(tmp)
        except OSError:
            pass
        os.symlink(os.ttyname(slave), tmp)
        os.close(slave)
        os.set_blocking(master, False)
        self._outer = master
        os.replace(tmp, self.port)

    def host_away(self):
        """True while no host listens: the cable is out, or no program has
        the port open. A board then drops what it writes (as MicroPython's
        USB CDC does with no host), and its time is paced by the wall clock
        (SimClock.pace_until_us), as a real board's would be."""
        fd = self._outer
        if not self._plugged or fd is None:
            return True
        # Only the hang-up matters: a port whose host is slow to read (not
        # writable now) still has a host.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        try:
            events = poller.poll(0)
        except (OSError, ValueError):
            return True
        return any(ev & (select.POLLHUP | select.POLLNVAL | select.POLLERR) for _, ev in events)

    def unplug(self, hold=True):
        """The cable is pulled: the port's device goes away (readers get an
        error), and what the board writes meanwhile is lost. A cable pulled
        by hand (hold) stays out until replug(); the scenario's link faults
        and unplug_for() plug it back themselves."""
        if hold:
            self._held_out = True  # first: the pump must not plug it back
        self._plugged = False  # lets a write waiting on the port give up
        with self._lock:
            self._plugged = False  # again: a replug may have come in between
            if self._outer is not None:
                os.close(self._outer)
                self._outer = None
                try:
                    os.unlink(self.port)
                except OSError:
                    pass

    def replug(self):
        with self._lock:
            self._held_out = False
            self._plug_in()

    def _plug_in(self):
        with self._lock:
            if self._held_out:
                return
            if self._outer is None:
                self._open_outer()
            self._plugged = True

    # --- the VM -----------------------------------------------------------
    def _start_vm(self, boot):
        master, slave = pty.openpty()
        _set_raw(slave)
        env = vm_environment(self.server.path, flash_dir=self.flash_dir)
        cpu = self.cpu

        def become_tty_owner():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            affinity.pin(cpu)
            # ^C before the VM has installed its own handler would kill the
            # process that hosts it; the VM re-enables SIGINT itself.
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        self._proc = subprocess.Popen(
            vm_command(heap_kb=self.heap_kb, boot=boot, binary=self.vm_binary), stdin=slave, stdout=slave,
            stderr=slave, cwd=str(self.flash_dir), env=env, start_new_session=True,
            preexec_fn=become_tty_owner, close_fds=True)
        os.close(slave)
        os.set_blocking(master, False)
        self._inner = master
        self._raw = False
        self.boots += 1
        self.hardware.watchdog.stop()
        if boot and self.on_boot is not None:
            self.on_boot()

    def vm_cpu_s(self):
        """CPU seconds the VM process has used (the watchdog's hang clock)."""
        proc = self._proc
        if proc is None:
            return 0.0
        try:
            with open("/proc/%d/stat" % proc.pid, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except (OSError, IndexError, ValueError):
            return 0.0

    def _kill_vm(self):
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._signal_vm(signal.SIGKILL)
            proc.wait()
        if self._inner is not None:
            try:
                os.close(self._inner)
            except OSError:
                pass
            self._inner = None
        self._proc = None

    def _restart_raw(self):
        """A soft reset at the raw REPL comes back at the raw REPL."""
        self._start_vm(boot=False)
        os.write(self._inner, b"\r\x01")
        got = bytearray()
        deadline = time.monotonic() + 10
        while _RAW_BANNER not in got and time.monotonic() < deadline:
            r, _, _ = select.select([self._inner], [], [], 0.1)
            if r:
                try:
                    got += os.read(self._inner, 4096)
                except OSError:
                    break
        self._raw = True
        self._to_host(_RAW_BANNER)

    def _on_vm_exit(self, code):
        self._resets_seen = self.hardware.resets_requested
        self._kill_vm()
        if code == RESET_EXIT_CODE:
            self._start_vm(boot=True)  # hard reset: a board prints nothing
            return
        self._to_host(_SOFT_REBOOT)
        if self._raw:
            self._restart_raw()
        else:
            self._start_vm(boot=True)

    def _power_cycle(self):
        """A hard reset: the VM goes, a new one boots (a board prints nothing)."""
        self._kill_vm()
        self._start_vm(boot=True)

    def watchdog_reset(self):
        with self._lock:
            self.watchdog_resets += 1
            self._power_cycle()

    # --- the pump ---------------------------------------------------------
    def unplug_for(self, seconds):
        """Unplug for `seconds` of simulated time (lockstep-safe: the gap in
        the stream is that much board time, however fast the VM runs)."""
        self.unplug_until_s = self.hardware.clock.now_s + seconds
        self.unplug(hold=False)

    def _to_host(self, data):
        self._output_since_interrupt = True
        self._follow_link_schedule()
        if self.link_faults is not None and not self._raw:
            data = self.link_faults.apply(data)
        view = memoryview(data)
        while view and not self._stop.is_set():
            if self.host_away():
                return  # nobody on the other end: the bytes are lost, as on USB
            try:
                n = os.write(self._outer, view)
                view = view[n:]
            except BlockingIOError:
                # The host has the port open but is not reading: hold the VM
                # back rather than drop, with the lock released meanwhile.
                self._host_reads.wait(0.005)
                # Keep the host's keystrokes flowing: a ^C from mpremote
                # must reach a VM that is blocked on its output.
                self._forward_host_input()
            except (OSError, TypeError):
                return

    def _forward_host_input(self):
        """Pass the host's bytes to the VM as they come, ^C included: the
        VM's terminal sends no signals. The unix port used here raises a
        SIGINT's KeyboardInterrupt at once, even inside gc.collect(), which
        leaves the heap locked and kills the VM; a board raises it between
        two bytecodes. So the ^C goes in as a byte: the REPL reads it as
        ^C, and the firmware's command reader raises KeyboardInterrupt on it
        (a safe point). Only a VM that reads nothing (a hung loop) gets a
        SIGINT, from the pump (_check_interrupt)."""
        if self._outer is not None and not self.host_away():
            try:
                data = os.read(self._outer, 4096)
            except (BlockingIOError, OSError):
                data = None
            if data:
                if b"\x03" in data and self._interrupt_at is None:
                    self._interrupt_at = time.monotonic()
                    self._interrupt_cpu = self.vm_cpu_s()
                    self._output_since_interrupt = False
                self._pending_in += data
        if self._pending_in and self._inner is not None:
            try:
                n = os.write(self._inner, self._pending_in)
                del self._pending_in[:n]
            except (BlockingIOError, OSError):
                pass

    def _check_interrupt(self):
        """A ^C that the VM has not answered within _INTERRUPT_WAIT_S while
        burning CPU without a word of output: it is stuck in a loop that
        reads no input, and gets the ^C as SIGINT, as a board would."""
        if self._interrupt_at is None:
            return
        waited = time.monotonic() - self._interrupt_at
        if waited < _INTERRUPT_WAIT_S:
            return
        busy = self.vm_cpu_s() - self._interrupt_cpu > 0.8 * waited
        if busy and not self._output_since_interrupt:
            self._signal_vm()
        self._interrupt_at = None

    def _signal_vm(self, sig=signal.SIGINT):
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                pass

    def _track_mode(self, data):
        if _RAW_BANNER in data or b"raw REPL; CTRL-B to exit" in data:
            self._raw = True
        elif _FRIENDLY_PROMPT in data or b'Type "help()"' in data:
            self._raw = False

    def _follow_link_schedule(self):
        """Unplug and replug when the scenario's link faults say so."""
        plugged = getattr(self.link_faults, "plugged", None)
        want = plugged() if plugged is not None else True
        until = self.unplug_until_s
        if until is not None:
            if self.hardware.clock.now_s < until:
                want = False
            else:
                self.unplug_until_s = None
        if self._held_out:
            return
        if want and not self._plugged:
            self._plug_in()
        elif not want and self._plugged:
            self.unplug(hold=False)

    def _pump(self):
        while not self._stop.is_set():
            self._follow_link_schedule()
            with self._lock:
                # A port nobody has open reads as hung up: not worth a wake.
                outer = None if self.host_away() else self._outer
                fds = [fd for fd in (self._inner, outer) if fd is not None]
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                ready = []
            with self._lock:
                if self._inner is not None and self._inner in ready:
                    try:
                        data = os.read(self._inner, 4096)
                    except BlockingIOError:
                        data = None
                    except OSError as exc:  # EIO: the VM closed its tty
                        data = b"" if exc.errno == errno.EIO else None
                    if data:
                        self._track_mode(data)
                        self._to_host(data)
                if self._pending_in or (self._outer is not None and self._outer in ready):
                    self._forward_host_input()
                self._check_interrupt()
                proc = self._proc
                if proc is not None and proc.poll() is not None:
                    self._drain_inner()
                    self._on_vm_exit(proc.returncode)
                elif self.hardware.resets_requested != self._resets_seen:
                    # machine.reset(): a board restarts at once, whatever the
                    # VM would do after sys.exit (under -i it would stay up).
                    self._drain_inner()
                    self._resets_seen = self.hardware.resets_requested
                    self._power_cycle()
                elif self.hardware.watchdog.expired():
                    self.watchdog_reset()

    def _drain_inner(self):
        while self._inner is not None:
            try:
                data = os.read(self._inner, 4096)
            except OSError:
                return
            if not data:
                return
            self._track_mode(data)
            self._to_host(data)
