"""Injected sensor faults through the board: every bundled fault_* scenario
is booted into (scenario time 0 = boot) and run in board time until its
fault has been active. A part that fails to read is a `sensor_fault` event
naming the sensor, its keys drop out of the samples and, for the loop
pressure or temperature, quality bit 8 (no value) is set and the detector
raises its own `sensor_fault` (state `fault`); recovery is `sensor_ok` for
the sensor and `cleared` from the detector after 10 good samples. A reading
that stops moving is the detector's `sensor_fault` after 30 identical
samples. Value faults the firmware cannot tell from the process (noise,
lag, drift, a bad link) give no sensor event, and the fault is shown to be
active by measuring it. No fault may give a leak event.

These runs lie inside the detector's 2 h learning period (only gross leaks
are judged there); a no-leak verdict past learning is test_detection.py's."""
import math
import statistics

import pytest

from board_control import start_scenario
from leakrig.sim.scenario import BUNDLED_DIR

RATE_HZ = 0.5
TOL_S = 6.0                   # event time vs schedule: 3 samples at 0.5 Hz
STUCK_S = 30 / RATE_HZ        # detector: stuck_samples identical readings
CLEAR_S = 9 / RATE_HZ         # detector: `cleared` on the 10th good sample
Q_MISSING = 8
PRIMARY = ("loop_pressure", "loop_temperature")
KEYS = {"loop_pressure": ("p",), "loop_temperature": ("T",), "loop_pressure_aux": ("p2", "T2"),
        "ambient": ("pa", "Ta"), "radiator_temperature": ("Tr",)}
LEAK_EVENTS = ("leak_suspected", "leak_detected", "gross_leak")


# --- scenario-specific measurements: the value fault is really there ---------

def _t(samples, lo=-math.inf, hi=math.inf):
    return [s for s in samples if lo <= float(s.fields["t"]) < hi]


def _diff_sigma(values):
    d = [b - a for a, b in zip(values, values[1:])]
    return math.sqrt(statistics.fmean(x * x for x in d) / 2.0)


def _noise(samples, rig, record):
    record("pressure_noise_pa", round(_diff_sigma([float(s.fields["p"]) for s in samples]), 1), "Pa",
           low=150.0, high=250.0)
    record("temperature_noise_k", round(_diff_sigma([float(s.fields["T"]) for s in samples]), 4), "K",
           low=0.035, high=0.07)


def _quantisation(samples, rig, record):
    levels = sorted(set(float(s.fields["p"]) for s in samples))
    record("pressure_levels", len(levels), "", low=2, high=3)
    record("pressure_step_pa", round(min(b - a for a, b in zip(levels, levels[1:])), 1), "Pa",
           low=400.0, high=600.0)


def _drift(samples, rig, record):
    before = _t(samples, hi=600.0)
    late = _t(samples, lo=1200.0)
    rate = 500.0 / 3600.0
    expected = rate * (statistics.fmean(float(s.fields["t"]) for s in late) - 600.0)
    got = statistics.fmean(float(s.fields["p"]) for s in late) - statistics.fmean(float(s.fields["p"]) for s in before)
    record("pressure_drift_pa", round(got, 1), "Pa", low=0.6 * expected, high=1.4 * expected)


def _lag(samples, rig, record):
    # loop temperature (MAX31865, lagged) against the aux sensor's (MS5837)
    # reading of the same loop while the orbit warms it
    T = [float(s.fields["T"]) for s in samples]
    T2 = [float(s.fields["T2"]) for s in samples]
    best = None
    for k in range(0, 61):
        d = [T[i] - T2[i - k] for i in range(k, len(T))]
        v = statistics.pvariance(d)
        if best is None or v < best[0]:
            best = (v, k)
    record("loop_temperature_swing_k", round(max(T2) - min(T2), 2), "K", low=5.0)
    record("temperature_lag_s", best[1] / RATE_HZ, "s", low=40.0, high=80.0)


def _rtd(samples, rig, record):
    good = [s for s in samples if "T" in s.fields and "T2" in s.fields]
    offset = statistics.fmean(float(s.fields["T"]) - float(s.fields["T2"]) for s in good)
    record("lead_resistance_offset_k", round(offset, 3), "K", low=0.8, high=1.3)


def _stuck(samples, rig, record):
    stuck = _t(samples, lo=1200.0 + TOL_S)
    record("distinct_p_while_stuck", len(set(s.fields["p"] for s in stuck)), "", high=1)
    # the aux sensor still sees the 5 mL/min leak draining the loop
    p2 = [float(s.fields["p2"]) for s in stuck]
    span = float(stuck[-1].fields["t"]) - float(stuck[0].fields["t"])
    expected = 5.0 / 60.0 / rig.model.compliance_ml_per_kpa() * 1000.0 * span
    record("aux_pressure_drop_while_stuck_pa", round(p2[0] - p2[-1], 1), "Pa",
           low=0.5 * expected, high=1.5 * expected)


def _link(samples, rig, record, dut=None):
    stats = dut.stats
    record("link_errors_seen", stats.crc_errors + stats.gaps, "", low=1)
    record("board_restarts", stats.boots - 1, "", high=0)


class Expect:
    def __init__(self, run_s, channel=(), detector=(), repeats=False, intermittent=(), check=None,
                 rate_hz=RATE_HZ):
        self.run_s = run_s
        self.channel = list(channel)      # (role, start_s, end_s or None): reads fail
        self.detector = list(detector)    # (sensor_fault at, cleared at or None)
        self.repeats = repeats            # the detector may fault again (coarse readings)
        self.intermittent = set(intermittent)  # roles that also fail at random
        self.check = check
        self.rate_hz = rate_hz


EXPECT = {
    "fault_dropout": Expect(1260, channel=[("loop_pressure", 600, 630), ("radiator_temperature", 900, 960),
                                           ("loop_pressure", 1200, 1230)],
                            detector=[(600, 630 + CLEAR_S), (1200, 1230 + CLEAR_S)]),
    "fault_open_loop": Expect(1000, channel=[("loop_pressure", 900, None)], detector=[(900, None)]),
    "fault_rtd": Expect(960, channel=[("loop_temperature", 600, 900)], detector=[(600, 900 + CLEAR_S)],
                        check=_rtd),
    "fault_nack": Expect(1560, channel=[("loop_pressure_aux", 1200, 1500)], intermittent=["loop_pressure_aux"]),
    "fault_stuck": Expect(1320, detector=[(1200 + STUCK_S, None)], check=_stuck),
    "fault_quantisation": Expect(300, detector=[(STUCK_S, None)], repeats=True, check=_quantisation),
    "fault_noise": Expect(300, check=_noise),
    "fault_drift": Expect(1500, check=_drift),
    "fault_lag": Expect(800, check=_lag),
    "fault_link": Expect(400, check=_link, rate_hz=1.0),
}

FAULT_SCENARIOS = sorted(p.stem for p in BUNDLED_DIR.glob("fault_*.toml"))


def _near(t, target):
    return abs(t - target) <= TOL_S


@pytest.mark.parametrize("name", FAULT_SCENARIOS)
def test_injected_sensor_fault(dut, rig, record, name):
    assert name in EXPECT, "no expectation for scenario %s: add one to EXPECT" % name
    exp = EXPECT[name]
    start_scenario(dut, rig, name, exp.rate_hz)
    frames = dut.run_for(exp.run_s, host_timeout_s=300)
    samples = [f for f in frames if f.kind == "S"]
    events = [f for f in frames if f.kind == "E"]

    def ev_t(f):
        return float(f.fields["t"])

    # no leak event, whatever the fault
    leaks = [f for f in events if f.fields["ev"] in LEAK_EVENTS]
    record("leak_events", len(leaks), "", high=0)

    # sensor events naming a part
    chan = [f for f in events if f.fields["ev"] in ("sensor_fault", "sensor_ok") and "sensor" in f.fields]
    expected_roles = set(r for r, a, b in exp.channel) | exp.intermittent
    unexpected = [f for f in chan if f.fields["sensor"] not in expected_roles]
    record("unexpected_sensor_events", len(unexpected), "", high=0)
    for role, a, b in exp.channel:
        tag = "%s@%d" % (role, a)
        mine = [f for f in chan if f.fields["sensor"] == role]
        if role in exp.intermittent:
            # failing at random too: at the window's start the part is in fault
            last = [f for f in mine if ev_t(f) <= a + TOL_S]
            assert last and last[-1].fields["ev"] == "sensor_fault", "%s not in fault at %s s" % (role, a)
            record(tag + "_fault_delay_s", round(ev_t(last[-1]) - a, 1), "s", high=TOL_S)
        else:
            faults = [f for f in mine if f.fields["ev"] == "sensor_fault" and _near(ev_t(f), a)]
            record(tag + "_fault_delay_s", round(ev_t(faults[0]) - a, 1) if faults else None, "s",
                   low=-TOL_S, high=TOL_S)
        inside = _t(samples, a + TOL_S, (b if b is not None else math.inf) - TOL_S)
        with_values = [s for s in inside if any(k in s.fields for k in KEYS[role])]
        record(tag + "_samples_with_values_in_fault", len(with_values), "", high=0)
        if role in PRIMARY:
            unflagged = [s for s in inside if not int(s.fields["q"]) & Q_MISSING]
            record(tag + "_samples_without_q8", len(unflagged), "", high=0)
        oks = [f for f in mine if f.fields["ev"] == "sensor_ok" and ev_t(f) > a + TOL_S]
        if b is None:
            record(tag + "_recoveries", len(oks), "", high=0)
        else:
            first = [f for f in oks if ev_t(f) >= b - TOL_S]
            record(tag + "_recovery_delay_s", round(ev_t(first[0]) - b, 1) if first else None, "s",
                   low=-TOL_S, high=TOL_S)

    # quality: no flag outside the primary sensors' fault windows
    windows = [(a - TOL_S, (b if b is not None else math.inf) + TOL_S) for r, a, b in exp.channel if r in PRIMARY]
    outside = [s for s in samples if not any(lo <= float(s.fields["t"]) < hi for lo, hi in windows)]
    record("samples_flagged_outside_faults", len([s for s in outside if s.fields["q"] != "0"]), "", high=0)

    # the detector's own fault events
    det = [f for f in events if f.fields["ev"] in ("sensor_fault", "cleared") and "sensor" not in f.fields]
    det_faults = [f for f in det if f.fields["ev"] == "sensor_fault"]
    if not exp.repeats:
        record("detector_faults", len(det_faults), "", low=len(exp.detector), high=len(exp.detector))
    for i, (a, b) in enumerate(exp.detector):
        tag = "detector@%d" % a
        hit = [f for f in det_faults if _near(ev_t(f), a)]
        record(tag + "_fault_delay_s", round(ev_t(hit[0]) - a, 1) if hit else None, "s", low=-TOL_S, high=TOL_S)
        if b is not None:
            cleared = [f for f in det if f.fields["ev"] == "cleared" and _near(ev_t(f), b)]
            record(tag + "_cleared_delay_s", round(ev_t(cleared[0]) - b, 1) if cleared else None, "s",
                   low=-TOL_S, high=TOL_S)
        if not exp.repeats:
            inside = _t(samples, a + TOL_S, (b if b is not None else math.inf) - TOL_S)
            record(tag + "_samples_not_in_fault_state", len([s for s in inside if s.fields["st"] != "fault"]),
                   "", high=0)

    if exp.check is _link:
        _link(samples, rig, record, dut=dut)
    elif exp.check is not None:
        exp.check(samples, rig, record)
