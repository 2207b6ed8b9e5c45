"""Sampling: the configured rate holds in board time, and every sensor of
the board definition reports plausible values under its own keys (on the
virtual board also against the rig's true values)."""
import math
import statistics

import pytest

from leakrig import boards

# Plausible readings on a coolant-loop rig (absolute pressures, Pa; °C).
LOOP_PA = (50e3, 1.0e6)
AMBIENT_PA = (70e3, 110e3)
TEMP_C = (-40.0, 120.0)
AMBIENT_C = (-10.0, 50.0)

# Largest mean error against the rig's true value, per part and quantity:
# the parts' resolution and accuracy plus the scenario's noise averaged over
# N_SENSOR samples.
TRUTH_TOL = {("ads1115", "p"): 1000.0, ("ms5837", "p"): 1000.0, ("bmp280", "p"): 200.0,
             ("max31865", "T"): 0.2, ("ms5837", "T"): 0.2, ("bmp280", "T"): 0.2, ("ds18b20", "T"): 0.25}
N_SENSOR = 20


def pytest_generate_tests(metafunc):
    if "sensor_role" in metafunc.fixturenames:
        board = boards.load(metafunc.config.getoption("--board"))
        metafunc.parametrize("sensor_role", sorted(board.get("sensors", {})))


def _after(dut, t_from, n):
    """n samples with board time after t_from (older ones still in flight are
    skipped)."""
    out = []
    while len(out) < n:
        out += [s for s in dut.samples(n - len(out)) if float(s.fields["t"]) > t_from]
    return out


@pytest.mark.parametrize("rate_hz,n", [(10.0, 300), (2.0, 120)])
def test_sample_rate_in_board_time(dut, record, rate_hz, n):
    dut.configure(rate_hz=rate_hz)
    status = dut.command("status")
    assert float(status["rate"]) == rate_hz
    period = 1.0 / rate_hz
    # from two periods after the change on
    samples = _after(dut, float(status["t"]) + 2 * period, n)
    after = dut.command("status")
    t = [float(s.fields["t"]) for s in samples]
    seqs = [s.seq for s in samples]
    steps = [b - a for a, b in zip(t, t[1:])]
    mean_period = (t[-1] - t[0]) / (len(t) - 1)
    record("samples", len(samples), "", low=n)
    record("rate_error", round((period - mean_period) / mean_period * 100.0, 4), "%", low=-0.5, high=0.5)
    record("max_step_error", round(max(abs(s - period) for s in steps) * 1000.0, 1), "ms",
           high=max(5.0, 0.1 * period * 1000.0))
    record("sample_seq_gaps", dut.stats.gaps, "", high=0)
    record("overruns", int(after["overruns"]) - int(status["overruns"]), "", high=0)
    assert all(b > a for a, b in zip(seqs, seqs[1:]))


def test_sensor_path(dut, rig, record, sensor_role):
    spec = boards.load(dut.board)["sensors"][sensor_role]
    part = spec["part"]
    keys = spec["keys"]
    samples = dut.samples(N_SENSOR)
    ambient = sensor_role == "ambient"
    for key in keys:
        values = [float(s.fields[key]) for s in samples if key in s.fields]
        record("%s_present" % key, len(values), "samples", low=N_SENSOR)
        assert all(math.isfinite(v) for v in values)
        if key.startswith("p"):
            lo, hi = AMBIENT_PA if ambient else LOOP_PA
        else:
            lo, hi = AMBIENT_C if ambient else TEMP_C
        record("%s_min" % key, min(values), "Pa" if key.startswith("p") else "°C", low=lo)
        record("%s_max" % key, max(values), "Pa" if key.startswith("p") else "°C", high=hi)
        if rig.simulated:
            # the quantity this role senses, as the rig's physics has it now
            from leakrig.sim.wiring import ROLE_QUANTITIES
            pressure_name, temperature_name = ROLE_QUANTITIES[sensor_role]
            quantity = "p" if key.startswith("p") else "T"
            truth = rig.rig.value(pressure_name if quantity == "p" else temperature_name)
            tol = TRUTH_TOL[(part, quantity)]
            record("%s_error" % key, round(statistics.fmean(values) - truth, 3),
                   "Pa" if quantity == "p" else "K", low=-tol, high=tol)
