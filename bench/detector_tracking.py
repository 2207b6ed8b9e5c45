"""Rate tracking through a whole leak under orbital thermal cycling: the
firmware's detector (default parameters) on the rig simulator's loop physics
(44 L, 300 kPa, gas cushion, +-5 K orbital cycling), read by a pressure sensor
with 20 Pa white noise and a temperature sensor with 0.01 K noise and a 30 s
lag, in lockstep (no virtual board). Leak opens 3 h in (after the 2 h
learning period), at two phases of the orbit, and stays open 2 h:

    drain   an orifice into vacuum, MS-22 type (0.8 mm, Cd 0.1): about
            -70 Pa/s at the onset, -9 Pa/s 2 h later, the pressure down to
            130 kPa
    seep    a constant 5 mL/min (about -5 Pa/s)

each at 10 Hz and at 1 Hz. The true rate is the leak's own dP/dt at constant
temperature from the physics (-flow / compliance at the present state); the
true time to min_pressure_pa is the drain with the temperature held where it
is now, integrated from the present liquid mass.

Figures per case, `name: value` (targets: docs/detector.md, issue #17), from
60 s after leak_detected to the end of the run, the rate sampled every second:

rate_err_median_pct / rate_err_p95_pct   |rate - true| / |true|  (<= 10 / <= 30)
sigma_median_pct     the rate's sigma over |true| (how wide the band is; no target)
cover_2sigma_pct     time |rate - true| <= 2 sigma                 (>= 90)
wrong_sign_pct       time the rate is >= 0 while the truth falls     (0)
pc_jump_sigma        largest step of compensated_pa between samples, over the
                     noise of those steps (local mean removed; robust sigma of
                     the steps in the same 10 min)                         (<= 5)
ttm_err_median_pct / ttm_err_max_pct     |time_to_min - true| / true, every
                     10 s from 10 min after the onset while the true time is
                     at least TTM_FLOOR_S (a relative error of a forecast
                     seconds ahead means nothing) (drain only; <= 20 for the max)

Run: python bench/detector_tracking.py [case ...]  (a few minutes on 2 cores)."""
import math
import os
import random
import sys
import time
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "host"))
from leakrig import fwpath  # noqa: E402
from leakrig.sim import physics, profiles  # noqa: E402

fwpath.ensure()
from leakrig_fw.detector import Detector  # noqa: E402

SIGMA_PA = 20.0
T_NOISE_C = 0.01
T_LAG_S = 30.0
ONSETS_S = (10800.0, 10800.0 + 2760.0)   # two phases of the 92 min orbit
LEAK_S = 7200.0
MIN_PA = 150000.0
SETTLE_S = 60.0       # after leak_detected, before the rate is judged
TTM_FROM_S = 600.0    # after the onset, before the forecast is judged
JUMP_BLOCK_S = 600.0  # steps of pc are judged against the noise of their 10 min
TTM_FLOOR_S = 600.0   # the forecast is judged while the true time left is longer
CASES = {
    "drain_10hz": ("drain", 0.1),
    "drain_1hz": ("drain", 1.0),
    "seep_10hz": ("seep", 0.1),
    "seep_1hz": ("seep", 1.0),
}
FIGURES = ("detect_delay_s", "rate_err_median_pct", "rate_err_p95_pct", "sigma_median_pct", "cover_2sigma_pct",
           "wrong_sign_pct", "pc_jump_sigma", "ttm_err_median_pct", "ttm_err_max_pct")
TARGETS = {"rate_err_median_pct": "<=10", "rate_err_p95_pct": "<=30", "cover_2sigma_pct": ">=90",
           "wrong_sign_pct": "0", "pc_jump_sigma": "<=5", "ttm_err_max_pct": "<=20 (drain)"}


def make_leak(kind, onset):
    if kind == "drain":
        return physics.OrificeLeak(0.8, cd=0.1, outlet_pressure_pa=0.0, onset_s=onset)
    return physics.RateLeak(5.0, onset_s=onset)


class Rig:
    """The loop physics read through noisy sensors; the temperature sensor
    lags the fluid with a first-order time constant."""

    def __init__(self, kind, onset, dt, seed):
        self.leak = make_leak(kind, onset)
        self.model = physics.LoopModel(temperature=profiles.Orbital(hot_c=25.0, cold_c=15.0),
                                       leaks=[self.leak])
        self.dt = dt
        self.rng = random.Random(seed)
        self.i = 0
        self.model.advance_to(0.0)
        self.t_sensor = self.model.loop_temperature_c

    def next(self):
        self.i += 1
        t = self.i * self.dt
        m = self.model
        m.advance_to(t)
        self.t_sensor += self.dt / (T_LAG_S + self.dt) * (m.loop_temperature_c - self.t_sensor)
        p = m.loop_pressure_pa + self.rng.gauss(0.0, SIGMA_PA)
        return t, p, self.t_sensor + self.rng.gauss(0.0, T_NOISE_C)

    def true_rate_pa_s(self):
        m = self.model
        return -m.leak_flow_ml_min / 60.0 / m.compliance_ml_per_kpa() * 1000.0

    def true_ttm_s(self, target_pa, step_s=10.0, limit_s=86400.0):
        """Time for the leak alone to bring the loop to target_pa with the
        temperature held at its present value (RK4 on the liquid mass)."""
        m = self.model
        temp = m.loop_temperature_c
        t_now = m.time_s
        mass = m.liquid_mass_kg

        def dmdt(mass):
            p = m.pressure_at(mass, temp)
            rho = m.fluid.density_at(p, temp)
            return -rho * self.leak.flow_m3_s(t_now, p, m.ambient_pressure_pa, rho)

        p = m.pressure_at(mass, temp)
        if p <= target_pa:
            return 0.0
        t = 0.0
        while t < limit_s:
            k1 = dmdt(mass)
            k2 = dmdt(mass + 0.5 * step_s * k1)
            k3 = dmdt(mass + 0.5 * step_s * k2)
            k4 = dmdt(mass + step_s * k3)
            m1 = mass + step_s * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
            p1 = m.pressure_at(m1, temp)
            if p1 <= target_pa:
                return t + step_s * (p - target_pa) / (p - p1)
            mass, p, t = m1, p1, t + step_s
        return math.inf


def percentile(values, q):
    s = sorted(values)
    if not s:
        return math.nan
    k = q * (len(s) - 1)
    lo = int(math.floor(k))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def jump_sigma(pc, span, block):
    """Largest step of pc between samples over the robust noise of the steps
    around it: each step taken about its local mean (2 span + 1 steps), its
    noise the robust sigma of those steps in its block of `block` steps.
    The noise is taken per block because it is not the same through a
    drain: the temperature's share of pc scales with the gas pressure,
    which falls, so a sigma of the whole run would be that of its quiet
    end and call the noise of its start steps."""
    d = [b - a for a, b in zip(pc, pc[1:])]
    n = len(d)
    if n < 4 * span + 2:
        return math.nan
    csum = [0.0]
    for x in d:
        csum.append(csum[-1] + x)
    e = []
    for i in range(span, n - span):
        e.append(d[i] - (csum[i + span + 1] - csum[i - span]) / (2 * span + 1))
    worst = 0.0
    nb = max(1, len(e) // block)
    for b in range(nb):
        part = e[b * block:(b + 1) * block if b < nb - 1 else len(e)]
        mad = percentile([abs(x) for x in part], 0.5) * 1.4826
        if mad <= 0.0:
            return math.inf
        worst = max(worst, max(abs(x) for x in part) / mad)
    return worst


def run_case(args):
    """One leak: the figures' raw material for one onset."""
    name, onset, seed = args
    kind, dt = CASES[name]
    rig = Rig(kind, onset, dt, seed)
    det = Detector()
    every = int(round(1.0 / dt))
    detected = None
    errs = []
    sigmas = []
    covered = 0
    wrong = 0
    ttm_errs = []
    pc = []
    end = onset + LEAK_S
    alarms_before = 0
    ttm_done = kind != "drain"
    while True:
        t, p, temp = rig.next()
        if t > end + 1e-9:
            break
        ev = det.update(t, p, temp)
        while ev:
            if ev in ("leak_detected", "gross_leak") and t < onset:
                alarms_before += 1
            if ev in ("leak_detected", "gross_leak") and detected is None and t >= onset:
                detected = t
            ev = det.pending()
        if detected is None or t < detected + SETTLE_S:
            continue
        pc.append(det.compensated_pa)
        if rig.i % every:
            continue
        true = rig.true_rate_pa_s()
        r = det.rate_pa_s
        errs.append(abs(r - true) / abs(true))
        sigmas.append(det.rate_sigma_pa_s / abs(true))
        if abs(r - true) <= 2.0 * det.rate_sigma_pa_s:
            covered += 1
        if r >= 0.0:
            wrong += 1
        if not ttm_done and t >= onset + TTM_FROM_S and rig.i % (10 * every) == 0:
            if rig.model.loop_pressure_pa <= MIN_PA:
                ttm_done = True
            else:
                truth = rig.true_ttm_s(MIN_PA)
                got = det.time_to_min_s
                if truth < TTM_FLOOR_S:
                    ttm_done = True
                else:
                    ttm_errs.append(abs(got - truth) / truth if got is not None else math.inf)
    return {"name": name, "onset": onset, "delay": None if detected is None else detected - onset,
            "errs": errs, "sigmas": sigmas, "covered": covered, "wrong": wrong, "ttm": ttm_errs,
            "jump": jump_sigma(pc, max(3, int(round(10.0 / dt))), int(round(JUMP_BLOCK_S / dt))), "alarms_before": alarms_before}


def figures(parts):
    errs = [e for r in parts for e in r["errs"]]
    n = len(errs)
    ttm = [e for r in parts for e in r["ttm"]]
    delays = [r["delay"] for r in parts]
    out = {
        "detect_delay_s": max(delays) if None not in delays else math.inf,
        "rate_err_median_pct": 100.0 * percentile(errs, 0.5),
        "rate_err_p95_pct": 100.0 * percentile(errs, 0.95),
        "sigma_median_pct": 100.0 * percentile([e for r in parts for e in r["sigmas"]], 0.5),
        "cover_2sigma_pct": 100.0 * sum(r["covered"] for r in parts) / n if n else math.nan,
        "wrong_sign_pct": 100.0 * sum(r["wrong"] for r in parts) / n if n else math.nan,
        "pc_jump_sigma": max(r["jump"] for r in parts),
        "ttm_err_median_pct": 100.0 * percentile(ttm, 0.5) if ttm else math.nan,
        "ttm_err_max_pct": 100.0 * max(ttm) if ttm else math.nan,
    }
    return out, sum(r["alarms_before"] for r in parts)


def main():
    names = [a for a in sys.argv[1:] if a in CASES] or list(CASES)
    t0 = time.monotonic()
    jobs = [(name, onset, 17 + j) for name in names for j, onset in enumerate(ONSETS_S)]
    with Pool(2) as pool:
        results = pool.map(run_case, jobs, chunksize=1)
    table = {}
    for name in names:
        parts = [r for r in results if r["name"] == name]
        fig, before = figures(parts)
        table[name] = fig
        for key in FIGURES:
            print("%s_%s: %.1f" % (name, key, fig[key]))
        print("%s_alarms_before_onset: %d" % (name, before))
    print()
    print("%-22s" % "figure" + "".join("%12s" % n for n in names) + "   target")
    for key in FIGURES:
        print("%-22s" % key + "".join("%12.1f" % table[n][key] for n in names) + "   " + TARGETS.get(key, ""))
    print("bench_wall_s: %.0f" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
