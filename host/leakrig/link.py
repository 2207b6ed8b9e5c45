"""Serial link to a board: opens a device path or any pyserial URL, splits
the byte stream into frames, checks every CRC, tracks sequence gaps, and
sends commands and waits for their replies."""
import time

import serial

from . import fwpath  # noqa: F401  (puts the shared firmware modules on the path)
from .errors import LinkError
from .frames import Frame, SampleParser
from leakrig_fw import frame

__all__ = ["Frame", "FrameReader", "BoardLink", "LinkStats", "open_port"]

MAX_LINE = frame.MAX_FRAME
TAIL_BYTES = 256


def repl_state(text):
    """'raw' or 'friendly' when text ends at a MicroPython REPL prompt,
    else None: the board is then not running the firmware."""
    text = text.rstrip(b" ")
    if text.endswith(b"raw REPL; CTRL-B to exit\r\n>") or text.endswith(b"\x04>"):
        return "raw"
    if text.endswith(b">>>") or text.endswith(b"..."):
        return "friendly"
    return None


def repl_advice(port, state):
    """What to tell the user about a board stopped at its `state` REPL."""
    return ("the board on %s is at the MicroPython %s REPL, not running the firmware: "
            "reset it (`mpremote connect %s reset`, or its reset button)" % (port, state, port))


def open_port(port, timeout=0.1, baudrate=115200):
    """A pyserial port for a device path or a URL (rfc2217://, socket://, loop://)."""
    try:
        if "://" in port:
            return serial.serial_for_url(port, baudrate=baudrate, timeout=timeout)
        return serial.Serial(port, baudrate=baudrate, timeout=timeout)
    except serial.SerialException as exc:
        msg = str(exc)
        if "busy" in msg.lower() or "Errno 16" in msg:
            raise LinkError("port %s is busy: another program has it open" % port)
        if "No such file" in msg or "Errno 2" in msg:
            raise LinkError("no such port: %s (see `leakrig ports`)" % port)
        raise LinkError("cannot open %s: %s" % (port, msg))
    except ValueError as exc:
        raise LinkError("bad port %r: %s" % (port, exc))


class LinkStats:
    def __init__(self):
        self.frames = 0
        self.crc_errors = 0      # lines that looked like frames but failed the check
        self.garbage_bytes = 0   # bytes outside any frame (REPL text, noise)
        self.gaps = 0            # gap events
        self.missing = 0         # frames missing in those gaps
        self.recovered = 0       # missing frames that came back through resend
        self.boots = 0           # hello frames seen
        self.reconnects = 0

    def as_dict(self):
        return dict(vars(self))


class FrameReader:
    """Bytes in, checked frames out. Keeps the state of sequence tracking.

    feed() returns the frames completed by the new bytes; gaps are reported
    through on_gap(first_missing_seq, count)."""

    def __init__(self, stats=None, on_gap=None):
        self.stats = stats or LinkStats()
        self.on_gap = on_gap
        self._buf = bytearray()
        self._in_frame = False
        self._parser = SampleParser()
        self.last_seq = None
        self.text_tail = b""  # the last bytes seen outside frames
        # Sequence numbers asked for from before the first frame read (the
        # start of the boot): replays that leave sequence tracking alone,
        # a resent hello included. Whoever asked takes them off.
        self.replays = set()

    def feed(self, data, host_utc=None):
        now = host_utc if host_utc is not None else time.time()
        data = bytes(data)
        if self._in_frame:
            # Carry on with the frame cut by the last read: the same as
            # reading its bytes again from outside a frame.
            data = bytes(self._buf) + data
            self._in_frame = False
            self._buf = bytearray()
        last = data.rfind(b"\n") + 1
        if last == 0:
            return self._scan(data, now)
        out = self._lines(data[:last] if last < len(data) else data, now)
        if last < len(data):
            out += self._scan(data[last:], now)
        return out

    def _lines(self, region, now):
        """Frames of whole lines (region ends with LF, starts outside a
        frame): a block of samples at once when every line is one, else
        line by line."""
        block = self._parser.parse(region, now)
        if block is None:
            return self._scan(region, now)
        stats = self.stats
        seqs = block.seqs
        last = self.last_seq
        n = block.n
        if last is not None and seqs[0] == last + 1 and seqs[-1] == last + n and seqs == list(range(last + 1, last + n + 1)):
            stats.frames += n
            self.last_seq = seqs[-1]
        else:
            for seq in seqs:
                stats.frames += 1
                self._track(frame.KIND_SAMPLE, seq)
        return block.frames()

    def _scan(self, data, now):
        """The general path: bytes in any state, frame by frame."""
        out = []
        i = 0
        n = len(data)
        while i < n:
            if not self._in_frame:
                start = data.find(b"$", i)
                stop = n if start < 0 else start
                if stop > i:
                    chunk = data[i:stop]
                    self.stats.garbage_bytes += len(chunk) - chunk.count(b"\r") - chunk.count(b"\n")
                    self.text_tail = (self.text_tail + chunk)[-TAIL_BYTES:]
                if start < 0:
                    break
                self._buf = bytearray(b"$")
                self._in_frame = True
                i = start + 1
                continue
            # In a frame: it ends at LF, or is cut short by the next '$'.
            nl = data.find(b"\n", i)
            dollar = data.find(b"$", i)
            end = n if nl < 0 else nl
            if 0 <= dollar < end:
                self._append(data[i:dollar])
                if self._in_frame:
                    self.stats.crc_errors += 1  # a frame cut short by another
                self._in_frame = False
                i = dollar
                continue
            self._append(data[i:end])
            if nl < 0:
                break
            i = nl + 1
            if self._in_frame:
                self._in_frame = False
                f = self._finish(bytes(self._buf), now)
                if f is not None:
                    out.append(f)
        return out

    def _append(self, chunk):
        """Add to the frame being read; an over-long one is dropped."""
        if not self._in_frame:
            return
        if len(self._buf) + len(chunk) > MAX_LINE:
            self.stats.crc_errors += 1
            self._in_frame = False
            self._buf = bytearray()
            return
        self._buf += chunk

    def _finish(self, line, now):
        try:
            seq, kind, fields = frame.decode(line)
        except frame.FrameError:
            self.stats.crc_errors += 1
            return None
        self.stats.frames += 1
        self._track(kind, seq)
        return Frame(seq, kind, fields, line, now)

    def _track(self, kind, seq):
        """Sequence tracking for one accepted frame."""
        if self.replays and seq in self.replays:
            return
        if kind == frame.KIND_HELLO:
            self.stats.boots += 1
            self.last_seq = seq
        elif self.last_seq is not None:
            missing = frame.seq_gap(self.last_seq, seq)
            if missing > 0:
                self.stats.gaps += 1
                self.stats.missing += missing
                if self.on_gap:
                    self.on_gap((self.last_seq + 1) % frame.SEQ_MODULO, missing)
            if missing >= 0:
                self.last_seq = seq
            # missing < 0: a replayed (resent) frame; sequence tracking stays
        else:
            self.last_seq = seq


class BoardLink:
    """A board on a port: frames in, commands out."""

    def __init__(self, port, timeout=0.05):
        self.port_name = port
        self.ser = open_port(port, timeout=timeout)
        self.stats = LinkStats()
        self.reader = FrameReader(self.stats)
        self._next_id = 1
        self.backlog = []  # frames read while waiting for a reply

    def close(self):
        try:
            self.ser.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read_frames(self):
        """Frames available now (waits up to the port timeout for the first)."""
        if self.backlog:
            out, self.backlog = self.backlog, []
            return out
        try:
            data = self.ser.read(max(1, self.ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise LinkError("lost the port %s: %s" % (self.port_name, exc))
        return self.reader.feed(data) if data else []

    def send_line(self, text):
        try:
            self.ser.write(text.encode() + b"\n")
            self.ser.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError("lost the port %s: %s" % (self.port_name, exc))

    def command(self, text, timeout=5.0):
        """Send a command framed with a request id; return its reply (or error)
        frame. Other frames that arrive meanwhile are kept for read_frames()."""
        req_id = self._next_id
        self._next_id += 1
        self.send_line(frame.encode(req_id, frame.KIND_COMMAND, [("cmd", text)]).decode().strip())
        deadline = time.monotonic() + timeout
        others = 0
        while time.monotonic() < deadline:
            for f in self.read_frames_raw():
                if f.kind in (frame.KIND_REPLY, frame.KIND_ERROR) and f.fields.get("id") == str(req_id):
                    return f
                self.backlog.append(f)
                others += 1
        state = repl_state(self.reader.text_tail)
        if state is not None:
            raise LinkError(repl_advice(self.port_name, state))
        raise LinkError("no answer from the board on %s to %r within %.0f s (%s)"
                        % (self.port_name, text, timeout,
                           "%d other frames came meanwhile" % others if others else "nothing came meanwhile"))

    def read_frames_raw(self):
        try:
            data = self.ser.read(max(1, self.ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise LinkError("lost the port %s: %s" % (self.port_name, exc))
        return self.reader.feed(data) if data else []
