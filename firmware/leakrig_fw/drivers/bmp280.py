"""Bosch BMP280 barometer (I2C), the rig's ambient pressure reference.

Forced mode: each read starts one measurement, waits the datasheet's maximum
measurement time, polls the measuring bit against a deadline, and applies
the datasheet's 64-bit integer compensation (pressure to 1/256 Pa).

    from machine import I2C
    from leakrig_fw.drivers.bmp280 import BMP280
    baro = BMP280(I2C(0), addr=0x77)
    pressure_pa, temperature_c, quality = baro.read()
"""
import struct
import time

from micropython import const

from .errors import BusError, SensorError, SensorTimeout, StaleReading, Q_OK, Q_RANGE

_REG_CALIB = const(0x88)
_REG_ID = const(0xD0)
_REG_RESET = const(0xE0)
_REG_STATUS = const(0xF3)
_REG_CTRL_MEAS = const(0xF4)
_REG_CONFIG = const(0xF5)
_REG_DATA = const(0xF7)
_CHIP_ID = const(0x58)
_RESET_WORD = const(0xB6)
_MEASURING = const(0x08)
_IM_UPDATE = const(0x01)
_MODE_FORCED = const(0x01)
_SKIPPED = const(0x80000)
_STARTUP_MS = const(2)
_POLL_MS = const(1)

_OVERSAMPLING = (0, 1, 2, 4, 8, 16)

P_MIN_PA = 30000
P_MAX_PA = 110000
T_MIN_C = -40
T_MAX_C = 85


def _tdiv(a, b):
    # C division (toward zero), as the datasheet's code divides.
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


class BMP280:
    def __init__(self, i2c, addr=0x77, osrs_t=2, osrs_p=5, iir=0):
        """osrs_t, osrs_p: oversampling fields (1..5 = x1..x16); iir: filter
        field (0 = off .. 4 = 16)."""
        if not (1 <= osrs_t <= 5 and 1 <= osrs_p <= 5 and 0 <= iir <= 4):
            raise ValueError("Not a valid BMP280 setting: osrs_t={} osrs_p={} iir={}".format(
                osrs_t, osrs_p, iir))
        self._i2c = i2c
        self._addr = addr
        self._one = bytearray(1)
        self._data = bytearray(_REG_DATA + 6 - _REG_STATUS)  # status .. temp_xlsb
        self._ctrl = (osrs_t << 5) | (osrs_p << 2) | _MODE_FORCED
        # Datasheet maximum measurement time, µs.
        self._t_meas_us = 1250 + 2300 * _OVERSAMPLING[osrs_t] + 2300 * _OVERSAMPLING[osrs_p] + 575
        if self._read8(_REG_ID) != _CHIP_ID:
            raise SensorError("bmp280 at 0x%02x: chip id 0x%02x, not 0x58" % (addr, self._one[0]))
        self._write8(_REG_RESET, _RESET_WORD)
        deadline = time.ticks_add(time.ticks_ms(), 10 * _STARTUP_MS)
        time.sleep_ms(_STARTUP_MS)
        while self._read8(_REG_STATUS) & _IM_UPDATE:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise SensorTimeout("bmp280: calibration copy did not finish")
            time.sleep_ms(_POLL_MS)
        calib = bytearray(24)
        self._read_into(_REG_CALIB, calib)
        self.calib = struct.unpack("<HhhHhhhhhhhh", calib)
        if self.calib[0] == 0 or self.calib[3] == 0:
            raise SensorError("bmp280: calibration words are blank")
        self._write8(_REG_CONFIG, iir << 2)
        self._started = None

    def _read_into(self, reg, buf):
        try:
            self._i2c.readfrom_mem_into(self._addr, reg, buf)
        except OSError as exc:
            raise BusError("bmp280 at 0x%02x: %s" % (self._addr, exc))

    def _read8(self, reg):
        self._read_into(reg, self._one)
        return self._one[0]

    def _write8(self, reg, value):
        self._one[0] = value
        try:
            self._i2c.writeto_mem(self._addr, reg, self._one)
        except OSError as exc:
            raise BusError("bmp280 at 0x%02x: %s" % (self._addr, exc))

    def start_conversion(self):
        """Start one forced-mode measurement; read_result() collects it."""
        self._write8(_REG_CTRL_MEAS, self._ctrl)
        self._started = time.ticks_ms()

    def read_result(self):
        """(pressure_pa, temperature_c, quality) of the measurement started."""
        if self._started is None:
            raise StaleReading("bmp280: no measurement started")
        t_meas_ms = self._t_meas_us // 1000 + 1
        left = t_meas_ms - time.ticks_diff(time.ticks_ms(), self._started)
        if left > 0:
            time.sleep_ms(left)
        deadline = time.ticks_add(self._started, 2 * t_meas_ms + 5)
        # status, ctrl_meas, config, (0xF6) and the six data registers are
        # neighbours: one burst read gives the measuring bit, the mode and,
        # once the measurement is done, its data (shadowed during the burst,
        # so all six bytes belong to one measurement).
        d = self._data
        self._read_into(_REG_STATUS, d)
        while d[0] & _MEASURING or d[1] & 3:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise SensorTimeout("bmp280: measurement did not complete")
            time.sleep_ms(_POLL_MS)
            self._read_into(_REG_STATUS, d)
        self._started = None
        adc_p = (d[4] << 12) | (d[5] << 4) | (d[6] >> 4)
        adc_t = (d[7] << 12) | (d[8] << 4) | (d[9] >> 4)
        if adc_p == _SKIPPED or adc_t == _SKIPPED:
            raise StaleReading("bmp280: no data (reset value in the data registers)")
        t_fine = self._t_fine(adc_t)
        temp = (t_fine * 5 + 128) >> 8
        p_q24_8 = self._pressure(adc_p, t_fine)
        quality = Q_OK
        if not (P_MIN_PA * 256 <= p_q24_8 <= P_MAX_PA * 256) or not (T_MIN_C * 100 <= temp <= T_MAX_C * 100) \
                or adc_p in (0, 0xFFFFF) or adc_t in (0, 0xFFFFF):
            quality |= Q_RANGE
        return p_q24_8 / 256, temp / 100, quality

    def read(self):
        """(pressure_pa, temperature_c, quality): one forced measurement."""
        self.start_conversion()
        return self.read_result()

    def _t_fine(self, adc_t):
        t1, t2, t3 = self.calib[0], self.calib[1], self.calib[2]
        var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
        x = (adc_t >> 4) - t1
        return var1 + ((((x * x) >> 12) * t3) >> 14)

    def _pressure(self, adc_p, t_fine):
        p1, p2, p3, p4, p5, p6, p7, p8, p9 = self.calib[3:]
        var1 = t_fine - 128000
        var2 = var1 * var1 * p6 + ((var1 * p5) << 17) + (p4 << 35)
        var1 = ((var1 * var1 * p3) >> 8) + ((var1 * p2) << 12)
        var1 = (((1 << 47) + var1) * p1) >> 33
        if var1 == 0:
            raise SensorError("bmp280: calibration gives a zero divisor")
        p = _tdiv((((1048576 - adc_p) << 31) - var2) * 3125, var1)
        var1 = (p9 * (p >> 13) * (p >> 13)) >> 25
        var2 = (p8 * p) >> 19
        return ((p + var1 + var2) >> 8) + (p7 << 4)
