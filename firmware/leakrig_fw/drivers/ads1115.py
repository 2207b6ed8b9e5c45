"""TI ADS1115 16-bit ADC (I2C) and the pressure transducers read through it.

The ADC runs single-shot: start_conversion() writes the config with OS set,
read_result() waits one conversion time, polls OS against a deadline and
returns the signed code. PressureInput ties a channel to a transducer model
and reads Pa with a quality flag. Default wiring (docs/sensors.md): ADC at
3.3 V, ±4.096 V range; a 5 V ratiometric 0.5–4.5 V transducer through a
2/3 divider, or a 4–20 mA transducer across 165 Ω.

    from machine import I2C
    from leakrig_fw.drivers.ads1115 import ADS1115, PressureInput, RatiometricTransducer
    adc = ADS1115(I2C(0), addr=0x48)
    loop = PressureInput(adc, RatiometricTransducer(0, 1000000, divider=2 / 3), channel=0)
    pressure_pa, quality = loop.read()
"""
import time

from micropython import const

from .errors import BusError, SensorFault, SensorTimeout, Q_OK, Q_RANGE

_REG_CONVERSION = const(0)
_REG_CONFIG = const(1)
_OS = const(0x8000)
_MODE_SINGLE = const(0x0100)
_COMP_OFF = const(0x0003)
_POLL_MS = const(1)

# PGA field -> full scale in µV; DR field -> samples per second.
_FULL_SCALE_UV = (6144000, 4096000, 2048000, 1024000, 512000, 256000)
_RATES = (8, 16, 32, 64, 128, 250, 475, 860)

MUX_DIFF_0_1 = 0
MUX_DIFF_0_3 = 1
MUX_DIFF_1_3 = 2
MUX_DIFF_2_3 = 3
PGA_4V096 = 1


class ADS1115:
    def __init__(self, i2c, addr=0x48):
        self._i2c = i2c
        self._addr = addr
        self._buf = bytearray(2)
        self._started = None
        self._pga = PGA_4V096
        self._wait_ms = 0
        self._read_reg(_REG_CONFIG)  # the part answers, or BusError now

    def _read_reg(self, reg):
        try:
            self._i2c.readfrom_mem_into(self._addr, reg, self._buf)
        except OSError as exc:
            raise BusError("ads1115 at 0x%02x: %s" % (self._addr, exc))
        return (self._buf[0] << 8) | self._buf[1]

    def _write_reg(self, reg, value):
        self._buf[0] = value >> 8
        self._buf[1] = value & 0xFF
        try:
            self._i2c.writeto_mem(self._addr, reg, self._buf)
        except OSError as exc:
            raise BusError("ads1115 at 0x%02x: %s" % (self._addr, exc))

    def start_conversion(self, mux, pga=PGA_4V096, rate=4):
        """mux: 0..3 differential pairs (MUX_DIFF_*), 4..7 = AIN0..AIN3 to GND."""
        self._pga = pga
        # 1/DR with the datasheet's 10 % oscillator tolerance, rounded up.
        self._wait_ms = (1100 + _RATES[rate] - 1) // _RATES[rate] + 1
        self._write_reg(_REG_CONFIG, _OS | (mux << 12) | (pga << 9) | _MODE_SINGLE | (rate << 5) | _COMP_OFF)
        self._started = time.ticks_ms()

    def read_result(self):
        """(volts, code) of the conversion started; code is signed 16-bit."""
        elapsed = time.ticks_diff(time.ticks_ms(), self._started)
        if elapsed < self._wait_ms:
            time.sleep_ms(self._wait_ms - elapsed)
        deadline = time.ticks_add(self._started, 2 * self._wait_ms + 5)
        while not self._read_reg(_REG_CONFIG) & _OS:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise SensorTimeout("ads1115: conversion did not complete")
            time.sleep_ms(_POLL_MS)
        code = self._read_reg(_REG_CONVERSION)
        if code & 0x8000:
            code -= 0x10000
        return code * _FULL_SCALE_UV[self._pga] / 32768e6, code

    def read_volts(self, mux, pga=PGA_4V096, rate=4):
        self.start_conversion(mux, pga, rate)
        return self.read_result()


class RatiometricTransducer:
    """0.5–4.5 V (10 %–90 % of supply) over p_min_pa..p_max_pa, seen at the
    ADC pin through a divider (pin volts = output volts * divider)."""

    def __init__(self, p_min_pa, p_max_pa, supply_v=5.0, divider=1.0):
        self.p_min_pa = p_min_pa
        self.p_max_pa = p_max_pa
        self.supply_v = supply_v
        self.divider = divider

    def pressure(self, pin_v):
        """(pressure_pa, quality) for a pin voltage; SensorFault for an output
        no working transducer gives (broken wire, short to a rail)."""
        ratio = pin_v / self.divider / self.supply_v
        if ratio < 0.025 or ratio > 0.975:
            raise SensorFault("ratiometric transducer output %.3f V: wire broken or shorted" % (
                ratio * self.supply_v))
        pressure_pa = self.p_min_pa + (ratio - 0.1) / 0.8 * (self.p_max_pa - self.p_min_pa)
        quality = Q_OK if self.p_min_pa <= pressure_pa <= self.p_max_pa else Q_RANGE
        return pressure_pa, quality


class CurrentLoopTransducer:
    """4–20 mA over p_min_pa..p_max_pa, read as a voltage across shunt_ohm.
    Below 3.6 mA (NAMUR NE 43) the loop is open or the transmitter failed."""

    def __init__(self, p_min_pa, p_max_pa, shunt_ohm=165.0):
        self.p_min_pa = p_min_pa
        self.p_max_pa = p_max_pa
        self.shunt_ohm = shunt_ohm

    def pressure(self, pin_v):
        current_ma = pin_v / self.shunt_ohm * 1000
        if current_ma < 3.6:
            raise SensorFault("4-20 mA loop open: %.2f mA" % current_ma)
        if current_ma > 21.0:
            raise SensorFault("4-20 mA loop current %.2f mA: short or transmitter fault" % current_ma)
        pressure_pa = self.p_min_pa + (current_ma - 4.0) / 16.0 * (self.p_max_pa - self.p_min_pa)
        quality = Q_OK if 4.0 <= current_ma <= 20.0 else Q_RANGE
        return pressure_pa, quality


class PressureInput:
    """One ADS1115 input feeding a transducer model; read() -> (Pa, quality)."""

    def __init__(self, adc, transducer, channel=0, pga=PGA_4V096, rate=4):
        self.adc = adc
        self.transducer = transducer
        self.mux = 4 + channel
        self.pga = pga
        self.rate = rate

    def start_conversion(self):
        self.adc.start_conversion(self.mux, self.pga, self.rate)

    def read_result(self):
        volts, code = self.adc.read_result()
        pressure_pa, quality = self.transducer.pressure(volts)
        if code >= 32767 or code <= -32768:
            quality |= Q_RANGE
        return pressure_pa, quality

    def read(self):
        self.start_conversion()
        return self.read_result()
