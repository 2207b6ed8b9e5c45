"""Maxim DS18B20 1-Wire thermometer.

Addressed by its 64-bit ROM (MATCH ROM), or alone on its bus with rom=None
(SKIP ROM). CONVERT T is polled with read slots against a deadline set by
the resolution; the scratchpad is checked with the Dallas/Maxim CRC8. The
85 °C power-on value comes back flagged Q_STALE (the part reset or never
converted).

    import onewire
    from machine import Pin
    from leakrig_fw.drivers.ds18b20 import DS18B20
    bus = onewire.OneWire(Pin(22))
    sensors = [DS18B20(bus, rom) for rom in DS18B20.scan(bus)]
    temperature_c, quality = sensors[0].read()
"""
import time

from micropython import const

from .errors import BusError, CRCError, SensorError, SensorTimeout, Q_OK, Q_RANGE, Q_STALE

_FAMILY = const(0x28)
_MATCH_ROM = const(0x55)
_SKIP_ROM = const(0xCC)
_CONVERT_T = const(0x44)
_WRITE_SCRATCHPAD = const(0x4E)
_READ_SCRATCHPAD = const(0xBE)
_POWER_ON_RAW = const(0x0550)
_POLL_MS = const(10)

# Resolution -> maximum conversion time, ms (datasheet).
_CONVERSION_MS = {9: 94, 10: 188, 11: 375, 12: 750}

T_MIN_C = -55
T_MAX_C = 125


def crc8(data):
    """Dallas/Maxim CRC8 (x^8 + x^5 + x^4 + 1, reflected)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


class DS18B20:
    def __init__(self, onewire, rom=None, resolution=12):
        if resolution not in _CONVERSION_MS:
            raise ValueError("Not a valid DS18B20 resolution: {!r}".format(resolution))
        if rom is not None:
            rom = bytes(rom)
            if len(rom) != 8 or crc8(rom) != 0:
                raise CRCError("ds18b20: ROM %s fails its CRC8" % rom.hex())
            if rom[0] != _FAMILY:
                raise SensorError("ds18b20: ROM family 0x%02x, not 0x28" % rom[0])
        self._ow = onewire
        self.rom = rom
        self._scratchpad = bytearray(9)
        self._select_buf = bytearray(9)
        self._select_buf[0] = _MATCH_ROM
        if rom is not None:
            self._select_buf[1:] = rom
        self._started = None
        self.resolution = resolution
        sp = self.read_scratchpad()
        config = ((resolution - 9) << 5) | 0x1F
        if sp[4] != config:
            self._select()
            self._ow.write(bytes((_WRITE_SCRATCHPAD, sp[2], sp[3], config)))

    @staticmethod
    def scan(onewire):
        """ROMs of the DS18B20s on a bus (valid CRC, family 0x28)."""
        return [bytes(rom) for rom in onewire.scan() if rom[0] == _FAMILY and crc8(rom) == 0]

    def _select(self):
        if not self._ow.reset():
            raise BusError("ds18b20 %s: no presence pulse" % (self.rom.hex() if self.rom else "(skip)"))
        if self.rom is None:
            self._ow.writebyte(_SKIP_ROM)
        else:
            self._ow.write(self._select_buf)

    def read_scratchpad(self):
        """The 9 scratchpad bytes, CRC8 checked."""
        self._select()
        self._ow.writebyte(_READ_SCRATCHPAD)
        self._ow.readinto(self._scratchpad)
        if crc8(self._scratchpad) != 0:
            raise CRCError("ds18b20: scratchpad CRC8 mismatch")
        return self._scratchpad

    def start_conversion(self):
        self._select()
        self._ow.writebyte(_CONVERT_T)
        self._started = time.ticks_ms()

    def ready(self):
        """True when the conversion started has had its conversion time (or
        none was started): read_result() will then not wait."""
        if self._started is None:
            return True
        return time.ticks_diff(time.ticks_ms(), self._started) >= _CONVERSION_MS[self.resolution]

    def read_result(self):
        """(temperature_c, quality) of the conversion started (or of the
        scratchpad as it is, when none was)."""
        if self._started is not None:
            wait_ms = _CONVERSION_MS[self.resolution]
            elapsed = time.ticks_diff(time.ticks_ms(), self._started)
            if elapsed < wait_ms:
                time.sleep_ms(wait_ms - elapsed)
            deadline = time.ticks_add(self._started, 2 * wait_ms)
            while not self._ow.readbit():
                if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                    raise SensorTimeout("ds18b20: conversion did not complete")
                time.sleep_ms(_POLL_MS)
            self._started = None
        sp = self.read_scratchpad()
        raw = sp[0] | (sp[1] << 8)
        quality = Q_STALE if raw == _POWER_ON_RAW else Q_OK
        if raw & 0x8000:
            raw -= 0x10000
        temperature_c = raw / 16
        if temperature_c <= T_MIN_C or temperature_c >= T_MAX_C:
            quality |= Q_RANGE
        return temperature_c, quality

    def read(self):
        self.start_conversion()
        return self.read_result()
