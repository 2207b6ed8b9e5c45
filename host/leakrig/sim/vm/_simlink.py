# Client end of the link between the MicroPython VM and the rig simulator.
# Every bus transfer, pin change and clock call of the virtual board is one
# request/response over a Unix socket; docs/simulator.md ("Transport") has the
# byte layout. Only the sim's machine, time and onewire modules import this.
import os
import socket
import struct

OP_HELLO = 1
OP_I2C_WRITE = 2
OP_I2C_READ = 3
OP_I2C_SCAN = 4
OP_SPI_XFER = 5
OP_PIN_WRITE = 6
OP_PIN_READ = 7
OP_OW_RESET = 8
OP_OW_WRITE = 9
OP_OW_READ = 10
OP_OW_WRITE_BIT = 11
OP_OW_READ_BIT = 12
OP_TIME_NOW = 13
OP_SLEEP_UNTIL = 14
OP_WDT_START = 15
OP_WDT_FEED = 16
OP_RESET = 17

ST_OK = 0
ST_NACK = 1
ST_ERROR = 2

_sock = None
_hdr = bytearray(3)
lockstep = True
_now_us = 0


def _connect():
    global _sock, lockstep, _now_us
    path = os.getenv("LEAKRIG_SIM_SOCKET")
    if not path:
        raise OSError("LEAKRIG_SIM_SOCKET is not set: not running on a virtual board")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + bytes(1))
    _sock = s
    reply = call(OP_HELLO, b"")
    lockstep = reply[0] == 1
    _now_us = struct.unpack("<Q", reply[1:9])[0]


def _recv_exact(n):
    buf = bytearray(n)
    mv = memoryview(buf)
    got = 0
    while got < n:
        k = _sock.readinto(mv[got:])
        if not k:
            raise OSError("simulator link closed")
        got += k
    return buf


def call(op, payload):
    """Send one request; return the reply payload or raise OSError."""
    if _sock is None and op != OP_HELLO:
        _connect()
    _sock.write(struct.pack("<BH", op, len(payload)))
    if payload:
        _sock.write(payload)
    hdr = _recv_exact(3)
    status, n = struct.unpack("<BH", hdr)
    body = _recv_exact(n) if n else b""
    if status == ST_NACK:
        raise OSError(19, "ENODEV")  # what a NACKed address gives on a board
    if status != ST_OK:
        raise OSError(5, bytes(body).decode())
    return body


def now_us():
    global _now_us
    if _sock is None:
        _connect()
    if not lockstep:
        _now_us = struct.unpack("<Q", call(OP_TIME_NOW, b""))[0]
    return _now_us


def sleep_until_us(t_us):
    global _now_us
    if _sock is None:
        _connect()
    _now_us = struct.unpack("<Q", call(OP_SLEEP_UNTIL, struct.pack("<Q", t_us)))[0]
    return _now_us


def pin_key(pin_id):
    return str(pin_id).encode()
