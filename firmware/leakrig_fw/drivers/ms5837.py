"""TE MS5837-30BA pressure sensor (0-30 bar, I2C).

Reads the PROM once and checks its CRC4, then converts D1 and D2 at the set
oversampling and applies the datasheet's first- and second-order
compensation in integer maths.

    from machine import I2C
    from leakrig_fw.drivers.ms5837 import MS5837
    sensor = MS5837(I2C(0), addr=0x76, osr=4096)
    pressure_pa, temperature_c, quality = sensor.read()
"""
import time

from micropython import const

from .errors import BusError, CRCError, SensorTimeout, Q_OK, Q_RANGE

_CMD_RESET = const(0x1E)
_CMD_ADC_READ = const(0x00)
_CMD_D1 = const(0x40)
_CMD_D2 = const(0x50)
_CMD_PROM = const(0xA0)
_ADC_MAX = const(0xFFFFFF)
_RESET_US = const(10000)

# OSR -> (command offset, maximum conversion time in µs).
_OSR = {256: (0, 600), 512: (2, 1170), 1024: (4, 2280), 2048: (6, 4540),
        4096: (8, 9040), 8192: (10, 18080)}

P_MIN_PA = 0
P_MAX_PA = 3000000
T_MIN_C = -20
T_MAX_C = 85


def crc4(words):
    """CRC4 of the seven PROM words (datasheet algorithm): the CRC nibble of
    word 0 and an eighth word are taken as zero."""
    rem = 0
    for cnt in range(16):
        index = cnt >> 1
        word = words[index] if index < 7 else 0
        if index == 0:
            word &= 0x0FFF
        rem ^= (word & 0xFF) if cnt & 1 else (word >> 8)
        for _ in range(8):
            rem = ((rem << 1) ^ 0x3000) if rem & 0x8000 else (rem << 1)
            rem &= 0xFFFF
    return (rem >> 12) & 0xF


def compensate(c, d1, d2):
    """(TEMP in 0.01 °C, P in 0.1 mbar) from raw D1, D2 and c = (C1..C6),
    first- and second-order as in the datasheet."""
    c1, c2, c3, c4, c5, c6 = c
    dt = d2 - (c5 << 8)
    temp = 2000 + ((dt * c6) >> 23)
    off = (c2 << 16) + ((c4 * dt) >> 7)
    sens = (c1 << 15) + ((c3 * dt) >> 8)
    if temp < 2000:
        sq = (temp - 2000) * (temp - 2000)
        ti = (3 * dt * dt) >> 33
        offi = (3 * sq) >> 1
        sensi = (5 * sq) >> 3
        if temp < -1500:
            sq = (temp + 1500) * (temp + 1500)
            offi += 7 * sq
            sensi += 4 * sq
    else:
        ti = (2 * dt * dt) >> 37
        offi = ((temp - 2000) * (temp - 2000)) >> 4
        sensi = 0
    off -= offi
    sens -= sensi
    return temp - ti, (((d1 * sens) >> 21) - off) >> 13


class MS5837:
    def __init__(self, i2c, addr=0x76, osr=4096):
        if osr not in _OSR:
            raise ValueError("Not a valid MS5837 OSR: {!r}".format(osr))
        self._i2c = i2c
        self._addr = addr
        self._osr = _OSR[osr]
        self._cmd = bytearray(1)
        self._word = bytearray(2)
        self._adc = bytearray(3)
        self.prom = [0] * 7
        self.reset()

    def _command(self, cmd):
        self._cmd[0] = cmd
        try:
            self._i2c.writeto(self._addr, self._cmd)
        except OSError as exc:
            raise BusError("ms5837 at 0x%02x: %s" % (self._addr, exc))

    def reset(self):
        """Reset the part and load its calibration PROM (checks the CRC4)."""
        self._command(_CMD_RESET)
        time.sleep_us(_RESET_US)
        try:
            for i in range(7):
                self._i2c.readfrom_mem_into(self._addr, _CMD_PROM + 2 * i, self._word)
                self.prom[i] = (self._word[0] << 8) | self._word[1]
        except OSError as exc:
            raise BusError("ms5837 at 0x%02x: %s" % (self._addr, exc))
        if crc4(self.prom) != self.prom[0] >> 12:
            raise CRCError("ms5837: PROM CRC4 mismatch")
        self.coefficients = tuple(self.prom[1:7])

    def _convert(self, base):
        offset, wait_us = self._osr
        self._command(base + offset)
        time.sleep_us(wait_us + wait_us // 50)  # margin for the MCU timer
        try:
            self._i2c.readfrom_mem_into(self._addr, _CMD_ADC_READ, self._adc)
        except OSError as exc:
            raise BusError("ms5837 at 0x%02x: %s" % (self._addr, exc))
        value = (self._adc[0] << 16) | (self._adc[1] << 8) | self._adc[2]
        if value == 0:
            raise SensorTimeout("ms5837: ADC read before the conversion completed")
        return value

    def read_raw(self):
        """(D1, D2) raw pressure and temperature codes."""
        return self._convert(_CMD_D1), self._convert(_CMD_D2)

    def read(self):
        """(pressure_pa, temperature_c, quality)."""
        d1, d2 = self.read_raw()
        temp, p = compensate(self.coefficients, d1, d2)
        pressure_pa = p * 10
        quality = Q_OK
        if d1 == _ADC_MAX or d2 == _ADC_MAX or not (P_MIN_PA <= pressure_pa <= P_MAX_PA) \
                or not (T_MIN_C * 100 <= temp <= T_MAX_C * 100):
            quality |= Q_RANGE
        return pressure_pa, temp / 100, quality
