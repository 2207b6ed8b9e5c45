"""Server end of the VM ↔ simulator link: a Unix socket speaking the request
and reply frames of vm/_simlink.py (layout in docs/simulator.md, "Transport")."""
import os
import socket
import struct
import threading

from .bus import Nack

# The VM's end of the link defines the protocol numbers; both ends use them.
from .vm._simlink import (  # noqa: E402
    OP_HELLO, OP_I2C_WRITE, OP_I2C_READ, OP_I2C_SCAN, OP_SPI_XFER, OP_PIN_WRITE,
    OP_PIN_READ, OP_OW_RESET, OP_OW_WRITE, OP_OW_READ, OP_OW_WRITE_BIT, OP_OW_READ_BIT,
    OP_TIME_NOW, OP_SLEEP_UNTIL, OP_WDT_START, OP_WDT_FEED, OP_RESET, ST_OK, ST_NACK, ST_ERROR)


class LinkServer:
    """Serves one SimHardware to any number of VM connections (one at a time
    in practice: a board runs one VM). Runs in background threads."""

    def __init__(self, hardware, path, on_request=None):
        self.hardware = hardware
        self.path = path
        self.on_request = on_request  # called with the op before it is served
        self.requests = 0
        self._lock = threading.Lock()
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
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        rfile = conn.makefile("rb")
        try:
            while True:
                hdr = rfile.read(3)
                if len(hdr) < 3:
                    return
                op, n = struct.unpack("<BH", hdr)
                payload = rfile.read(n) if n else b""
                with self._lock:
                    self.requests += 1
                    if self.on_request:
                        self.on_request(op)
                    status, body = self._dispatch(op, payload)
                conn.sendall(struct.pack("<BH", status, len(body)) + body)
        except OSError:
            return
        finally:
            rfile.close()
            conn.close()

    def _dispatch(self, op, p):
        hw = self.hardware
        try:
            if op == OP_SLEEP_UNTIL:
                (t_us,) = struct.unpack("<Q", p)
                # Release the lock while a real-time sleep waits.
                self._lock.release()
                try:
                    now = hw.clock.sleep_until_us(t_us)
                finally:
                    self._lock.acquire()
                return ST_OK, struct.pack("<Q", now)
            if op == OP_TIME_NOW:
                return ST_OK, struct.pack("<Q", hw.clock.now_us)
            if op == OP_I2C_WRITE:
                hw.i2c(p[0]).write(p[1], bytes(p[3:]), bool(p[2]))
                return ST_OK, b""
            if op == OP_I2C_READ:
                bus, addr, stop, nbytes = struct.unpack("<BBBH", p)
                return ST_OK, bytes(hw.i2c(bus).read(addr, nbytes, bool(stop)))
            if op == OP_I2C_SCAN:
                return ST_OK, bytes(hw.i2c(p[0]).scan())
            if op == OP_SPI_XFER:
                return ST_OK, bytes(hw.spi(p[0]).transfer(bytes(p[1:])))
            if op == OP_PIN_WRITE:
                hw.pin_write(p[1:].decode(), p[0])
                return ST_OK, b""
            if op == OP_PIN_READ:
                return ST_OK, bytes((hw.pin_read(p.decode()),))
            if op in (OP_OW_RESET, OP_OW_WRITE, OP_OW_READ, OP_OW_WRITE_BIT, OP_OW_READ_BIT):
                k = p[0]
                bus = hw.onewire(p[1:1 + k].decode())
                rest = p[1 + k:]
                if op == OP_OW_RESET:
                    return ST_OK, bytes((1 if bus.reset() else 0,))
                if op == OP_OW_WRITE:
                    for b in rest:
                        bus.write_byte(b)
                    return ST_OK, b""
                if op == OP_OW_READ:
                    return ST_OK, bytes(bus.read_byte() for _ in range(rest[0]))
                if op == OP_OW_WRITE_BIT:
                    bus.write_bit(rest[0])
                    return ST_OK, b""
                return ST_OK, bytes((bus.read_bit(),))
            if op == OP_HELLO:
                return ST_OK, bytes((1 if hw.clock.lockstep else 0,)) + struct.pack("<Q", hw.clock.now_us)
            if op == OP_WDT_START:
                hw.watchdog.start(struct.unpack("<I", p)[0])
                return ST_OK, b""
            if op == OP_WDT_FEED:
                hw.watchdog.feed()
                return ST_OK, b""
            if op == OP_RESET:
                hw.resets_requested += 1
                return ST_OK, b""
            return ST_ERROR, b"unknown op %d" % op
        except Nack:
            return ST_NACK, b""
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
            return ST_ERROR, str(exc).encode()[:200]
