"""Maxim MAX31865 RTD-to-digital converter (SPI mode 1 or 3) with a PT100.

One-shot conversions with the bias kept on; the high/low fault thresholds
are set so an open element (full scale) or a short (near zero) trips the
fault bit, which read() turns into SensorFault with the fault status.
Resistance to temperature by the Callendar–Van Dusen equation (with its C
term below 0 °C).

    from machine import SPI, Pin
    from leakrig_fw.drivers.max31865 import MAX31865
    rtd = MAX31865(SPI(0, baudrate=1000000, polarity=0, phase=1), Pin(5, Pin.OUT))
    temperature_c, quality = rtd.read()
"""
import math
import time

from micropython import const

from .errors import BusError, SensorFault, SensorTimeout, Q_OK, Q_RANGE

_REG_CONFIG = const(0x00)
_REG_RTD = const(0x01)
_REG_HFT = const(0x03)
_REG_LFT = const(0x05)
_REG_FAULT = const(0x07)
_WRITE = const(0x80)

_VBIAS = const(0x80)
_ONE_SHOT = const(0x20)
_THREE_WIRE = const(0x10)
_FAULT_CYCLE_AUTO = const(0x04)
_FAULT_CYCLE_MASK = const(0x0C)
_FAULT_CLEAR = const(0x02)
_FILTER_50HZ = const(0x01)
_BIAS_SETTLE_MS = const(10)
_POLL_MS = const(2)

CVD_A = 3.9083e-3
CVD_B = -5.775e-7
CVD_C = -4.183e-12
T_MIN_C = -200
T_MAX_C = 850

FAULT_NAMES = ((0x80, "RTD high threshold (open element)"),
               (0x40, "RTD low threshold (shorted element)"),
               (0x20, "REFIN- > 0.85 VBIAS (open RTD)"),
               (0x10, "REFIN- < 0.85 VBIAS (FORCE- open)"),
               (0x08, "RTDIN- < 0.85 VBIAS (FORCE- open)"),
               (0x04, "over/under voltage"))


def fault_text(status):
    return ", ".join(name for bit, name in FAULT_NAMES if status & bit) or "none"


def temperature_from_resistance(r_ohm, r0=100.0):
    """Invert Callendar–Van Dusen: the quadratic root above R0, refined by
    Newton steps with the C term below it."""
    ratio = r_ohm / r0
    disc = CVD_A * CVD_A - 4 * CVD_B * (1 - ratio)
    t = (-CVD_A + math.sqrt(disc if disc > 0 else 0)) / (2 * CVD_B)
    if ratio < 1:
        for _ in range(4):
            f = 1 + CVD_A * t + CVD_B * t * t + CVD_C * (t - 100) * t * t * t - ratio
            df = CVD_A + 2 * CVD_B * t + CVD_C * (4 * t * t * t - 300 * t * t)
            t -= f / df
    return t


class MAX31865:
    def __init__(self, spi, cs, r_ref=430.0, r0=100.0, wires=2, filter_hz=50,
                 r_low_ohm=None, r_high_ohm=None):
        """cs: chip-select Pin (active low). wires: 2, 3 or 4.
        r_low_ohm / r_high_ohm: fault thresholds (default 0.15 R0 and 0.99 Rref)."""
        if wires not in (2, 3, 4) or filter_hz not in (50, 60):
            raise ValueError("Not a valid MAX31865 setup: wires={!r} filter_hz={!r}".format(wires, filter_hz))
        self._spi = spi
        self._cs = cs
        self.r_ref = r_ref
        self.r0 = r0
        self._base = _VBIAS | (_THREE_WIRE if wires == 3 else 0) | (_FILTER_50HZ if filter_hz == 50 else 0)
        self._conv_ms = 63 if filter_hz == 50 else 53
        self._addr = bytearray(1)
        self._buf1 = bytearray(1)
        self._buf2 = bytearray(2)
        self._buf3 = bytearray(3)
        self._started = None
        cs.value(1)
        low = r_low_ohm if r_low_ohm is not None else 0.15 * r0
        high = r_high_ohm if r_high_ohm is not None else 0.99 * r_ref
        self._write_word(_REG_LFT, self._code(low) << 1)
        self._write_word(_REG_HFT, self._code(high) << 1)
        self._write_config(self._base | _FAULT_CLEAR)
        time.sleep_ms(_BIAS_SETTLE_MS)

    def _code(self, r_ohm):
        return max(0, min(0x7FFF, int(r_ohm * 32768 / self.r_ref)))

    def _transfer(self, reg, buf, write):
        self._addr[0] = reg | (_WRITE if write else 0)
        self._cs.value(0)
        try:
            self._spi.write(self._addr)
            if write:
                self._spi.write(buf)
            else:
                self._spi.readinto(buf)
        except OSError as exc:
            raise BusError("max31865: %s" % exc)
        finally:
            self._cs.value(1)

    def _write_config(self, value):
        self._buf1[0] = value
        self._transfer(_REG_CONFIG, self._buf1, True)

    def _read8(self, reg):
        self._transfer(reg, self._buf1, False)
        return self._buf1[0]

    def _write_word(self, reg, value):
        self._buf2[0] = value >> 8
        self._buf2[1] = value & 0xFF
        self._transfer(reg, self._buf2, True)

    def _read_word(self, reg):
        self._transfer(reg, self._buf2, False)
        return (self._buf2[0] << 8) | self._buf2[1]

    def config(self):
        return self._read8(_REG_CONFIG)

    def fault_status(self):
        return self._read8(_REG_FAULT)

    def clear_faults(self):
        self._write_config(self._base | _FAULT_CLEAR)

    def check_wiring(self):
        """Run the automatic fault detection cycle; return the fault status
        byte (0 when the RTD and its wiring look sound)."""
        self._write_config(self._base | _FAULT_CYCLE_AUTO)
        deadline = time.ticks_add(time.ticks_ms(), 20)
        time.sleep_ms(1)
        while self.config() & _FAULT_CYCLE_MASK:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise SensorTimeout("max31865: fault detection cycle did not finish")
            time.sleep_ms(1)
        return self.fault_status()

    def start_conversion(self):
        self._write_config(self._base | _ONE_SHOT)
        self._started = time.ticks_ms()

    def ready(self):
        """True when the conversion started has had its conversion time:
        read_result() will then not wait."""
        if self._started is None:
            return True
        return time.ticks_diff(time.ticks_ms(), self._started) >= self._conv_ms

    def read_result(self):
        """(temperature_c, quality) of the conversion started."""
        elapsed = time.ticks_diff(time.ticks_ms(), self._started)
        if elapsed < self._conv_ms:
            time.sleep_ms(self._conv_ms - elapsed)
        deadline = time.ticks_add(self._started, 2 * self._conv_ms + 10)
        # Config and the RTD word are registers 0..2: one burst read gives
        # the one-shot bit and, once it has cleared, the result.
        b = self._buf3
        self._transfer(_REG_CONFIG, b, False)
        while b[0] & _ONE_SHOT:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise SensorTimeout("max31865: conversion did not complete")
            time.sleep_ms(_POLL_MS)
            self._transfer(_REG_CONFIG, b, False)
        word = (b[1] << 8) | b[2]
        if word & 1:
            status = self.fault_status()
            self.clear_faults()
            exc = SensorFault("max31865: fault 0x%02x: %s" % (status, fault_text(status)))
            exc.status = status
            raise exc
        code = word >> 1
        temperature_c = temperature_from_resistance(code * self.r_ref / 32768, self.r0)
        quality = Q_OK
        if code in (0, 0x7FFF) or not (T_MIN_C < temperature_c < T_MAX_C):
            quality |= Q_RANGE
        return temperature_c, quality

    def read(self):
        self.start_conversion()
        return self.read_result()
