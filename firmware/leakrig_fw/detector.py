# Leak detector for a closed coolant loop: removes the loop's learned thermal
# response from the pressure, judges the compensated slope with a sequential
# ramp test designed for a stated false-alarm run length, rates and forecasts.
# Shared unchanged by the firmware and the host; see docs/detector.md.
import math
from array import array

from leakrig_fw.tracker import LeakTracker

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_NF = const(5)          # thermal model features: 1, T, dT/dt, time, T^2
_NS = const(4)          # windowed signals: moving averages of pressure, T, dT/dt, T^2
# The last readings of pressure and temperature, for the moving average: its
# span is temp_window_s * dt^(1/3), 70 samples at 10 Hz, capped at 255
# samples from about 55 Hz up.
_DELAY_RING = const(256)
# Raw pressure for the gross trip: its windows (up to gross_window_s) fit in
# this, up to 256 samples: all of 4 s up to 64 Hz.
_RAW_RING = const(256)
_N_WIN = const(8)       # most ramp-test windows: 16, 32, ... 2048 samples
_N_MIN = const(16)
_RECOMPUTE = const(256)  # one window's sums rebuilt from the ring every so many samples
_SOLVE_EVERY = const(10)
_WARMUP = const(64)
_GROSS_CONFIRM = const(5)

# Prior standard deviations of the thermal model (weak: a handful of samples
# outweigh them): level Pa, Pa/K, Pa per K/s, Pa per horizon, Pa/K^2.
_PRIOR_SD = (1.0e6, 2.0e4, 6.0e6, 1.0e6, 1.0e3)
_PRIOR_SIGMA_PA = 10.0

EVENTS = ("leak_suspected", "leak_detected", "gross_leak", "sensor_fault", "cleared")

DEFAULTS = {
    "arl0_h": 1000.0,            # designed mean time between false leak_detected, h
    "suspect_arl0_h": 10.0,      # same for leak_suspected, h
    "thermal_horizon_s": 10800.0,  # memory of the thermal model, s
    "temp_window_s": 15.0,       # temperature and its rate: a line fitted over this span at 1 Hz, s
    "thermal_error": 0.0,        # fraction of the thermal pressure slope the compensation may miss
    "learn_s": 7200.0,           # learning period (no leak assumed): model and excursion level, s
    "learn_margin": 1.5,         # excursion level margin over what the learning period showed
    "noise_horizon_s": 600.0,    # memory of the noise estimate, s
    "gross_rate_pa_s": 200.0,    # a detected fall faster than this is a gross leak, Pa/s
    "gross_window_s": 4.0,       # gross trip looks at windows up to this long, s
    "clear_s": 60.0,             # quiet time before an alarm is cleared, s
    "clear_z": 2.0,              # quiet means every window's z below this
    "gross_hold_window": 128,    # longest window used for the rate after a gross leak, samples
    "min_pressure_pa": 150000.0,  # forecast target, Pa
    "compliance_ml_per_kpa": 0.0,  # 0: unknown, no mL/min output
    "zero_offset_pa": 0.0,       # subtracted from every pressure, Pa
    "p_valid_min_pa": 0.0,       # readings outside these limits are sensor faults
    "p_valid_max_pa": 1.0e7,
    "t_valid_min_c": -60.0,
    "t_valid_max_c": 200.0,
    "jump_pa": 5000.0,           # a change larger than this between samples is a sensor fault, Pa
    "stuck_samples": 30,         # identical pressure readings in a row that mean a stuck sensor
    "fault_clear_samples": 10,   # good samples before a fault is cleared
    "gap_factor": 5.0,           # a time step this many nominal steps long restarts the windows
    "windows": 8,                # ramp-test windows, 16 ... 16 * 2**(windows-1) samples (5..8)
    "track_s": 600.0,            # memory of the rate's fit while a leak is tracked, s
    "drain_exponent": 0.5,       # forecast: the leak flow goes as (gas pressure)^this (orifice 0.5)
}


def threshold_z(arl0_samples, hazard_per_sample):
    """One-sided z threshold c with c*phi(c) = 1/(ARL0 * sum_N 3/N): the
    Pickands approximation for the sliding least-squares slope, whose
    correlation at lag L is 1 - 3L/N (docs/detector.md)."""
    target = 1.0 / (arl0_samples * hazard_per_sample)
    lo, hi = 0.5, 40.0
    for _ in range(60):
        c = 0.5 * (lo + hi)
        if c * math.exp(-0.5 * c * c) * 0.3989422804 > target:
            lo = c
        else:
            hi = c
    return 0.5 * (lo + hi)


def compliance_from_reference_leak(q_ml_min, rate_with_pa_s, rate_without_pa_s=0.0):
    """Compliance in mL/kPa from a reference leak of q_ml_min mL/min: the
    compensated rate measured with it open and (optionally) closed."""
    drop = rate_without_pa_s - rate_with_pa_s
    if q_ml_min <= 0 or drop <= 0:
        raise ValueError("reference leak: need q > 0 and a falling rate with the leak open")
    return q_ml_min * 1000.0 / 60.0 / drop


def compliance_from_volume(volume_ml, pressure_before_pa, pressure_after_pa):
    """Compliance in mL/kPa from a known volume drawn off the loop and the
    (temperature-compensated) pressure before and after."""
    drop = pressure_before_pa - pressure_after_pa
    if volume_ml <= 0 or drop <= 0:
        raise ValueError("volume draw-off: need volume > 0 and a pressure drop")
    return volume_ml / (drop / 1000.0)


def check_params(params):
    """The full parameter set (DEFAULTS updated by params), or ValueError
    naming the first bad one. Allocates no detector."""
    cfg = dict(DEFAULTS)
    for key in params:
        if key not in DEFAULTS:
            raise ValueError("unknown detector parameter: " + key)
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueError("not a number: " + key)
        cfg[key] = float(value)
    for key in ("arl0_h", "suspect_arl0_h", "thermal_horizon_s", "temp_window_s",
                "noise_horizon_s", "gross_window_s", "clear_s", "stuck_samples",
                "fault_clear_samples", "gap_factor", "gross_hold_window", "track_s"):
        if cfg[key] <= 0:
            raise ValueError("must be positive: " + key)
    for key in ("compliance_ml_per_kpa", "learn_s", "thermal_error", "learn_margin", "jump_pa",
                "drain_exponent"):
        if cfg[key] < 0:
            raise ValueError("must not be negative: " + key)
    # The raw-pressure ring (_RAW_RING) is indexed by the window ring's
    # position, so the window ring must be at least as long: 5 windows.
    if cfg["windows"] != int(cfg["windows"]) or not 5 <= cfg["windows"] <= _N_WIN:
        raise ValueError("windows must be a whole number from 5 to %d" % _N_WIN)
    return cfg


class Detector:
    """Continuous leak monitoring, one call per sample.

        det = Detector(min_pressure_pa=150000, compliance_ml_per_kpa=3.3)
        for t, p, T in samples:
            ev = det.update(t, p, T)      # None or an event name
            if ev:
                print(t, ev, det.rate_pa_s, det.rate_sigma_pa_s, det.rate_ml_min)
    """

    def __init__(self, **params):
        cfg = check_params(params)
        self.cfg = cfg
        self.min_pressure_pa = cfg["min_pressure_pa"]
        self.compliance_ml_per_kpa = cfg["compliance_ml_per_kpa"]
        self.zero_offset_pa = cfg["zero_offset_pa"]
        self._stuck_n = int(cfg["stuck_samples"])
        self._fault_clear_n = int(cfg["fault_clear_samples"])
        self._gross_hold = int(cfg["gross_hold_window"])
        # Window bank: windows of 16, 32, ... samples, as many as the board's
        # memory allows (the ring holds the longest one).
        self._nw = int(cfg["windows"])
        self._ring_n = _N_MIN << (self._nw - 1)
        # window geometry
        self._win = array("i", [_N_MIN << i for i in range(self._nw)])
        self._inv_sxx = array("d", [12.0 / (n * (n * n - 1.0)) for n in self._win])
        self._g = array("d", [math.sqrt(12.0 / (n * (n * n - 1.0))) for n in self._win])
        # upcrossing hazard per sample and unit c*phi(c), summed over windows
        self._hz = sum(3.0 / n for n in self._win)
        # rings of pressure, smoothed temperature and its rate, relative to
        # their references; float32 on every platform so host and board agree
        self._rp = array("f", bytes(4 * self._ring_n))
        self._rt = array("f", bytes(4 * self._ring_n))
        self._rd = array("f", bytes(4 * self._ring_n))
        self._rq = array("f", bytes(4 * self._ring_n))
        # raw pressure, for the gross trip on the short windows
        self._rr = array("f", bytes(4 * _RAW_RING))
        self._ar = array("d", [0.0] * self._nw)
        self._sr = array("d", [0.0] * self._nw)
        # the last readings of pressure and temperature, for the moving
        # average that both pass through (see _step)
        self._pd = array("f", bytes(4 * _DELAY_RING))
        self._trg = array("f", bytes(4 * _DELAY_RING))
        # Per window and signal (at w, w + self._nw, ...): A, the sum of y - r,
        # and S, the centred sum of (i - h) y (i = 0 oldest, h the middle),
        # whose value is the slope's numerator and owes nothing to r. r is
        # a reference per signal, moved to the newest value every _RECOMPUTE
        # samples: in single precision a sum of values far from zero keeps
        # only their offset, and S, which takes in A at every step, would
        # integrate A's rounding (an age-weighted sum, as S + h*A, would
        # lose the slope outright to the cancellation).
        self._a = array("d", [0.0] * (_NS * self._nw))
        self._s = array("d", [0.0] * (_NS * self._nw))
        self._ref = array("d", [0.0] * (_NS + 1))  # the signals' r; the raw pressure's last
        self._h = array("d", [0.5 * (n - 1) for n in self._win])
        self._z = array("d", [0.0] * self._nw)      # leak z per window (falling > 0)
        self._slope = array("d", [0.0] * self._nw)  # compensated slope, Pa/s
        self._sig = array("d", [0.0] * self._nw)    # its standard uncertainty, Pa/s
        self._peak = array("d", [0.0] * self._nw)
        self._bpk = array("d", [0.0] * self._nw)       # largest |z| of this calm block after learning
        self._bpk_prev = array("d", [0.0] * self._nw)  # and of the block before
        self._sm = array("d", [0.0] * self._nw)    # running mean of the slope, Pa/s
        self._sv = array("d", [0.0] * self._nw)    # its running variance, (Pa/s)^2   # largest |z| seen while learning
        self._infl = array("d", [1.0] * self._nw)   # learned excursion factor per window
        # thermal model in square-root form: the information R = U'U and
        # the normal vector z = U'u with U upper triangular, kept by
        # rotations (a sum of squares formed in single precision loses the
        # model: its rounding, compounded by the forgetting, left R
        # indefinite and the fit blew up after hours of a temperature ramp).
        # M: the covariance (R + prior)^-1, theta the coefficients.
        self._U = array("d", [0.0] * (_NF * _NF))
        self._u = array("d", [0.0] * _NF)
        self._M = array("d", [0.0] * (_NF * _NF))
        self._W = array("d", [0.0] * (_NF * _NF))   # scratch: U with the prior, then its inverse
        self._theta = array("d", [0.0] * _NF)
        self._x = array("d", [0.0] * _NF)
        self._row = array("d", [0.0] * _NF)          # scratch: the row being rotated in
        self._v = array("d", [0.0] * _NF)            # scratch: u with the prior
        self._D = array("d", [(_PRIOR_SIGMA_PA / s) ** 2 for s in _PRIOR_SD])
        self._events = []
        self._tracker = LeakTracker()
        self.reset()

    # --- public state -------------------------------------------------------
    def reset(self):
        """Forget everything learned (thermal model, noise, alarms)."""
        for i in range(_NF * _NF):
            self._U[i] = 0.0
        for i in range(_NF):
            self._u[i] = 0.0
            self._theta[i] = 0.0
        self._u_scale = 1.0
        self._t_prev = None   # last temperature reading
        self._tn_var = 0.0    # its white-noise variance, K^2
        self._td_gain = 0.0   # variance of _Td per K^2 of white reading noise
        self._wsum = 0.0      # weight the thermal model holds (samples)
        self._solve()
        self.samples = 0
        self._learn_t = 0.0
        for w in range(self._nw):
            self._peak[w] = 0.0
            self._infl[w] = 1.0
            self._bpk[w] = 0.0
            self._bpk_prev[w] = 0.0
        self._calm_t = 0.0
        self.state = "learning"
        self.rate_pa_s = 0.0
        self.rate_sigma_pa_s = 0.0
        self.rate_ml_min = None
        self.time_to_min_s = None
        self.compensated_pa = 0.0
        self.pressure_pa = 0.0
        self.noise_pa = 0.0
        self.z = 0.0
        self._t_last = None
        self._dt = 0.0
        self._p_ref = None
        self._T_ref = 0.0
        self._Td = 0.0
        self._ta = 0.0
        self._tq = 0.0
        self._tp = 0.0
        self._pd_pos = 0
        self._pd_n = 0
        self._res_var = _PRIOR_SIGMA_PA * _PRIOR_SIGMA_PA
        self._noise_var = 0.0
        self._noise_n = 0
        self._p_prev_raw = None
        self._pc_prev = 0.0
        self._same = 0
        self._same_t = 0.0
        self._qstep = 0.0     # smallest change seen between readings, Pa
        self._good = 0
        self._fault = False
        self._quiet = 0
        self._gross_n = 0
        self._onset = 0
        self._alarm_win = 0
        self._thr = None
        self._ngw = 0
        self._geo_dt = 0.0
        self._tw = 0
        self._hinge_n = 0
        self._events = []
        self._restart_windows()

    def tare(self, reference_pa=0.0):
        """Zero: from now on the last pressure reads reference_pa."""
        if self._p_prev_raw is None:
            raise ValueError("tare: no pressure yet")
        delta = (self._p_prev_raw - self.zero_offset_pa) - reference_pa
        self.zero_offset_pa += delta
        # the learned level moves with the zero, so no step appears in the windows
        if self._p_ref is not None:
            self._p_ref -= delta

    def shift(self, delta_pa):
        """The pressures fed from now on read delta_pa lower (the board's
        zero moved): the references move with them, so no step appears."""
        if self._p_prev_raw is not None:
            self._p_prev_raw -= delta_pa
        if self._p_ref is not None:
            self._p_ref -= delta_pa
        self.pressure_pa -= delta_pa
        self.compensated_pa -= delta_pa

    def set_compliance(self, ml_per_kpa):
        if ml_per_kpa < 0:
            raise ValueError("compliance must not be negative")
        self.compliance_ml_per_kpa = float(ml_per_kpa)
        self._update_ml()

    @property
    def thermal_pa_per_k(self):
        """Learned pressure response to the (lag-corrected) temperature, Pa/K."""
        return self._theta[1]

    @property
    def thermal_lag_s(self):
        """Learned lag between the temperature reading and the pressure, s."""
        k = self._theta[1]
        return self._theta[2] / k if k != 0.0 else 0.0

    def status(self):
        return {"state": self.state, "rate_pa_s": self.rate_pa_s,
                "rate_sigma_pa_s": self.rate_sigma_pa_s, "rate_ml_min": self.rate_ml_min,
                "time_to_min_s": self.time_to_min_s, "z": self.z,
                "noise_pa": self.noise_pa, "pa_per_k": self._theta[1],
                "lag_s": self.thermal_lag_s, "samples": self.samples}

    # --- per sample -------------------------------------------------------
    def update(self, t_s, pressure_pa, temperature_c, quality=0):
        """Feed one sample; return None or one event name (further events of
        the same sample: pending())."""
        self._step(t_s, 1.0, pressure_pa, temperature_c, quality)
        return self.pending()

    def update_ms(self, t_ms, pressure_pa, temperature_c, quality=0):
        """update() with the time as an integer count of milliseconds, as the
        board keeps it: only differences between samples are used, and those
        are exact, where a float32 count of seconds has 0.25 s steps after
        24 days. One detector takes one kind of time, not both."""
        self._step(t_ms, 1000.0, pressure_pa, temperature_c, quality)
        return self.pending()

    def pending(self):
        """The next event this sample raised beyond the one update() returned
        (leak_suspected and leak_detected can come together), or None."""
        if self._events:
            return self._events.pop(0)
        return None

    def _emit(self, name):
        if len(self._events) < 8:
            self._events.append(name)

    def _bad(self, p, temp, quality):
        c = self.cfg
        if quality:
            return True
        if p is None or temp is None or p != p or temp != temp:
            return True
        if p < c["p_valid_min_pa"] or p > c["p_valid_max_pa"]:
            return True
        if temp < c["t_valid_min_c"] or temp > c["t_valid_max_c"]:
            return True
        return False

    def _stuck(self, temp):
        """A reading that repeats stuck_samples times is stuck when it would
        have moved: when its noise is over half its resolution (a noisy
        reading never repeats that long), or when the temperature has moved
        it by more than two steps of its resolution since it froze. A
        noiseless, quantised reading on a thermal plateau repeats honestly."""
        q = self._qstep
        if q == 0.0 or self.noise_pa > 0.5 * q:
            return True
        return abs(self._theta[1] * (temp - self._same_t)) > 2.0 * q

    def _step(self, t, t_per_s, p_raw, temp, quality):
        bad = self._bad(p_raw, temp, quality)
        c_jump = self.cfg["jump_pa"]
        if not bad and self._p_prev_raw is not None and not self._fault:
            if abs(p_raw - self._p_prev_raw) > c_jump:
                bad = True
        if not bad:
            if p_raw == self._p_prev_raw:
                if self._same == 0:
                    self._same_t = temp
                self._same += 1
                if self._same >= self._stuck_n and self._stuck(temp):
                    bad = True
            else:
                if self._p_prev_raw is not None:
                    dq = abs(p_raw - self._p_prev_raw)
                    if self._qstep == 0.0 or dq < self._qstep:
                        self._qstep = dq
                self._same = 0
        if bad:
            self._good = 0
            if not self._fault:
                self._fault = True
                self.state = "fault"
                self.rate_ml_min = None
                self.time_to_min_s = None
                self._emit("sensor_fault")
            if p_raw is not None and p_raw == p_raw:
                self._p_prev_raw = p_raw
            return
        self._p_prev_raw = p_raw
        if self._fault:
            self._good += 1
            if self._good < self._fault_clear_n:
                return
            self._fault = False
            self._same = 0
            self._restart_windows()
            self.state = "learning" if self._learn_t < self.cfg["learn_s"] else "ok"
            self._emit("cleared")
        p = p_raw - self.zero_offset_pa
        self.pressure_pa = p
        # time step
        if self._t_last is None:
            self._t_last = t
            self._p_ref = p
            self._T_ref = temp
            return
        step = (t - self._t_last) / t_per_s
        self._t_last = t
        if step <= 0 or (self._dt > 0 and step > self.cfg["gap_factor"] * self._dt):
            # a gap, or a lower sample rate: restart the windows and take the
            # nominal step afresh from the next sample (kept, a rate lowered
            # more than gap_factor times would look like a gap at every step)
            self._restart_windows()
            self._dt = 0.0
            return
        if self._dt == 0.0:
            self._dt = step
        else:
            self._dt += 0.01 * (step - self._dt)
        dt = self._dt
        self._learn_t += step
        if self._geo_dt == 0.0 or abs(dt - self._geo_dt) > 0.05 * self._geo_dt:
            self._geometry(dt)
        # white noise of the reading, from successive differences: it enters
        # the rate feature, and the fit must not mistake it for signal
        if self._t_prev is not None:
            dtp = temp - self._t_prev
            self._tn_var += (step / self.cfg["noise_horizon_s"]) * (0.5 * dtp * dtp - self._tn_var)
        self._t_prev = temp
        # The pressure and the temperature features all pass through the
        # same W-sample moving average (a linear filter commutes with the
        # linear thermal model, so the compensation stays exact through the
        # sharp turns of the temperature at sunrise and sunset): mean
        # pressure, mean T, mean T^2, and the mean rate of T, which is the
        # difference across the window over its span.
        W = self._tw
        tr = self._trg
        pd = self._pd
        pos = self._pd_pos
        v = temp - self._T_ref
        yr = p - self._p_ref
        n_in = self._pd_n
        A = self._ta
        Q = self._tq
        P = self._tp
        if n_in >= W:
            k = (pos - W) % _DELAY_RING
            out = tr[k]
            A += v - out
            Q += v * v - out * out
            P += yr - pd[k]
        else:
            A += v
            Q += v * v
            P += yr
        tr[pos] = v
        pd[pos] = yr
        self._pd_pos = (pos + 1) % _DELAY_RING
        n_in += 1
        self._pd_n = n_in
        if n_in % _RECOMPUTE == 0:
            A = 0.0
            Q = 0.0
            P = 0.0
            for age in range(W if n_in >= W else n_in):
                k = (pos - age) % _DELAY_RING
                A += tr[k]
                Q += tr[k] * tr[k]
                P += pd[k]
        self._ta = A
        self._tq = Q
        self._tp = P
        if n_in <= W:
            return
        tc = A / W
        tq = Q / W
        self._Td = (v - tr[(pos - W) % _DELAY_RING]) / (W * dt)
        y = P / W
        # the window's middle sample, unsmoothed, for the white-noise level
        y_mid = pd[(pos - (W >> 1)) % _DELAY_RING]
        self.samples += 1
        # thermal model (learned only while no leak is suspected)
        th = self._theta
        x = self._x
        x[0] = 1.0
        x[1] = tc
        x[2] = self._Td
        x[3] = 0.0
        x[4] = tq
        # the thermal model learns while no leak is suspected. A suspected
        # leak older than the longest window lets it learn again, so that a
        # thermal excursion the model had not seen (a ramp) is learned and
        # the suspicion clears rather than turning into an alarm. An alarmed
        # leak keeps it frozen until the alarm clears (the tracker and the
        # windows judge the leak with it, at the loop's present gains): a
        # model that learns during a drain takes the leak into its lag and
        # gain and comes out with coefficients a hundred times too large
        # (the MS-22 drain: lag gain 1e4 -> -1e6 Pa s/K within 20 min), and
        # its noise and residual levels grow with them until the alarm
        # clears while the loop still drains
        st = self.state
        if st == "learning" or st == "ok" or (st == "suspected" and self._count - self._onset >= self._ring_n):
            self._learn(x, y, step)
        thermal = th[1] * tc + th[2] * self._Td + th[4] * tq
        comp = y - thermal
        trk = self._tracker
        if trk.active:
            xc = trk.coordinate(y, tc, self._Td, tq)
            trk.update(y, xc, tc, self._Td, tq, trk.noise_var)
            # the tracked compensated pressure continues the one before
            pt = trk.pressure_at_reference(xc)
            if trk.pc_offset is None:
                trk.pc_offset = comp - pt
            comp = pt + trk.pc_offset
        self.compensated_pa = comp + self._p_ref
        # white-noise level of the pressure from successive differences of
        # the unsmoothed, compensated middle sample
        d = y_mid - thermal - self._pc_prev
        self._pc_prev = y_mid - thermal
        # (a sensor's noise does not change with a leak: held while one is
        # alarmed, where the compensation follows a model learned before it)
        if self.samples > 1 and st != "leak" and st != "gross":
            d2 = 0.5 * d * d
            if self._noise_n < 50:
                self._noise_n += 1
                self._noise_var += (d2 - self._noise_var) / self._noise_n
            else:
                lim = 25.0 * self._noise_var
                if d2 > lim:
                    d2 = lim
                self._noise_var += (step / self.cfg["noise_horizon_s"]) * (d2 - self._noise_var)
        self.noise_pa = math.sqrt(self._noise_var)
        self._push(y, tc, self._Td, tq, yr)
        self._judge(dt, p)

    def _learn(self, x, y, step):
        U = self._U
        u = self._u
        lam = 1.0 - step / self.cfg["thermal_horizon_s"]
        if lam < 0.5:
            lam = 0.5
        self._wsum = lam * self._wsum + 1.0
        # shift the time feature so that 0 is now: x3 -> x3 - delta * x0,
        # which in U moves only row 0 (its column 0 is zero below the diagonal)
        dl = step / self.cfg["thermal_horizon_s"]
        U[3] -= dl * U[0]
        # prediction error before the update, for the parameter covariance
        th = self._theta
        e = y - (th[0] + th[1] * x[1] + th[2] * x[2] + th[4] * x[4])
        if self.samples > _WARMUP:
            lim = 25.0 * self._res_var
            e2 = e * e
            if e2 > lim:
                e2 = lim
            self._res_var += (step / self.cfg["noise_horizon_s"]) * (e2 - self._res_var)
        # forget (R -> lam R): U and u are kept divided by _u_scale, the
        # product of sqrt(lam) so far, and the new row is divided by it
        # instead of every element multiplied (folded back when it is small)
        g = self._u_scale * math.sqrt(lam)
        if g < 1e-3:
            for i in range(_NF * _NF):
                U[i] *= g
            for i in range(_NF):
                u[i] *= g
            g = 1.0
        self._u_scale = g
        g = 1.0 / g
        for i in range(_NF):
            x[i] *= g
        self._rotate_in(U, u, x, y * g, 0)
        if self.samples % _SOLVE_EVERY == 0 or self.samples < _WARMUP:
            self._solve()

    def _rotate_in(self, U, u, r, ry, first):
        """Givens rotations taking the row (r, ry), zero before column
        first, into the upper triangular U with right-hand side u."""
        for i in range(first, _NF):
            b = r[i]
            if b == 0.0:
                continue
            k = i * _NF
            a = U[k + i]
            rho = math.sqrt(a * a + b * b)
            c = a / rho
            sn = b / rho
            U[k + i] = rho
            for j in range(i + 1, _NF):
                uj = U[k + j]
                rj = r[j]
                U[k + j] = c * uj + sn * rj
                r[j] = c * rj - sn * uj
            ui = u[i]
            u[i] = c * ui + sn * ry
            ry = c * ry - sn * ui

    def _solve(self):
        """Coefficients and covariance from U, with the prior rotated in and
        the reading noise's share taken out of the rate feature's power."""
        V = self._W
        U = self._U
        D = self._D
        r = self._row
        M = self._M
        th = self._theta
        g = self._u_scale
        for i in range(_NF * _NF):
            V[i] = U[i] * g
        v = self._v
        for i in range(_NF):
            v[i] = self._u[i] * g
        for i in range(_NF):
            for j in range(_NF):
                r[j] = 0.0
            r[i] = math.sqrt(D[i])
            self._rotate_in(V, v, r, 0.0, i)
        # V := V^-1 in place (upper triangular, diagonal >= sqrt of the prior)
        for i in range(_NF - 1, -1, -1):
            k = i * _NF
            V[k + i] = 1.0 / V[k + i]
            for j in range(_NF - 1, i, -1):
                s = 0.0
                for m in range(i + 1, j + 1):
                    s += V[k + m] * V[m * _NF + j]
                V[k + j] = -V[k + i] * s
        for i in range(_NF):
            for j in range(i, _NF):
                s = 0.0
                for m in range(j, _NF):
                    s += V[i * _NF + m] * V[j * _NF + m]
                M[i * _NF + j] = s
                M[j * _NF + i] = s
        # the reading noise's share of the rate feature's power (it is
        # uncorrelated with the level features), at most 70 % of it, comes
        # off R's diagonal: a rank-one change of M (Sherman-Morrison)
        r22 = (U[2] * U[2] + U[_NF + 2] * U[_NF + 2] + U[2 * _NF + 2] * U[2 * _NF + 2]) * g * g
        corr = self._wsum * self._td_gain * self._tn_var
        lim = 0.7 * r22
        if corr > lim:
            corr = lim
        # Once learning is over, it is also at most 90 % of what the data say
        # of the rate coefficient given the others (1 / M22). On a steady
        # ramp the rate feature is a constant plus its noise; the constant is
        # explained by the level coefficient as well, so the noise's share
        # was nearly all the information left, and the lag wandered with it
        # (24 -> 160 s within minutes of a 2 K/h ramp at 1 Hz) until the
        # gain's error read as a leak of 0.04 Pa/s. While learning, the full
        # share is taken: a loop that only ramped so far (a triangle's first
        # leg) needs its lag de-biased by the time the ramp turns.
        m22 = M[2 * _NF + 2]
        if corr * m22 > 0.9 and self._learn_t >= self.cfg["learn_s"]:
            corr = 0.9 / m22
        den = 1.0 - corr * m22
        if den <= 0.01:
            # not positive definite without that share: keep the last fit
            return
        g = corr / den
        m2 = self._row
        for i in range(_NF):
            m2[i] = M[i * _NF + 2]
        for i in range(_NF):
            s = 0.0
            for j in range(i, _NF):
                s += V[i * _NF + j] * v[j]
            th[i] = s
        for i in range(_NF):
            for j in range(_NF):
                M[i * _NF + j] += g * m2[i] * m2[j]
        t2 = th[2]
        for i in range(_NF):
            th[i] += g * m2[i] * t2

    # --- windows ----------------------------------------------------------
    def _restart_windows(self):
        self._count = 0
        self._pos = 0
        self._pd_n = 0
        self._ta = 0.0
        self._tq = 0.0
        self._tp = 0.0
        self._hinge_n = 0
        for i in range(self._nw):
            self._ar[i] = 0.0
            self._sr[i] = 0.0
        for i in range(_NS * self._nw):
            self._a[i] = 0.0
            self._s[i] = 0.0
        for i in range(_NS + 1):
            self._ref[i] = 0.0
        for i in range(self._nw):
            self._z[i] = 0.0
            self._sm[i] = 0.0
            self._sv[i] = 0.0
        self._quiet = 0
        self._pc_prev = 0.0
        self._tracker.active = False
        if self.state in ("suspected", "leak", "gross"):
            self.state = "ok"

    def _push(self, yp, yt, yd, yq, yr):
        nw = self._nw
        ring_n = self._ring_n
        pos = self._pos
        cnt = self._count
        rp = self._rp
        rt = self._rt
        rd = self._rd
        rq = self._rq
        A = self._a
        S = self._s
        win = self._win
        half = self._h
        ref = self._ref
        if cnt == 0:
            # windows restarted: take the references from the first values
            ref[0] = yp
            ref[1] = yt
            ref[2] = yd
            ref[3] = yq
            ref[_NS] = yr
        rfp = ref[0]
        rft = ref[1]
        rfd = ref[2]
        rfq = ref[3]
        dp = yp - rfp
        dtc = yt - rft
        dd = yd - rfd
        dq = yq - rfq
        # per window, for each signal: S takes in the new value at +h and
        # lets out the one n samples old at -h, every other sample moving one
        # place older (-A); while the window fills, its middle moves instead
        for w in range(nw):
            n = win[w]
            if cnt >= n:
                j = (pos - n) % ring_n
                h = half[w]
                out = rp[j] - rfp
                S[w] += h * (dp + out) + out - A[w]
                A[w] += dp - out
                k = w + nw
                out = rt[j] - rft
                S[k] += h * (dtc + out) + out - A[k]
                A[k] += dtc - out
                k += nw
                out = rd[j] - rfd
                S[k] += h * (dd + out) + out - A[k]
                A[k] += dd - out
                k += nw
                out = rq[j] - rfq
                S[k] += h * (dq + out) + out - A[k]
                A[k] += dq - out
            else:
                h = 0.5 * cnt
                S[w] += h * dp - 0.5 * A[w]
                A[w] += dp
                k = w + nw
                S[k] += h * dtc - 0.5 * A[k]
                A[k] += dtc
                k += nw
                S[k] += h * dd - 0.5 * A[k]
                A[k] += dd
                k += nw
                S[k] += h * dq - 0.5 * A[k]
                A[k] += dq
        rp[pos] = yp
        rt[pos] = yt
        rd[pos] = yd
        rq[pos] = yq
        # raw pressure, on the gross trip's windows only
        ring = self._rr
        A = self._ar
        S = self._sr
        rfr = ref[_NS]
        dr = yr - rfr
        for w in range(self._ngw):
            n = win[w]
            if cnt >= n:
                out = ring[(pos - n) % _RAW_RING] - rfr
                S[w] += half[w] * (dr + out) + out - A[w]
                A[w] += dr - out
            else:
                S[w] += 0.5 * cnt * dr - 0.5 * A[w]
                A[w] += dr
        ring[pos % _RAW_RING] = yr
        self._pos = (pos + 1) % ring_n
        cnt += 1
        self._count = cnt
        if cnt % _RECOMPUTE == 0:
            self._rebase(yp, yt, yd, yq, yr)
            # the short windows, cheap, every time (their slopes are the
            # most sensitive to a rounding error in S), one other in turn
            for w in range(nw):
                if w < 2 or w == (cnt // _RECOMPUTE) % nw:
                    self._rebuild(w)

    def _rebase(self, yp, yt, yd, yq, yr):
        """Move each signal's reference r to its newest value: every A
        follows (S does not depend on r)."""
        ref = self._ref
        A = self._a
        cnt = self._count
        k = 0
        for s, v in ((0, yp), (1, yt), (2, yd), (3, yq)):
            delta = v - ref[s]
            ref[s] = v
            for w in range(self._nw):
                n = self._win[w]
                A[k] -= (n if n < cnt else cnt) * delta
                k += 1
        delta = yr - ref[_NS]
        ref[_NS] = yr
        for w in range(self._ngw):
            n = self._win[w]
            self._ar[w] -= (n if n < cnt else cnt) * delta

    def _rebuild(self, w):
        """Recompute one window's sums from the rings, so rounding cannot
        drift: A and S about the reference, which is near every value."""
        n = self._win[w]
        if self._count < n:
            return
        last = self._pos - 1
        h = self._h[w]
        for s, ring in ((0, self._rp), (1, self._rt), (2, self._rd), (3, self._rq)):
            r = self._ref[s]
            a = 0.0
            b = 0.0
            for age in range(n):
                v = ring[(last - age) % self._ring_n] - r
                a += v
                b += age * v
            # sum (h - age) v: values about r are small, so little cancels
            self._a[s * self._nw + w] = a
            self._s[s * self._nw + w] = h * a - b
        if w < self._ngw:
            self._rebuild_raw(w)

    def _thresholds(self, dt):
        per_h = 3600.0 / dt
        hz = self._hz
        self._thr = (threshold_z(self.cfg["suspect_arl0_h"] * per_h, hz),
                     threshold_z(self.cfg["arl0_h"] * per_h, hz))
        self._thr_dt = dt
        ngw = 0
        for n in self._win:
            if n <= self.cfg["gross_window_s"] / dt and n <= _RAW_RING:
                ngw += 1
        if ngw != self._ngw:
            self._ngw = ngw
            for w in range(ngw):
                self._rebuild_raw(w)

    def _geometry(self, dt):
        """Temperature window for sample step dt: an odd number of samples,
        at least 3, spanning temp_window_s * (dt / 1 s)^(1/3). The noise of
        a line's slope goes as (span^3 / dt)^(-1/2), so this span gives the
        rate feature the same noise at every sample rate (and a faster rate
        a shorter delay)."""
        self._geo_dt = dt
        W = int(self.cfg["temp_window_s"] * math.pow(dt, -2.0 / 3.0) + 0.5)
        if W % 2 == 0:
            W += 1
        if W < 3:
            W = 3
        if W >= _DELAY_RING:
            W = _DELAY_RING - 1
        if W != self._tw:
            self._tw = W
            self._pd_n = 0
            self._ta = 0.0
            self._tq = 0.0
            self._tp = 0.0
        # variance of the rate feature per K^2 of white reading noise
        self._td_gain = 2.0 / (W * dt) ** 2
        # each window's slope of moving-averaged white noise: the slope's
        # weights c_i averaged over W; its standard deviation per unit noise
        for w in range(self._nw):
            n = self._win[w]
            c0 = 12.0 / (n * (n * n - 1.0))
            h = 0.5 * (n - 1)
            g = 0.0
            for m in range(-W + 1, n):
                lo = m if m > 0 else 0
                hi = m + W - 1 if m + W - 1 < n - 1 else n - 1
                e = c0 * (0.5 * (lo + hi) - h) * (hi - lo + 1) / W
                g += e * e
            self._g[w] = math.sqrt(g)

    def _rebuild_raw(self, w):
        n = self._win[w]
        if self._count < n:
            n = self._count
        last = self._pos - 1
        h = 0.5 * (n - 1)
        r = self._ref[_NS]
        a = 0.0
        b = 0.0
        for age in range(n):
            v = self._rr[(last - age) % _RAW_RING] - r
            a += v
            b += age * v
        self._ar[w] = a
        self._sr[w] = h * a - b

    def _judge(self, dt, p):
        if self._thr is None or abs(dt - self._thr_dt) > 0.05 * self._thr_dt:
            self._thresholds(dt)
        c_sus, c_det = self._thr
        th = self._theta
        M = self._M
        cov_scale = self._res_var if self._res_var > self._noise_var else self._noise_var
        k1 = th[1]
        k2 = th[2]
        k4 = th[4]
        trk = self._tracker
        if trk.active and trk.gas and (self.state == "leak" or self.state == "gross"):
            # a tracked leak: the frozen model's gains at the loop's present
            # state (the gas cushion's response falls as the loop drains);
            # not while only suspected, where the loss is still small and
            # the decision to alarm is taken with the model it was designed on
            k = (self._pos - 1) % self._ring_n
            k1, k2 = trk.local_gains(self._rp[k], self._rt[k], self._rd[k])
            k4 = 0.0
        m11 = M[1 * _NF + 1] * cov_scale
        m12 = M[1 * _NF + 2] * cov_scale
        m22 = M[2 * _NF + 2] * cov_scale
        m14 = M[1 * _NF + 4] * cov_scale
        m24 = M[2 * _NF + 4] * cov_scale
        m44 = M[4 * _NF + 4] * cov_scale
        nv = self._noise_var
        q = self._qstep
        qv = (0.75 * q / dt) ** 2 if q > 0.0 and self.noise_pa < 0.5 * q else 0.0
        eps = self.cfg["thermal_error"]
        S = self._s
        cnt = self._count
        zmax = 0.0
        wmax = -1
        Sr = self._sr
        gross = False
        spread_n = 4
        cfg = self.cfg
        a_sp = dt / cfg["noise_horizon_s"]
        horizon_n = cfg["noise_horizon_s"] / dt  # the noise horizon in samples
        gross_rate = cfg["gross_rate_pa_s"]
        calm = self.state == "learning" or self.state == "ok"
        learning = self.state == "learning" or self._learn_t < cfg["learn_s"]
        peaks = learning and self._learn_t > 0.25 * cfg["learn_s"]
        win = self._win
        inv_sxx = self._inv_sxx
        g_w = self._g
        ngw = self._ngw
        SM = self._sm
        SV = self._sv
        peak = self._peak
        bpk = self._bpk
        infl = self._infl
        Z = self._z
        for w in range(self._nw):
            n = win[w]
            if cnt < n:
                Z[w] = 0.0
                continue
            f = inv_sxx[w] / dt
            bp = S[w] * f
            k = w + self._nw
            bt = S[k] * f
            k += self._nw
            bd = S[k] * f
            k += self._nw
            bq = S[k] * f
            thermal = k1 * bt + k2 * bd + k4 * bq
            slope = bp - thermal
            # the gross trip judges the raw pressure: undelayed, and without
            # the thermal term (whose features are delayed); a thermal
            # transient of gross_rate_pa_s takes about 0.1 K/s at 2 kPa/K
            sr = Sr[w] * f if w < ngw else 0.0
            thermal *= eps
            var = (nv * (g_w[w] / dt) ** 2 + bt * bt * m11 + 2.0 * bt * bd * m12 + bd * bd * m22
                   + 2.0 * bq * (bt * m14 + bd * m24) + bq * bq * m44 + thermal * thermal)
            # a reading whose noise is below its resolution: the rounding
            # error follows the slow signal instead of averaging out; bound
            # the slope it can fake by about half a step across the window
            if qv > 0.0:
                var += qv / (n * n)
            # short windows: the slope's own spread, measured, when the
            # compensated noise is not white (quantised or smoothed readings)
            if n * spread_n < horizon_n:
                sv = SV[w]
                if sv == 0.0:
                    SM[w] = slope
                    SV[w] = var
                elif calm:
                    dm = slope - SM[w]
                    SM[w] += a_sp * dm
                    d2 = dm * dm
                    if d2 > 25.0 * sv:
                        d2 = 25.0 * sv
                    SV[w] = sv + a_sp * (d2 - sv)
                if SV[w] > var:
                    var = SV[w]
            sig = math.sqrt(var) if var > 0 else 1e-12
            z = -slope / sig
            if sr < -gross_rate and -sr / sig > c_det:
                gross = True
            if learning:
                if peaks and abs(z) > peak[w]:
                    peak[w] = abs(z)
            else:
                if calm and abs(z) > bpk[w]:
                    bpk[w] = abs(z)
                sig *= infl[w]
                z = -slope / sig
            self._slope[w] = slope
            self._sig[w] = sig
            Z[w] = z
            if z > zmax:
                zmax = z
                wmax = w
        self.z = zmax
        # a gross trip must hold for a few samples of a moving reading
        self._gross_n = self._gross_n + 1 if gross else 0
        gross = self._gross_n >= _GROSS_CONFIRM
        if learning and self._learn_t >= self.cfg["learn_s"]:
            self._end_learning(dt)
            learning = False
            # this sample's z were computed without the learned inflation:
            # apply it before the first leak decision
            zmax = 0.0
            wmax = -1
            for w in range(self._nw):
                if cnt < self._win[w]:
                    continue
                self._sig[w] *= self._infl[w]
                z = -self._slope[w] / self._sig[w]
                self._z[w] = z
                if z > zmax:
                    zmax = z
                    wmax = w
            self.z = zmax
        # a reading that has not moved for a few samples may be a sensor
        # sticking; hold leak decisions until it moves or is declared stuck
        hold = self._same >= 3
        if learning:
            if gross and not hold and self.state != "gross":
                self.state = "gross"
                self._onset = cnt - self._win[wmax]
                self._emit("gross_leak")
            self._report(wmax, p)
            return
        st = self.state
        if gross and st != "gross" and not hold:
            self.state = "gross"
            self._onset = cnt - self._win[wmax]
            self._emit("gross_leak")
        elif st == "ok" or st == "learning":
            if zmax > c_det and not hold:
                self.state = "leak"
                self._onset = self._find_onset(self._win[wmax])
                self._emit("leak_suspected")
                self._emit("leak_detected")
            elif zmax > c_sus and not hold:
                self.state = "suspected"
                self._onset = self._find_onset(self._win[wmax])
                self._emit("leak_suspected")
        elif st == "suspected" and zmax > c_det and not hold:
            self.state = "leak"
            self._emit("leak_detected")
        if self.state in ("suspected", "leak", "gross"):
            # an alarmed leak is quiet only once the tracked rate is gone
            # too, to within the longest window's noise band
            still = False
            if (self.state == "leak" or self.state == "gross") and trk.active and trk.n >= _N_MIN:
                k = (self._pos - 1) % self._ring_n
                r, s = trk.rate(self._rp[k], self._rt[k], self._rd[k], dt)
                band = self._sig[self._nw - 1]
                if s > band:
                    band = s
                still = r < -self.cfg["clear_z"] * band
            if zmax < self.cfg["clear_z"] and not still:
                self._quiet += 1
                if self._quiet * dt >= self.cfg["clear_s"]:
                    if self.state != "suspected":
                        self._relevel()   # a suspicion had the model learning
                    self.state = "ok"
                    self._quiet = 0
                    self._emit("cleared")
            else:
                self._quiet = 0
        self._narrow(dt)
        tracking = self.state == "suspected" or self.state == "leak" or self.state == "gross"
        if tracking and not self._tracker.active:
            self._track_start(dt)
        elif not tracking:
            self._tracker.active = False
        self._report(wmax, p)

    def _relevel(self):
        """The model, frozen through a leak, learns again from the loop the
        leak left: its level lowered by the loss and, after a tracked drain,
        the gas cushion's gains at the present state (the tracker's). The
        coefficients are set and the information kept: u = U theta."""
        k = (self._pos - 1) % self._ring_n
        th = self._theta
        k1 = th[1]
        k2 = th[2]
        k4 = th[4]
        trk = self._tracker
        if trk.active and trk.gas:
            k1, k2 = trk.local_gains(self._rp[k], self._rt[k], self._rd[k])
            k4 = 0.0
        c = self._rp[k] - (k1 * self._rt[k] + k2 * self._rd[k] + k4 * self._rq[k])
        v = self._v
        v[0] = c
        v[1] = k1
        v[2] = k2
        v[3] = th[3]
        v[4] = k4
        U = self._U
        u = self._u
        for i in range(_NF):
            s = 0.0
            for j in range(i, _NF):
                s += U[i * _NF + j] * v[j]
            u[i] = s
        self._solve()

    def _track_start(self, dt):
        """Freeze the thermal model into the tracker and run the samples
        since the onset (from the rings) through it."""
        trk = self._tracker
        fade = self.cfg["track_s"] / dt
        w = 0
        for i in range(self._nw):
            if self._win[i] <= fade:
                w = i
        scale = self._res_var if self._res_var > self._noise_var else self._noise_var
        M = self._M
        for i in range(_NF * _NF):
            self._W[i] = M[i] * scale
        trk.start(self._theta, self._W, self._T_ref, self._p_ref, fade, self._infl[w])
        back = self._count - self._onset
        if back > self._count:
            back = self._count
        if back > self._ring_n:
            back = self._ring_n
        last = self._pos - 1
        rp = self._rp
        rt = self._rt
        rd = self._rd
        rq = self._rq
        # the sensor's white noise as it was when the leak began: the level
        # learned meanwhile follows a model that relearns during the leak
        nv = self._noise_var
        trk.noise_var = nv
        for age in range(back - 1, -1, -1):
            k = (last - age) % self._ring_n
            trk.update(rp[k], trk.coordinate(rp[k], rt[k], rd[k], rq[k]), rt[k], rd[k], rq[k], nv)

    def _find_onset(self, n):
        """Sample count at which a leak began: the knee of the best fit of
        level + slope * max(0, i - j) to the compensated pressure of the last
        n samples (the window that raised the alarm, usually longer than the
        leak)."""
        m = self._hinge(n, 0)[0]
        self._hinge_n = n
        return self._count - m

    def _hinge(self, n, m_fixed):
        """Fit level + slope * max(0, i - knee) to the compensated pressure
        of the last n samples, the knee m samples back: the best m (m_fixed
        0) or m_fixed. Returns (m, slope per sample, its information).
        One pass over the rings."""
        th = self._theta
        k1 = th[1]
        k2 = th[2]
        k4 = th[4]
        rp = self._rp
        rt = self._rt
        rd = self._rd
        rq = self._rq
        last = self._pos - 1
        if n > self._count:
            n = self._count
        # totals over the window: sum c (i = 0 oldest .. n-1 newest)
        tot = 0.0
        for age in range(n):
            k = (last - age) % self._ring_n
            tot += rp[k] - k1 * rt[k] - k2 * rd[k] - k4 * rq[k]
        s0 = 0.0   # sum of c over i > j
        s1 = 0.0   # sum of i*c over i > j
        best = 0.0
        best_m = n
        best_shc = 0.0
        best_shh = 0.0
        for age in range(n - 1):
            i = n - 1 - age
            k = (last - age) % self._ring_n
            c = rp[k] - k1 * rt[k] - k2 * rd[k] - k4 * rq[k]
            s0 += c
            s1 += i * c
            m = age + 1  # samples after the knee
            sh = 0.5 * m * (m + 1)
            shh = sh * (2 * m + 1) / 3.0 - sh * sh / n
            shc = s1 - (i - 1) * s0 - sh * tot / n
            if m_fixed:
                if m == m_fixed:
                    return m, (shc / shh if shh > 0.0 else 0.0), shh
            elif shc < 0.0 and shh > 0.0:
                score = shc * shc / shh
                if score > best:
                    best = score
                    best_m = m
                    best_shc = shc
                    best_shh = shh
        return best_m, (best_shc / best_shh if best_shh > 0.0 else 0.0), best_shh

    def _narrow(self, dt):
        """After learning, calm time is cut into blocks of learn_s. Once two
        whole blocks have passed without an alarm, a band wider than their
        excursions call for narrows to them: the band learned at the start
        may have come from a thermal model that had not yet seen the
        temperature turn. A band never widens after learning, so a leak
        cannot raise its own band."""
        if self.state != "ok":
            self._calm_t = 0.0
            for w in range(self._nw):
                self._bpk[w] = 0.0
                self._bpk_prev[w] = 0.0
            return
        L = self.cfg["learn_s"]
        self._calm_t += dt
        if self._calm_t < L:
            return
        self._calm_t -= L
        if self._bpk_prev[0] > 0.0:
            hz = self._hz
            expect = threshold_z(2.0 * L / dt, hz)
            for w in range(self._nw):
                pk = self._bpk[w] if self._bpk[w] > self._bpk_prev[w] else self._bpk_prev[w]
                f = self.cfg["learn_margin"] * pk / expect
                if f < 1.0:
                    f = 1.0
                if f < self._infl[w]:
                    self._infl[w] = f
        for w in range(self._nw):
            self._bpk_prev[w] = self._bpk[w]
            self._bpk[w] = 0.0

    def _end_learning(self, dt):
        """Excursions of the compensated slope that the learning period showed
        beyond white noise (thermal model error) widen each window's band."""
        hz = self._hz
        expect = threshold_z(0.75 * self.cfg["learn_s"] / dt, hz)
        for w in range(self._nw):
            f = self.cfg["learn_margin"] * self._peak[w] / expect
            self._infl[w] = f if f > 1.0 else 1.0
        if self.state == "learning":
            self.state = "ok"

    def _report(self, wmax, p):
        """Rate from the longest window that fits the current situation."""
        cnt = self._count
        best = -1
        trk = self._tracker
        if trk.active and trk.n >= _N_MIN:
            k = (self._pos - 1) % self._ring_n
            r, s = trk.rate(self._rp[k], self._rt[k], self._rd[k], self._dt)
            self.rate_pa_s = r
            self.rate_sigma_pa_s = s
            self._update_ml()
            alarmed = self.state == "leak" or self.state == "gross"
            if r < 0.0 and (alarmed or r < -2.0 * s):
                self.time_to_min_s = trk.time_to(self._rp[k], self.min_pressure_pa - self._p_ref, r,
                                                 self.cfg["drain_exponent"])
            else:
                self.time_to_min_s = None
            return
        if self.state in ("suspected", "leak", "gross"):
            since = cnt - self._onset
            limit = self._gross_hold if self.state == "gross" else self._ring_n
            for w in range(self._nw):
                n = self._win[w]
                if n <= cnt and n <= since and n <= limit:
                    best = w
            if best < 0 and since > 0 and self._hinge_n and self.state != "gross":
                # a leak younger than the shortest window: rate from the knee
                # fit over the alarm window, the knee kept where it was found
                n = self._hinge_n + since
                m, slope, info = self._hinge(n if n < self._ring_n else self._ring_n, since)
                if info > 0.0:
                    self.rate_pa_s = slope / self._dt
                    self.rate_sigma_pa_s = self._infl[0] * math.sqrt(self._noise_var / info) / self._dt
                    self._forecast(p)
                    return
            if best < 0:
                best = wmax
        else:
            for w in range(self._nw):
                if self._win[w] <= cnt:
                    best = w
        if best < 0 or self._sig[best] == 0.0:
            self.rate_pa_s = 0.0
            self.rate_sigma_pa_s = 0.0
            self.rate_ml_min = None
            self.time_to_min_s = None
            return
        r = self._slope[best]
        s = self._sig[best]
        self.rate_pa_s = r
        self.rate_sigma_pa_s = s
        self._forecast(p)

    def _forecast(self, p):
        self._update_ml()
        r = self.rate_pa_s
        s = self.rate_sigma_pa_s
        alarmed = self.state == "leak" or self.state == "gross"
        if r < 0.0 and (alarmed or r < -2.0 * s):
            margin = p - self.min_pressure_pa
            self.time_to_min_s = margin / -r if margin > 0 else 0.0
        else:
            self.time_to_min_s = None

    def _update_ml(self):
        c = self.compliance_ml_per_kpa
        if c > 0 and self.state != "fault":
            self.rate_ml_min = -self.rate_pa_s * 0.06 * c
        else:
            self.rate_ml_min = None
