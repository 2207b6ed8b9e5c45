"""DS18B20 emulator: CRC8, ROM, bit-level ROM commands with several devices
on one bus, conversion timing per resolution, scratchpad, 85 °C power-on."""
import pytest

from leakrig.sim.bus import OneWireBus
from leakrig.sim.chips import ds18b20 as d
from leakrig.sim.chips.ds18b20 import DS18B20Emulator
from leakrig.sim.clock import SimClock


def test_crc8_application_note_example():
    # ROM 02 1C B8 01 00 00 00 has CRC A2 (Maxim AN27 worked example).
    assert d.crc8(bytes([0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00])) == 0xA2
    rom = d.make_rom(0x123456789ABC)
    assert rom[0] == 0x28 and d.crc8(rom) == 0


@pytest.mark.parametrize("t, raw", [(125, 0x07D0), (85, 0x0550), (25.0625, 0x0191), (10.125, 0x00A2),
                                    (0.5, 0x0008), (0, 0), (-0.5, 0xFFF8), (-10.125, 0xFF5E),
                                    (-25.0625, 0xFE6F), (-55, 0xFC90)])
def test_datasheet_temperature_table(t, raw):
    assert d.raw_from_celsius(t) == raw
    assert d.celsius_from_raw(raw) == t


def test_resolution_truncation_and_range_saturation():
    assert d.raw_from_celsius(25.0625, 9) == 0x0190
    assert d.raw_from_celsius(200.0) == 0x07D0
    assert d.raw_from_celsius(-80.0) == 0xFC90


def _bus(*temps):
    clock = SimClock()
    bus = OneWireBus()
    chips = []
    for i, t in enumerate(temps):
        chip = DS18B20Emulator(clock, temperature_c=(lambda t=t: t), serial=0x1000 + 7 * i * i + i)
        bus.attach(chip)
        chips.append(chip)
    return clock, bus, chips


def _read(bus, n):
    return bytes(bus.read_byte() for _ in range(n))


def _search(bus, command=d.SEARCH_ROM):
    roms, last_fork = [], 0
    rom = 0
    while True:
        if not bus.reset():
            return roms
        bus.write_byte(command)
        fork = 0
        for pos in range(64):
            bit, comp = bus.read_bit(), bus.read_bit()
            if bit and comp:
                return roms
            if bit == comp:
                take = (rom >> pos) & 1 if pos < last_fork - 1 else (1 if pos == last_fork - 1 else 0)
                if not take:
                    fork = pos + 1
            else:
                take = bit
            rom = (rom & ~(1 << pos)) | (take << pos)
            bus.write_bit(take)
        roms.append(rom.to_bytes(8, "little"))
        last_fork = fork
        if not fork:
            return roms


def test_read_rom_and_power_on_scratchpad():
    clock, bus, (chip,) = _bus(21.5)
    assert bus.reset()
    bus.write_byte(d.READ_ROM)
    assert _read(bus, 8) == chip.rom
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.READ_SCRATCHPAD)
    sp = _read(bus, 9)
    assert sp[:2] == b"\x50\x05"           # 85 °C before any conversion
    assert sp[4] == 0x7F and d.crc8(sp) == 0


def test_search_enumerates_all_devices_and_match_rom_selects_one():
    clock, bus, chips = _bus(10.0, 20.0, 30.0, -5.0)
    roms = _search(bus)
    assert sorted(roms) == sorted(c.rom for c in chips)
    target = chips[2]
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.CONVERT_T)
    clock.advance_s(0.8)
    assert bus.read_bit() == 1
    bus.reset()
    bus.write_byte(d.MATCH_ROM)
    for byte in target.rom:
        bus.write_byte(byte)
    bus.write_byte(d.READ_SCRATCHPAD)
    sp = _read(bus, 9)
    assert d.crc8(sp) == 0
    assert d.celsius_from_raw(sp[0] | sp[1] << 8) == 30.0


def test_alarm_search_finds_only_devices_in_alarm():
    clock, bus, chips = _bus(80.0, 72.0)
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.CONVERT_T)
    clock.advance_s(1.0)
    bus.read_bit()
    assert _search(bus, d.ALARM_SEARCH) == [chips[0].rom]   # TH 75 °C, TL 70 °C


@pytest.mark.parametrize("resolution", [9, 10, 11, 12])
def test_conversion_time_per_resolution(resolution):
    clock, bus, (chip,) = _bus(23.4567)
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.WRITE_SCRATCHPAD)
    for byte in (75, 70, ((resolution - 9) << 5) | 0x1F):
        bus.write_byte(byte)
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.CONVERT_T)
    t_conv = d.CONVERSION_TIME_S[resolution]
    clock.advance_s(t_conv * 0.95)
    assert bus.read_bit() == 0
    clock.advance_s(t_conv * 0.1)
    assert bus.read_bit() == 1
    bus.reset()
    bus.write_byte(d.SKIP_ROM)
    bus.write_byte(d.READ_SCRATCHPAD)
    sp = _read(bus, 9)
    assert d.crc8(sp) == 0
    assert sp[4] == ((resolution - 9) << 5) | 0x1F
    step = 1 << (12 - resolution)
    assert (sp[0] | sp[1] << 8) == round(23.4567 * 16 / step) * step


def test_absent_device_gives_no_presence():
    clock, bus, (chip,) = _bus(20.0)
    chip.present = False
    assert not bus.reset()
    assert bus.read_byte() == 0xFF
