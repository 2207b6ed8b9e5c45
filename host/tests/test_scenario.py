"""Scenario files: every bundled one loads and runs in lockstep behind the
sim board's emulators; malformed ones fail with the file and the key."""
import time

import pytest

from leakrig import boards
from leakrig.sim.clock import SimClock
from leakrig.sim.rig import Rig
from leakrig.sim.scenario import list_scenarios, load_scenario
from leakrig.sim.wiring import ROLE_QUANTITIES

BUNDLED = list_scenarios()


def test_the_issue_scenarios_are_bundled():
    for name in ("nominal", "thermal_ramp", "orbital_no_leak", "ms22", "seep_1ml_min", "creep_burst",
                 "decay_good", "decay_leak", "faults", "fault_noise", "fault_quantisation", "fault_lag",
                 "fault_drift", "fault_stuck", "fault_nack", "fault_dropout", "fault_open_loop",
                 "fault_rtd", "fault_link"):
        assert name in BUNDLED


def run_lockstep(scenario, step_s=1.0):
    """Step the rig through the scenario, reading every sensed quantity the
    way the emulators do; return the readings."""
    clock = SimClock()
    rig = Rig(boards.load("sim"), scenario, clock=clock)
    sensed = [rig.sensed(role, name) for role in rig.emulators for name in ROLE_QUANTITIES[role]]
    out = []
    steps = int(scenario.duration_s / step_s)
    for _ in range(steps):
        clock.advance_s(step_s)
        out.append(tuple(read() for read in sensed))
    return rig, out


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_runs_for_its_duration(name):
    scenario = load_scenario(name)
    assert scenario.name == name and scenario.description
    start = time.process_time()
    rig, readings = run_lockstep(scenario)
    assert time.process_time() - start < 5.0
    assert rig.scenario_time_s == pytest.approx(scenario.duration_s, abs=1.0)
    assert len(readings) == int(scenario.duration_s)
    assert all(r == r for row in readings for r in row)  # no NaN


def test_ms22_drains_over_many_hours_under_orbital_cycling():
    scenario = load_scenario("ms22")
    model = scenario.build_model()
    onset = scenario.model_kwargs["leaks"][0]().onset_s
    model.advance_to(onset)
    p_onset = model.loop_pressure_pa
    assert 250e3 < p_onset < 320e3
    model.advance_to(onset + 3600.0)
    assert 5.0 < model.leak_flow_ml_min < 100.0
    model.advance_to(onset + 10 * 3600.0)
    assert model.leak_flow_ml_min > 0.0  # still draining after 10 h
    model.advance_to(scenario.duration_s)
    assert model.liquid_lost_ml > 30000.0
    assert model.loop_pressure_pa < 50e3


def test_same_seed_same_run():
    scenario = load_scenario("faults")
    scenario.duration_s = 600.0
    _, a = run_lockstep(scenario)
    _, b = run_lockstep(scenario)
    assert a == b


def test_link_faults_reach_the_rig():
    rig = Rig(boards.load("sim"), load_scenario("fault_link"), clock=SimClock())
    assert rig.link_faults.plugged()
    rig.clock.advance_s(605.0)
    assert not rig.link_faults.plugged()


def test_load_by_path_and_search_path(tmp_path, monkeypatch):
    path = tmp_path / "mine.toml"
    path.write_text('duration_s = 10.0\n[temperature]\nprofile = "recorded"\ncsv = "t.csv"\n')
    (tmp_path / "t.csv").write_text("t_s,temperature_c\n0,20\n10,30\n")
    s = load_scenario(str(path))
    model = s.build_model()
    model.advance_to(5.0)
    assert model.loop_temperature_c == 25.0
    monkeypatch.setenv("LEAKRIG_SCENARIO_PATH", str(tmp_path))
    assert load_scenario("mine").path == path
    with pytest.raises(ValueError, match="Unknown scenario 'nope'.*nominal"):
        load_scenario("nope")
    with pytest.raises(ValueError, match="No such scenario file"):
        load_scenario(str(tmp_path / "absent.toml"))


@pytest.mark.parametrize("text,message", [
    ("[loop]\nvolume_l = 44\n", "duration_s: missing"),
    ("duration_s = 10\n[loop]\nvolum_l = 44\n", "loop.volum_l: unknown key"),
    ("duration_s = 10\n[loop]\nvolume_l = 'big'\n", "loop.volume_l: must be a number, got 'big'"),
    ("duration_s = 10\n[loop]\nfill_pressure_pa = -1\n", "loop.fill_pressure_pa: must be > 0"),
    ("duration_s = 10\n[loop]\ngas_volume_l = 5\ndp_dt_pa_per_k = 2000\n", "loop.dp_dt_pa_per_k: give"),
    ("duration_s = 10\n[loop]\ndp_dt_pa_per_k = 10\n", "dP/dT = 10.0"),
    ("duration_s = 10\n[[leaks]]\nkind = 'crack'\n", r"leaks\[0\].kind: must be one of rate, orifice"),
    ("duration_s = 10\n[[leaks]]\nkind = 'orifice'\n", r"leaks\[0\].diameter_mm: missing"),
    ("duration_s = 10\n[[leaks]]\nkind = 'rate'\nrate_ml_min = 1\nonset_s = 5\nend_s = 2\n",
     r"leaks\[0\].end_s: must be after onset_s"),
    ("duration_s = 10\n[temperature]\nprofile = 'orbital'\neclipse_s = 6000\n", "temperature.eclipse_s"),
    ("duration_s = 10\n[temperature]\nprofile = 'recorded'\ncsv = 'none.csv'\n", "temperature.csv: cannot read"),
    ("duration_s = 10\n[faults.loop_pressure.pressure]\nnoise = 3\n", "faults.loop_pressure.pressure.noise: unknown"),
    ("duration_s = 10\n[link]\ndrop_probability = 1.5\n", "link.drop_probability: must be <= 1"),
    ("duration_s = 10\nseed = 1.5\n", "seed: must be an integer"),
    ("duration_s = 10\nspeed = 3\n", "speed: unknown key"),
    ("duration_s = = 10\n", "not valid TOML"),
])
def test_malformed_scenario_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.toml: .*" + message):
        load_scenario(str(path))
