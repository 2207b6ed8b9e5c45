# Leak detector for a closed coolant loop: removes the loop's learned thermal
# response from the pressure, judges the compensated slope with a sequential
# ramp test designed for a stated false-alarm run length, rates and forecasts.
# Shared unchanged by the firmware and the host; see docs/detector.md.
import math
from array import array

from leakrig_fw.thermal import NF as _NF, ThermalModel
from leakrig_fw.tracker import LeakTracker
from leakrig_fw.windows import N_MIN as _N_MIN, RAW_RING as _RAW_RING, WindowBank

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# The moving average's span is temp_window_s * dt^(1/3): 71 samples at
# 10 Hz, 15 at 1 Hz, capped at this many from about 55 Hz up.
_MAX_AVG = const(255)
_N_WIN = const(8)       # most ramp-test windows: 16, 32, ... 2048 samples
_RECOMPUTE = const(256)  # the moving average's sums rebuilt from its ring every so many samples
_GROSS_CONFIRM = const(5)
# The thermal model takes in a sample about this often (s): its features are
# moving averages over seconds, so at 10 Hz one sample in five holds nearly
# all they say, and the model's rotations were 40 % of the cost per sample
_LEARN_DT = 0.5

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
        bank = WindowBank(self._nw)
        self._bank = bank
        self._ring_n = bank.ring_n
        self._win = bank.win
        # the last readings of pressure and temperature, for the moving
        # average that both pass through (see _step): W + 1 of them, allocated
        # once the sample step and so W are known (_geometry), and again only
        # if the rate rises so that W outgrows them
        self._pd = None
        self._trg = None
        self._z = array("d", [0.0] * self._nw)      # leak z per window (falling > 0)
        self._slope = array("d", [0.0] * self._nw)  # compensated slope, Pa/s
        self._sig = array("d", [0.0] * self._nw)    # its standard uncertainty, Pa/s
        self._peak = array("d", [0.0] * self._nw)      # largest |z| seen while learning
        self._bpk = array("d", [0.0] * self._nw)       # largest |z| of this calm block after learning
        self._bpk_prev = array("d", [0.0] * self._nw)  # and of the block before
        self._sm = array("d", [0.0] * self._nw)    # running mean of the slope, Pa/s
        self._sv = array("d", [0.0] * self._nw)    # its running variance, (Pa/s)^2
        self._infl = array("d", [1.0] * self._nw)   # learned excursion factor per window
        self._thermal = ThermalModel(cfg["thermal_horizon_s"], cfg["noise_horizon_s"])
        self._theta = self._thermal.theta    # the model's coefficients (the same array)
        self._M = self._thermal.M            # and their covariance per unit residual variance
        self._events = []
        self._tracker = LeakTracker()
        self.reset()

    # --- public state -------------------------------------------------------
    def reset(self):
        """Forget everything learned (thermal model, noise, alarms)."""
        self._thermal.reset()
        self._t_prev = None   # last temperature reading
        self._t_prev2 = None  # and the one before
        self.samples = 0
        self._learn_t = 0.0
        self._learn_every = 1   # samples per row the thermal model takes in
        self._learn_k = 0       # samples since its last row
        self._learn_acc = 0.0   # and their time, s
        self._learn_n = 0       # rows it took in
        self._rate_at = -1      # the sample whose tracked rate _settle computed
        self._rate_r = 0.0
        self._rate_s = 0.0
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
        self._Tx = 0.0
        self._y_mid = 0.0
        self._ta = 0.0
        self._tp = 0.0
        self._pd_pos = 0
        self._pd_n = 0
        self._noise_var = 0.0
        self._noise_n = 0
        self._pn_var = 0.0    # the pressure reading's own white noise, Pa^2
        self._p_prev_raw = None
        self._pc_prev = 0.0
        self._same = 0
        self._same_t = 0.0
        self._qstep = 0.0     # smallest change seen between readings, Pa
        self._good = 0
        self._fault = False
        self._quiet = 0
        self._gross_n = 0
        self._gross_hit = False
        self._onset = 0
        self._alarm_win = 0
        self._thr = None
        self._bank.ngw = 0
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

    def _admit(self, p_raw, temp, quality):
        """Bad data (docs/detector.md): False for a sample that is not
        used, raising sensor_fault on the first and cleared after
        fault_clear_samples good ones."""
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
            return False
        self._p_prev_raw = p_raw
        if self._fault:
            self._good += 1
            if self._good < self._fault_clear_n:
                return False
            self._fault = False
            self._same = 0
            self._restart_windows()
            self.state = "learning" if self._learn_t < self.cfg["learn_s"] else "ok"
            self._emit("cleared")
        return True

    def _smooth(self, v, yr, dt):
        """Take the temperature v and the pressure yr (about their
        references) into the moving average; True once it holds W samples
        (its sums in _ta, _tp; the rate feature in _Td, T dT/dt in _Tx)."""
        # The pressure and the temperature features all pass through the
        # same W-sample moving average (a linear filter commutes with the
        # linear thermal model, so the compensation stays exact through the
        # sharp turns of the temperature at sunrise and sunset): mean
        # pressure, mean T, mean T^2, and the mean rate of T, which is the
        # difference across the window over its span.
        W = self._tw
        tr = self._trg
        pd = self._pd
        n_ring = len(pd)
        pos = self._pd_pos
        n_in = self._pd_n
        A = self._ta
        P = self._tp
        if n_in >= W:
            k = (pos - W) % n_ring
            A += v - tr[k]
            P += yr - pd[k]
        else:
            A += v
            P += yr
        tr[pos] = v
        pd[pos] = yr
        self._pd_pos = (pos + 1) % n_ring
        n_in += 1
        self._pd_n = n_in
        if n_in % _RECOMPUTE == 0:
            A = 0.0
            P = 0.0
            for age in range(W if n_in >= W else n_in):
                k = (pos - age) % n_ring
                A += tr[k]
                P += pd[k]
        self._ta = A
        self._tp = P
        if n_in <= W:
            return False
        td = (v - tr[(pos - W) % n_ring]) / (W * dt)
        self._Td = td
        # T dT/dt of the averaged T: half the step of its square per step
        self._Tx = (A / W - 0.5 * td * dt) * td
        # the window's middle sample, unsmoothed, for the white-noise level
        self._y_mid = pd[(pos - (W >> 1)) % n_ring]
        return True

    def _step(self, t, t_per_s, p_raw, temp, quality):
        if not self._admit(p_raw, temp, quality):
            return
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
        # a higher sample rate: three steps in a row well short of the
        # nominal one restart the windows as a lower rate does (while the
        # nominal step glided down to the new one, the windows mixed the
        # two rates and a quiet loop could raise an alarm); one short step
        # after a late sample is not a new rate
        if self._dt > 0 and step * 1.5 < self._dt:
            self._short += 1
            if self._short >= 3:
                self._restart_windows()
                self._dt = 0.0
                return
        else:
            self._short = 0
        if self._dt == 0.0:
            self._dt = step
        else:
            self._dt += 0.01 * (step - self._dt)
        dt = self._dt
        self._learn_t += step
        if self._geo_dt == 0.0 or abs(dt - self._geo_dt) > 0.05 * self._geo_dt:
            self._geometry(dt)
        # white noise of the reading, from second differences (a first
        # difference also holds the temperature's own change, which a
        # moving loop makes a tenth of the noise's share at 1 Hz): it
        # enters the rate feature, and the fit must not mistake it for
        # signal
        if self._t_prev2 is not None:
            d2t = temp - 2.0 * self._t_prev + self._t_prev2
            tm = self._thermal
            tm.tn_var += (step / self.cfg["noise_horizon_s"]) * (d2t * d2t / 6.0 - tm.tn_var)
        self._t_prev2 = self._t_prev
        self._t_prev = temp
        v = temp - self._T_ref
        yr = p - self._p_ref
        if not self._smooth(v, yr, dt):
            return
        W = self._tw
        tc = self._ta / W
        tq = tc * tc
        y = self._tp / W
        y_mid = self._y_mid
        self.samples += 1
        # thermal model (learned only while no leak is suspected)
        th = self._theta
        x = self._thermal.x
        x[0] = 1.0
        x[1] = tc
        x[2] = self._Td
        x[3] = 0.0
        x[4] = tq
        x[5] = self._Tx
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
        if st == "learning" or st == "ok" or (st == "suspected" and self._bank.count - self._onset >= self._ring_n):
            self._learn_k += 1
            self._learn_acc += step
            if self._learn_k >= self._learn_every:
                self._learn_n += 1
                self._thermal.learn(x, y, self._learn_acc, self._learn_n, self._learn_t >= self.cfg["learn_s"])
                self._learn_k = 0
                self._learn_acc = 0.0
        thermal = th[1] * tc + th[2] * self._Td + th[4] * tq + th[5] * self._Tx
        comp = y - thermal
        trk = self._tracker
        if trk.active:
            xc = trk.coordinate(y, tc, self._Td, tq, self._Tx)
            trk.update(y, xc, tc, self._Td, tq, trk.noise_var)
            # the tracked compensated pressure continues the one before
            pt = trk.pressure_at_reference(xc)
            if trk.pc_offset is None:
                trk.pc_offset = comp - pt
            comp = pt + trk.pc_offset
        self.compensated_pa = comp + self._p_ref
        # Two white-noise levels, held while a leak is alarmed (a sensor's
        # noise does not change with a leak; the compensation then follows
        # a model learned before it): the compensated sample's, from
        # successive differences of the unsmoothed, compensated middle
        # sample (noise_pa, the tracker's noise), and the pressure
        # reading's own, from its second differences (the loop's thermal
        # swing has none to speak of). The windows' bands take the latter
        # and the temperature reading's noise through the model separately
        # (_scan): the former holds the rate feature's share of the
        # temperature noise as if it were white (at 1 Hz, 0.01 K and a 30 s
        # lag: 57 Pa of it against 20 Pa of the pressure's).
        d = y_mid - thermal - self._pc_prev
        self._pc_prev = y_mid - thermal
        if self.samples > 1 and st != "leak" and st != "gross":
            d2 = 0.5 * d * d
            pd = self._pd
            nr = len(pd)
            pos = self._pd_pos
            e = pd[(pos - 1) % nr] - 2.0 * pd[(pos - 2) % nr] + pd[(pos - 3) % nr]
            e2 = e * e / 6.0
            nv = self._noise_var
            pv = self._pn_var
            if self._noise_n < 50:
                self._noise_n += 1
                self._noise_var = nv + (d2 - nv) / self._noise_n
                self._pn_var = pv + (e2 - pv) / self._noise_n
            else:
                if d2 > 25.0 * nv:
                    d2 = 25.0 * nv
                if e2 > 25.0 * pv:
                    e2 = 25.0 * pv
                a = step / self.cfg["noise_horizon_s"]
                self._noise_var = nv + a * (d2 - nv)
                self._pn_var = pv + a * (e2 - pv)
        self.noise_pa = math.sqrt(self._noise_var)
        self._bank.push(y, tc, yr)
        self._judge(dt, p)

    # --- windows ----------------------------------------------------------
    def _restart_windows(self):
        self._bank.restart()
        self._short = 0
        self._pd_n = 0
        self._ta = 0.0
        self._tp = 0.0
        self._hinge_n = 0
        for i in range(self._nw):
            self._z[i] = 0.0
            self._sm[i] = 0.0
            self._sv[i] = 0.0
        self._quiet = 0
        self._pc_prev = 0.0
        self._tracker.active = False
        if self.state in ("suspected", "leak", "gross"):
            self.state = "ok"

    def _thresholds(self, dt):
        per_h = 3600.0 / dt
        hz = self._bank.hz
        self._thr = (threshold_z(self.cfg["suspect_arl0_h"] * per_h, hz),
                     threshold_z(self.cfg["arl0_h"] * per_h, hz))
        self._thr_dt = dt
        ngw = 0
        for n in self._win:
            if n <= self.cfg["gross_window_s"] / dt and n <= _RAW_RING:
                ngw += 1
        self._bank.set_gross_windows(ngw)

    def _geometry(self, dt):
        """Temperature window for sample step dt: an odd number of samples,
        at least 3, spanning temp_window_s * (dt / 1 s)^(1/3). The noise of
        a line's slope goes as (span^3 / dt)^(-1/2), so this span gives the
        rate feature the same noise at every sample rate (and a faster rate
        a shorter delay)."""
        self._geo_dt = dt
        self._learn_every = int(_LEARN_DT / dt + 0.5) if dt < _LEARN_DT else 1
        W = int(self.cfg["temp_window_s"] * math.pow(dt, -2.0 / 3.0) + 0.5)
        if W % 2 == 0:
            W += 1
        if W < 3:
            W = 3
        if W > _MAX_AVG:
            W = _MAX_AVG
        if self._pd is None or len(self._pd) <= W:
            self._pd = array("f", bytes(4 * (W + 1)))
            self._trg = array("f", bytes(4 * (W + 1)))
            self._pd_pos = 0
            self._tw = 0
        if W != self._tw:
            self._tw = W
            self._pd_n = 0
            self._ta = 0.0
            self._tp = 0.0
        # variance of the rate feature per K^2 of white reading noise
        self._thermal.td_gain = 2.0 / (W * dt) ** 2
        # each window's slope noise through that moving average
        self._bank.noise_gains(W)

    def _scan(self, dt):
        """The ramp test on every window: the compensated slope, its
        uncertainty and z (falling > 0) per window, self.z the largest;
        _gross_hit when a short window's raw slope trips the gross rate.
        Returns the window of the largest z (-1: none)."""
        c_det = self._thr[1]
        th = self._theta
        M = self._M
        bank = self._bank
        res_var = self._thermal.res_var
        cov_scale = res_var if res_var > self._noise_var else self._noise_var
        k1 = th[1]
        k2 = th[2]
        k4 = th[4]
        k5 = th[5]
        trk = self._tracker
        if trk.active and trk.gas and (self.state == "leak" or self.state == "gross"):
            # a tracked leak: the frozen model's gains at the loop's present
            # state (the gas cushion's response falls as the loop drains);
            # not while only suspected, where the loss is still small and
            # the decision to alarm is taken with the model it was designed on
            k = bank.newest()
            k1, k2 = trk.local_gains(bank.rp[k], bank.rt[k], self._Td)
            k4 = 0.0
            k5 = 0.0
        m11 = M[1 * _NF + 1] * cov_scale
        m22 = M[2 * _NF + 2] * cov_scale
        if self._thermal.m_var > m22:
            m22 = self._thermal.m_var
        m14 = M[1 * _NF + 4] * cov_scale
        m24 = M[2 * _NF + 4] * cov_scale
        m44 = M[4 * _NF + 4] * cov_scale
        m55 = M[5 * _NF + 5] * cov_scale
        c12 = 2.0 * M[1 * _NF + 2] * cov_scale
        c14 = 2.0 * m14
        c24 = 2.0 * m24
        c15 = 2.0 * M[1 * _NF + 5] * cov_scale
        c25 = 2.0 * M[2 * _NF + 5] * cov_scale
        c45 = 2.0 * M[4 * _NF + 5] * cov_scale
        # the rate feature and T dT/dt are the steps of the T and T^2
        # averages per sample step (the latter halved): their window slopes
        # come from those rings' sums and the values at the window's ends
        # (docs/detector.md), no rings of their own
        ring_n = self._ring_n
        rt = bank.rt
        new = bank.newest()
        rft = bank.ref[1]
        rfq = bank.ref[2]
        tj = rt[new]
        t_new = tj - rft
        q_new = tj * tj - rfq
        tj = bank.t_out
        t_out = tj - rft
        q_out = tj * tj - rfq
        A = bank.a
        half = bank.h
        nw1 = self._nw
        nw2 = 2 * self._nw
        idt = 1.0 / dt
        x_dt = 0.5 * idt
        # white noise: the pressure's, and the temperature's through the
        # model, with the gains of T^2 and T dT/dt at the present T
        g_p = self._pn_var
        g_t = self._thermal.tn_var
        tcm = self._ta / self._tw   # the mean temperature feature now
        k1e = k1 + 2.0 * k4 * tcm
        k2e = (k2 + k5 * tcm) * idt
        # per window: wa g2 + wb gb + wd gd
        i2 = idt * idt
        wa = (g_p + g_t * k1e * k1e) * i2
        wb = 2.0 * g_t * k1e * k2e * i2
        wd = g_t * k2e * k2e * i2
        gb_w = bank.gb
        gd_w = bank.gd
        q = self._qstep
        qv = (0.75 * q / dt) ** 2 if q > 0.0 and self.noise_pa < 0.5 * q else 0.0
        eps = self.cfg["thermal_error"]
        S = bank.s
        cnt = bank.count
        zmax = 0.0
        wmax = -1
        Sr = bank.sr
        gross = False
        cfg = self.cfg
        a_sp = dt / cfg["noise_horizon_s"]
        # windows shorter than a quarter of the noise horizon also measure
        # their slope's spread (the windows grow with w)
        horizon_n = 0.25 * cfg["noise_horizon_s"] / dt
        sqrt = math.sqrt
        gross_rate = cfg["gross_rate_pa_s"]
        calm = self.state == "learning" or self.state == "ok"
        learning = self.state == "learning" or self._learn_t < cfg["learn_s"]
        peaks = learning and self._learn_t > 0.5 * cfg["learn_s"]
        win = self._win
        inv_sxx = bank.inv_sxx
        g2_w = bank.g2
        SL = self._slope
        SG = self._sig
        ngw = bank.ngw
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
            f = inv_sxx[w] * idt
            bp = S[w] * f
            bt = S[nw1 + w] * f
            bq = S[nw2 + w] * f
            # sum (i - h)(y_i - y_(i-1)) = (h + 1) y_new + h y_before - sum y
            if cnt > n and n < ring_n:
                tj = rt[(new - n) % ring_n]
                tb = tj - rft
                qb = tj * tj - rfq
            elif cnt > n:
                tb = t_out
                qb = q_out
            else:
                tj = rt[(new - n + 1) % ring_n]
                tb = tj - rft
                qb = tj * tj - rfq
            hw = half[w]
            bd = (hw * (t_new + tb) + t_new - A[nw1 + w]) * f * idt
            bx = (hw * (q_new + qb) + q_new - A[nw2 + w]) * f * x_dt
            thermal = k1 * bt + k2 * bd + k4 * bq + k5 * bx
            slope = bp - thermal
            # the gross trip judges the raw pressure: undelayed, and without
            # the thermal term (whose features are delayed); a thermal
            # transient of gross_rate_pa_s takes about 0.1 K/s at 2 kPa/K
            sr = Sr[w] * f if w < ngw else 0.0
            var = (wa * g2_w[w] + wb * gb_w[w] + wd * gd_w[w]
                   + bt * (bt * m11 + bd * c12 + bq * c14) + bd * (bd * m22 + bq * c24) + bq * bq * m44
                   + bx * (bt * c15 + bd * c25 + bq * c45 + bx * m55))
            if eps:
                thermal *= eps
                var += thermal * thermal
            # a reading whose noise is below its resolution: the rounding
            # error follows the slow signal instead of averaging out; bound
            # the slope it can fake by about half a step across the window
            if qv > 0.0:
                var += qv / (n * n)
            # short windows: the slope's own spread, measured, when the
            # compensated noise is not white (quantised or smoothed readings)
            if n < horizon_n:
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
            sig = sqrt(var) if var > 0 else 1e-12
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
            SL[w] = slope
            SG[w] = sig
            Z[w] = z
            if z > zmax:
                zmax = z
                wmax = w
        self.z = zmax
        self._gross_hit = gross
        return wmax

    def _judge(self, dt, p):
        if self._thr is None or abs(dt - self._thr_dt) > 0.05 * self._thr_dt:
            self._thresholds(dt)
        c_sus, c_det = self._thr
        wmax = self._scan(dt)
        zmax = self.z
        gross = self._gross_hit
        cnt = self._bank.count
        learning = self.state == "learning" or self._learn_t < self.cfg["learn_s"]
        # a gross trip must hold for a few samples of a moving reading
        self._gross_n = self._gross_n + 1 if gross else 0
        gross = self._gross_n >= _GROSS_CONFIRM
        if learning and self._learn_t >= self.cfg["learn_s"]:
            self._end_learning(dt)
            learning = False
            wmax = self._inflate(cnt)
            zmax = self.z
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
            self._settle(dt, zmax)
        self._narrow(dt)
        tracking = self.state == "suspected" or self.state == "leak" or self.state == "gross"
        if tracking and not self._tracker.active:
            self._track_start(dt)
        elif not tracking:
            self._tracker.active = False
        self._report(wmax, p)

    def _settle(self, dt, zmax):
        """An alarm (suspected, leak, gross) clears after clear_s of quiet:
        every z below clear_z and, for an alarmed, tracked leak, the tracked
        rate gone too."""
        trk = self._tracker
        # an alarmed leak is quiet only once the tracked rate is gone
        # too, to within the longest window's noise band
        still = False
        if (self.state == "leak" or self.state == "gross") and trk.active and trk.n >= _N_MIN:
            bank = self._bank
            k = bank.newest()
            r, s = trk.rate(bank.rp[k], bank.rt[k], self._Td, dt)
            # kept for _report, later in the same sample
            self._rate_at = self.samples
            self._rate_r = r
            self._rate_s = s
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

    def _inflate(self, cnt):
        """This sample's z were computed without the learned inflation:
        apply it before the first leak decision. Returns the window of the
        largest z (-1: none)."""
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
        return wmax

    def _relevel(self):
        """The model, frozen through a leak, learns again from the loop the
        leak left: its level lowered by the loss and, after a tracked drain,
        the gas cushion's gains at the present state (the tracker's). The
        coefficients are set and the information kept: u = U theta."""
        bank = self._bank
        k = bank.newest()
        th = self._theta
        k1 = th[1]
        k2 = th[2]
        k4 = th[4]
        k5 = th[5]
        trk = self._tracker
        if trk.active and trk.gas:
            # the gas cushion's gain and curvature at the present state,
            # as a model in T about the reference: p = c + k1 T + k4 T^2
            # with dp/dT = kl and curvature ql at the present T
            kl, k2 = trk.local_gains(bank.rp[k], bank.rt[k], self._Td)
            k4 = trk.local_curvature(bank.rp[k], bank.rt[k], self._Td)
            lag = k2 / kl if kl != 0.0 else 0.0
            k1 = kl - 2.0 * k4 * bank.rt[k]
            k2 = k1 * lag
            k5 = 2.0 * k4 * lag
        tk = bank.rt[k]
        c = bank.rp[k] - (k1 * tk + k2 * self._Td + k4 * tk * tk + k5 * self._Tx)
        self._thermal.set_coefficients(c, k1, k2, k4, k5, self._learn_t >= self.cfg["learn_s"])

    def _track_start(self, dt):
        """Freeze the thermal model into the tracker and run the samples
        since the onset (from the rings) through it."""
        trk = self._tracker
        fade = self.cfg["track_s"] / dt
        w = 0
        for i in range(self._nw):
            if self._win[i] <= fade:
                w = i
        tm = self._thermal
        scale = tm.res_var if tm.res_var > self._noise_var else self._noise_var
        M = self._M
        cov = tm.W   # the model's scratch
        for i in range(_NF * _NF):
            cov[i] = M[i] * scale
        trk.start(self._theta, cov, self._T_ref, self._p_ref, fade, self._infl[w])
        bank = self._bank
        back = bank.count - self._onset
        if back > bank.count:
            back = bank.count
        if back > self._ring_n:
            back = self._ring_n
        last = bank.pos - 1
        rp = bank.rp
        rt = bank.rt
        # the sensor's white noise as it was when the leak began: the level
        # learned meanwhile follows a model that relearns during the leak
        nv = self._noise_var
        trk.noise_var = nv
        for age in range(back - 1, -1, -1):
            k = (last - age) % self._ring_n
            t = rt[k]
            tp = bank.before(age)
            td = (t - tp) / dt
            tx = 0.5 * (t * t - tp * tp) / dt
            tq = t * t
            trk.update(rp[k], trk.coordinate(rp[k], t, td, tq, tx), t, td, tq, nv)

    def _find_onset(self, n):
        """Sample count at which a leak began: the knee of the best fit of
        level + slope * max(0, i - j) to the compensated pressure of the last
        n samples (the window that raised the alarm, usually longer than the
        leak)."""
        th = self._theta
        m = self._bank.hinge(n, 0, th[1], th[2] / self._dt, th[4], th[5] / self._dt)[0]
        self._hinge_n = n
        return self._bank.count - m

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
            hz = self._bank.hz
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
        hz = self._bank.hz
        expect = threshold_z(0.5 * self.cfg["learn_s"] / dt, hz)
        for w in range(self._nw):
            f = self.cfg["learn_margin"] * self._peak[w] / expect
            self._infl[w] = f if f > 1.0 else 1.0
        if self.state == "learning":
            self.state = "ok"

    def _report(self, wmax, p):
        """Rate from the longest window that fits the current situation."""
        bank = self._bank
        cnt = bank.count
        best = -1
        trk = self._tracker
        if trk.active and trk.n >= _N_MIN:
            k = bank.newest()
            if self._rate_at == self.samples:
                r = self._rate_r
                s = self._rate_s
            else:
                r, s = trk.rate(bank.rp[k], bank.rt[k], self._Td, self._dt)
            self.rate_pa_s = r
            self.rate_sigma_pa_s = s
            self._update_ml()
            alarmed = self.state == "leak" or self.state == "gross"
            if r < 0.0 and (alarmed or r < -2.0 * s):
                self.time_to_min_s = trk.time_to(bank.rp[k], self.min_pressure_pa - self._p_ref, r,
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
                th = self._theta
                m, slope, info = bank.hinge(n if n < self._ring_n else self._ring_n, since, th[1], th[2] / self._dt, th[4],
                                            th[5] / self._dt)
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
