"""The shared leak detector on CPython against seeded synthetic traces."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from leakrig import fwpath
from leakrig.synth import Trace

fwpath.ensure()
from leakrig_fw.decay import DecayTest  # noqa: E402
from leakrig_fw.detector import (Detector, compliance_from_reference_leak,  # noqa: E402
                                 compliance_from_volume, threshold_z)

ALARMS = ("leak_suspected", "leak_detected", "gross_leak")


def run(trace, seconds, det):
    events = []
    for t, p, temp in trace.samples(seconds):
        ev = det.update(t, p, temp)
        if ev:
            events.append((t, ev, det.rate_pa_s))
    return events


@pytest.mark.parametrize("seed", [1, 2])
def test_no_false_alarm_over_12_hours_of_orbital_cycling(seed):
    tr = Trace(seed=seed, dt=1.0)
    det = Detector()
    events = run(tr, 12 * 3600, det)
    assert [e for e in events if e[1] in ALARMS] == []
    assert abs(det.thermal_pa_per_k - 2000.0) < 40.0   # learned, truth 2 kPa/K
    assert 20.0 < det.thermal_lag_s < 45.0              # sensor 30 s + smoothing


@pytest.mark.parametrize("seed", [1, 2])
def test_no_false_alarm_on_a_steady_temperature_ramp_at_1_hz(seed):
    # 2 K/h with no cycling: the temperature's rate is a constant plus its
    # reading noise, so the model's lag is not determined by the data; it
    # must not wander off with the noise correction and read the gain's
    # error as a leak (it alarmed at 3.25 h and 3.45 h before)
    tr = Trace(seed=seed, dt=1.0, orbital_k=0.0, ramp_k_per_h=2.0)
    det = Detector()
    events = run(tr, 5 * 3600, det)
    assert [e for e in events if e[1] in ALARMS] == []
    assert abs(det.thermal_pa_per_k - 2000.0) < 100.0


def test_one_ml_min_seep_during_cycling_detected_rated_and_forecast():
    onset = 2.5 * 3600
    tr = Trace(seed=4, dt=0.5, leak_ml_min=1.0, leak_onset_s=onset)
    det = Detector(compliance_ml_per_kpa=3.3, min_pressure_pa=150000.0)
    events = run(tr, onset + 600, det)
    detected = [e for e in events if e[1] == "leak_detected"]
    assert [e for e in events if e[0] < onset] == []
    assert detected and detected[0][0] - onset < 60.0   # stated delay: 1 min
    truth = tr.leak_pa_s                                 # about -5.05 Pa/s
    assert abs(det.rate_pa_s - truth) < 0.10 * abs(truth)
    assert abs(det.rate_ml_min - 1.0) < 0.10
    assert det.rate_sigma_pa_s > 0
    expected = (det.pressure_pa - 150000.0) / -truth
    assert det.time_to_min_s == pytest.approx(expected, rel=0.15)


def test_ms22_like_puncture_trips_gross_leak_within_10_s():
    onset = 1200.0
    tr = Trace(seed=5, dt=0.1, orifice_mm=0.8, orifice_onset_s=onset, compliance_ml_per_kpa=4.0)
    det = Detector(learn_s=600.0)
    events = run(tr, onset + 30, det)
    gross = [e for e in events if e[1] == "gross_leak"]
    assert [e for e in events if e[0] < onset and e[1] in ALARMS] == []
    assert gross and gross[0][0] - onset < 10.0
    assert det.rate_pa_s < -200.0 and det.time_to_min_s is not None


def _quiet(det, n, rate=0.0, offset=0.0, seed=0, onset=None):
    import random
    rng = random.Random(seed)
    first = None
    for i in range(n):
        t = i * 0.1
        leak = rate * (t - onset) if onset is not None and t > onset else 0.0
        ev = det.update(t, 300000.0 + offset + leak + rng.gauss(0, 20.0), 20.0 + rng.gauss(0, 0.005))
        if ev in ("leak_detected", "gross_leak") and first is None:
            first = t
    return first


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10000), offset=st.floats(-50000.0, 50000.0))
def test_offset_invariance_and_no_alarm_on_bounded_noise(seed, offset):
    a = Detector(learn_s=60.0)
    b = Detector(learn_s=60.0)
    assert _quiet(a, 3000, seed=seed) is None
    assert _quiet(b, 3000, seed=seed, offset=offset) is None
    assert b.rate_pa_s == pytest.approx(a.rate_pa_s, abs=1e-3)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10000), small=st.floats(3.0, 20.0), factor=st.floats(1.0, 5.0))
def test_larger_leak_never_detected_later(seed, small, factor):
    onset = 100.0
    t_small = _quiet(Detector(learn_s=60.0), 2500, rate=-small, seed=seed, onset=onset)
    t_large = _quiet(Detector(learn_s=60.0), 2500, rate=-small * factor, seed=seed, onset=onset)
    assert t_small is not None and t_large is not None
    assert t_large <= t_small


@pytest.mark.parametrize("bad", ["nan", "quality", "stuck", "range_hi", "range_neg", "temp"])
def test_bad_data_is_a_sensor_fault_never_a_leak(bad):
    tr = Trace(seed=6, dt=0.1, orbital_k=0.0)
    det = Detector(learn_s=60.0)
    events = run(tr, 120, det)
    last = det.pressure_pa
    for i in range(600):
        t, p, temp = tr.step()
        q = 0
        if bad == "nan":
            p = float("nan")
        elif bad == "quality":
            q = 4
        elif bad == "stuck":
            p = last
        elif bad == "jump":   # the reading shifts by 20 kPa at once and stays there
            p -= 20000.0
        elif bad == "range_hi":
            p = 5e7
        elif bad == "range_neg":
            p = -1000.0
        elif bad == "temp":
            temp = float("nan")
        ev = det.update(t, p, temp, q)
        if ev:
            events.append((t, ev, det.rate_pa_s))
    names = [e[1] for e in events]
    assert "sensor_fault" in names
    assert not set(names) & set(ALARMS)
    if bad != "jump":
        assert det.state == "fault" and det.rate_ml_min is None
    events += run(tr, 30, det)
    assert events[-1][1] == "cleared" and det.state in ("ok", "learning")


def _decay(rate_pa_s, noise, reject=2.0, fault=False):
    import random
    rng = random.Random(7)
    test = DecayTest(reject_pa_s=reject, fill_s=5, stabilise_s=10, test_s=60, vent_s=5)
    test.start()
    phases = []
    i = 0
    while test.phase != "done":
        t = i * 0.1
        p = 300000.0 + rate_pa_s * t + rng.gauss(0, noise)
        q = 1 if fault and 40 < t < 41 else 0
        ev = test.update(t, p, 20.0, q)
        if ev:
            phases.append(ev)
        i += 1
    return test, phases


def test_decay_test_pass_fail_inconclusive():
    good, phases = _decay(-0.2, 5.0)
    assert phases == ["stabilise", "test", "vent", "done"]
    assert good.verdict == "PASS"
    assert good.rate_pa_s == pytest.approx(-0.2, abs=0.1)
    assert _decay(-5.0, 5.0)[0].verdict == "FAIL"
    assert _decay(-1.0, 400.0)[0].verdict == "INCONCLUSIVE"
    faulted, phases = _decay(-0.2, 5.0, fault=True)
    assert "sensor_fault" in phases and faulted.verdict == "INCONCLUSIVE"


def test_calibration_and_tare():
    assert compliance_from_reference_leak(1.0, -5.0, 0.0) == pytest.approx(1000.0 / 60.0 / 5.0)
    assert compliance_from_volume(10.0, 300000.0, 297000.0) == pytest.approx(10.0 / 3.0)
    with pytest.raises(ValueError):
        compliance_from_volume(10.0, 300000.0, 301000.0)
    det = Detector(learn_s=30.0)
    _quiet(det, 600)
    det.tare(0.0)
    assert _quiet(det, 600) is None
    with pytest.raises(ValueError):
        Detector(no_such=1)


def test_threshold_design_matches_pickands_rate():
    hz = 3.0 / 16 * 2
    c = threshold_z(1e6, hz)
    assert 1e6 * hz * c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi) == pytest.approx(1.0, rel=1e-3)


def test_shift_follows_a_new_zero_without_a_step():
    """Zeroed again mid-run, the readings drop by delta; shift(delta) moves
    the references with them: no sensor fault, and the rate goes on as if
    nothing happened (a detector not told sees a jump: a fault)."""
    import random

    def run(tell):
        rng = random.Random(3)
        det = Detector(learn_s=60.0)
        rates, events = [], []
        for i in range(3000):
            t = i * 0.1
            p = 300000.0 - 2.0 * max(0.0, t - 200.0) + rng.gauss(0, 20.0)
            if i == 2000 and tell:
                det.shift(198675.0)
            if i >= 2000:
                p -= 198675.0
            ev = det.update(t, p, 20.0 + rng.gauss(0, 0.005))
            while ev:
                events.append((round(t, 1), ev))
                ev = det.pending()
            rates.append(det.rate_pa_s)
        return rates, events, det

    plain = run(False)
    told = run(True)
    assert "sensor_fault" in [e for _, e in plain[1]]
    assert "sensor_fault" not in [e for _, e in told[1]]
    # the same rates as a run never zeroed, to rounding
    rng = random.Random(3)
    ref = Detector(learn_s=60.0)
    for i in range(3000):
        t = i * 0.1
        ref.update(t, 300000.0 - 2.0 * max(0.0, t - 200.0) + rng.gauss(0, 20.0), 20.0 + rng.gauss(0, 0.005))
    assert told[2].rate_pa_s == pytest.approx(ref.rate_pa_s, rel=1e-6)
    assert told[2].pressure_pa == pytest.approx(ref.pressure_pa - 198675.0, abs=1e-3)


def _loop_with_stopping_leak(kind, orbital, open_s, dt, seed=1, onset=10800.0):
    """Samples of the rig physics' 44 L loop (orbital cycling or a constant
    temperature) read with 30 Pa / 0.01 K noise and a 5 s sensor lag; a leak
    opens at onset and closes open_s later."""
    import random
    from leakrig.sim import physics, profiles
    if kind == "drain":   # MS-22 type: 0.8 mm into vacuum
        leak = physics.OrificeLeak(0.8, cd=0.1, outlet_pressure_pa=0.0, onset_s=onset, end_s=onset + open_s)
    else:
        leak = physics.RateLeak(5.0, onset_s=onset, end_s=onset + open_s)
    kw = {"leaks": [leak]}
    if orbital:
        kw["temperature"] = profiles.Orbital(hot_c=28.0, cold_c=8.0)
    model = physics.LoopModel(**kw)
    rng = random.Random(seed)
    model.advance_to(0.0)
    sensed = model.loop_temperature_c
    i = 0
    while True:
        i += 1
        t = i * dt
        model.advance_to(t)
        sensed += dt / (5.0 + dt) * (model.loop_temperature_c - sensed)
        yield t, model.loop_pressure_pa + rng.gauss(0.0, 30.0), sensed + rng.gauss(0.0, 0.01)


@pytest.mark.parametrize("windows,kind,orbital", [(5, "drain", True), (8, "seep", False)])
def test_alarm_holds_while_the_loop_drains_and_clears_once_for_good_after(windows, kind, orbital):
    # the board with the fewest windows (pyboard: 5) once cleared a draining
    # MS-22 puncture after 45 min and re-alarmed at once with a rate 50 times
    # too large: the thermal model had learned the leak into its gains
    onset, open_s, after_s = 10800.0, 1800.0, 1800.0
    det = Detector(windows=windows)
    events = []
    for t, p, temp in _loop_with_stopping_leak(kind, orbital, open_s, 0.1):
        if t > onset + open_s + after_s:
            break
        ev = det.update(t, p, temp)
        while ev:
            events.append((t, ev, det.rate_pa_s))
            ev = det.pending()
        if t == pytest.approx(onset + open_s - 0.1, abs=0.05):
            rate_at_close = det.rate_pa_s
    names = [e[1] for e in events]
    assert names == ["leak_suspected", "leak_detected", "cleared"], events
    assert events[1][0] - onset < 30.0
    assert rate_at_close < -3.0                         # still tracked: -5 Pa/s seep, -33 drain
    assert onset + open_s < events[2][0] < onset + open_s + 900.0


@pytest.mark.parametrize("learn_s,dt0,dt1,seed", [
    (60.0, 1.0, 0.1, 5), (60.0, 0.1, 0.05, 1), (60.0, 0.1, 0.02, 2), (60.0, 0.1, 0.02, 5),
    (600.0, 0.1, 0.02, 5)])
def test_no_false_alarm_when_the_sample_rate_rises(learn_s, dt0, dt1, seed):
    # `config set rate_hz` on a running board: a quiet loop, the rate raised
    # 2-10 times. Each case raised leak_suspected (some leak_detected) while
    # the nominal step glided to the new one; the windows now restart.
    import random
    rng = random.Random(seed)
    det = Detector(learn_s=learn_s)
    t = 0.0
    for _ in range(int((learn_s + 140.0) / dt0)):
        det.update(t, 300000.0 + (rng.random() - 0.5) * 60.0, 20.0)
        t += dt0
    events = []
    for _ in range(int(600.0 / dt1)):
        ev = det.update(t, 300000.0 + (rng.random() - 0.5) * 60.0, 20.0)
        while ev:
            events.append((round(t, 2), ev))
            ev = det.pending()
        t += dt1
    assert events == []
    assert abs(det._dt - dt1) < 1e-6 * dt1


def _orbital_ramp(slope_pa_s, onset_s, seed, dt=1.0):
    """The rig physics' 44 L loop under +-5 K orbital cycling, read with 20 Pa
    and 0.01 K of white noise and a 30 s sensor lag, a pressure ramp of
    slope_pa_s from onset_s (the bench's model: bench/detector_limits.py)."""
    import random
    from leakrig.sim import physics, profiles
    model = physics.LoopModel(temperature=profiles.Orbital(hot_c=25.0, cold_c=15.0))
    rng = random.Random(seed)
    model.advance_to(0.0)
    sensed = model.loop_temperature_c
    t = 0.0
    while True:
        t += dt
        model.advance_to(t)
        sensed += dt / (30.0 + dt) * (model.loop_temperature_c - sensed)
        p = model.loop_pressure_pa + rng.gauss(0.0, 20.0) + slope_pa_s * max(0.0, t - onset_s)
        yield t, p, sensed + rng.gauss(0.0, 0.01)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_slow_leak_under_orbital_cycling_is_found_within_the_longest_window(seed):
    # 0.02 Pa/s is 5.4x the white-noise limit of the pressure alone over
    # 2048 samples (bench/detector_limits.py: 0.0037 Pa/s). While the bands
    # took the temperature noise through the rate feature as white and the
    # model had no T dT/dt term (orbital MDL 0.052 Pa/s) none of seeds 1-6
    # found it within 2048 s; now each does, in 740-1373 s (MDL 0.014)
    onset = 7200.0 + 2400.0
    det = Detector()
    found = None
    for t, p, temp in _orbital_ramp(-0.02, onset, seed):
        if t > onset + 2048.0:
            break
        ev = det.update(t, p, temp)
        while ev:
            assert t > onset, (t, ev)
            if ev == "leak_detected" and found is None:
                found = t
            ev = det.pending()
    assert found is not None
    assert det.rate_pa_s < 0.0


def test_each_window_compensates_the_t_dtdt_term_though_it_has_no_ring():
    # the rate feature and T dT/dt have no rings: each window's slope of
    # them comes from the T ring and its running sums (docs/detector.md,
    # Model); the windows' compensated slopes equal those of the per-sample
    # features
    det = Detector(learn_s=1e9)
    rows = []
    for t, p, temp in _orbital_ramp(0.0, 1e9, 3):
        if t > 4000.0:
            break
        det.update(t, p, temp)
        if det.samples:
            W = det._tw
            tc = det._ta / W
            rows.append((det._tp / W, tc, det._Td, tc * tc, det._Tx))
    th, dt = det._theta, det._dt
    assert abs(th[5]) > 100.0          # the term is in use (about 2 q lag = 390 here)
    for w, n in enumerate(det._win):
        h = 0.5 * (n - 1)
        direct = 0.0
        for i, (y, tc, td, tq, tx) in enumerate(rows[-n:]):
            direct += (i - h) * (y - th[1] * tc - th[2] * td - th[4] * tq - th[5] * tx)
        direct *= det._bank.inv_sxx[w] / dt
        assert det._slope[w] == pytest.approx(direct, rel=1e-3, abs=1e-3 * det._sig[w])
