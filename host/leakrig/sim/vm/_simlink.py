# Client end of the link between the MicroPython VM and the rig simulator,
# over a Unix socket; docs/virtual-board.md ("Transport") has the byte layout.
# Only the sim's machine, time and onewire modules import this.
#
# Requests that need an answer (reads, I2C writes that may be NACKed) are
# round trips. Requests that cannot fail on a board (pin and SPI writes,
# 1-Wire writes, watchdog feeds, lockstep sleeps, and I2C writes that the
# simulator's acknowledge table says will be acknowledged) are posted: they
# are queued here and go out in the same write as the next round trip, so
# the simulator applies them in order, at the simulated time they were made. In lockstep
# mode the VM keeps its own copy of simulated time: a sleep moves it forward
# at once and the simulator hears of it with the next request.
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
OP_I2C_WRITE_READ = 18
POSTED = 0x80  # op flag: no reply; applied before the next request

ST_OK = 0
ST_NACK = 1
ST_ERROR = 2
ST_TIME = 0x80  # status flag: the payload starts with now_us:u64 (time moved)
ST_ACKS = 0x40  # status flag: then comes the write-acknowledge table (it changed)

# Posted requests wait at most this much simulated time for a round trip to
# carry them: a loop that only sleeps makes one then (so the simulator's
# clock, the watchdog and timed unplugs follow it closely).
FLUSH_US = 200000

_sock = None
lockstep = True
_now_us = 0
_flushed_us = 0
_out = bytearray(1024)  # queued request frames, then the round trip's own
_out_mv = memoryview(_out)
_n = 0                  # bytes queued in _out
_sleep_at = -1          # offset of a posted sleep that is the last frame queued
# The simulator's write-acknowledge table: bus << 8 | addr -> 32-byte mask,
# bit b of byte b >> 3 set when a write starting with byte b will be
# acknowledged (until the table changes, which the next reply says).
acks = {}


def _connect():
    global _sock, lockstep, _n, _sleep_at, _now_us
    path = os.getenv("LEAKRIG_SIM_SOCKET")
    if not path:
        raise OSError("LEAKRIG_SIM_SOCKET is not set: not running on a virtual board")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + bytes(1))
    _sock = s
    mine = _now_us
    acks.clear()  # the new connection's first reply gives the table
    _n = 0  # what was queued on a dropped connection is lost with it
    _sleep_at = -1
    reply = call(OP_HELLO, b"")
    lockstep = reply[0] == 1
    _set_now(reply, 1)
    if lockstep and mine > _now_us:
        # Back on a new connection: time never goes backwards.
        sleep_until_us(mine)


def _drop():
    """Forget a connection left mid-request (a ^C while waiting for a
    reply): its replies would be out of step; the next call reconnects."""
    global _sock
    s = _sock
    _sock = None
    if s is not None:
        try:
            s.close()
        except OSError:
            pass


def _set_now(buf, offset):
    global _now_us, _flushed_us
    _now_us = struct.unpack_from("<Q", buf, offset)[0]
    _flushed_us = _now_us


def _queue(op, payload):
    """Append one request frame to the output buffer."""
    global _n, _out, _out_mv, _sleep_at
    k = len(payload)
    end = _n + 3 + k
    if end > len(_out):
        if _n:
            _write()
            end = 3 + k
        if end > len(_out):
            _out = bytearray(end)
            _out_mv = memoryview(_out)
    n = _n
    _out[n] = op
    _out[n + 1] = k & 0xFF
    _out[n + 2] = k >> 8
    if k:
        _out[n + 3:end] = payload
    _n = end
    _sleep_at = -1


def _write():
    global _n, _sleep_at, _flushed_us
    if _sock is None:
        _connect()
    mv = _out_mv
    i = 0
    n = _n
    _n = 0
    try:
        while i < n:
            k = _sock.write(mv[i:n])
            if k:
                i += k
    except BaseException:
        _drop()  # a frame cut in two would put the stream out of step
        raise
    _sleep_at = -1
    _flushed_us = _now_us


def _read_into(mv):
    got = 0
    n = len(mv)
    while got < n:
        k = _sock.readinto(mv[got:])
        if not k:
            raise OSError("simulator link closed")
        got += k


def _round_trip(op, payload):
    """Send the queued frames and this request; read the reply, in one
    recv as a rule (the simulator writes each reply at once). Return
    (status, reply bytes, offset of the body in them, body length)."""
    if _sock is None and op != OP_HELLO:
        _connect()
    _queue(op, payload)
    try:
        _write()
        data = _sock.recv(64)
        while len(data) < 3:
            more = _sock.recv(64)
            if not more:
                raise OSError("simulator link closed")
            data += more
        status = data[0]
        n = data[1] | (data[2] << 8)
        if len(data) < 3 + n:
            rest = bytearray(3 + n - len(data))
            _read_into(memoryview(rest))
            data += rest
    except BaseException:
        _drop()
        raise
    at = 3
    if status & ST_TIME:
        _set_now(data, 3)
        at = 11
        n -= 8
    if status & ST_ACKS:
        k = _set_acks(data, at)
        at += k
        n -= k
    return status & 0x3F, data, at, n


def _set_acks(data, at):
    """Take the write-acknowledge table at data[at:]; return its length."""
    acks.clear()
    k = data[at]
    i = at + 1
    for _ in range(k):
        acks[data[i] << 8 | data[i + 1]] = bytes(data[i + 2:i + 34])
        i += 34
    return i - at


def acked(bus, addr, first):
    """Whether a write to addr on bus starting with byte `first` will be
    acknowledged, so that it can be posted."""
    mask = acks.get(bus << 8 | addr)
    return mask is not None and (mask[first >> 3] >> (first & 7)) & 1


def _fail(status, body):
    if status == ST_NACK:
        raise OSError(19, "ENODEV")  # what a NACKed address gives on a board
    raise OSError(5, bytes(body).decode())


def call(op, payload):
    """Send one request; return the reply payload or raise OSError."""
    status, data, at, n = _round_trip(op, payload)
    body = data[at:at + n]
    if status != ST_OK:
        _fail(status, body)
    return body


def call_into(op, payload, buf):
    """Send one request whose reply fills buf (a bytearray) exactly."""
    status, data, at, n = _round_trip(op, payload)
    if status != ST_OK:
        _fail(status, data[at:at + n])
    if n != len(buf):
        raise OSError(5, "reply of %d bytes for a %d-byte buffer" % (n, len(buf)))
    buf[:] = memoryview(data)[at:at + n]


def post(op, payload):
    """Queue a request that needs no reply."""
    _queue(op | POSTED, payload)


def flush():
    """Send what is queued now (the simulator applies it without replying)."""
    if _n:
        _write()


def now_us():
    if _sock is None:
        _connect()
    if not lockstep:
        _set_now(call(OP_TIME_NOW, b""), 0)
    return _now_us


def sleep_until_us(t_us):
    global _now_us, _sleep_at
    if _sock is None:
        _connect()
    if not lockstep:
        _set_now(call(OP_SLEEP_UNTIL, struct.pack("<Q", t_us)), 0)
        return _now_us
    if t_us > _now_us:
        _now_us = t_us
        if _sleep_at >= 0:
            # Two sleeps in a row: the later target is all the simulator needs.
            struct.pack_into("<Q", _out, _sleep_at + 3, t_us)
        else:
            _queue(OP_SLEEP_UNTIL | POSTED, struct.pack("<Q", t_us))
            _sleep_at = _n - 11
        if t_us - _flushed_us >= FLUSH_US:
            # A round trip, not a bare write: a loop that only sleeps goes
            # no faster than the simulator takes its news.
            call(OP_TIME_NOW, b"")
    return _now_us


def pin_key(pin_id):
    return str(pin_id).encode()
