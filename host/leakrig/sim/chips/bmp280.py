"""Bosch BMP280 barometer at register level: chip id, soft reset, ctrl_meas,
config, status (measuring), calibration dig_T1..dig_P9, sleep/forced/normal
modes with the datasheet's maximum measurement time, oversampling resolution
and the IIR filter. Raw adc_T/adc_P come from inverting the datasheet's
integer compensation."""
import struct

from ..bus import ACK_EVERY_WRITE, Nack
from ._search import lower_bound

# Deadlines are compared to float seconds built from whole microseconds.
CLOCK_EPS_S = 1e-9

REG_CALIB = 0x88
REG_CHIP_ID = 0xD0
REG_RESET = 0xE0
REG_STATUS = 0xF3
REG_CTRL_MEAS = 0xF4
REG_CONFIG = 0xF5
REG_PRESS = 0xF7
REG_TEMP = 0xFA

CHIP_ID = 0x58
RESET_WORD = 0xB6
STATUS_MEASURING = 0x08
SKIPPED = 0x80000  # output of a measurement that is switched off

MODE_SLEEP = 0
MODE_NORMAL = 3
OVERSAMPLING = (0, 1, 2, 4, 8, 16, 16, 16)           # by osrs_x field
STANDBY_S = (0.0005, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0)  # by t_sb field
FILTER_COEFF = (1, 2, 4, 8, 16, 16, 16, 16)          # by filter field

# The datasheet's worked example: calibration words and raw readings that
# give T = 25.08 °C and P = 100653.27 Pa (double-precision formula).
DATASHEET_CALIB = dict(dig_T1=27504, dig_T2=26435, dig_T3=-1000, dig_P1=36477, dig_P2=-10685,
                       dig_P3=3024, dig_P4=2855, dig_P5=140, dig_P6=-7, dig_P7=15500,
                       dig_P8=-14600, dig_P9=6000)
DATASHEET_ADC_T = 519888
DATASHEET_ADC_P = 415148
CALIB_NAMES = ("dig_T1", "dig_T2", "dig_T3", "dig_P1", "dig_P2", "dig_P3", "dig_P4", "dig_P5",
               "dig_P6", "dig_P7", "dig_P8", "dig_P9")
_CALIB_FORMAT = "<HhhHhhhhhhhh"


def pack_calibration(calib):
    return struct.pack(_CALIB_FORMAT, *(calib[n] for n in CALIB_NAMES))


def compensate_t_fine(calib, adc_t):
    """t_fine of the datasheet's integer formula (temperature = t_fine/5120 °C)."""
    t1, t2, t3 = calib["dig_T1"], calib["dig_T2"], calib["dig_T3"]
    var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    x = (adc_t >> 4) - t1
    var2 = (((x * x) >> 12) * t3) >> 14
    return var1 + var2


def compensate_temperature(calib, adc_t):
    """Temperature in 0.01 °C (datasheet integer formula)."""
    return (compensate_t_fine(calib, adc_t) * 5 + 128) >> 8


def compensate_pressure(calib, adc_p, t_fine):
    """Pressure in Pa as Q24.8 (datasheet 64-bit integer formula); 0 when
    the calibration would divide by zero."""
    c = calib
    var1 = t_fine - 128000
    var2 = var1 * var1 * c["dig_P6"]
    var2 += (var1 * c["dig_P5"]) << 17
    var2 += c["dig_P4"] << 35
    var1 = ((var1 * var1 * c["dig_P3"]) >> 8) + ((var1 * c["dig_P2"]) << 12)
    var1 = (((1 << 47) + var1) * c["dig_P1"]) >> 33
    if var1 == 0:
        return 0
    p = 1048576 - adc_p
    p = _cdiv(((p << 31) - var2) * 3125, var1)
    var1 = (c["dig_P9"] * (p >> 13) * (p >> 13)) >> 25
    var2 = (c["dig_P8"] * p) >> 19
    return ((p + var1 + var2) >> 8) + (c["dig_P7"] << 4)


def _cdiv(a, b):
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def compensate_double(calib, adc_t, adc_p):
    """The datasheet's double-precision formula: (T °C, P Pa)."""
    c = calib
    var1 = (adc_t / 16384.0 - c["dig_T1"] / 1024.0) * c["dig_T2"]
    x = adc_t / 131072.0 - c["dig_T1"] / 8192.0
    var2 = x * x * c["dig_T3"]
    t_fine = int(var1 + var2)
    temperature = (var1 + var2) / 5120.0
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * c["dig_P6"] / 32768.0
    var2 = var2 + var1 * c["dig_P5"] * 2.0
    var2 = var2 / 4.0 + c["dig_P4"] * 65536.0
    var1 = (c["dig_P3"] * var1 * var1 / 524288.0 + c["dig_P2"] * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * c["dig_P1"]
    if var1 == 0:
        return temperature, 0.0
    p = 1048576.0 - adc_p
    p = (p - var2 / 4096.0) * 6250.0 / var1
    var1 = c["dig_P9"] * p * p / 2147483648.0
    var2 = p * c["dig_P8"] / 32768.0
    return temperature, p + (var1 + var2 + c["dig_P7"]) / 16.0


def _nearest(f, target, increasing, lo=0, hi=0xFFFFF, hint=None):
    """Code in [lo, hi] whose f(code) is nearest target, f monotonic (hint:
    a code near the answer, to start the search from)."""
    if increasing:
        a = lower_bound(f, target, lo, hi, hint)
    else:
        a = lower_bound(lambda x: -f(x), -target, lo, hi, hint)
    sign = 1 if increasing else -1
    fa = f(a)
    if sign * fa < sign * target:
        return a  # saturated at the end of the range
    if a > lo and abs(f(a - 1) - target) <= abs(fa - target):
        return a - 1
    return a


def raw_from_physical(calib, pressure_pa, temperature_c, t_bits=20, hint=None):
    """20-bit (adc_P, adc_T) nearest to the physical values through the
    integer compensation, adc_T at t_bits resolution and adc_P found against
    the t_fine that adc_T gives; saturates at 0 / 0xFFFFF beyond what they
    reach. hint: (adc_P, adc_T) near the answer (the last one), which only
    makes the search shorter."""
    hp, ht = hint or (None, None)
    adc_t = _nearest(lambda a: compensate_t_fine(calib, a), temperature_c * 5120.0, True, hint=ht)
    adc_t = _quantise(adc_t, t_bits)
    t_fine = compensate_t_fine(calib, adc_t)
    adc_p = _nearest(lambda a: compensate_pressure(calib, a, t_fine), pressure_pa * 256.0, False, hint=hp)
    return adc_p, adc_t


def measurement_time_s(osrs_t, osrs_p):
    """Datasheet maximum measurement time for the oversampling fields."""
    t_os, p_os = OVERSAMPLING[osrs_t], OVERSAMPLING[osrs_p]
    ms = 1.25 + 2.3 * t_os + ((2.3 * p_os + 0.575) if p_os else 0.0)
    return ms / 1000.0


class BMP280Emulator:
    """BMP280 on an I2C bus (0x76 or 0x77; 0x77 on our boards).

    pressure_pa, temperature_c: zero-argument callables (SI units), sampled
    at the end of each measurement. calib: dict of dig_* words (default: the
    datasheet example).
    """

    def __init__(self, clock, pressure_pa, temperature_c, calib=None):
        self.clock = clock
        self.pressure_pa = pressure_pa
        self.temperature_c = temperature_c
        self.calib = dict(calib or DATASHEET_CALIB)
        self.nack = False
        self._pointer = 0
        self._hint = None  # last (adc_P, adc_T): where the next inversion starts
        self.reset()

    def reset(self):
        self.ctrl_meas = 0
        self.config = 0
        self.adc_p = SKIPPED
        self.adc_t = SKIPPED
        self._filtered = None        # (adc_p, adc_t) as floats, IIR state
        self._busy_until = None      # forced mode: end of the measurement
        self._normal_start = None    # normal mode: start of the first cycle
        self._cycles_done = 0

    # Measurements -----------------------------------------------------
    @property
    def _t_meas(self):
        return measurement_time_s((self.ctrl_meas >> 5) & 7, (self.ctrl_meas >> 2) & 7)

    def raw(self, t_bits=20):
        """(adc_P, adc_T) for the present physical values."""
        self._hint = raw_from_physical(self.calib, self.pressure_pa(), self.temperature_c(), t_bits,
                                       self._hint)
        return self._hint

    def _measure(self, repeats=1):
        osrs_t = (self.ctrl_meas >> 5) & 7
        osrs_p = (self.ctrl_meas >> 2) & 7
        coeff = FILTER_COEFF[(self.config >> 2) & 7]
        # With the IIR filter on, both outputs carry 20 bits.
        t_bits = 15 + OVERSAMPLING[osrs_t].bit_length() if osrs_t and coeff == 1 else 20
        adc_p, adc_t = self.raw(t_bits)
        if coeff > 1:
            if self._filtered is None:
                self._filtered = (float(adc_p), float(adc_t))
            else:
                keep = (1.0 - 1.0 / coeff) ** repeats
                fp, ft = self._filtered
                self._filtered = (adc_p + (fp - adc_p) * keep, adc_t + (ft - adc_t) * keep)
            adc_p, adc_t = (int(round(v)) for v in self._filtered)
            p_bits = 20
        else:
            self._filtered = None
            p_bits = 15 + OVERSAMPLING[osrs_p].bit_length()
        self.adc_t = _quantise(adc_t, t_bits) if osrs_t else SKIPPED
        self.adc_p = _quantise(adc_p, p_bits) if osrs_p else SKIPPED

    def _update(self):
        now = self.clock.now_s + CLOCK_EPS_S
        mode = self.ctrl_meas & 3
        if self._busy_until is not None and now >= self._busy_until:
            self._busy_until = None
            self._measure()
            self.ctrl_meas &= ~3  # forced mode returns to sleep
        elif mode == MODE_NORMAL and self._normal_start is not None:
            period = self._t_meas + STANDBY_S[(self.config >> 5) & 7]
            done = int((now - self._normal_start - self._t_meas) // period) + 1
            if done > self._cycles_done:
                self._measure(done - self._cycles_done)
                self._cycles_done = done

    def _measuring(self):
        now = self.clock.now_s + CLOCK_EPS_S
        if self._busy_until is not None:
            return now < self._busy_until
        if (self.ctrl_meas & 3) == MODE_NORMAL and self._normal_start is not None:
            period = self._t_meas + STANDBY_S[(self.config >> 5) & 7]
            return (now - self._normal_start) % period < self._t_meas
        return False

    # Registers --------------------------------------------------------
    def _read_reg(self, reg):
        if REG_CALIB <= reg < REG_CALIB + 24:
            return pack_calibration(self.calib)[reg - REG_CALIB]
        if reg == REG_CHIP_ID:
            return CHIP_ID
        if reg == REG_STATUS:
            return STATUS_MEASURING if self._measuring() else 0
        if reg == REG_CTRL_MEAS:
            return self.ctrl_meas
        if reg == REG_CONFIG:
            return self.config
        if REG_PRESS <= reg <= REG_PRESS + 2:
            return _data_bytes(self.adc_p)[reg - REG_PRESS]
        if REG_TEMP <= reg <= REG_TEMP + 2:
            return _data_bytes(self.adc_t)[reg - REG_TEMP]
        return 0

    def _write_reg(self, reg, value):
        if reg == REG_RESET:
            if value == RESET_WORD:
                self.reset()
        elif reg == REG_CTRL_MEAS:
            old_mode = self.ctrl_meas & 3
            self.ctrl_meas = value
            mode = value & 3
            if mode in (1, 2):
                self._busy_until = self.clock.now_s + self._t_meas
                self._normal_start = None
            elif mode == MODE_NORMAL:
                if old_mode != MODE_NORMAL:
                    self._normal_start = self.clock.now_s
                    self._cycles_done = 0
            else:
                self._normal_start = None
                self._busy_until = None
        elif reg == REG_CONFIG:
            self.config = value & 0xFD

    def write_ack_mask(self):
        """Every write is acknowledged, unless the part is told to NACK."""
        return None if self.nack else ACK_EVERY_WRITE

    def i2c_write(self, data, stop):
        if self.nack:
            raise Nack("BMP280 not responding")
        self._update()
        if not data:
            return
        self._pointer = data[0]
        # Writes are register/value pairs; a lone byte only sets the pointer.
        for i in range(0, len(data) - 1, 2):
            self._write_reg(data[i], data[i + 1])

    def i2c_read(self, n, stop):
        if self.nack:
            raise Nack("BMP280 not responding")
        self._update()
        out = bytes(self._read_reg((self._pointer + i) & 0xFF) for i in range(n))
        self._pointer = (self._pointer + n) & 0xFF
        return out


def _quantise(code, bits):
    step = 1 << (20 - bits)
    return min(0xFFFFF - (step - 1), (code + step // 2) // step * step)


def _data_bytes(code):
    return ((code >> 12) & 0xFF, (code >> 4) & 0xFF, (code << 4) & 0xF0)
