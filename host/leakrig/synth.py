"""Seeded synthetic rig traces for the detector's tests and benchmarks: a
loop with a gas cushion breathing with temperature (orbital sun/eclipse
cycle), a lagging temperature sensor, noise, and leaks of known rate."""
import math
import random

ORBIT_S = 92 * 60.0
ECLIPSE_S = 36 * 60.0


class Trace:
    """Sample generator. Every quantity in SI units; `truth_rate_pa_s(t)` is
    the leak's own pressure slope (negative when falling)."""

    def __init__(self, seed=1, dt=0.1, p0_pa=300000.0, pa_per_k=2000.0, t0_c=20.0,
                 orbital_k=5.0, loop_tau_s=900.0, radiator_tau_s=300.0, sensor_tau_s=30.0, p_noise_pa=20.0,
                 t_noise_c=0.005, t_quant_c=0.0, p_quant_pa=0.0, ramp_k_per_h=0.0,
                 compliance_ml_per_kpa=3.3, leak_ml_min=0.0, leak_onset_s=None,
                 orifice_mm=0.0, orifice_cd=0.6, orifice_onset_s=None, density=1000.0,
                 back_pressure_pa=0.0):
        self.rng = random.Random(seed)
        self.dt = dt
        self.p0 = p0_pa
        self.k = pa_per_k
        self.t0 = t0_c
        self.orbital_k = orbital_k
        self.loop_tau = loop_tau_s
        self.rad_tau = radiator_tau_s
        self.sensor_tau = sensor_tau_s
        self.p_noise = p_noise_pa
        self.t_noise = t_noise_c
        self.t_quant = t_quant_c
        self.p_quant = p_quant_pa
        self.ramp = ramp_k_per_h / 3600.0
        self.c = compliance_ml_per_kpa
        self.leak_pa_s = -leak_ml_min * 1000.0 / 60.0 / compliance_ml_per_kpa
        self.leak_onset = leak_onset_s
        self.hole_area = math.pi * (orifice_mm * 1e-3) ** 2 / 4.0
        self.cd = orifice_cd
        self.orifice_onset = orifice_onset_s
        self.rho = density
        self.p_back = back_pressure_pa
        # start the fluid on its periodic orbit so there is no start-up transient
        self.t_fluid = t0_c
        self.t_rad = t0_c
        for _ in range(4):
            self._run_fluid(ORBIT_S, 5.0)
        self.t_sensor = self.t_fluid
        self.lost_pa = 0.0
        self.t = 0.0

    def _sink(self, t):
        """Temperature the fluid relaxes to: hot in sunlight, cold in eclipse."""
        if self.orbital_k == 0:
            return self.t0 + self.ramp * t
        phase = t % ORBIT_S
        hot = phase < ORBIT_S - ECLIPSE_S
        return self.t0 + self.ramp * t + (1.45 * self.orbital_k if hot else -1.45 * self.orbital_k)

    def _advance(self, t, step):
        # radiator node, then the fluid behind it: the fluid's heating rate
        # changes over minutes at a sun/eclipse transition, not at once
        self.t_rad += step / self.rad_tau * (self._sink(t) - self.t_rad)
        self.t_fluid += step / self.loop_tau * (self.t_rad - self.t_fluid)

    def _run_fluid(self, span, step):
        t = 0.0
        while t < span:
            self._advance(t, step)
            t += step

    def leak_rate_pa_s(self, pressure_pa=None):
        rate = 0.0
        if self.leak_onset is not None and self.t >= self.leak_onset:
            rate += self.leak_pa_s
        if self.orifice_onset is not None and self.t >= self.orifice_onset:
            p = self.p_true if pressure_pa is None else pressure_pa
            dp = max(0.0, p - self.p_back)
            q_m3_s = self.cd * self.hole_area * math.sqrt(2.0 * dp / self.rho)
            rate -= q_m3_s * 1e6 / self.c * 1000.0  # mL/s over mL/kPa, in Pa/s
        return rate

    @property
    def p_true(self):
        return self.p0 + self.k * (self.t_fluid - self.t0) - self.lost_pa

    def step(self):
        """Advance one sample; return (t_s, pressure_pa, temperature_c)."""
        dt = self.dt
        self.t += dt
        self._advance(self.t, dt)
        self.t_sensor += dt / self.sensor_tau * (self.t_fluid - self.t_sensor)
        self.lost_pa -= self.leak_rate_pa_s() * dt
        p = self.p_true + self.rng.gauss(0.0, self.p_noise)
        temp = self.t_sensor + self.rng.gauss(0.0, self.t_noise)
        if self.p_quant:
            p = round(p / self.p_quant) * self.p_quant
        if self.t_quant:
            temp = round(temp / self.t_quant) * self.t_quant
        return self.t, max(p, 0.0), temp

    def samples(self, seconds):
        for _ in range(int(round(seconds / self.dt))):
            yield self.step()
