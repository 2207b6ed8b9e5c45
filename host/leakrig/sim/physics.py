"""Coolant loop physics: a closed loop of liquid coolant with a gas cushion,
whose pressure follows from a volume balance at the loop temperature, and
leaks that drain it. Equations and default values: docs/simulator.md,
"Physics". Plain floats only: the model runs in lockstep with the firmware."""
import math

from .profiles import Constant

KELVIN = 273.15
P_ATM_PA = 101325.0
_ML_MIN_PER_M3_S = 6.0e7
# Below this ΔP an orifice's flow is laminar (Re ~ 100 for a 1.5 mm hole in
# a glycol mix) and taken as linear in ΔP; this also keeps the drain
# equations non-stiff where sqrt(ΔP) has an infinite slope.
LAMINAR_DP_PA = 100.0
_ML_PER_KPA_PER_M3_PER_PA = 1.0e9


class Fluid:
    """A liquid coolant, linear about its reference state: volume per unit
    mass grows by expansion_per_k per kelvin and shrinks by
    compressibility_per_pa per pascal."""

    def __init__(self, density_kg_m3=1040.0, expansion_per_k=5.0e-4, compressibility_per_pa=3.8e-10,
                 reference_c=20.0, reference_pa=P_ATM_PA, name="propylene glycol/water 50 %"):
        if density_kg_m3 <= 0:
            raise ValueError("Not a valid density: {!r}".format(density_kg_m3))
        if compressibility_per_pa < 0:
            raise ValueError("Not a valid compressibility: {!r}".format(compressibility_per_pa))
        self.density_kg_m3 = float(density_kg_m3)
        self.expansion_per_k = float(expansion_per_k)
        self.compressibility_per_pa = float(compressibility_per_pa)
        self.reference_c = float(reference_c)
        self.reference_pa = float(reference_pa)
        self.name = name

    def density_at(self, pressure_pa, temperature_c):
        return self.density_kg_m3 / (1.0 + self.expansion_per_k * (temperature_c - self.reference_c)
                                     - self.compressibility_per_pa * (pressure_pa - self.reference_pa))


# --- leaks -------------------------------------------------------------------

class Leak:
    """When a leak is open and how big it is. Open from onset_s until end_s;
    intermittent when period_s is set (open for the first duty fraction of
    each period, counted from onset); growing when growth is "linear"
    (size × (1 + g·h)) or "exponential" (size × e^(g·h)), with g =
    growth_per_h and h the hours since onset, capped at max_factor."""

    def __init__(self, onset_s=0.0, end_s=None, period_s=None, duty=1.0, growth=None,
                 growth_per_h=0.0, max_factor=None):
        if period_s is not None and period_s <= 0:
            raise ValueError("Not a valid leak period: {!r}".format(period_s))
        if not 0.0 < duty <= 1.0:
            raise ValueError("Not a valid leak duty: {!r} (0 < duty <= 1)".format(duty))
        if growth not in (None, "none", "linear", "exponential"):
            raise ValueError("Not a valid leak growth: {!r} (none, linear, exponential)".format(growth))
        if end_s is not None and end_s <= onset_s:
            raise ValueError("Leak end {!r} s is not after its onset {!r} s".format(end_s, onset_s))
        self.onset_s = float(onset_s)
        self.end_s = math.inf if end_s is None else float(end_s)
        self.period_s = None if period_s is None else float(period_s)
        self.duty = float(duty)
        self.growth = None if growth == "none" else growth
        self.growth_per_h = float(growth_per_h)
        self.max_factor = math.inf if max_factor is None else float(max_factor)

    def is_open(self, t_s):
        if t_s < self.onset_s or t_s >= self.end_s:
            return False
        if self.period_s is None:
            return True
        return (t_s - self.onset_s) % self.period_s < self.duty * self.period_s

    def next_change_s(self, t_s):
        """The first time after t_s at which the leak opens or closes."""
        if t_s < self.onset_s:
            return self.onset_s
        if t_s >= self.end_s:
            return math.inf
        nxt = self.end_s
        if self.period_s is not None and self.duty < 1.0:
            k = math.floor((t_s - self.onset_s) / self.period_s)
            start = self.onset_s + k * self.period_s
            off = start + self.duty * self.period_s
            edge = off if t_s < off else start + self.period_s
            if edge <= t_s:  # rounding at an edge
                edge += self.duty * self.period_s
            nxt = min(nxt, edge)
        return nxt

    def size_factor(self, t_s):
        if self.growth is None:
            return 1.0
        hours = (t_s - self.onset_s) / 3600.0
        if self.growth == "linear":
            f = 1.0 + self.growth_per_h * hours
        else:
            f = math.exp(self.growth_per_h * hours)
        return max(0.0, min(f, self.max_factor))


class RateLeak(Leak):
    """A fixed volumetric rate of liquid (mL/min at loop conditions)."""

    def __init__(self, rate_ml_min, **when):
        super().__init__(**when)
        if rate_ml_min < 0:
            raise ValueError("Not a valid leak rate: {!r}".format(rate_ml_min))
        self.rate_ml_min = float(rate_ml_min)
        self._rate_m3_s = self.rate_ml_min / _ML_MIN_PER_M3_S

    def flow_m3_s(self, t_s, pressure_pa, ambient_pa, density_kg_m3, open_at_s=None):
        if not self.is_open(t_s if open_at_s is None else open_at_s):
            return 0.0
        return self._rate_m3_s * self.size_factor(t_s)

    def flow_slope_m3_s_per_pa(self, t_s, pressure_pa, ambient_pa, density_kg_m3):
        return 0.0


class OrificeLeak(Leak):
    """A hole: Q = Cd·A·sqrt(2·ΔP/ρ) with ΔP = loop − outlet pressure,
    linear in ΔP below LAMINAR_DP_PA; no flow when the outlet is at or above
    the loop pressure. The outlet is the
    ambient unless outlet_pressure_pa is set (a hole venting into a vacuum
    chamber while the rig's ambient reference stays in the lab)."""

    def __init__(self, diameter_mm, cd=0.61, outlet_pressure_pa=None, **when):
        super().__init__(**when)
        if outlet_pressure_pa is not None and outlet_pressure_pa < 0:
            raise ValueError("Not a valid outlet pressure: {!r}".format(outlet_pressure_pa))
        self.outlet_pressure_pa = None if outlet_pressure_pa is None else float(outlet_pressure_pa)
        if diameter_mm <= 0:
            raise ValueError("Not a valid orifice diameter: {!r}".format(diameter_mm))
        if not 0.0 < cd <= 1.0:
            raise ValueError("Not a valid discharge coefficient: {!r}".format(cd))
        self.diameter_mm = float(diameter_mm)
        self.cd = float(cd)
        self.area_m2 = math.pi * (self.diameter_mm * 1e-3) ** 2 / 4.0
        self._cda_m2 = self.cd * self.area_m2

    def flow_m3_s(self, t_s, pressure_pa, ambient_pa, density_kg_m3, open_at_s=None):
        if self.outlet_pressure_pa is not None:
            ambient_pa = self.outlet_pressure_pa
        dp = pressure_pa - ambient_pa
        if dp <= 0.0 or not self.is_open(t_s if open_at_s is None else open_at_s):
            return 0.0
        if dp < LAMINAR_DP_PA:
            q_t = self._cda_m2 * self.size_factor(t_s) * math.sqrt(2.0 * LAMINAR_DP_PA / density_kg_m3)
            return q_t * dp / LAMINAR_DP_PA
        return self._cda_m2 * self.size_factor(t_s) * math.sqrt(2.0 * dp / density_kg_m3)

    def flow_slope_m3_s_per_pa(self, t_s, pressure_pa, ambient_pa, density_kg_m3):
        if self.outlet_pressure_pa is not None:
            ambient_pa = self.outlet_pressure_pa
        dp = pressure_pa - ambient_pa
        if dp <= 0.0:
            return 0.0
        q = self.flow_m3_s(t_s, pressure_pa, ambient_pa, density_kg_m3)
        return q / dp if dp < LAMINAR_DP_PA else q / (2.0 * dp)


# --- the loop ----------------------------------------------------------------

class LoopModel:
    """The loop's state over scenario time (s from 0).

    model = LoopModel(leaks=[OrificeLeak(0.8, cd=0.05, onset_s=3600)])
    model.advance_to(7200.0); model.loop_pressure_pa

    loop_volume_l: internal volume at the fill state, gas cushion included.
    gas_volume_l: gas cushion volume at the fill state; when None it is sized
    so that dP/dT at the fill state is dp_dt_pa_per_k. The gas is ideal and
    at the loop temperature (isothermal with the liquid). temperature: a
    profile (callable t_s -> °C); default constant at fill_temperature_c.
    """

    def __init__(self, loop_volume_l=44.0, fill_pressure_pa=300000.0, fill_temperature_c=20.0,
                 gas_volume_l=None, dp_dt_pa_per_k=2000.0, fluid=None,
                 wall_compliance_per_pa=1.1e-10, wall_expansion_per_k=6.9e-5,
                 temperature=None, leaks=(), ambient_pressure_pa=P_ATM_PA, ambient_temperature_c=22.0,
                 max_step_s=1.0):
        if loop_volume_l <= 0:
            raise ValueError("Not a valid loop volume: {!r}".format(loop_volume_l))
        if fill_pressure_pa <= 0:
            raise ValueError("Not a valid fill pressure: {!r}".format(fill_pressure_pa))
        if ambient_pressure_pa < 0:
            raise ValueError("Not a valid ambient pressure: {!r}".format(ambient_pressure_pa))
        if wall_compliance_per_pa < 0:
            raise ValueError("Not a valid wall compliance: {!r}".format(wall_compliance_per_pa))
        if max_step_s <= 0:
            raise ValueError("Not a valid step: {!r}".format(max_step_s))
        self.fluid = fluid or Fluid()
        self.loop_volume_m3 = loop_volume_l * 1e-3
        self.fill_pressure_pa = float(fill_pressure_pa)
        self.fill_temperature_c = float(fill_temperature_c)
        self.wall_compliance_per_pa = float(wall_compliance_per_pa)
        self.wall_expansion_per_k = float(wall_expansion_per_k)
        self.temperature = temperature or Constant(fill_temperature_c)
        self.leaks = list(leaks)
        self._ambient_pa = float(ambient_pressure_pa)
        self._ambient_c = float(ambient_temperature_c)
        self.max_step_s = float(max_step_s)
        self.min_step_s = 1e-3

        if gas_volume_l is None:
            gas_m3 = self._gas_volume_for(dp_dt_pa_per_k)
        else:
            gas_m3 = gas_volume_l * 1e-3
        if not 0.0 <= gas_m3 < self.loop_volume_m3:
            raise ValueError("Not a valid gas cushion: {!r} L in a {!r} L loop".format(gas_m3 * 1e3, loop_volume_l))
        self.fill_gas_volume_m3 = gas_m3
        fill_tk = self.fill_temperature_c + KELVIN
        self.gas_constant_j_per_k = self.fill_pressure_pa * gas_m3 / fill_tk  # n·R
        liquid_m3 = self.loop_volume_m3 - gas_m3
        self.fill_mass_kg = liquid_m3 * self.fluid.density_at(self.fill_pressure_pa, self.fill_temperature_c)

        # Integration grid: state at _ta and _tb; queries interpolate between.
        t0 = 0.0
        self._ta = self._tb = t0
        self._ma = self._mb = self.fill_mass_kg
        self._va = self._vb = 0.0      # liquid lost, m³ at loop conditions
        self._t = None
        self._set_state(t0)

    # Fixed-state algebra ----------------------------------------------------
    def _gas_volume_for(self, dp_dt):
        """Gas cushion (m³) giving dP/dT = dp_dt (Pa/K) at the fill state."""
        f = self.fluid
        v0, p0 = self.loop_volume_m3, self.fill_pressure_pa
        tk = self.fill_temperature_c + KELVIN
        s = (1.0 + f.expansion_per_k * (self.fill_temperature_c - f.reference_c)
             - f.compressibility_per_pa * (p0 - f.reference_pa))
        beta, kappa = f.expansion_per_k / s, f.compressibility_per_pa / s
        num = v0 * (beta - self.wall_expansion_per_k - dp_dt * self.wall_compliance_per_pa - dp_dt * kappa)
        den = dp_dt / p0 - dp_dt * kappa + beta - 1.0 / tk
        gas = num / den if den != 0.0 else -1.0
        if not 0.0 < gas < v0:
            raise ValueError("No gas cushion gives dP/dT = {!r} Pa/K in this loop".format(dp_dt))
        return gas

    def _coefficients(self, mass_kg, temperature_c):
        """A, B, C of the volume balance A·P + B − C/P = 0 (wall volume minus
        liquid volume minus gas volume), linear in P apart from the gas."""
        f = self.fluid
        bulk = mass_kg / f.density_kg_m3  # m³ at the fluid's reference state
        v0 = self.loop_volume_m3
        a = v0 * self.wall_compliance_per_pa + bulk * f.compressibility_per_pa
        b = (v0 * (1.0 + self.wall_expansion_per_k * (temperature_c - self.fill_temperature_c)
                   - self.wall_compliance_per_pa * self.fill_pressure_pa)
             - bulk * (1.0 + f.expansion_per_k * (temperature_c - f.reference_c)
                       + f.compressibility_per_pa * f.reference_pa))
        c = self.gas_constant_j_per_k * (temperature_c + KELVIN)
        return a, b, c

    def pressure_at(self, mass_kg, temperature_c):
        """Loop pressure (Pa) holding mass_kg of liquid at temperature_c:
        the positive root of A·P² + B·P − C = 0."""
        a, b, c = self._coefficients(mass_kg, temperature_c)
        if b >= 0.0:
            root = math.sqrt(b * b + 4.0 * a * c)
            return 2.0 * c / (b + root) if b + root > 0.0 else 0.0
        return (-b + math.sqrt(b * b + 4.0 * a * c)) / (2.0 * a)

    def _liquid_volume_m3(self, mass_kg, pressure_pa, temperature_c):
        return mass_kg / self.fluid.density_at(pressure_pa, temperature_c)

    # Leak flow --------------------------------------------------------------
    def _flow(self, t_s, mass_kg, open_at_s=None):
        """(Q m³/s, P Pa, ρ kg/m³) at t_s with mass_kg of liquid left; which
        leaks are open is judged at open_at_s (default t_s)."""
        temp = self.temperature(t_s)
        p = self.pressure_at(mass_kg, temp)
        if mass_kg <= 0.0:
            return 0.0, p, self.fluid.density_kg_m3
        rho = self.fluid.density_at(p, temp)
        q = 0.0
        for leak in self.leaks:
            q += leak.flow_m3_s(t_s, p, self._ambient_pa, rho, open_at_s)
        return q, p, rho

    def _derivative(self, t_s, mass_kg, open_at_s):
        q, _, rho = self._flow(t_s, mass_kg, open_at_s)
        return -rho * q, q

    def _any_open(self, t0, t1):
        for leak in self.leaks:
            if leak.is_open(t0) or leak.next_change_s(t0) < t1:
                return True
        return False

    def _step(self):
        """One RK4 step from _tb; sized to stay below the drain's time
        constant and to end on a leak opening or closing."""
        t, m, v = self._tb, self._mb, self._vb
        nxt = math.inf
        for leak in self.leaks:
            nxt = min(nxt, leak.next_change_s(t))
        h = self.max_step_s
        stiff = False
        k1 = None
        if not self._any_open(t, nxt):
            # Nothing leaks until the next change: one step to it.
            h = nxt - t if nxt < math.inf else math.inf
        else:
            # Openness is constant on (t, nxt): judge it anywhere inside.
            inside = t + 0.5 * min(h, nxt - t)
            q, p, rho = self._flow(t, m, inside)
            k1 = (-rho * q, q)
            if q > 0.0:
                slope = sum(leak.flow_slope_m3_s_per_pa(t, p, self._ambient_pa, rho) for leak in self.leaks)
                if slope > 0.0:
                    tau = self._compliance_m3_per_pa(m, p, self.temperature(t)) / slope
                    stiff = 0.05 * tau < self.min_step_s
                    if not stiff:
                        h = min(h, 0.05 * tau)
            h = min(h, nxt - t)
        t1 = t + h
        if h == math.inf or not self._any_open(t, t1):
            m1, v1 = m, v
        elif stiff:
            m1, v1 = self._implicit_step(t, m, v, h)
        else:
            # Steps end on leak changes, so openness mid-step holds throughout.
            mid = t + 0.5 * h
            k1m, k1v = k1
            k2m, k2v = self._derivative(mid, m + 0.5 * h * k1m, mid)
            k3m, k3v = self._derivative(mid, m + 0.5 * h * k2m, mid)
            k4m, k4v = self._derivative(t1, m + h * k3m, mid)
            m1 = max(0.0, m + h * (k1m + 2.0 * k2m + 2.0 * k3m + k4m) / 6.0)
            v1 = v + h * (k1v + 2.0 * k2v + 2.0 * k3v + k4v) / 6.0
        self._ta, self._ma, self._va = t, m, v
        self._tb, self._mb, self._vb = t1, m1, v1

    def _implicit_step(self, t, m, v, h):
        """Backward Euler, m1 = m − h·ρQ(t1, m1): stable where the drain's
        time constant is far below the step (a liquid-full loop close to
        the outlet pressure). The root is bracketed and found by bisection."""
        t1 = t + h
        mid = t + 0.5 * h

        def residual(m1):
            q, _, rho = self._flow(t1, m1, mid)
            return m1 - m + h * rho * q

        q0, _, rho0 = self._flow(t1, m, mid)
        lo, hi = max(0.0, m - h * rho0 * q0), m
        if residual(lo) >= 0.0:
            hi = lo
        for _ in range(60):
            if hi - lo <= 1e-12 * m:
                break
            half = 0.5 * (lo + hi)
            if residual(half) > 0.0:
                hi = half
            else:
                lo = half
        m1 = 0.5 * (lo + hi)
        _, p1, _ = self._flow(t1, m1, mid)
        return m1, v + (m - m1) / self.fluid.density_at(p1, self.temperature(t1))

    def advance_to(self, t_s):
        """Bring the state to scenario time t_s (s). Time may not go back
        beyond the current integration step."""
        if t_s == self._t:
            return
        if t_s < self._ta:
            raise ValueError("Loop model time went back: {!r} s < {!r} s".format(t_s, self._ta))
        while t_s > self._tb:
            self._step()
        self._set_state(t_s)

    def _set_state(self, t_s):
        span = self._tb - self._ta
        if span > 0.0 and span != math.inf:
            w = (t_s - self._ta) / span
            m = self._ma + (self._mb - self._ma) * w
            v = self._va + (self._vb - self._va) * w
        else:
            m, v = self._mb, self._vb
        self._t = t_s
        self._m = m
        self._v_lost = v
        self._temp_c = self.temperature(t_s)
        self._p = self.pressure_at(m, self._temp_c)

    # State ------------------------------------------------------------------
    @property
    def time_s(self):
        return self._t

    @property
    def loop_pressure_pa(self):
        return self._p

    @property
    def loop_temperature_c(self):
        return self._temp_c

    @property
    def ambient_pressure_pa(self):
        return self._ambient_pa

    @property
    def ambient_temperature_c(self):
        return self._ambient_c

    @property
    def liquid_mass_kg(self):
        return self._m

    @property
    def liquid_lost_ml(self):
        """Liquid that left through the leaks, mL measured at loop conditions."""
        return self._v_lost * 1e6

    @property
    def liquid_volume_l(self):
        return self._liquid_volume_m3(self._m, self._p, self._temp_c) * 1e3

    @property
    def gas_volume_l(self):
        c = self.gas_constant_j_per_k * (self._temp_c + KELVIN)
        return c / self._p * 1e3 if self._p > 0.0 else math.inf

    @property
    def liquid_density_kg_m3(self):
        return self.fluid.density_at(self._p, self._temp_c)

    @property
    def leak_flow_ml_min(self):
        """Total leak flow now, mL/min of liquid at loop conditions."""
        q, _, _ = self._flow(self._t, self._m)
        return q * _ML_MIN_PER_M3_S

    def _compliance_m3_per_pa(self, mass_kg, pressure_pa, temperature_c):
        a, _, c = self._coefficients(mass_kg, temperature_c)
        return a + c / (pressure_pa * pressure_pa) if pressure_pa > 0.0 else math.inf

    def compliance_ml_per_kpa(self):
        """dV/dP at the current state and temperature: mL of liquid (at loop
        conditions) to remove per kPa of pressure drop (gas + liquid + wall)."""
        return self._compliance_m3_per_pa(self._m, self._p, self._temp_c) * _ML_PER_KPA_PER_M3_PER_PA

    def dp_dt_pa_per_k(self):
        """Thermal sensitivity dP/dT (Pa/K) at the current state, no leak."""
        a, b, c = self._coefficients(self._m, self._temp_c)
        f = self.fluid
        bulk = self._m / f.density_kg_m3
        # ∂(balance)/∂T over ∂(balance)/∂P, balance = A·P + B − C/P.
        d_dt = (self.loop_volume_m3 * self.wall_expansion_per_k - bulk * f.expansion_per_k
                - self.gas_constant_j_per_k / self._p)
        d_dp = a + c / (self._p * self._p)
        return -d_dt / d_dp
