"""Detector scoring sweep over seeded scenarios: the firmware's detector fed
by the rig simulator's physics with the scenario's sensor faults, scored for
false alarms, detection delay and rate error. Long: run with
`make hil-sweep` (marker `sweep`), not in `make test`."""
import math
import random

import pytest

from leakrig import fwpath  # noqa: F401
from leakrig.sim.scenario import load_scenario
from leakrig_fw.detector import Detector

RATE_HZ = 1.0
CASES = [("orbital_no_leak", 8 * 3600.0, None),
         ("seep_1ml_min", 8 * 3600.0, None),
         ("ms22", 4.5 * 3600.0, 10800.0)]
SEEDS = [1, 2, 3]
TABLE = []


def _run(name, seed, hours_s):
    scenario = load_scenario(name)
    model = scenario.build_model()
    rng = random.Random(seed)
    det = Detector(compliance_ml_per_kpa=model.compliance_ml_per_kpa())
    events = []
    rates = []
    t = 0.0
    while t <= hours_s:
        model.advance_to(t)
        p = model.loop_pressure_pa + rng.gauss(0.0, 30.0)
        temp = model.loop_temperature_c + rng.gauss(0.0, 0.01)
        ev = det.update(t, p, temp, 0)
        if ev:
            events.append((t, ev, det.rate_pa_s))
        rates.append((t, det.rate_pa_s, model.leak_flow_ml_min, model.compliance_ml_per_kpa()))
        t += 1.0 / RATE_HZ
    return events, rates


def _onset(name):
    scenario = load_scenario(name)
    onsets = [getattr(l, "onset_s", 0.0) for l in getattr(scenario.build_model(), "leaks", [])]
    return min(onsets) if onsets else None


@pytest.mark.sweep
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name,hours_s,_", CASES)
def test_detector_sweep(name, hours_s, _, seed, record):
    events, rates = _run(name, seed, hours_s)
    onset = _onset(name)
    alarms = [e for e in events if e[1] in ("leak_detected", "gross_leak")]
    if onset is None:
        false_alarms = len(alarms)
        TABLE.append((name, seed, false_alarms, None, None))
        record("false_alarms", false_alarms, "", high=0)
        return
    false_alarms = len([e for e in alarms if e[0] < onset])
    after = [e for e in alarms if e[0] >= onset]
    delay = after[0][0] - onset if after else math.inf
    t_end, rate, flow_ml_min, c = rates[-1]
    true_pa_s = -flow_ml_min / 60.0 / c * 1000.0 if flow_ml_min else 0.0
    err = abs(rate - true_pa_s) / abs(true_pa_s) * 100.0 if true_pa_s else math.nan
    TABLE.append((name, seed, false_alarms, delay, err))
    record("false_alarms", false_alarms, "", high=0)
    record("detection_delay_s", delay, "s", high=1800.0)
    record("final_rate_error_pct", round(err, 1), "%", high=25.0)
