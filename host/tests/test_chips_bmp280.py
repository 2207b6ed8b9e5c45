"""BMP280 emulator: datasheet example, registers, forced/normal timing,
oversampling resolution, physical -> raw -> integer compensation round trip."""
import pytest
from hypothesis import given, settings, strategies as st

from leakrig.sim.bus import I2CBus, Nack
from leakrig.sim.chips import bmp280 as b
from leakrig.sim.chips.bmp280 import BMP280Emulator
from leakrig.sim.clock import SimClock

CAL = b.DATASHEET_CALIB


def test_datasheet_example_integer():
    t_fine = b.compensate_t_fine(CAL, b.DATASHEET_ADC_T)
    assert t_fine == 128422
    assert b.compensate_temperature(CAL, b.DATASHEET_ADC_T) == 2508  # 25.08 °C
    p_q24_8 = b.compensate_pressure(CAL, b.DATASHEET_ADC_P, t_fine)
    assert p_q24_8 == 25767233                   # 100653.254 Pa
    assert abs(p_q24_8 / 256.0 - 100653.27) < 0.02


def test_datasheet_example_double():
    t, p = b.compensate_double(CAL, b.DATASHEET_ADC_T, b.DATASHEET_ADC_P)
    assert round(t, 2) == 25.08
    # The datasheet's 100653.27 carries t_fine unrounded; its code rounds
    # t_fine to an integer first, which gives 100653.26.
    assert round(p, 2) == 100653.26


def _rig(p=101325.0, t=22.0):
    clock = SimClock()
    phys = {"p": p, "t": t}
    chip = BMP280Emulator(clock, pressure_pa=lambda: phys["p"], temperature_c=lambda: phys["t"])
    bus = I2CBus()
    bus.attach(0x77, chip)
    return clock, bus, chip, phys


def _read(bus, reg, n):
    bus.write(0x77, bytes([reg]), False)
    return bus.read(0x77, n)


def _adc(bus):
    d = _read(bus, b.REG_PRESS, 6)
    return (d[0] << 12 | d[1] << 4 | d[2] >> 4), (d[3] << 12 | d[4] << 4 | d[5] >> 4)


def test_id_calibration_reset_and_nack():
    clock, bus, chip, _ = _rig()
    assert _read(bus, b.REG_CHIP_ID, 1) == b"\x58"
    assert _read(bus, b.REG_CALIB, 24) == b.pack_calibration(CAL)
    bus.write(0x77, bytes([b.REG_CTRL_MEAS, 0x57, b.REG_CONFIG, 0x10]))
    assert _read(bus, b.REG_CTRL_MEAS, 2) == b"\x57\x10"
    bus.write(0x77, bytes([b.REG_RESET, 0xB6]))
    assert _read(bus, b.REG_CTRL_MEAS, 2) == b"\x00\x00"
    assert _adc(bus) == (b.SKIPPED, b.SKIPPED)
    with pytest.raises(Nack):
        bus.write(0x76, b"\xd0")


def test_forced_mode_timing():
    clock, bus, chip, phys = _rig()
    ctrl = (5 << 5) | (5 << 2) | 1           # x16 / x16, forced
    t_meas = b.measurement_time_s(5, 5)
    assert t_meas == pytest.approx((1.25 + 2.3 * 16 + 2.3 * 16 + 0.575) / 1000)
    bus.write(0x77, bytes([b.REG_CTRL_MEAS, ctrl]))
    clock.advance_s(t_meas * 0.5)
    assert _read(bus, b.REG_STATUS, 1)[0] & b.STATUS_MEASURING
    assert _adc(bus) == (b.SKIPPED, b.SKIPPED)
    clock.advance_s(t_meas)
    assert not _read(bus, b.REG_STATUS, 1)[0] & b.STATUS_MEASURING
    assert _read(bus, b.REG_CTRL_MEAS, 1)[0] & 3 == 0   # back to sleep
    adc_p, adc_t = _adc(bus)
    assert (adc_p, adc_t) == b.raw_from_physical(CAL, 101325.0, 22.0)


def test_normal_mode_repeats_and_tracks_physics():
    clock, bus, chip, phys = _rig()
    bus.write(0x77, bytes([b.REG_CONFIG, 0 << 5, b.REG_CTRL_MEAS, (5 << 5) | (5 << 2) | 3]))
    clock.advance_s(0.1)
    first = _adc(bus)
    phys["p"] = 90000.0
    clock.advance_s(0.1)
    second = _adc(bus)
    assert second != first
    assert second == b.raw_from_physical(CAL, 90000.0, 22.0)


def test_iir_filter_settles_toward_step():
    clock, bus, chip, phys = _rig()
    bus.write(0x77, bytes([b.REG_CONFIG, (0 << 5) | (4 << 2), b.REG_CTRL_MEAS, (5 << 5) | (5 << 2) | 3]))
    clock.advance_s(0.1)
    before = _adc(bus)[0]
    phys["p"] = 95000.0
    period = b.measurement_time_s(5, 5) + b.STANDBY_S[0]
    clock.advance_s(period)
    one_step = _adc(bus)[0]
    target = b.raw_from_physical(CAL, 95000.0, 22.0)[0]
    assert before < one_step < target or target < one_step < before
    clock.advance_s(period * 400)
    assert abs(_adc(bus)[0] - target) <= 1


@pytest.mark.parametrize("osrs, bits", [(1, 16), (2, 17), (3, 18), (4, 19), (5, 20)])
def test_oversampling_resolution(osrs, bits):
    clock, bus, chip, _ = _rig(p=100123.4, t=21.37)
    bus.write(0x77, bytes([b.REG_CTRL_MEAS, (osrs << 5) | (osrs << 2) | 1]))
    clock.advance_s(0.05)
    adc_p, adc_t = _adc(bus)
    step = 1 << (20 - bits)
    assert adc_p % step == 0 and adc_t % step == 0


@settings(max_examples=60, deadline=None)
@given(p=st.floats(30000.0, 110000.0), t=st.floats(-40.0, 85.0))
def test_round_trip_within_resolution(p, t):
    adc_p, adc_t = b.raw_from_physical(CAL, p, t)
    t_fine = b.compensate_t_fine(CAL, adc_t)
    assert abs(b.compensate_temperature(CAL, adc_t) / 100.0 - t) <= 0.01
    assert abs(b.compensate_pressure(CAL, adc_p, t_fine) / 256.0 - p) <= 0.2  # 20-bit LSB 0.16 Pa
