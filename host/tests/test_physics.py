"""Loop physics against closed-form results (docs/simulator.md, "Physics")."""
import math
import time

import pytest

from leakrig.sim.physics import KELVIN, Fluid, LoopModel, OrificeLeak, RateLeak
from leakrig.sim.profiles import Constant, Orbital, Ramp, Recorded, Sine

V0_M3 = 44e-3
P0_PA = 300000.0
T0_C = 20.0
GAS_M3 = 5.0e-3
KAPPA = 3.8e-10
C_WALL = 1.1e-10
BETA = 5.0e-4
BETA_WALL = 6.9e-5


def rigid_ideal(**kw):
    """Incompressible, non-expanding liquid in a rigid wall: only the gas is
    compliant, so closed forms are exact."""
    args = dict(fluid=Fluid(1000.0, 0.0, 0.0), wall_compliance_per_pa=0.0, wall_expansion_per_k=0.0,
                gas_volume_l=GAS_M3 * 1e3, fill_pressure_pa=P0_PA, fill_temperature_c=T0_C)
    args.update(kw)
    return LoopModel(**args)


def test_defaults_reproduce_the_ms22_loop():
    m = LoopModel()
    assert m.loop_pressure_pa == pytest.approx(300000.0, rel=1e-9)
    assert m.dp_dt_pa_per_k() == pytest.approx(2000.0, rel=1e-3)
    assert 3.0 < m.gas_volume_l < 8.0
    assert m.liquid_volume_l + m.gas_volume_l == pytest.approx(44.0, rel=1e-9)


# -- compliance -----------------------------------------------------------------

def analytic_compliance_ml_per_kpa(gas_m3, p_pa):
    liquid_m3 = V0_M3 - gas_m3
    return (gas_m3 / p_pa + liquid_m3 * KAPPA + V0_M3 * C_WALL) * 1e9


@pytest.mark.parametrize("gas_l,removed_ml", [(5.0, 10.0), (0.5, 1.0), (0.0, 0.05)])
def test_compliance_matches_small_signal_analytic(gas_l, removed_ml):
    gas_m3 = gas_l * 1e-3
    m = LoopModel(gas_volume_l=gas_l, fluid=Fluid(1040.0, BETA, KAPPA), wall_compliance_per_pa=C_WALL,
                  leaks=[RateLeak(removed_ml, end_s=60.0)])
    analytic = analytic_compliance_ml_per_kpa(gas_m3, P0_PA)
    assert m.compliance_ml_per_kpa() == pytest.approx(analytic, rel=1e-3)
    m.advance_to(120.0)
    assert m.liquid_lost_ml == pytest.approx(removed_ml, rel=1e-9)
    measured = removed_ml / ((P0_PA - m.loop_pressure_pa) / 1e3)
    assert measured == pytest.approx(analytic, rel=0.01)


def test_isothermal_gas_law():
    m = rigid_ideal(leaks=[RateLeak(1000.0, end_s=120.0)])  # 2 L out
    m.advance_to(200.0)
    assert m.liquid_lost_ml == pytest.approx(2000.0, rel=1e-9)
    assert m.loop_pressure_pa == pytest.approx(P0_PA * GAS_M3 / (GAS_M3 + 2e-3), rel=1e-9)
    assert m.loop_pressure_pa * m.gas_volume_l == pytest.approx(P0_PA * GAS_M3 * 1e3, rel=1e-9)


def test_gas_at_constant_volume_follows_its_temperature():
    m = rigid_ideal(temperature=Ramp(T0_C, 50.0, 100.0))
    m.advance_to(150.0)
    assert m.loop_pressure_pa == pytest.approx(P0_PA * (50.0 + KELVIN) / (T0_C + KELVIN), rel=1e-9)


# -- thermal response -----------------------------------------------------------

def analytic_dp_dt(gas_m3):
    liquid_m3 = V0_M3 - gas_m3
    num = liquid_m3 * BETA - V0_M3 * BETA_WALL + gas_m3 / (T0_C + KELVIN)
    den = V0_M3 * C_WALL + liquid_m3 * KAPPA + gas_m3 / P0_PA
    return num / den


@pytest.mark.parametrize("gas_l", [5.0, 1.0, 0.0])
def test_thermal_dp_dt_matches_analytic(gas_l):
    m = LoopModel(gas_volume_l=gas_l, fluid=Fluid(1040.0, BETA, KAPPA), wall_compliance_per_pa=C_WALL,
                  wall_expansion_per_k=BETA_WALL)
    analytic = analytic_dp_dt(gas_l * 1e-3)
    assert m.dp_dt_pa_per_k() == pytest.approx(analytic, rel=1e-3)
    dt = 0.05
    fd = (m.pressure_at(m.fill_mass_kg, T0_C + dt) - m.pressure_at(m.fill_mass_kg, T0_C - dt)) / (2 * dt)
    assert fd == pytest.approx(analytic, rel=0.01)


def test_gas_cushion_sized_for_the_asked_dp_dt():
    for target in (1500.0, 2000.0, 8000.0):
        m = LoopModel(dp_dt_pa_per_k=target)
        assert analytic_dp_dt(m.fill_gas_volume_m3) == pytest.approx(target, rel=0.01)


def test_temperature_ramp_moves_pressure_by_dp_dt():
    m = LoopModel(temperature=Ramp(T0_C, T0_C + 0.5, 60.0))
    m.advance_to(100.0)
    assert m.loop_pressure_pa - P0_PA == pytest.approx(0.5 * 2000.0, rel=0.01)


def test_unreachable_dp_dt_is_refused():
    # Below P/T (gas alone) or above the liquid-full loop's value, no cushion fits.
    for target in (500.0, 1e9):
        with pytest.raises(ValueError, match="dP/dT"):
            LoopModel(dp_dt_pa_per_k=target)


# -- orifice drain ---------------------------------------------------------------

def test_orifice_drain_to_vacuum_matches_closed_form():
    """Gas-cushioned vessel through an orifice into vacuum: with P·Vg constant,
    (2/3)(Vg^1.5 − Vg0^1.5) = k·sqrt(P0·Vg0)·t, k = Cd·A·sqrt(2/ρ)."""
    leak = OrificeLeak(0.8, cd=0.61)
    m = rigid_ideal(ambient_pressure_pa=0.0, leaks=[leak])
    k = leak.cd * leak.area_m2 * math.sqrt(2.0 / 1000.0)
    worst = 0.0
    for t in (60.0, 600.0, 1800.0, 3600.0, 7200.0):
        m.advance_to(t)
        vg = (GAS_M3 ** 1.5 + 1.5 * k * math.sqrt(P0_PA * GAS_M3) * t) ** (2.0 / 3.0)
        p = P0_PA * GAS_M3 / vg
        worst = max(worst, abs(m.loop_pressure_pa / p - 1.0))
        assert m.liquid_lost_ml == pytest.approx((vg - GAS_M3) * 1e6, rel=0.01)
        flow = k * math.sqrt(p) * 6e7
        assert m.leak_flow_ml_min == pytest.approx(flow, rel=0.01)
    assert worst < 1e-4


def test_liquid_full_vessel_drains_to_ambient_in_closed_form():
    """No gas: a stiff, linear compliance C. sqrt(ΔP) falls linearly and
    reaches zero at t_end = 2·C·sqrt(ΔP0)/k."""
    leak = OrificeLeak(0.8, cd=0.61)
    fluid = Fluid(1000.0, 0.0, KAPPA)
    m = LoopModel(gas_volume_l=0.0, fluid=fluid, wall_compliance_per_pa=C_WALL, leaks=[leak])
    c = m.compliance_ml_per_kpa() / 1e9
    k = leak.cd * leak.area_m2 * math.sqrt(2.0 / fluid.density_at(P0_PA, T0_C))
    dp0 = P0_PA - m.ambient_pressure_pa
    t_end = 2.0 * c * math.sqrt(dp0) / k
    for frac in (0.1, 0.25, 0.5, 0.75):
        m.advance_to(frac * t_end)
        dp = (math.sqrt(dp0) * (1.0 - frac)) ** 2
        assert m.loop_pressure_pa - m.ambient_pressure_pa == pytest.approx(dp, rel=0.01)
    m.advance_to(2.0 * t_end)
    assert m.loop_pressure_pa == pytest.approx(m.ambient_pressure_pa, abs=50.0)
    assert m.leak_flow_ml_min < 1.0
    m.advance_to(3600.0)  # flow has stopped: the model does not crawl
    assert m.loop_pressure_pa == pytest.approx(m.ambient_pressure_pa, abs=50.0)


def test_no_flow_into_the_loop_when_ambient_is_higher():
    m = LoopModel(fill_pressure_pa=90000.0, leaks=[OrificeLeak(1.0)])
    m.advance_to(600.0)
    assert m.liquid_lost_ml == 0.0
    assert m.loop_pressure_pa == pytest.approx(90000.0)


def test_drain_stops_when_the_liquid_is_gone():
    m = LoopModel(ambient_pressure_pa=0.0, leaks=[OrificeLeak(2.0)])
    m.advance_to(6 * 3600.0)
    liquid_ml = (44.0 - m.fill_gas_volume_m3 * 1e3) * 1e3
    assert m.liquid_lost_ml == pytest.approx(liquid_ml, rel=0.01)
    assert m.liquid_mass_kg == 0.0
    assert m.leak_flow_ml_min == 0.0
    # the gas cushion now fills the loop
    assert m.loop_pressure_pa == pytest.approx(P0_PA * m.fill_gas_volume_m3 / V0_M3, rel=0.01)


# -- fixed-rate leaks --------------------------------------------------------------

def test_fixed_rate_leak_mass_balance_during_orbital_cycling():
    orbit = Orbital()
    leak = RateLeak(0.5, onset_s=600.0, end_s=3000.0)  # 20 mL: small against the 5 L cushion
    m = LoopModel(temperature=orbit, leaks=[leak])
    ref = LoopModel(temperature=orbit)
    t = 2 * orbit.period_s
    m.advance_to(t)
    ref.advance_to(t)
    assert m.liquid_lost_ml == pytest.approx(20.0, rel=1e-9)
    lost_kg = m.fill_mass_kg - m.liquid_mass_kg
    assert lost_kg == pytest.approx(0.02 * 1.040, rel=0.01)
    drop_kpa = (ref.loop_pressure_pa - m.loop_pressure_pa) / 1e3
    # The liquid left warm; what counts now is its volume at today's temperature.
    lost_now_ml = lost_kg / ref.liquid_density_kg_m3 * 1e6
    assert drop_kpa == pytest.approx(lost_now_ml / ref.compliance_ml_per_kpa(), rel=0.01)


def test_intermittent_leak_is_open_for_its_duty():
    m = LoopModel(leaks=[RateLeak(4.0, period_s=600.0, duty=0.25)])
    m.advance_to(3600.0)
    assert m.liquid_lost_ml == pytest.approx(4.0 * 3600.0 * 0.25 / 60.0, rel=1e-9)
    m.advance_to(3600.0 + 100.0)
    assert m.leak_flow_ml_min == pytest.approx(4.0)
    m.advance_to(3600.0 + 200.0)
    assert m.leak_flow_ml_min == 0.0


@pytest.mark.parametrize("growth,expected_ml", [
    ("linear", 2.0 * (7200.0 + 0.5 * 7200.0 ** 2 / 3600.0) / 60.0),
    ("exponential", 2.0 * 3600.0 / 60.0 * (math.exp(2.0) - 1.0)),
])
def test_growing_leak(growth, expected_ml):
    m = LoopModel(leaks=[RateLeak(2.0, growth=growth, growth_per_h=1.0)])
    m.advance_to(7200.0)
    assert m.liquid_lost_ml == pytest.approx(expected_ml, rel=1e-6)


def test_leaks_add_up_and_growth_is_capped():
    m = LoopModel(leaks=[RateLeak(1.0), RateLeak(1.0, growth="linear", growth_per_h=10.0, max_factor=3.0)])
    m.advance_to(3600.0)
    assert m.leak_flow_ml_min == pytest.approx(4.0)


def test_time_may_not_go_back():
    m = LoopModel(leaks=[RateLeak(1.0)])
    m.advance_to(100.0)
    with pytest.raises(ValueError, match="went back"):
        m.advance_to(10.0)


# -- profiles -----------------------------------------------------------------------

def test_orbital_cycle_period_and_eclipse_fraction():
    orbit = Orbital()
    assert orbit.period_s == 92 * 60 and orbit.eclipse_s == 36 * 60
    dt = 1.0
    n = int(orbit.period_s / dt)
    temps = [orbit(i * dt) for i in range(3 * n + 1)]
    for i in range(0, n, 97):
        assert temps[i + n] == pytest.approx(temps[i], abs=1e-9)
        assert temps[i + 2 * n] == pytest.approx(temps[i], abs=1e-9)
    cooling = sum(1 for a, b in zip(temps, temps[1:]) if b < a)
    assert cooling / (3 * n) == pytest.approx(36.0 / 92.0, rel=0.01)
    eclipse = sum(1 for i in range(n) if orbit.in_eclipse(i * dt))
    assert eclipse / n == pytest.approx(36.0 / 92.0, rel=0.001)
    # continuous at sunrise and sunset (periodic steady state)
    assert orbit(orbit.sun_s - 1e-6) == pytest.approx(orbit(orbit.sun_s), abs=1e-4)
    assert orbit(orbit.period_s - 1e-6) == pytest.approx(orbit(0.0), abs=1e-4)
    assert orbit.cold_c < min(temps) < max(temps) < orbit.hot_c


def test_orbital_cycle_settable():
    orbit = Orbital(hot_c=40.0, cold_c=-10.0, period_s=5400.0, eclipse_s=1800.0, tau_s=0.0)
    assert orbit(10.0) == 40.0 and orbit(3700.0) == -10.0


def test_simple_profiles():
    assert Constant(21.5)(1e6) == 21.5
    ramp = Ramp(20.0, 30.0, 100.0, start_s=50.0)
    assert (ramp(0.0), ramp(100.0), ramp(1000.0)) == (20.0, 25.0, 30.0)
    sine = Sine(20.0, 5.0, 400.0)
    assert sine(100.0) == pytest.approx(25.0) and sine(300.0) == pytest.approx(15.0)


def test_recorded_profile(tmp_path):
    path = tmp_path / "temps.csv"
    path.write_text("t_s,temperature_c\n0,20\n10,30\n20,10\n")
    prof = Recorded(path)
    assert (prof(-5.0), prof(5.0), prof(15.0), prof(99.0)) == (20.0, 25.0, 20.0, 10.0)
    assert Recorded(path, repeat=True)(25.0) == 25.0
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,temperature_c\n0,20\n0,21\n")
    with pytest.raises(ValueError, match="bad.csv:3"):
        Recorded(bad)


# -- speed ----------------------------------------------------------------------------

def test_eight_hours_at_10_hz_is_fast():
    m = LoopModel(temperature=Orbital(), ambient_pressure_pa=0.0,
                  leaks=[RateLeak(1.0), OrificeLeak(0.8, cd=0.1, onset_s=4 * 3600.0)])
    start = time.process_time()
    for i in range(8 * 3600 * 10):
        m.advance_to(i * 0.1)
        m.loop_pressure_pa, m.loop_temperature_c
    assert time.process_time() - start < 4.0
