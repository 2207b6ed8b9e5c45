"""MS5837-30BA emulator: datasheet example, CRC4, command protocol and
conversion timing, physical -> raw -> datasheet compensation round trip."""
import pytest
from hypothesis import given, settings, strategies as st

from leakrig.sim.bus import I2CBus, Nack
from leakrig.sim.chips import ms5837
from leakrig.sim.chips.ms5837 import MS5837Emulator
from leakrig.sim.clock import SimClock


def test_datasheet_example_first_order():
    c = ms5837.DATASHEET_C
    assert ms5837.DATASHEET_D2 - (c[4] << 8) == -5962  # dT
    assert ms5837.compensate(c, ms5837.DATASHEET_D1, ms5837.DATASHEET_D2, second_order=False) \
        == (1981, 39998)  # 19.81 °C, 3999.8 mbar


def test_prom_crc4_valid_and_catches_every_single_bit_error():
    prom = ms5837.make_prom()
    assert prom[1:] == list(ms5837.DATASHEET_C)
    assert prom[0] >> 12 == ms5837.crc4(prom)
    for word in range(7):
        for bit in range(16):
            if word == 0 and bit >= 12:
                continue  # the CRC nibble itself
            bad = list(prom)
            bad[word] ^= 1 << bit
            assert ms5837.crc4(bad) != prom[0] >> 12


def _rig(p=300000.0, t=20.0):
    clock = SimClock()
    phys = {"p": p, "t": t}
    chip = MS5837Emulator(clock, pressure_pa=lambda: phys["p"], temperature_c=lambda: phys["t"])
    bus = I2CBus()
    bus.attach(0x76, chip)
    return clock, bus, chip, phys


def _adc(bus):
    bus.write(0x76, b"\x00", False)
    return int.from_bytes(bus.read(0x76, 3), "big")


def test_prom_read_over_i2c():
    clock, bus, chip, _ = _rig()
    bus.write(0x76, bytes([ms5837.CMD_RESET]))
    words = []
    for i in range(7):
        bus.write(0x76, bytes([0xA0 + 2 * i]), False)
        words.append(int.from_bytes(bus.read(0x76, 2), "big"))
    assert words == chip.prom


@pytest.mark.parametrize("osr_index", range(6))
def test_conversion_time_and_adc_read(osr_index):
    clock, bus, chip, _ = _rig()
    d1, d2 = chip.raw()
    t_conv = ms5837.CONVERSION_TIME_S[osr_index]
    bus.write(0x76, bytes([ms5837.CMD_CONVERT_D2 + 2 * osr_index]))
    clock.advance_s(t_conv * 1.001)
    assert _adc(bus) == d2
    assert _adc(bus) == 0  # a repeated read gives 0
    bus.write(0x76, bytes([ms5837.CMD_CONVERT_D1 + 2 * osr_index]))
    clock.advance_s(t_conv * 0.9)
    assert _adc(bus) == 0  # read during the conversion: 0, result lost
    clock.advance_s(t_conv)
    assert _adc(bus) == 0


def test_absent_address_nacks():
    _, bus, chip, _ = _rig()
    assert bus.scan() == [0x76]
    with pytest.raises(Nack):
        bus.write(0x77, b"\x1e")
    chip.nack = True
    with pytest.raises(OSError):
        bus.read(0x76, 3)


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0.0, 30e5), t=st.floats(-20.0, 85.0))
def test_round_trip_within_resolution(p, t):
    c = ms5837.DATASHEET_C
    d1, d2 = ms5837.raw_from_physical(c, p, t)
    temp, p01mbar = ms5837.compensate(c, d1, d2)
    assert abs(temp / 100.0 - t) <= 0.005 + 1e-9
    assert abs(p01mbar * 10.0 - p) <= 5.0 + 1e-6  # output LSB is 0.1 mbar = 10 Pa


def test_out_of_range_saturates_adc():
    c = ms5837.DATASHEET_C
    d1, d2 = ms5837.raw_from_physical(c, 1e8, 20.0)
    assert d1 == ms5837.ADC_MAX
    d1, d2 = ms5837.raw_from_physical(c, 1e5, 400.0)
    assert d2 == ms5837.ADC_MAX


def test_write_ack_mask_is_the_commands_the_part_acknowledges():
    _, bus, chip, _ = _rig()
    mask = chip.write_ack_mask()
    for cmd in range(256):
        promised = bool(mask[cmd >> 3] >> (cmd & 7) & 1)
        try:
            bus.write(0x76, bytes([cmd]))
            acked = True
        except Nack:
            acked = False
        assert promised == acked, hex(cmd)
    chip.nack = True
    assert chip.write_ack_mask() is None
