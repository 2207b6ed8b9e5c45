"""TE MS5837-30BA pressure sensor at command level: reset, PROM with CRC4,
D1/D2 conversions per OSR with their conversion times, ADC read. Raw D1/D2
come from inverting the datasheet's first- and second-order compensation."""
from ..bus import Nack, ack_mask
from ._search import lower_bound

# Deadlines are compared to float seconds built from whole microseconds.
CLOCK_EPS_S = 1e-9

CMD_RESET = 0x1E
CMD_ADC_READ = 0x00
CMD_CONVERT_D1 = 0x40  # + 2 * osr_index
CMD_CONVERT_D2 = 0x50  # + 2 * osr_index
CMD_PROM_READ = 0xA0   # + 2 * word_index

OSR = (256, 512, 1024, 2048, 4096, 8192)
# Datasheet maximum conversion times, seconds, per OSR.
CONVERSION_TIME_S = (0.60e-3, 1.17e-3, 2.28e-3, 4.54e-3, 9.04e-3, 18.08e-3)
RESET_TIME_S = 2.8e-3  # PROM reload after reset

# Calibration words C1..C6 of the datasheet's worked example.
DATASHEET_C = (34982, 36352, 20328, 22354, 26646, 26146)
DATASHEET_D1 = 4958179
DATASHEET_D2 = 6815414
PRODUCT_FIELD = 0x1A << 5  # factory-defined bits 11..0 of word 0 (30BA)

ADC_MAX = (1 << 24) - 1


def known_command(cmd):
    """A command byte the part acknowledges (it NACKs any other)."""
    return (cmd in (CMD_RESET, CMD_ADC_READ)
            or (CMD_PROM_READ <= cmd <= CMD_PROM_READ + 14 and not cmd & 1)
            or (cmd & 0xF0 in (CMD_CONVERT_D1, CMD_CONVERT_D2) and not cmd & 1 and (cmd & 0x0F) <= 10))


COMMAND_ACKS = ack_mask(c for c in range(256) if known_command(c))


def crc4(words):
    """CRC4 of the PROM (datasheet algorithm): 8 words with the CRC nibble of
    word 0 and the whole of word 7 taken as zero."""
    prom = list(words) + [0] * (8 - len(words))
    prom[0] &= 0x0FFF
    prom[7] = 0
    rem = 0
    for cnt in range(16):
        word = prom[cnt >> 1]
        rem ^= (word & 0xFF) if cnt & 1 else (word >> 8)
        for _ in range(8):
            rem = ((rem << 1) ^ 0x3000) if rem & 0x8000 else (rem << 1)
            rem &= 0xFFFF
    return (rem >> 12) & 0xF


def make_prom(coefficients=DATASHEET_C, product=PRODUCT_FIELD):
    """Seven PROM words: word 0 = CRC4 << 12 | product field, then C1..C6."""
    words = [product & 0x0FFF] + [int(c) & 0xFFFF for c in coefficients]
    words[0] |= crc4(words) << 12
    return words


def compensate(c, d1, d2, second_order=True):
    """Datasheet compensation of the 30BA: (TEMP in 0.01 °C, P in 0.1 mbar).
    c = (C1..C6). Divisions by powers of two are arithmetic shifts."""
    c1, c2, c3, c4, c5, c6 = c
    dt = d2 - (c5 << 8)
    temp = 2000 + ((dt * c6) >> 23)
    off = (c2 << 16) + ((c4 * dt) >> 7)
    sens = (c1 << 15) + ((c3 * dt) >> 8)
    if second_order:
        if temp < 2000:
            ti = (3 * dt * dt) >> 33
            offi = (3 * (temp - 2000) ** 2) >> 1
            sensi = (5 * (temp - 2000) ** 2) >> 3
            if temp < -1500:
                offi += 7 * (temp + 1500) ** 2
                sensi += 4 * (temp + 1500) ** 2
        else:
            ti = (2 * dt * dt) >> 37
            offi = ((temp - 2000) ** 2) >> 4
            sensi = 0
        temp -= ti
        off -= offi
        sens -= sensi
    p = (((d1 * sens) >> 21) - off) >> 13
    return temp, p


def _closest(f, target, lo=0, hi=ADC_MAX, hint=None):
    """Smallest code whose f(code) is nearest target, for f non-decreasing
    (hint: a code near the answer, to start the search from)."""
    a = lower_bound(f, target, lo, hi, hint)
    fa = f(a)
    if fa < target:
        return a  # saturated at the top of the range
    if a > lo and abs(f(a - 1) - target) <= abs(fa - target):
        return a - 1
    return a


def compensated_temperature(c, d2):
    """TEMP (0.01 °C) of compensate(c, d1, d2), which does not depend on d1."""
    dt = d2 - (c[4] << 8)
    temp = 2000 + ((dt * c[5]) >> 23)
    if temp < 2000:
        return temp - ((3 * dt * dt) >> 33)
    return temp - ((2 * dt * dt) >> 37)


def temperature_code(c, temperature_c, hint=None):
    """D2 that the compensation turns into the temperature nearest
    temperature_c (saturating at 0 or 2**24-1); hint: a D2 near it."""
    return _closest(lambda d: compensated_temperature(c, d), temperature_c * 100.0, hint=hint)


def pressure_code(c, pressure_pa, d2, hint=None):
    """D1 that, with D2 = d2, the compensation turns into the pressure
    nearest pressure_pa; hint: a D1 near it."""
    return _closest(lambda d: compensate(c, d, d2)[1], pressure_pa / 10.0, hint=hint)


def raw_from_physical(c, pressure_pa, temperature_c, hint=None):
    """(D1, D2) that the datasheet compensation turns into the values nearest
    pressure_pa and temperature_c. Beyond what 24 bits can express the codes
    saturate at 0 or 2**24-1, as the ADC does. hint: (D1, D2) near the
    answer (the last one), which only makes the search shorter."""
    h1, h2 = hint or (None, None)
    d2 = temperature_code(c, temperature_c, h2)
    return pressure_code(c, pressure_pa, d2, h1), d2


class MS5837Emulator:
    """MS5837-30BA on an I2C bus (address 0x76).

    pressure_pa, temperature_c: zero-argument callables (SI units), sampled
    when a conversion starts. prom: seven words (default: the datasheet
    example's coefficients with a valid CRC4).
    """

    def __init__(self, clock, pressure_pa, temperature_c, prom=None):
        self.clock = clock
        self.pressure_pa = pressure_pa
        self.temperature_c = temperature_c
        self.prom = list(prom) if prom is not None else make_prom()
        if len(self.prom) != 7:
            raise ValueError("MS5837 PROM has 7 words, got %d" % len(self.prom))
        self.nack = False
        self._hint = None  # last (D1, D2): where the next inversion starts
        self._reset_state()

    def _reset_state(self):
        self._conversion = None   # (done_at_s, value)
        self._result = None       # completed conversion not yet read
        self._pending = b""       # bytes the next read returns

    @property
    def coefficients(self):
        return tuple(self.prom[1:7])

    def raw(self):
        """(D1, D2) for the present physical values."""
        self._hint = raw_from_physical(self.coefficients, self.pressure_pa(), self.temperature_c(),
                                       self._hint)
        return self._hint

    def raw_code(self, d1):
        """D1 (d1 true) or D2 for the present physical values: the same
        code as raw() gives, and both values are sampled as raw() samples
        them, but a D2 conversion skips the pressure's inversion."""
        c = self.coefficients
        pressure_pa = self.pressure_pa()
        h1, h2 = self._hint or (None, None)
        d2 = temperature_code(c, self.temperature_c(), h2)
        if not d1:
            self._hint = (h1, d2)
            return d2
        self._hint = (pressure_code(c, pressure_pa, d2, h1), d2)
        return self._hint[0]

    def _finish_conversion(self):
        if self._conversion is not None and self.clock.now_s + CLOCK_EPS_S >= self._conversion[0]:
            self._result = self._conversion[1]
            self._conversion = None

    def write_ack_mask(self):
        """Writes of a known command are acknowledged, unless the part is
        told to NACK."""
        return None if self.nack else COMMAND_ACKS

    def i2c_write(self, data, stop):
        if self.nack:
            raise Nack("MS5837 not responding")
        self._finish_conversion()
        if not data:
            return
        cmd = data[0]
        if cmd == CMD_RESET:
            self._reset_state()
        elif cmd == CMD_ADC_READ:
            if self._conversion is not None:
                # Read during a conversion: 0 now, and that result is lost.
                self._conversion = None
                value = 0
            else:
                value = self._result or 0
            self._result = None
            self._pending = value.to_bytes(3, "big")
        elif CMD_PROM_READ <= cmd <= CMD_PROM_READ + 14 and not cmd & 1:
            index = (cmd - CMD_PROM_READ) >> 1
            word = self.prom[index] if index < 7 else 0
            self._pending = word.to_bytes(2, "big")
        elif cmd & 0xF0 in (CMD_CONVERT_D1, CMD_CONVERT_D2) and not cmd & 1 and (cmd & 0x0F) <= 10:
            osr_index = (cmd & 0x0F) >> 1
            value = self.raw_code(cmd & 0xF0 == CMD_CONVERT_D1)
            self._conversion = (self.clock.now_s + CONVERSION_TIME_S[osr_index], value)
            self._result = None
        else:
            raise Nack("MS5837: unknown command 0x%02x" % cmd)

    def i2c_read(self, n, stop):
        if self.nack:
            raise Nack("MS5837 not responding")
        out = self._pending[:n] + b"\x00" * max(0, n - len(self._pending))
        self._pending = b""
        return out
