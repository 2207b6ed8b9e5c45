"""The firmware's sensor drivers on the real MicroPython VM, reading the chip
emulators through the sim machine/onewire API: values against the physics
across each part's range, the datasheet worked examples, and every fault
turned into the documented SensorError or quality flag."""
import ast

import pytest

from leakrig.sim.chips import ads1115 as ads_chip
from leakrig.sim.chips import bmp280 as bmp_chip
from leakrig.sim.chips import max31865 as max_chip
from leakrig.sim.chips import ms5837 as ms_chip
from leakrig.sim.chips import (ADS1115Emulator, BMP280Emulator, CurrentLoopFrontEnd,
                               DS18B20Emulator, MAX31865Emulator, MS5837Emulator,
                               RatiometricFrontEnd)
from leakrig.sim.testing import VMHarness

Q_OK, Q_RANGE, Q_STALE = 0, 1, 2
SLOT_S = 2.0  # each reading of a sweep gets its own slot of simulated time

PRELUDE = """
import time, machine
def slot(i):
    time.sleep_ms(int(%d * i) - time.ticks_ms() + 5)
def attempt(f):
    try:
        print("OK", repr(f()))
    except Exception as e:
        print("ERR", type(e).__name__, getattr(e, "status", 0))
""" % int(SLOT_S * 1000)


class Schedule:
    """Physical value that steps through `values`, one per slot of sim time."""

    def __init__(self, clock, values):
        self.clock = clock
        self.values = list(values)

    def __call__(self):
        return self.values[min(int(self.clock.now_s / SLOT_S), len(self.values) - 1)]


def run(h, body, n_expected):
    rc, out = h.run(PRELUDE + body, timeout=60)
    lines = [ln for ln in out.splitlines() if ln.startswith(("OK ", "ERR "))]
    assert rc == 0 and len(lines) == n_expected, out
    results = []
    for ln in lines:
        kind, _, rest = ln.partition(" ")
        results.append(ast.literal_eval(rest) if kind == "OK" else ("ERR",) + tuple(rest.split()))
    return results


def sweep_script(setup, n, read="sensor.read()"):
    return setup + "\nfor i in range(%d):\n    slot(i)\n    attempt(lambda: %s)\n" % (n, read)


# MS5837-30BA ------------------------------------------------------------

MS_SETUP = "from leakrig_fw.drivers.ms5837 import MS5837\nsensor = MS5837(machine.I2C(0), addr=0x76)"


def test_ms5837_sweep_across_range():
    points = [(0.0, 20.0), (101325.0, -20.0), (300000.0, 0.0), (1.0e6, 15.0), (2.0e6, 40.0),
              (3.0e6, 85.0), (3.5e6, 20.0), (300000.0, -30.0)]
    with VMHarness() as h:
        p = Schedule(h.clock, [pt[0] for pt in points])
        t = Schedule(h.clock, [pt[1] for pt in points])
        h.i2c(0).attach(0x76, MS5837Emulator(h.clock, pressure_pa=p, temperature_c=t))
        results = run(h, sweep_script(MS_SETUP, len(points)), len(points))
    for (p_pa, t_c), (pressure, temperature, quality) in zip(points, results):
        assert abs(pressure - p_pa) <= 5, (p_pa, pressure)        # 0.1 mbar output LSB
        assert abs(temperature - t_c) <= 0.005, (t_c, temperature)
        in_range = 0 <= p_pa <= 3.0e6 and -20 <= t_c <= 85
        assert quality == (Q_OK if in_range else Q_RANGE)


class _DatasheetMS5837(MS5837Emulator):
    def raw_code(self, d1):
        return ms_chip.DATASHEET_D1 if d1 else ms_chip.DATASHEET_D2


def test_ms5837_datasheet_example():
    with VMHarness() as h:
        h.i2c(0).attach(0x76, _DatasheetMS5837(h.clock, lambda: 0.0, lambda: 0.0))
        (result,) = run(h, sweep_script(MS_SETUP, 1), 1)
    assert result == (399980, 19.81, Q_OK)  # 3999.8 mbar, 19.81 °C


class _DroppingMS5837(MS5837Emulator):
    @property
    def nack(self):
        return self.clock.now_s > SLOT_S

    @nack.setter
    def nack(self, value):
        pass


def test_ms5837_faults():
    bad_prom = ms_chip.make_prom()
    bad_prom[3] ^= 0x0040
    with VMHarness() as h:
        h.i2c(0).attach(0x76, MS5837Emulator(h.clock, lambda: 1e5, lambda: 20.0, prom=bad_prom))
        h.i2c(1).attach(0x76, _DroppingMS5837(h.clock, lambda: 1e5, lambda: 20.0))
        results = run(h, """
from leakrig_fw.drivers.ms5837 import MS5837
from leakrig_fw.drivers.errors import SensorError
assert issubclass(SensorError, OSError)
attempt(lambda: MS5837(machine.I2C(0)))
attempt(lambda: MS5837(machine.I2C(0), addr=0x77))
sensor = MS5837(machine.I2C(1))
attempt(sensor.read)
slot(2)
attempt(sensor.read)
""", 4)
    assert results[0] == ("ERR", "CRCError", "0")
    assert results[1] == ("ERR", "BusError", "0")
    assert results[2][2] == Q_OK
    assert results[3] == ("ERR", "BusError", "0")


# BMP280 -----------------------------------------------------------------

BMP_SETUP = "from leakrig_fw.drivers.bmp280 import BMP280\nsensor = BMP280(machine.I2C(0), addr=0x77)"


def test_bmp280_sweep_across_range():
    points = [(30100.0, -39.9), (70000.0, 0.0), (101325.0, 22.5), (109900.0, 84.9),
              (95000.0, 60.0), (20000.0, 20.0), (101325.0, 95.0)]
    with VMHarness() as h:
        p = Schedule(h.clock, [pt[0] for pt in points])
        t = Schedule(h.clock, [pt[1] for pt in points])
        h.i2c(0).attach(0x77, BMP280Emulator(h.clock, pressure_pa=p, temperature_c=t))
        results = run(h, sweep_script(BMP_SETUP, len(points)), len(points))
    for (p_pa, t_c), (pressure, temperature, quality) in zip(points, results):
        assert abs(pressure - p_pa) <= 0.5, (p_pa, pressure)     # x16: 0.16 Pa
        assert abs(temperature - t_c) <= 0.01, (t_c, temperature)
        in_range = 30000 <= p_pa <= 110000 and -40 <= t_c <= 85
        assert quality == (Q_OK if in_range else Q_RANGE)


class _DatasheetBMP280(BMP280Emulator):
    def raw(self, t_bits=20):
        return bmp_chip.DATASHEET_ADC_P, bmp_chip.DATASHEET_ADC_T


def test_bmp280_datasheet_example():
    with VMHarness() as h:
        h.i2c(0).attach(0x77, _DatasheetBMP280(h.clock, lambda: 0.0, lambda: 0.0))
        (result,) = run(h, sweep_script(
            "from leakrig_fw.drivers.bmp280 import BMP280\n"
            "sensor = BMP280(machine.I2C(0), osrs_t=5, osrs_p=5)", 1), 1)
    pressure, temperature, quality = result
    assert temperature == 25.08
    assert pressure == 25767233 / 256       # 100653.25 Pa; the datasheet quotes 100653.27 (double)
    assert quality == Q_OK


class _WrongChip(BMP280Emulator):
    def _read_reg(self, reg):
        return 0x60 if reg == bmp_chip.REG_CHIP_ID else super()._read_reg(reg)


def test_bmp280_faults():
    with VMHarness() as h:
        h.i2c(0).attach(0x77, _WrongChip(h.clock, lambda: 1e5, lambda: 20.0))
        results = run(h, """
from leakrig_fw.drivers.bmp280 import BMP280
attempt(lambda: BMP280(machine.I2C(0)))
attempt(lambda: BMP280(machine.I2C(0), addr=0x76))
""", 2)
    assert results == [("ERR", "SensorError", "0"), ("ERR", "BusError", "0")]


# ADS1115 ----------------------------------------------------------------

def _ads_rig(h, front_end):
    chip = ADS1115Emulator(h.clock, ain=[front_end])
    h.i2c(0).attach(0x48, chip)
    return chip


def test_ads1115_ratiometric_sweep():
    pressures = [0.0, 1.0e5, 3.0e5, 5.0e5, 1.0e6, -20000.0, 1.02e6, 2.0e6]
    with VMHarness() as h:
        fe = RatiometricFrontEnd(Schedule(h.clock, pressures), 0.0, 1.0e6, supply_v=5.0, divider=2 / 3)
        _ads_rig(h, fe)
        results = run(h, sweep_script("""
from leakrig_fw.drivers.ads1115 import ADS1115, PressureInput, RatiometricTransducer
sensor = PressureInput(ADS1115(machine.I2C(0)), RatiometricTransducer(0, 1000000, divider=2 / 3))
""", len(pressures)), len(pressures))
    lsb_pa = 4.096 / 32768 / (2 / 3) / 4.0 * 1.0e6        # 46.9 Pa per code
    for p_pa, (pressure, quality) in zip(pressures, results):
        expected = fe.p_min_pa + (min(0.95, 0.1 + 0.8 * p_pa / 1e6) - 0.1) / 0.8 * 1e6
        assert abs(pressure - expected) <= lsb_pa, (p_pa, pressure)
        assert quality == (Q_OK if 0 <= p_pa <= 1.0e6 else Q_RANGE)
    assert results[-1][0] == pytest.approx(1.0625e6, abs=lsb_pa)  # output stage saturated at 4.75 V, reported as read


def test_ads1115_current_loop_sweep_and_open_loop():
    pressures = [0.0, 2.5e5, 5.0e5, 7.5e5, 1.0e6, 1.1e6]
    with VMHarness() as h:
        fe = CurrentLoopFrontEnd(Schedule(h.clock, pressures), 0.0, 1.0e6, shunt_ohm=165.0)
        _ads_rig(h, fe)
        setup = """
from leakrig_fw.drivers.ads1115 import ADS1115, PressureInput, CurrentLoopTransducer
sensor = PressureInput(ADS1115(machine.I2C(0)), CurrentLoopTransducer(0, 1000000, shunt_ohm=165))
"""
        results = run(h, sweep_script(setup, len(pressures)), len(pressures))
        fe.open_loop = True
        (open_result,) = run(h, setup + "attempt(sensor.read)\n", 1)
    lsb_pa = 4.096 / 32768 / 165.0 / 16e-3 * 1e6           # 47.3 Pa per code
    for p_pa, (pressure, quality) in zip(pressures, results):
        expected = (min(20.5e-3, 4e-3 + 16e-3 * p_pa / 1e6) - 4e-3) / 16e-3 * 1e6
        assert abs(pressure - expected) <= lsb_pa, (p_pa, pressure)
        assert quality == (Q_OK if p_pa <= 1.0e6 else Q_RANGE)
    assert open_result == ("ERR", "SensorFault", "0")


def test_ads1115_adc_saturation_flagged_and_faults():
    with VMHarness() as h:
        fe = RatiometricFrontEnd(lambda: 9.0e5, 0.0, 1.0e6, supply_v=5.0, divider=2 / 3)
        _ads_rig(h, fe)
        results = run(h, """
from leakrig_fw.drivers.ads1115 import ADS1115, PressureInput, RatiometricTransducer
adc = ADS1115(machine.I2C(0))
narrow = PressureInput(adc, RatiometricTransducer(0, 1000000, divider=2 / 3), pga=2)
attempt(narrow.read)
attempt(lambda: adc.read_volts(4, rate=0))
attempt(lambda: ADS1115(machine.I2C(0), addr=0x49))
""", 3)
        fe.disconnected = True
        broken = run(h, """
from leakrig_fw.drivers.ads1115 import ADS1115, PressureInput, RatiometricTransducer
attempt(PressureInput(ADS1115(machine.I2C(0)), RatiometricTransducer(0, 1000000, divider=2 / 3)).read)
""", 1)
    pressure, quality = results[0]
    assert quality == Q_RANGE                       # 2.73 V on the ±2.048 V range: code 0x7FFF
    assert pressure == pytest.approx((2.048 / (2 / 3) / 5.0 - 0.1) / 0.8 * 1e6, abs=50)
    volts, code = results[1]
    assert volts == pytest.approx((0.1 + 0.8 * 0.9) * 5.0 * 2 / 3, abs=2e-4)  # 8 SPS conversion
    assert results[2] == ("ERR", "BusError", "0")
    assert broken == [("ERR", "SensorFault", "0")]


# MAX31865 ---------------------------------------------------------------

MAX_SETUP = """
from leakrig_fw.drivers.max31865 import MAX31865
sensor = MAX31865(machine.SPI(0, polarity=0, phase=1), machine.Pin(5, machine.Pin.OUT), r_ref=%r)
"""


def _max_tolerance(t_c, r_ref):
    slope = (max_chip.pt_resistance(t_c + 0.01) - max_chip.pt_resistance(t_c - 0.01)) / 0.02
    return 0.5 * r_ref / 32768 / slope + 1e-3


def test_max31865_sweep_across_range():
    temps = [-199.0, -150.0, -40.0, 0.0, 25.0, 100.0, 300.0, 600.0, 849.0, 900.0]
    with VMHarness() as h:
        h.spi(0).attach("5", MAX31865Emulator(h.clock, temperature_c=Schedule(h.clock, temps)))
        results = run(h, sweep_script(MAX_SETUP % 430.0, len(temps)), len(temps))
    for t_c, (temperature, quality) in zip(temps, results):
        assert abs(temperature - t_c) <= _max_tolerance(t_c, 430.0), (t_c, temperature)
        assert quality == (Q_OK if -200 < t_c < 850 else Q_RANGE)


def test_max31865_datasheet_table_rref_400():
    temps = [275.0, 300.0, 400.0, 550.0]   # RTD data 81FEh, 87B6h, 9E24h, BE64h in the datasheet
    with VMHarness() as h:
        h.spi(0).attach("5", MAX31865Emulator(h.clock, Schedule(h.clock, temps), r_ref=400.0))
        results = run(h, sweep_script(MAX_SETUP % 400.0, len(temps)), len(temps))
    for t_c, (temperature, quality) in zip(temps, results):
        assert abs(temperature - t_c) <= _max_tolerance(t_c, 400.0)
        assert quality == Q_OK


def test_max31865_open_and_short_rtd():
    with VMHarness() as h:
        chip = MAX31865Emulator(h.clock, temperature_c=lambda: 40.0)
        h.spi(0).attach("5", chip)
        script = MAX_SETUP % 430.0 + "attempt(sensor.read)\nattempt(sensor.check_wiring)\n"
        chip.open_rtd = True
        open_results = run(h, script, 2)
        chip.open_rtd = False
        chip.short_rtd = True
        short_results = run(h, script, 2)
        chip.short_rtd = False
        ok_results = run(h, script, 2)
    assert open_results[0][:2] == ("ERR", "SensorFault")
    assert int(open_results[0][2]) & max_chip.FAULT_HIGH
    assert open_results[1] & max_chip.FAULT_REFIN_HIGH
    assert short_results[0][:2] == ("ERR", "SensorFault")
    assert int(short_results[0][2]) & max_chip.FAULT_LOW
    assert abs(ok_results[0][0] - 40.0) < 0.03 and ok_results[0][1] == Q_OK
    assert ok_results[1] == 0


# DS18B20 ----------------------------------------------------------------

def test_ds18b20_several_on_one_bus_across_range():
    temps = [-55.0, -10.125, 0.0, 25.0625, 85.0, 124.9375, 130.0]
    with VMHarness() as h:
        bus = h.onewire("22")
        chips = [DS18B20Emulator(h.clock, temperature_c=(lambda t=t: t), serial=0x5A0000 + 97 * i)
                 for i, t in enumerate(temps)]
        for chip in chips:
            bus.attach(chip)
        results = run(h, """
import onewire
from leakrig_fw.drivers.ds18b20 import DS18B20
ow = onewire.OneWire(machine.Pin(22))
roms = DS18B20.scan(ow)
print("OK", repr([r.hex() for r in roms]))
for rom in roms:
    attempt(DS18B20(ow, rom).read)
""", len(temps) + 1)
    roms = results[0]
    assert sorted(roms) == sorted(c.rom.hex() for c in chips)
    by_rom = dict(zip(roms, results[1:]))
    for chip, t_c in zip(chips, temps):
        temperature, quality = by_rom[chip.rom.hex()]
        assert temperature == max(-55.0, min(125.0, t_c))   # 1/16 °C steps: exact here
        expected = Q_STALE if t_c == 85.0 else Q_OK
        if t_c <= -55 or t_c >= 125:
            expected |= Q_RANGE
        assert quality == expected


class _NeverDone(DS18B20Emulator):
    def _finish(self):
        pass


def test_ds18b20_power_on_value_resolution_and_faults():
    with VMHarness() as h:
        good = DS18B20Emulator(h.clock, temperature_c=lambda: 21.37, serial=1)
        flaky = DS18B20Emulator(h.clock, temperature_c=lambda: 21.37, serial=2)
        stuck = _NeverDone(h.clock, temperature_c=lambda: 21.37, serial=3)
        gone = DS18B20Emulator(h.clock, temperature_c=lambda: 21.37, serial=4)
        for chip in (good, flaky, stuck, gone):
            h.onewire("22").attach(chip)
        flaky.flip_scratchpad_bit = 3
        results = run(h, """
import onewire
from leakrig_fw.drivers.ds18b20 import DS18B20
ow = onewire.OneWire(machine.Pin(22))
good = DS18B20(ow, bytes.fromhex(%r), resolution=9)
attempt(good.read_result)
attempt(good.read)
attempt(lambda: DS18B20(ow, bytes.fromhex(%r)))
stuck = DS18B20(ow, bytes.fromhex(%r))
attempt(stuck.read)
attempt(lambda: DS18B20(ow, b"\\x28\\x01\\x00\\x00\\x00\\x00\\x00\\x00"))
""" % (good.rom.hex(), flaky.rom.hex(), stuck.rom.hex()), 5)
        gone.present = False
        for chip in (good, flaky, stuck):
            chip.present = False
        absent = run(h, """
import onewire
from leakrig_fw.drivers.ds18b20 import DS18B20
attempt(lambda: DS18B20(onewire.OneWire(machine.Pin(22)), bytes.fromhex(%r)))
""" % gone.rom.hex(), 1)
    assert results[0] == (85.0, Q_STALE)          # power-on value before any conversion
    assert results[1] == (21.5, Q_OK)             # 9-bit: 0.5 °C steps
    assert results[2] == ("ERR", "CRCError", "0")
    assert results[3] == ("ERR", "SensorTimeout", "0")
    assert results[4] == ("ERR", "CRCError", "0")  # ROM with a bad CRC byte
    assert absent == [("ERR", "BusError", "0")]
