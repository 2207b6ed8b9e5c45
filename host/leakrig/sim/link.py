"""Server end of the VM ↔ simulator link: a Unix socket speaking the request
and reply frames of vm/_simlink.py (layout in docs/virtual-board.md,
"Transport"). Requests flagged POSTED are applied in order and not answered;
every other request gets one reply."""
import os
import socket
import struct
import threading
import time

from . import affinity
from .bus import Nack

# The VM's end of the link defines the protocol numbers; both ends use them.
from .vm._simlink import (  # noqa: E402
    OP_HELLO, OP_I2C_WRITE, OP_I2C_READ, OP_I2C_SCAN, OP_SPI_XFER, OP_PIN_WRITE,
    OP_PIN_READ, OP_OW_RESET, OP_OW_WRITE, OP_OW_READ, OP_OW_WRITE_BIT, OP_OW_READ_BIT,
    OP_TIME_NOW, OP_SLEEP_UNTIL, OP_WDT_START, OP_WDT_FEED, OP_RESET, OP_I2C_WRITE_READ,
    POSTED, ST_OK, ST_NACK, ST_ERROR, ST_TIME, ST_ACKS)

SERVE_THREAD = "leakrig-link-serve"  # the name of each connection's serving thread
_Q = struct.Struct("<Q")
_HDR = struct.Struct("<BH")


class LinkServer:
    """Serves one SimHardware to any number of VM connections (one at a time
    in practice: a board runs one VM). Runs in background threads."""

    def __init__(self, hardware, path, on_request=None, cpu=None):
        self.hardware = hardware
        self.cpu = cpu  # the CPU that serving threads run on (sim/affinity.py), or None
        self.path = path
        self.on_request = on_request  # called with the op before it is served
        self.requests = 0      # every request, posted or answered
        self.round_trips = 0   # requests answered (the VM waited for them)
        self.busy_s = 0.0      # wall time spent serving requests
        self._lock = threading.Lock()
        self._ops = {
            OP_HELLO: self._hello, OP_I2C_WRITE: self._i2c_write, OP_I2C_READ: self._i2c_read,
            OP_I2C_WRITE_READ: self._i2c_write_read, OP_I2C_SCAN: self._i2c_scan,
            OP_SPI_XFER: self._spi_xfer, OP_PIN_WRITE: self._pin_write, OP_PIN_READ: self._pin_read,
            OP_OW_RESET: self._ow_reset, OP_OW_WRITE: self._ow_write, OP_OW_READ: self._ow_read,
            OP_OW_WRITE_BIT: self._ow_write_bit, OP_OW_READ_BIT: self._ow_read_bit,
            OP_TIME_NOW: self._time_now, OP_SLEEP_UNTIL: self._sleep_until,
            OP_WDT_START: self._wdt_start, OP_WDT_FEED: self._wdt_feed, OP_RESET: self._reset,
        }
        if os.path.exists(path):
            os.unlink(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        self._sock.listen(4)
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def close(self):
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _accept_loop(self):
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name=SERVE_THREAD).start()

    def _serve(self, conn):
        """Read request frames as they come (a write from the VM may hold
        several: the posted ones, then one to answer) and serve them in
        order, under one hold of the lock per read."""
        affinity.pin(self.cpu)
        session = _Session()
        pending = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data = pending + chunk if pending else chunk
                with self._lock:
                    t0 = time.perf_counter()
                    i, replies = self._serve_frames(session, data)
                    self.busy_s += time.perf_counter() - t0
                pending = data[i:]
                if replies:
                    conn.sendall(b"".join(replies) if len(replies) > 1 else replies[0])
        except OSError:
            return
        finally:
            conn.close()

    def _serve_frames(self, session, data):
        """Serve the whole frames in data; return (bytes used, replies)."""
        end = len(data)
        i = 0
        replies = []
        ops = self._ops
        on_request = self.on_request
        while end - i >= 3:
            op = data[i]
            k = data[i + 1] | (data[i + 2] << 8)
            if end - i - 3 < k:
                break
            payload = data[i + 3:i + 3 + k]
            i += 3 + k
            self.requests += 1
            if op & POSTED:
                if on_request:
                    on_request(op & ~POSTED)
                handler = ops.get(op & ~POSTED)
                try:
                    if handler is None:
                        raise ValueError("unknown op %d" % (op & ~POSTED))
                    handler(session, payload)
                except Exception as exc:
                    status, body = _failure(exc)
                    if session.error is None:
                        # Reported on the next answered request: an error as
                        # an error, a NACK (of a write posted on the
                        # acknowledge table, the host having changed the rig
                        # since) as a NACK.
                        session.error = (status, body)
                continue
            self.round_trips += 1
            if on_request:
                on_request(op)
            if session.error is not None:
                status, body = session.error
                session.error = None
            else:
                status, body = self._dispatch(session, op, payload)
            replies.append(self._reply(session, status, body))
        return i, replies

    def _reply(self, session, status, body):
        acks = self.hardware.i2c_write_acks()
        if acks != session.acks:
            # The VM posts the writes this table promises an acknowledge.
            session.acks = acks
            body = _encode_acks(acks) + body
            status |= ST_ACKS
        clock = self.hardware.clock
        if clock.lockstep and clock.now_us != session.vm_now_us:
            # Time moved under the VM (the host advanced it): say so.
            session.vm_now_us = clock.now_us
            body = _Q.pack(session.vm_now_us) + body
            status |= ST_TIME
        return _HDR.pack(status, len(body)) + body

    def _dispatch(self, session, op, p):
        handler = self._ops.get(op)
        if handler is None:
            return ST_ERROR, b"unknown op %d" % op
        try:
            return handler(session, p)
        except (Nack, ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
            return _failure(exc)

    # --- the requests ------------------------------------------------------
    def _sleep_until(self, session, p):
        (t_us,) = _Q.unpack(p)
        clock = self.hardware.clock
        if clock.lockstep:
            if clock.host_away():
                self._lock.release()  # the host side may replug meanwhile
                try:
                    clock.pace_until_us(t_us)
                finally:
                    self._lock.acquire()
            else:
                clock.end_pacing()
            now = clock.sleep_until_us(t_us)
            if t_us > session.vm_now_us:
                session.vm_now_us = t_us  # what the VM now takes the time to be
            return ST_OK, _Q.pack(now)
        # Release the lock while a real-time sleep waits.
        self._lock.release()
        try:
            now = clock.sleep_until_us(t_us)
        finally:
            self._lock.acquire()
        return ST_OK, _Q.pack(now)

    def _time_now(self, session, p):
        now = self.hardware.clock.now_us
        session.vm_now_us = now
        return ST_OK, _Q.pack(now)

    def _hello(self, session, p):
        clock = self.hardware.clock
        session.vm_now_us = clock.now_us
        return ST_OK, bytes((1 if clock.lockstep else 0,)) + _Q.pack(session.vm_now_us)

    def _i2c_write(self, session, p):
        self.hardware.i2c(p[0]).write(p[1], p[3:], p[2] != 0)
        return ST_OK, b""

    def _i2c_read(self, session, p):
        bus, addr, stop, nbytes = struct.unpack("<BBBH", p)
        return ST_OK, self.hardware.i2c(bus).read(addr, nbytes, bool(stop))

    def _i2c_write_read(self, session, p):
        # bus, addr, n:u16, data: data written without stop, n bytes read.
        bus = self.hardware.i2c(p[0])
        addr = p[1]
        bus.write(addr, p[4:], False)
        return ST_OK, bus.read(addr, p[2] | (p[3] << 8), True)

    def _i2c_scan(self, session, p):
        return ST_OK, bytes(self.hardware.i2c(p[0]).scan())

    def _spi_xfer(self, session, p):
        return ST_OK, self.hardware.spi(p[0]).transfer(p[1:])

    def _pin_write(self, session, p):
        self.hardware.pin_write(p[1:].decode(), p[0])
        return ST_OK, b""

    def _pin_read(self, session, p):
        return ST_OK, bytes((self.hardware.pin_read(p.decode()),))

    # 1-Wire requests start with the bus's pin id: k:u8, pin id[k].
    def _ow(self, p):
        k = p[0]
        return self.hardware.onewire(p[1:1 + k].decode()), p[1 + k:]

    def _ow_reset(self, session, p):
        bus, _ = self._ow(p)
        return ST_OK, b"\x01" if bus.reset() else b"\x00"

    def _ow_write(self, session, p):
        bus, rest = self._ow(p)
        for b in rest:
            bus.write_byte(b)
        return ST_OK, b""

    def _ow_read(self, session, p):
        bus, rest = self._ow(p)
        return ST_OK, bytes(bus.read_byte() for _ in range(rest[0]))

    def _ow_write_bit(self, session, p):
        bus, rest = self._ow(p)
        bus.write_bit(rest[0])
        return ST_OK, b""

    def _ow_read_bit(self, session, p):
        bus, _ = self._ow(p)
        return ST_OK, bytes((bus.read_bit(),))

    def _wdt_start(self, session, p):
        self.hardware.watchdog.start(struct.unpack("<I", p)[0])
        return ST_OK, b""

    def _wdt_feed(self, session, p):
        self.hardware.watchdog.feed()
        return ST_OK, b""

    def _reset(self, session, p):
        self.hardware.resets_requested += 1
        return ST_OK, b""


def _failure(exc):
    """(status, body) answering a request that raised exc: a NACK, or an
    error the VM raises as OSError(EIO); anything else is the simulator's
    own bug and propagates."""
    if isinstance(exc, Nack):
        return ST_NACK, b""
    if isinstance(exc, (ValueError, IndexError, struct.error, UnicodeDecodeError)):
        return ST_ERROR, str(exc).encode()[:200]
    raise exc


def _encode_acks(acks):
    """The write-acknowledge table: k:u8, then k of bus:u8, addr:u8, mask[32]."""
    out = bytearray((len(acks),))
    for bus, addr, mask in acks:
        out.append(bus)
        out.append(addr)
        out += mask
    return bytes(out)


class _Session:
    """What the server knows of one VM connection."""

    def __init__(self):
        self.vm_now_us = 0   # the time the VM takes it to be (lockstep)
        self.error = None    # (status, body) of a posted request, for the next reply
        self.acks = None     # the write-acknowledge table the VM holds
