"""ADS1115 emulator: registers, PGA ranges and saturation, single-shot and
continuous timing, mux, and the two transducer front ends."""
import pytest

from leakrig.sim.bus import I2CBus, Nack
from leakrig.sim.chips import ads1115 as a
from leakrig.sim.chips.ads1115 import ADS1115Emulator, CurrentLoopFrontEnd, RatiometricFrontEnd
from leakrig.sim.clock import SimClock


def _rig(volts=(1.0, 0.5, 2.0, 3.0)):
    clock = SimClock()
    pins = list(volts)
    chip = ADS1115Emulator(clock, ain=[(lambda i=i: pins[i]) for i in range(4)])
    bus = I2CBus()
    bus.attach(0x48, chip)
    return clock, bus, chip, pins


def _reg(bus, reg):
    bus.write(0x48, bytes([reg]), False)
    return int.from_bytes(bus.read(0x48, 2), "big")


def _signed(v):
    return v - 0x10000 if v & 0x8000 else v


def _single(bus, clock, mux, pga, dr=4):
    cfg = 0x8000 | (mux << 12) | (pga << 9) | 0x0100 | (dr << 5) | 0x03
    bus.write(0x48, bytes([1, cfg >> 8, cfg & 0xFF]))
    clock.advance_s(a.conversion_time_s(cfg) * 1.001)
    return _signed(_reg(bus, 0))


def test_power_on_registers_and_nack():
    clock, bus, chip, _ = _rig()
    assert _reg(bus, 1) == 0x8583
    assert _reg(bus, 2) == 0x8000
    assert _reg(bus, 3) == 0x7FFF
    bus.write(0x48, bytes([2, 0x12, 0x34]))
    assert _reg(bus, 2) == 0x1234
    with pytest.raises(Nack):
        bus.read(0x49, 2)


@pytest.mark.parametrize("pga, fs", list(enumerate(a.FULL_SCALE_V[:6])))
def test_pga_ranges(pga, fs):
    clock, bus, chip, pins = _rig()
    pins[0] = fs / 2.0
    assert _single(bus, clock, 4, pga) == 16384
    pins[0] = 3.0
    code = _single(bus, clock, 4, pga)
    assert code == (32767 if fs <= 3.0 else round(3.0 * 32768 / fs))


def test_differential_and_negative_saturation():
    clock, bus, chip, pins = _rig()
    assert _single(bus, clock, 0, 1) == round((1.0 - 0.5) * 32768 / 4.096)
    assert _single(bus, clock, 3, 5) == -32768   # AIN2-AIN3 = -1 V on ±0.256 V


@pytest.mark.parametrize("dr, sps", list(enumerate(a.DATA_RATE_SPS)))
def test_single_shot_timing(dr, sps):
    clock, bus, chip, pins = _rig()
    cfg = 0x8000 | (4 << 12) | (1 << 9) | 0x0100 | (dr << 5) | 0x03
    bus.write(0x48, bytes([1, cfg >> 8, cfg & 0xFF]))
    t_conv = 1.0 / (sps * 0.9)
    clock.advance_s(t_conv * 0.95)
    assert not _reg(bus, 1) & 0x8000   # busy
    assert _reg(bus, 0) == 0           # previous result
    clock.advance_s(t_conv * 0.1)
    assert _reg(bus, 1) & 0x8000
    assert _reg(bus, 0) == 8000


def test_continuous_mode_follows_input():
    clock, bus, chip, pins = _rig()
    cfg = (4 << 12) | (1 << 9) | (7 << 5) | 0x03
    bus.write(0x48, bytes([1, cfg >> 8, cfg & 0xFF]))
    clock.advance_s(0.01)
    assert _reg(bus, 0) == 8000
    pins[0] = 2.0
    clock.advance_s(0.01)
    assert _reg(bus, 0) == 16000


def test_ratiometric_front_end():
    p = {"v": 0.0}
    fe = RatiometricFrontEnd(lambda: p["v"], 0.0, 1.0e6, supply_v=5.0, divider=2.0 / 3.0)
    assert fe() == pytest.approx(0.5 * 2 / 3)
    p["v"] = 1.0e6
    assert fe() == pytest.approx(4.5 * 2 / 3)
    p["v"] = 5.0e6
    assert fe() == pytest.approx(4.75 * 2 / 3)   # output stage saturates
    fe.disconnected = True
    assert fe() == 0.0


def test_current_loop_front_end_and_open_loop():
    p = {"v": 0.5e6}
    fe = CurrentLoopFrontEnd(lambda: p["v"], 0.0, 1.0e6, shunt_ohm=165.0)
    assert fe() == pytest.approx(0.012 * 165.0)
    p["v"] = 0.0
    assert fe() == pytest.approx(0.66)
    p["v"] = 1.0e6
    assert fe() == pytest.approx(3.3)
    fe.open_loop = True
    assert fe() == 0.0
