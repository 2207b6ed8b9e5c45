# The virtual board's `machine`: the MicroPython machine API (I2C, SPI, Pin,
# WDT, reset) with every transfer served by the rig simulator's chip
# emulators. A board definition written for real hardware runs on it unchanged.
import struct
import sys
import _simlink as _link
from _simlink import pin_key as _pin_key

_RESET_EXIT_CODE = 42  # the virtual board restarts the VM on this exit code

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
SOFT_RESET = 5


def reset():
    try:
        _link.call(_link.OP_RESET, b"")
    finally:
        sys.exit(_RESET_EXIT_CODE)


def soft_reset():
    sys.exit(_RESET_EXIT_CODE)


def reset_cause():
    return PWRON_RESET


def unique_id():
    return b"\x1e\xa4\x71\x60\x00\x00\x00\x01"


def freq(*args):
    return 125000000


def idle():
    pass


def lightsleep(ms=0):
    import time
    time.sleep_ms(ms)


deepsleep = lightsleep


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None, **kw):
        self._id = id
        self._key = _pin_key(id)
        self._on = b"\x01" + self._key
        self._off = b"\x00" + self._key
        self._mode = mode
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, value=None, **kw):
        self._mode = mode
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return _link.call(_link.OP_PIN_READ, self._key)[0]
        # An output cannot fail on a board: the change is posted.
        _link.post(_link.OP_PIN_WRITE, self._on if v else self._off)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def high(self):
        self.value(1)

    def low(self):
        self.value(0)

    def toggle(self):
        self.value(0 if self.value() else 1)

    def irq(self, handler=None, trigger=0, **kw):
        return None

    def __repr__(self):
        return "Pin(%r)" % (self._id,)


class Signal:
    def __init__(self, pin, invert=False):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, Pin.OUT)
        self._invert = invert

    def value(self, v=None):
        if v is None:
            return self._pin.value() ^ (1 if self._invert else 0)
        self._pin.value((1 if v else 0) ^ (1 if self._invert else 0))

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class I2C:
    def __init__(self, id=0, *, scl=None, sda=None, freq=400000, timeout=50000):
        self._bus = int(id) if not isinstance(id, str) else sum(id.encode()) & 0xFF
        self.freq = freq

    def init(self, **kw):
        pass

    def scan(self):
        return list(_link.call(_link.OP_I2C_SCAN, bytes((self._bus,))))

    def writeto(self, addr, buf, stop=True):
        # A write the simulator has promised to acknowledge is posted; any
        # other is a round trip, so that a NACK raises here, as on a board.
        _link.i2c_write(self._bus, addr, stop, buf)
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        self.writeto(addr, data, stop)
        return len(vector)

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(_link.call(_link.OP_I2C_READ,
                                struct.pack("<BBBH", self._bus, addr, 1 if stop else 0, nbytes)))

    def readfrom_into(self, addr, buf, stop=True):
        n = len(buf)
        _link.call_into(_link.OP_I2C_READ, bytes((self._bus, addr, 1 if stop else 0, n & 0xFF, n >> 8)), buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        _link.i2c_write(self._bus, addr, True, buf, memaddr, 2 if addrsize == 16 else 1)

    # The register address written without stop, then the read after a
    # repeated start: one transaction on the wire, one round trip here.
    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        return _link.i2c_write_read(self._bus, addr, memaddr, 2 if addrsize == 16 else 1, nbytes)

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        _link.i2c_write_read(self._bus, addr, memaddr, 2 if addrsize == 16 else 1, len(buf), buf)


SoftI2C = I2C


class SPI:
    MSB = 0
    LSB = 1
    CONTROLLER = 0

    def __init__(self, id=0, baudrate=1000000, *, polarity=0, phase=0, bits=8,
                 firstbit=0, sck=None, mosi=None, miso=None, **kw):
        self._bus = int(id) if not isinstance(id, str) else sum(id.encode()) & 0xFF
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase

    def init(self, baudrate=None, **kw):
        if baudrate:
            self.baudrate = baudrate

    def deinit(self):
        pass

    def write(self, buf):
        # Nothing comes back from a write that the caller sees: posted.
        _link.spi_write(self._bus, buf)

    def read(self, nbytes, write=0):
        buf = bytearray(nbytes)
        _link.spi_read_into(self._bus, buf, write)
        return bytes(buf)

    def readinto(self, buf, write=0):
        _link.spi_read_into(self._bus, buf, write)

    def write_readinto(self, write_buf, read_buf):
        read_buf[:] = _link.call(_link.OP_SPI_XFER, bytes((self._bus,)) + bytes(write_buf))


SoftSPI = SPI


class WDT:
    def __init__(self, id=0, timeout=5000):
        _link.call(_link.OP_WDT_START, struct.pack("<I", int(timeout)))

    def feed(self):
        _link.post(_link.OP_WDT_FEED, b"")


class ADC:
    def __init__(self, pin, **kw):
        self._key = _pin_key(pin._id if isinstance(pin, Pin) else pin)

    def read_u16(self):
        return 0
