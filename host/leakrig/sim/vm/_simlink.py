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
_spi_at = -1            # offset of a posted SPI write that is the last frame queued
_spi_bus = -1           # ... and its bus
_in = bytearray(256)    # the reply being read
_in_mv = memoryview(_in)
# The simulator's write-acknowledge table: bus << 8 | addr -> 32-byte mask,
# bit b of byte b >> 3 set when a write starting with byte b will be
# acknowledged (until the table changes, which the next reply says).
acks = {}


def _connect():
    global _sock, lockstep
    path = os.getenv("LEAKRIG_SIM_SOCKET")
    if not path:
        raise OSError("LEAKRIG_SIM_SOCKET is not set: not running on a virtual board")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + bytes(1))
    _sock = s
    mine = _now_us
    acks.clear()  # the new connection's first reply gives the table
    reply = call(OP_HELLO, b"")
    lockstep = reply[0] == 1
    _set_now(reply, 1)
    if lockstep and mine > _now_us:
        # Back on a new connection: time never goes backwards.
        sleep_until_us(mine)


def _drop():
    """Forget a connection left mid-request (a ^C while waiting for a
    reply): its replies would be out of step, and what was queued for it
    is lost with it; the next request connects again."""
    global _sock, _n, _sleep_at, _spi_at
    s = _sock
    _sock = None
    _n = 0
    _sleep_at = -1
    _spi_at = -1
    if s is not None:
        try:
            s.close()
        except OSError:
            pass


def _set_now(buf, offset):
    global _now_us, _flushed_us
    _now_us = struct.unpack_from("<Q", buf, offset)[0]
    _flushed_us = _now_us


def _frame(op, k):
    """Append the header of a request frame with a k-byte payload to the
    output buffer; return the offset where its payload goes."""
    global _n, _out, _out_mv, _sleep_at, _spi_at
    if _sock is None:
        _connect()
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
    _n = end
    _sleep_at = -1
    _spi_at = -1
    return n + 3


def _queue(op, payload):
    """Append one request frame to the output buffer."""
    at = _frame(op, len(payload))
    if payload:
        _out[at:_n] = payload


def _write():
    global _n, _sleep_at, _spi_at, _flushed_us
    mv = _out_mv
    i = 0
    n = _n
    _n = 0
    _sleep_at = -1
    _spi_at = -1
    try:
        while i < n:
            k = _sock.write(mv[i:n])
            if k:
                i += k
    except BaseException:
        _drop()  # a frame cut in two would put the stream out of step
        raise
    _flushed_us = _now_us


def _exchange():
    """Send the queued frames, the last of them a request that waits for a
    reply; read the reply into _in (a socket's readinto reads exactly as
    many bytes as asked: the header, then the body it announces). Return
    (offset of the body in _in, body length); raise for a NACK or error."""
    global _in, _in_mv
    try:
        _write()
        if _sock.readinto(_in, 3) != 3:
            raise OSError("simulator link closed")
        n = _in[1] | (_in[2] << 8)
        if n:
            if 3 + n > len(_in):
                grown = bytearray(3 + n)
                grown[:3] = _in_mv[:3]
                _in = grown
                _in_mv = memoryview(grown)
            if _sock.readinto(_in_mv[3:3 + n]) != n:
                raise OSError("simulator link closed")
    except BaseException:
        _drop()
        raise
    status = _in[0]
    at = 3
    if status & ST_TIME:
        _set_now(_in, 3)
        at = 11
        n -= 8
    if status & ST_ACKS:
        k = _set_acks(_in, at)
        at += k
        n -= k
    status &= 0x3F
    if status != ST_OK:
        _fail(status, _in_mv[at:at + n])
    return at, n


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


def _into(buf, at, n, skip=0):
    if n - skip != len(buf):
        raise OSError(5, "reply of %d bytes for a %d-byte buffer" % (n - skip, len(buf)))
    buf[:] = _in_mv[at + skip:at + n]


def call(op, payload):
    """Send one request; return the reply payload or raise OSError."""
    _queue(op, payload)
    at, n = _exchange()
    return bytes(_in_mv[at:at + n])


def call_into(op, payload, buf):
    """Send one request whose reply fills buf (a bytearray) exactly."""
    _queue(op, payload)
    at, n = _exchange()
    _into(buf, at, n)


def post(op, payload):
    """Queue a request that needs no reply."""
    _queue(op | POSTED, payload)


def flush():
    """Send what is queued now (the simulator applies it without replying)."""
    if _n:
        _write()


# --- the bus requests, built in place in the output buffer ------------------
def i2c_write(bus, addr, stop, buf, mem=-1, memsize=0):
    """An I2C write of buf, after mem (memsize bytes, big-endian) when
    given: posted when the acknowledge table promises it, else a round
    trip, so that a NACK raises here as on a board."""
    k = len(buf)
    if memsize:
        first = (mem >> 8) & 0xFF if memsize == 2 else mem & 0xFF
    elif k:
        first = buf[0]
    else:
        first = -1
    op = OP_I2C_WRITE
    if first >= 0:
        mask = acks.get(bus << 8 | addr)
        if mask is not None and (mask[first >> 3] >> (first & 7)) & 1:
            op = OP_I2C_WRITE | POSTED
    at = _frame(op, 3 + memsize + k)
    o = _out
    o[at] = bus
    o[at + 1] = addr
    o[at + 2] = 1 if stop else 0
    at += 3
    if memsize == 2:
        o[at] = (mem >> 8) & 0xFF
        o[at + 1] = mem & 0xFF
    elif memsize:
        o[at] = mem & 0xFF
    at += memsize
    if k:
        o[at:at + k] = buf
    if op == OP_I2C_WRITE:
        _exchange()


def i2c_write_read(bus, addr, mem, memsize, n, buf=None):
    """mem (memsize bytes, big-endian) written without stop, then n bytes
    read after a repeated start: into buf, or returned."""
    at = _frame(OP_I2C_WRITE_READ, 4 + memsize)
    o = _out
    o[at] = bus
    o[at + 1] = addr
    o[at + 2] = n & 0xFF
    o[at + 3] = n >> 8
    if memsize == 2:
        o[at + 4] = (mem >> 8) & 0xFF
        o[at + 5] = mem & 0xFF
    else:
        o[at + 4] = mem & 0xFF
    at, k = _exchange()
    if buf is None:
        return bytes(_in_mv[at:at + k])
    _into(buf, at, k)


def spi_write(bus, buf):
    """A posted SPI write; one that follows another on the same bus, with
    nothing queued between them, joins it (the clock runs on: the same
    bytes on the wire)."""
    global _n, _spi_at, _spi_bus
    k = len(buf)
    h = _spi_at
    if h >= 0 and _spi_bus == bus and _n + k <= len(_out):
        o = _out
        length = (o[h + 1] | (o[h + 2] << 8)) + k
        o[h + 1] = length & 0xFF
        o[h + 2] = length >> 8
        o[_n:_n + k] = buf
        _n += k
        return
    at = _frame(OP_SPI_XFER | POSTED, 1 + k)
    _out[at] = bus
    _out[at + 1:at + 1 + k] = buf
    _spi_at = at - 3
    _spi_bus = bus


def spi_read_into(bus, buf, fill):
    """Clock len(buf) bytes of `fill` out and the bytes clocked in into buf.
    A posted write just before on the same bus becomes the head of this
    transfer (one round trip, the same bytes on the wire); the reply's
    bytes for that head are skipped."""
    global _n
    k = len(buf)
    h = _spi_at
    if h >= 0 and _spi_bus == bus and _n + k <= len(_out):
        o = _out
        skip = (o[h + 1] | (o[h + 2] << 8)) - 1
        length = skip + 1 + k
        o[h] = OP_SPI_XFER
        o[h + 1] = length & 0xFF
        o[h + 2] = length >> 8
        end = _n + k
        for i in range(_n, end):
            o[i] = fill
        _n = end
    else:
        skip = 0
        at = _frame(OP_SPI_XFER, 1 + k)
        o = _out
        o[at] = bus
        for i in range(at + 1, at + 1 + k):
            o[i] = fill
    at, n = _exchange()
    _into(buf, at, n, skip)


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
            at = _frame(OP_SLEEP_UNTIL | POSTED, 8)
            struct.pack_into("<Q", _out, at, t_us)
            _sleep_at = at - 3
        if t_us - _flushed_us >= FLUSH_US:
            # A round trip, not a bare write: a loop that only sleeps goes
            # no faster than the simulator takes its news.
            call(OP_TIME_NOW, b"")
    return _now_us


def pin_key(pin_id):
    return str(pin_id).encode()
