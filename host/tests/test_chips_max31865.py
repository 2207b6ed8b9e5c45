"""MAX31865 emulator: PT100 Callendar–Van Dusen, the datasheet's code table,
SPI register access, one-shot and automatic conversion, RTD faults."""
import pytest

from leakrig.sim.bus import SPIBus
from leakrig.sim.chips import max31865 as m
from leakrig.sim.chips.max31865 import MAX31865Emulator
from leakrig.sim.clock import SimClock


def test_callendar_van_dusen_reference_points():
    assert m.pt_resistance(0.0) == pytest.approx(100.0)
    assert m.pt_resistance(100.0) == pytest.approx(138.5055, abs=1e-4)
    assert m.pt_resistance(-200.0) == pytest.approx(18.5201, abs=1e-4)   # C term matters here
    assert m.pt_resistance(850.0) == pytest.approx(390.4811, abs=1e-4)


@pytest.mark.parametrize("t, reg", [(275, 0x81FE), (300, 0x87B6), (325, 0x8D64), (350, 0x9304),
                                    (400, 0x9E24), (450, 0xA914), (500, 0xB3D4), (550, 0xBE64)])
def test_datasheet_table_rref_400(t, reg):
    assert m.rtd_code(m.pt_resistance(t), 400.0) << 1 == reg


def _rig(t=25.0):
    clock = SimClock()
    phys = {"t": t}
    chip = MAX31865Emulator(clock, temperature_c=lambda: phys["t"])
    bus = SPIBus()
    bus.attach("5", chip)
    return clock, bus, chip, phys


def _xfer(bus, data):
    bus.select("5", True)
    out = bus.transfer(bytes(data))
    bus.select("5", False)
    return out


def _rtd(bus):
    return int.from_bytes(_xfer(bus, [0x01, 0, 0])[1:], "big")


def test_registers_power_on_and_write():
    clock, bus, chip, _ = _rig()
    assert _xfer(bus, [0x00] + [0] * 9)[1:] == bytes([0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0])  # wraps to 00h
    _xfer(bus, [0x83, 0x12, 0x34, 0x56, 0x78])
    assert _xfer(bus, [0x03, 0, 0, 0, 0])[1:] == b"\x12\x34\x56\x78"
    assert bus.transfer(b"\x00\x00") == b"\xff\xff"   # not selected


@pytest.mark.parametrize("fifty, t_conv", [(0, 0.052), (1, 0.0625)])
def test_one_shot_timing(fifty, t_conv):
    clock, bus, chip, phys = _rig(t=100.0)
    _xfer(bus, [0x80, 0x80 | fifty])
    clock.advance_s(0.01)
    _xfer(bus, [0x80, 0xA0 | fifty])
    clock.advance_s(t_conv * 0.9)
    assert _rtd(bus) == 0
    assert _xfer(bus, [0x00, 0])[1] & m.CFG_1SHOT
    clock.advance_s(t_conv * 0.2)
    assert _rtd(bus) == m.rtd_code(m.pt_resistance(100.0), 430.0) << 1
    assert not _xfer(bus, [0x00, 0])[1] & m.CFG_1SHOT


def test_auto_mode_follows_temperature():
    clock, bus, chip, phys = _rig(t=0.0)
    _xfer(bus, [0x80, 0xC1])
    clock.advance_s(0.1)
    assert _rtd(bus) >> 1 == m.rtd_code(100.0, 430.0)
    phys["t"] = -150.0
    clock.advance_s(0.05)
    assert _rtd(bus) >> 1 == m.rtd_code(m.pt_resistance(-150.0), 430.0)


def test_open_rtd_sets_high_fault_and_refin_in_fault_cycle():
    clock, bus, chip, phys = _rig()
    chip.open_rtd = True
    _xfer(bus, [0x80, 0xA0])
    clock.advance_s(0.1)
    assert _rtd(bus) == 0xFFFF   # full scale + fault bit
    assert _xfer(bus, [0x07, 0])[1] == m.FAULT_HIGH
    _xfer(bus, [0x80, 0x84])     # automatic fault detection cycle
    assert _xfer(bus, [0x00, 0])[1] & 0x0C == 0x04
    clock.advance_s(0.001)
    assert _xfer(bus, [0x00, 0])[1] & 0x0C == 0
    assert _xfer(bus, [0x07, 0])[1] == m.FAULT_HIGH | m.FAULT_REFIN_HIGH
    _xfer(bus, [0x80, 0x82])     # fault status clear
    assert _xfer(bus, [0x07, 0])[1] == 0


def test_short_rtd_sets_low_fault():
    clock, bus, chip, phys = _rig()
    chip.short_rtd = True
    _xfer(bus, [0x85, 0x10, 0x00])   # low threshold ~ 5 ohm
    _xfer(bus, [0x80, 0xA0])
    clock.advance_s(0.1)
    assert _rtd(bus) == 0x0001
    assert _xfer(bus, [0x07, 0])[1] == m.FAULT_LOW
