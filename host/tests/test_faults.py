"""Seeded fault injection: value faults, device faults on the chip emulators,
link faults (docs/simulator.md, "Faults")."""
import math
import statistics

import pytest

from leakrig.sim import faults
from leakrig.sim.bus import I2CBus, Nack, OneWireBus
from leakrig.sim.chips import (ADS1115Emulator, CurrentLoopFrontEnd, DS18B20Emulator, MAX31865Emulator,
                               MS5837Emulator, RatiometricFrontEnd)
from leakrig.sim.clock import SimClock
from leakrig.sim.tables import Table


def spec_for(role, table):
    return faults.SensorFaultSpec.parse(Table(table, "test.toml", "faults." + role), role)


class Clock:
    def __init__(self):
        self.now_s = 0.0


def faulty(table, true_value, seed=1, name="loop_pressure_pa", clock=None):
    clock = clock or Clock()
    sf = faults.SensorFaults(spec_for("loop_pressure", table), seed)
    return sf.wrap_value(true_value, name, clock), clock


# -- value faults -----------------------------------------------------------------

def test_noise_sigma_and_seeding():
    read, clock = faulty({"pressure": {"noise_pa": 100.0}}, lambda: 300000.0)
    values = []
    for i in range(20000):
        clock.now_s = i * 0.1
        values.append(read())
        assert read() == values[-1]  # same instant, same reading
    assert statistics.fmean(values) == pytest.approx(300000.0, abs=3.0)
    assert statistics.pstdev(values) == pytest.approx(100.0, rel=0.03)
    again, clock2 = faulty({"pressure": {"noise_pa": 100.0}}, lambda: 300000.0)
    other, clock3 = faulty({"pressure": {"noise_pa": 100.0}}, lambda: 300000.0, seed=2)
    seq2, seq3 = [], []
    for i in range(100):
        clock2.now_s = clock3.now_s = i * 0.1
        seq2.append(again())
        seq3.append(other())
    assert seq2 == values[:100]
    assert seq3 != seq2


def test_no_faults_for_a_quantity_leaves_it_alone():
    true_value = lambda: 20.0  # noqa: E731
    read, _ = faulty({"pressure": {"noise_pa": 100.0}}, true_value, name="loop_temperature_c")
    assert read is true_value


def test_quantisation():
    clock = Clock()
    read, _ = faulty({"pressure": {"quantisation_pa": 250.0}}, lambda: 300000.0 + clock.now_s * 7.3, clock=clock)
    for i in range(200):
        clock.now_s = float(i)
        v = read()
        assert v / 250.0 == pytest.approx(round(v / 250.0), abs=1e-9)
        assert abs(v - (300000.0 + i * 7.3)) <= 125.0 + 1e-9


def test_first_order_lag_step_and_ramp():
    clock = Clock()
    level = {"x": 20.0}
    read, _ = faulty({"temperature": {"lag_s": 10.0}}, lambda: level["x"], name="loop_temperature_c", clock=clock)
    assert read() == 20.0
    level["x"] = 30.0
    clock.now_s = 1e-9
    read()
    for i in range(1, 101):
        clock.now_s = i * 0.1
        v = read()
    assert v == pytest.approx(20.0 + 10.0 * (1.0 - math.exp(-1.0)), rel=1e-3)
    # a ramp is followed with a delay of tau
    read, _ = faulty({"temperature": {"lag_s": 10.0}}, lambda: 0.5 * clock.now_s, name="loop_temperature_c",
                     clock=clock)
    for i in range(0, 1000):
        clock.now_s = i * 0.5
        v = read()
    assert v == pytest.approx(0.5 * (clock.now_s - 10.0), abs=1e-6)


def test_offset_and_drift():
    read, clock = faulty({"pressure": {"offset_pa": 100.0, "drift_pa_per_h": 360.0, "drift_from_s": 600.0}},
                         lambda: 1000.0)
    clock.now_s = 300.0
    assert read() == pytest.approx(1100.0)
    clock.now_s = 600.0 + 1800.0
    assert read() == pytest.approx(1100.0 + 180.0)


def test_stuck_holds_the_reading_then_lets_go():
    clock = Clock()
    read, _ = faulty({"pressure": {"stuck_from_s": 10.0, "stuck_until_s": 20.0}}, lambda: 1000.0 + clock.now_s,
                     clock=clock)
    clock.now_s = 5.0
    assert read() == 1005.0
    clock.now_s = 10.0
    assert read() == 1010.0
    clock.now_s = 15.0
    assert read() == 1010.0
    clock.now_s = 25.0
    assert read() == 1025.0
    read, _ = faulty({"pressure": {"stuck_from_s": 0.0, "stuck_value_pa": 12345.0}}, lambda: 1.0)
    assert read() == 12345.0


@pytest.mark.parametrize("table,message", [
    ({"pressure": {"noise_c": 1.0}}, "faults.loop_pressure.pressure.noise_c: unknown key"),
    ({"pressure": {"noise_pa": -1.0}}, "noise_pa: must be >= 0"),
    ({"pressure": {"stuck_value_pa": 1.0}}, "stuck_from_s: missing"),
    ({"nack": "sometimes"}, "faults.loop_pressure.nack: must be true"),
    ({"nack": [[5.0, 1.0]]}, "start < end"),
    ({"rtd": "melted"}, "rtd: must be one of open, short"),
    ({"nack_probability": 2.0}, "nack_probability: must be <= 1"),
])
def test_bad_fault_specs_name_the_key(table, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        spec_for("loop_pressure", table)


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="faults.loop_presure: unknown sensor role"):
        faults.parse_sensor_faults(Table({"loop_presure": {}}, "x.toml", "faults"))


# -- device faults --------------------------------------------------------------------

def install(role, table, chip, clock, seed=3):
    sf = faults.SensorFaults(spec_for(role, table), seed)
    sf.apply_to_device(chip, clock)
    return sf


def test_i2c_nack_windows_and_always():
    clock = SimClock()
    chip = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    bus = I2CBus()
    bus.attach(0x76, chip)
    install("loop_pressure_aux", {"nack": [[10.0, 20.0]]}, chip, clock)
    bus.write(0x76, b"\x1e")  # reset
    clock.advance_s(15.0)
    with pytest.raises(Nack, match="injected"):
        bus.write(0x76, b"\x1e")
    assert bus.scan() == []
    clock.advance_s(10.0)
    bus.write(0x76, b"\x1e")
    assert bus.scan() == [0x76]
    chip2 = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    install("loop_pressure_aux", {"nack": True}, chip2, clock)
    with pytest.raises(Nack):
        chip2.i2c_read(2, True)


def test_i2c_nack_probability():
    clock = SimClock()
    chip = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    sf = install("loop_pressure_aux", {"nack_probability": 0.1}, chip, clock)
    n = 5000
    for _ in range(n):
        try:
            chip.i2c_write(b"\x1e", True)
        except Nack:
            pass
    assert sf.injected_nacks / n == pytest.approx(0.1, abs=0.015)


def test_dropout_and_open_loop_of_analog_transducers():
    clock = SimClock()
    ratio = RatiometricFrontEnd(lambda: 500000.0)
    adc = ADS1115Emulator(clock, ain=[ratio])
    adc.front_end = ratio
    install("loop_pressure", {"dropout": [[10.0, 20.0]]}, adc, clock)
    adc.i2c_write(b"\x00", False)
    assert ratio() > 1.0
    clock.advance_s(12.0)
    adc.i2c_write(b"\x00", False)
    assert ratio.disconnected and ratio() == 0.0
    clock.advance_s(10.0)
    adc.i2c_write(b"\x00", False)
    assert not ratio.disconnected

    loop = CurrentLoopFrontEnd(lambda: 500000.0)
    adc2 = ADS1115Emulator(clock, ain=[loop])
    adc2.front_end = loop
    install("loop_pressure", {"open_loop": 30.0}, adc2, clock)
    adc2.i2c_write(b"\x00", False)
    assert loop.current_a() == pytest.approx(12e-3)
    clock.advance_s(10.0)
    adc2.i2c_write(b"\x00", False)
    assert loop.open_loop and loop.current_a() == 0.0


def test_rtd_faults_on_the_max31865():
    clock = SimClock()
    rtd = MAX31865Emulator(clock, lambda: 0.0)
    install("loop_temperature", {"rtd": "short", "rtd_when": [[5.0, 10.0]], "lead_ohm": 0.4}, rtd, clock)
    assert rtd.resistance_ohm() == pytest.approx(100.4)
    clock.advance_s(6.0)
    rtd.spi_select(True)
    rtd.spi_select(False)
    assert rtd.short_rtd and rtd.resistance_ohm() == 0.0
    clock.advance_s(6.0)
    rtd.spi_select(True)
    rtd.spi_select(False)
    assert not rtd.short_rtd


def test_silent_spi_reads_ff():
    clock = SimClock()
    rtd = MAX31865Emulator(clock, lambda: 20.0)
    install("loop_temperature", {"nack": True}, rtd, clock)
    rtd.spi_select(True)
    assert rtd.spi_transfer(b"\x00\x00") == b"\xff\xff"
    rtd.spi_select(False)


def test_one_wire_dropout_removes_the_presence_pulse():
    clock = SimClock()
    sensor = DS18B20Emulator(clock, lambda: 20.0)
    bus = OneWireBus()
    bus.attach(sensor)
    install("radiator_temperature", {"dropout": [[10.0, 20.0]]}, sensor, clock)
    assert bus.reset()
    clock.advance_s(15.0)
    assert not bus.reset()
    assert bus.read_byte() == 0xFF
    clock.advance_s(10.0)
    assert bus.reset()


def test_device_faults_a_part_cannot_have_are_refused():
    clock = SimClock()
    chip = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    with pytest.raises(ValueError, match="open_loop"):
        install("loop_pressure_aux", {"open_loop": True}, chip, clock)
    with pytest.raises(ValueError, match="RTD"):
        install("loop_pressure_aux", {"rtd": "open"}, chip, clock)


# -- link faults ------------------------------------------------------------------------

def link(table, seed=5, clock=None):
    spec = faults.LinkFaultSpec.parse(Table(table, "test.toml", "link"))
    return faults.LinkFaults(spec, seed, clock or Clock())


def test_link_drop_and_corrupt_rates():
    lf = link({"drop_probability": 1e-3, "corrupt_probability": 2e-3})
    data = bytes(range(256)) * 16
    n = 0
    kept = 0
    for _ in range(250):
        kept += len(lf.apply(data))
        n += len(data)
    assert n - kept == lf.bytes_dropped
    assert lf.bytes_dropped / n == pytest.approx(1e-3, rel=0.1)
    assert lf.bytes_corrupted / n == pytest.approx(2e-3, rel=0.1)
    clean = link({"corrupt_probability": 1.0})
    out = clean.apply(b"\x00" * 100)
    changed = sum(1 for b in out if bin(b).count("1") == 1)
    assert changed == 100  # one bit flipped in each


def test_link_faults_are_seeded():
    data = bytes(range(256)) * 64
    a = link({"drop_probability": 0.01, "corrupt_probability": 0.01}, seed=9)
    b = link({"drop_probability": 0.01, "corrupt_probability": 0.01}, seed=9)
    assert a.apply(data) == b.apply(data)


def test_unplug_schedule():
    clock = Clock()
    lf = link({"unplug_at_s": 10.0, "unplug_for_s": 5.0, "unplugs": [[30.0, 1.0]]}, clock=clock)
    states = []
    for t in (0.0, 10.0, 14.9, 15.0, 30.5, 31.0):
        clock.now_s = t
        states.append(lf.plugged())
    assert states == [True, False, False, True, False, True]


def test_time_source_takes_a_clock_or_a_callable():
    clock = Clock()
    clock.now_s = 7.0
    assert faults.time_source(clock)() == 7.0
    assert faults.time_source(lambda: 3.0)() == 3.0


def test_chips_that_may_nack_promise_no_write_acknowledge():
    clock = SimClock()
    bus = I2CBus()
    steady = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    windows = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    random_nacks = MS5837Emulator(clock, lambda: 300000.0, lambda: 20.0)
    adc = ADS1115Emulator(clock, ain=[RatiometricFrontEnd(lambda: 300000.0)])
    adc.front_end = adc.ain[0]
    bus.attach(0x76, steady)
    bus.attach(0x77, windows)
    bus.attach(0x78, random_nacks)
    bus.attach(0x48, adc)
    install("loop_pressure_aux", {"nack": [[10.0, 20.0]]}, windows, clock)
    install("loop_pressure_aux", {"nack_probability": 0.1}, random_nacks, clock)
    # A dropout of an analog transducer opens its signal; the ADC still answers.
    install("loop_pressure", {"dropout": [[1.0, 2.0]]}, adc, clock)
    assert sorted(addr for addr, _ in bus.write_acks()) == [0x48, 0x76]
    steady.nack = True
    assert sorted(addr for addr, _ in bus.write_acks()) == [0x48]
