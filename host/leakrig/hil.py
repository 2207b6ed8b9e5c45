"""The objects HIL tests hold: the device under test (a board on a port,
real or virtual) and the rig's controls. Used by the pytest plugin."""
import hashlib
import time

from .errors import LinkError
from .fwpath import firmware_dir
from .link import BoardLink


def firmware_hash():
    """SHA-256 over the firmware sources, names included: which firmware ran."""
    h = hashlib.sha256()
    root = firmware_dir()
    for p in sorted(root.rglob("*.py")):
        if "tests" in p.relative_to(root).parts:
            continue
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


class Timeout(AssertionError):
    pass


class DUT:
    """A board running the leakrig firmware, reached through its port."""

    def __init__(self, port, board, virtual=None):
        self.port = port
        self.board = board
        self.virtual = virtual
        self.link = None
        self.board_time_s = None
        self._restore = {}
        self._unread = []

    # -- connection --------------------------------------------------------
    def open(self):
        if self.link is None:
            self.link = BoardLink(self.port)
            # What the board wrote before this test opened the port is not
            # this test's stream.
            self.link.ser.reset_input_buffer()
        return self

    def close(self):
        self._unread = []
        if self.link is not None:
            self.link.close()
            self.link = None

    @property
    def stats(self):
        return self.open().link.stats

    # -- commands ----------------------------------------------------------
    def command(self, text, timeout=60.0):
        """Reply frame's fields; an error frame raises LinkError."""
        reply = self.open().link.command(text, timeout=timeout)
        if reply.kind != "R":
            raise LinkError("%s -> %s: %s" % (text, reply.fields.get("err"), reply.fields.get("msg")))
        return reply.fields

    def configure(self, **values):
        """Set config keys for this test; the old values come back at teardown."""
        current = self.command("config get " + " ".join(values))
        for key, value in values.items():
            self._restore.setdefault(key, current[key])
            self.command("config set %s %s" % (key, value))

    def restore(self):
        for key, value in self._restore.items():
            try:
                self.command("config set %s %s" % (key, value))
            except LinkError:
                pass
        self._restore = {}

    # -- telemetry ---------------------------------------------------------
    def frames(self, timeout=60.0):
        """Frames as they arrive, until `timeout` seconds of host time pass.
        Frames read but not taken (a caller that stops at one frame, as
        wait_event does) are handed out first by the next call."""
        link = self.open().link
        deadline = time.monotonic() + timeout
        while True:
            while self._unread:
                f = self._unread.pop(0)
                if f.kind == "S":
                    try:
                        self.board_time_s = float(f.fields["t"])
                    except (KeyError, ValueError):
                        pass
                yield f
            if time.monotonic() >= deadline:
                return
            self._unread = link.read_frames()

    def discard(self):
        """Forget the frames read but not yet handed out (including those kept
        while a command waited for its reply)."""
        self._unread = []
        if self.link is not None:
            self.link.backlog = []

    def samples(self, n, timeout=120.0):
        out = []
        for f in self.frames(timeout):
            if f.kind == "S":
                out.append(f)
                if len(out) >= n:
                    return out
        raise Timeout("%d of %d samples within %.0f s" % (len(out), n, timeout))

    def wait_event(self, names, board_timeout_s, host_timeout_s=600.0, collect=None):
        """First event frame whose name is in `names` (a str or a set) within
        board_timeout_s seconds of board time from now. Samples and events
        seen on the way are appended to `collect` if given."""
        if isinstance(names, str):
            names = {names}
        start = None
        for f in self.frames(host_timeout_s):
            if collect is not None:
                collect.append(f)
            if f.kind == "S":
                if start is None:
                    start = self.board_time_s
                elif self.board_time_s - start > board_timeout_s:
                    raise Timeout("no %s within %.0f s of board time" % ("/".join(sorted(names)), board_timeout_s))
            elif f.kind == "E" and f.fields.get("ev") in names:
                return f
        raise Timeout("no %s within %.0f s of host time" % ("/".join(sorted(names)), host_timeout_s))

    def run_for(self, board_s, host_timeout_s=600.0):
        """All frames over the next board_s seconds of board time."""
        out = []
        start = None
        for f in self.frames(host_timeout_s):
            out.append(f)
            if f.kind == "S":
                if start is None:
                    start = self.board_time_s
                elif self.board_time_s - start >= board_s:
                    return out
        raise Timeout("board time did not advance %.0f s within %.0f s" % (board_s, host_timeout_s))


class RigUnavailable(Exception):
    """The rig cannot do what the test asks (a real board without that control)."""


class RealRig:
    """A real rig exposes no simulator controls; tests that need them skip."""

    simulated = False

    def __getattr__(self, name):
        raise RigUnavailable("this rig has no '%s' control (real board on a port)" % name)


class SimRig:
    """Controls of the simulated rig behind a virtual board."""

    simulated = True

    def __init__(self, vboard):
        self.vboard = vboard
        self.rig = vboard.rig

    @property
    def clock(self):
        return self.rig.clock

    def load_scenario(self, name_or_path, seed=None):
        self.rig.load_scenario(name_or_path, seed=seed)
        self._loaded = (name_or_path, seed)
        self.vboard.link_faults = self.rig.link_faults

    def ensure_scenario(self, name_or_path):
        """Load the scenario unless it is the one running untouched already
        (a reload rebuilds the chips under the running firmware)."""
        if getattr(self, "_loaded", None) != (name_or_path, None):
            self.load_scenario(name_or_path)
        else:
            self.vboard.link_faults = self.rig.link_faults

    @property
    def scenario(self):
        return self.rig.scenario

    @property
    def model(self):
        return self.rig.model

    def unplug(self, board_seconds=None):
        """Pull the cable; with board_seconds, plug it back after that much
        simulated time."""
        if board_seconds is None:
            self.vboard.unplug()
        else:
            self.vboard.unplug_for(board_seconds)

    def replug(self):
        self.vboard.replug()

    def pin(self, pin_id):
        return self.rig.hardware.pins.get(str(pin_id))

    def board_pin(self, key):
        """A pin the board definition names (e.g. "safe_mode_pin")."""
        return self.rig.board_def[key]

    def drive_pin(self, pin_id, level):
        self.rig.hardware.pin_inputs[str(pin_id)] = level
