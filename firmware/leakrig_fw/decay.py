# Pressure-decay test (fill, stabilise, test, vent, then PASS / FAIL /
# INCONCLUSIVE against a reject rate), with the continuous detector's sensor
# fault checks as its guard. Its own module: the firmware loads it only when
# a decay test starts, so it costs no heap on a board that monitors.
import math

from .detector import Detector

PHASES = ("idle", "fill", "stabilise", "test", "vent", "done")


class DecayTest:
    """Pressure-decay test cycle of an industrial leak tester: fill,
    stabilise, test, vent. The test phase fits pressure = a + b*t (less the
    learned transient of a known-good part) and judges the decay rate against
    the reject limit with its uncertainty:

        dt_ = DecayTest(reject_pa_s=2.0)
        dt_.start()
        while dt_.phase != "done":
            dt_.update(t, p, T)
        print(dt_.verdict, dt_.rate_pa_s, dt_.rate_sigma_pa_s)
    """

    def __init__(self, reject_pa_s=2.0, fill_s=30.0, stabilise_s=60.0, test_s=120.0, vent_s=10.0,
                 coverage=2.0, transient_pa_s=0.0, pa_per_k=0.0, min_fill_pa=0.0, guard=None,
                 **detector_params):
        if reject_pa_s <= 0 or test_s <= 0 or coverage <= 0:
            raise ValueError("reject_pa_s, test_s and coverage must be positive")
        self.reject_pa_s = float(reject_pa_s)
        self.durations = (float(fill_s), float(stabilise_s), float(test_s), float(vent_s))
        self.coverage = float(coverage)
        self.transient_pa_s = float(transient_pa_s)
        self.pa_per_k = float(pa_per_k)
        self.min_fill_pa = float(min_fill_pa)
        # Sensor-fault checks: a Detector of its own, or (guard) one that the
        # caller already feeds every sample, whose fault state is read here.
        self._own_guard = guard is None
        self._guard = Detector(**detector_params) if guard is None else guard
        self.phase = "idle"
        self.verdict = None
        self.reason = ""
        self.rate_pa_s = 0.0
        self.rate_sigma_pa_s = 0.0

    def start(self):
        self.phase = "fill"
        self.verdict = None
        self.reason = ""
        self._t0 = None
        self._faulted = False
        self._n = 0
        self._sums = [0.0] * 6  # n, sum x, sum y, sum xx, sum xy, sum yy (x: s, y: Pa)
        self._ref = None

    def learn_transient(self):
        """After a run on a known-good part: take its decay as the transient
        to subtract from later parts."""
        if self.phase != "done" or self._faulted:
            raise ValueError("learn_transient: needs a finished run without faults")
        self.transient_pa_s += self.rate_pa_s

    def update(self, t_s, pressure_pa, temperature_c, quality=0):
        """Feed one sample; return the name of a phase entered, or
        'sensor_fault', or None."""
        return self._update(t_s, 1.0, pressure_pa, temperature_c, quality)

    def update_ms(self, t_ms, pressure_pa, temperature_c, quality=0):
        """update() with the time as an integer count of milliseconds (exact
        for any uptime, see Detector.update_ms)."""
        return self._update(t_ms, 1000.0, pressure_pa, temperature_c, quality)

    def _update(self, t, t_per_s, pressure_pa, temperature_c, quality):
        if self.phase in ("idle", "done"):
            return None
        ev = None
        if self._own_guard:
            if t_per_s == 1.0:
                ev = self._guard.update(t, pressure_pa, temperature_c, quality)
            else:
                ev = self._guard.update_ms(t, pressure_pa, temperature_c, quality)
        if ev == "sensor_fault" or self._guard._fault:
            if not self._faulted:
                self._faulted = True
                return "sensor_fault"
            return None
        if self._t0 is None:
            self._t0 = t
        el = (t - self._t0) / t_per_s
        ends = 0.0
        for i in range(4):
            ends += self.durations[i]
            if el < ends:
                new = PHASES[i + 1]
                break
        else:
            new = "done"
        if new == "test":
            if self._ref is None:
                self._ref = (t, pressure_pa, temperature_c)
                if pressure_pa < self.min_fill_pa:
                    self.reason = "did not hold the fill pressure"
            x = (t - self._ref[0]) / t_per_s
            y = pressure_pa - self._ref[1] - self.pa_per_k * (temperature_c - self._ref[2])
            s = self._sums
            s[0] += 1.0
            s[1] += x
            s[2] += y
            s[3] += x * x
            s[4] += x * y
            s[5] += y * y
        if new != self.phase:
            old = self.phase
            self.phase = new
            if old == "test" or (new in ("vent", "done") and self.verdict is None):
                self._judge()
            return new
        return None

    def _judge(self):
        s = self._sums
        n = s[0]
        if self._faulted:
            self.verdict = "INCONCLUSIVE"
            self.reason = "sensor fault"
            return
        if n < 3:
            self.verdict = "INCONCLUSIVE"
            self.reason = "too few samples"
            return
        sxx = s[3] - s[1] * s[1] / n
        sxy = s[4] - s[1] * s[2] / n
        syy = s[5] - s[2] * s[2] / n
        b = sxy / sxx
        res = syy - b * sxy
        var = res / (n - 2) if res > 0 else 0.0
        self.rate_pa_s = b - self.transient_pa_s
        self.rate_sigma_pa_s = math.sqrt(var / sxx)
        leak = -self.rate_pa_s
        u = self.coverage * self.rate_sigma_pa_s
        if self.reason:
            self.verdict = "FAIL"
        elif leak - u > self.reject_pa_s:
            self.verdict = "FAIL"
            self.reason = "decay above the reject limit"
        elif (leak if leak > 0.0 else 0.0) + u < self.reject_pa_s:
            # a leak only drains: a rising pressure is no evidence of a
            # tighter part than a flat one, so PASS needs the uncertainty
            # itself below the limit
            self.verdict = "PASS"
            self.reason = "decay below the reject limit"
        else:
            self.verdict = "INCONCLUSIVE"
            self.reason = "uncertainty straddles the reject limit"
