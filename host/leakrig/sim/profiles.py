"""Loop temperature profiles: callables giving the loop temperature (°C) at a
scenario time (s). Constant, ramp, settling after a fill, sine, an orbital
sun/eclipse cycle, and a recorded CSV profile; equations in
docs/simulator.md, "Physics"."""
import bisect
import csv
import math

ORBIT_PERIOD_S = 92 * 60.0
ECLIPSE_S = 36 * 60.0


class Constant:
    def __init__(self, value_c):
        self.value_c = float(value_c)

    def __call__(self, t_s):
        return self.value_c


class Ramp:
    """start_c until start_s, then linear to end_c over duration_s, then held."""

    def __init__(self, start_c, end_c, duration_s, start_s=0.0):
        if duration_s <= 0:
            raise ValueError("Not a valid ramp duration: {!r}".format(duration_s))
        self.start_c = float(start_c)
        self.end_c = float(end_c)
        self.start_s = float(start_s)
        self.duration_s = float(duration_s)
        self.rate_c_per_s = (self.end_c - self.start_c) / self.duration_s

    def __call__(self, t_s):
        u = t_s - self.start_s
        if u <= 0.0:
            return self.start_c
        if u >= self.duration_s:
            return self.end_c
        return self.start_c + self.rate_c_per_s * u


class Settle:
    """start_c until start_s, then a first-order approach to end_c with time
    constant tau_s: a loop settling after a fill (pressure-decay tests)."""

    def __init__(self, start_c, end_c, tau_s, start_s=0.0):
        if tau_s <= 0:
            raise ValueError("Not a valid time constant: {!r}".format(tau_s))
        self.start_c = float(start_c)
        self.end_c = float(end_c)
        self.tau_s = float(tau_s)
        self.start_s = float(start_s)

    def __call__(self, t_s):
        u = t_s - self.start_s
        if u <= 0.0:
            return self.start_c
        return self.end_c + (self.start_c - self.end_c) * math.exp(-u / self.tau_s)


class Sine:
    def __init__(self, mean_c, amplitude_c, period_s, phase_deg=0.0):
        if period_s <= 0:
            raise ValueError("Not a valid sine period: {!r}".format(period_s))
        self.mean_c = float(mean_c)
        self.amplitude_c = float(amplitude_c)
        self.period_s = float(period_s)
        self.phase_rad = math.radians(phase_deg)
        self._omega = 2.0 * math.pi / self.period_s

    def __call__(self, t_s):
        return self.mean_c + self.amplitude_c * math.sin(self._omega * t_s + self.phase_rad)


class Orbital:
    """Sun/eclipse cycle: in sunlight the loop approaches hot_c, in eclipse
    cold_c, each as a first-order response with time constant tau_s. The
    cycle starts in its periodic steady state (no start-up transient);
    orbit_start_s is where in the orbit t = 0 falls (0: start of sunlight)."""

    def __init__(self, hot_c=28.0, cold_c=8.0, period_s=ORBIT_PERIOD_S, eclipse_s=ECLIPSE_S,
                 tau_s=900.0, orbit_start_s=0.0):
        if period_s <= 0:
            raise ValueError("Not a valid orbit period: {!r}".format(period_s))
        if not 0.0 < eclipse_s < period_s:
            raise ValueError("Not a valid eclipse duration: {!r} (period {!r})".format(eclipse_s, period_s))
        if tau_s < 0:
            raise ValueError("Not a valid time constant: {!r}".format(tau_s))
        self.hot_c = float(hot_c)
        self.cold_c = float(cold_c)
        self.period_s = float(period_s)
        self.eclipse_s = float(eclipse_s)
        self.sun_s = self.period_s - self.eclipse_s
        self.tau_s = float(tau_s)
        self.orbit_start_s = float(orbit_start_s)
        if self.tau_s == 0.0:
            self.sunrise_c, self.sunset_c = self.cold_c, self.hot_c
        else:
            a = math.exp(-self.sun_s / self.tau_s)
            b = math.exp(-self.eclipse_s / self.tau_s)
            # Periodic steady state: temperatures at sunrise and at sunset.
            self.sunrise_c = (self.cold_c * (1.0 - b) + self.hot_c * (1.0 - a) * b) / (1.0 - a * b)
            self.sunset_c = self.hot_c + (self.sunrise_c - self.hot_c) * a

    def in_eclipse(self, t_s):
        return (t_s + self.orbit_start_s) % self.period_s >= self.sun_s

    def __call__(self, t_s):
        u = (t_s + self.orbit_start_s) % self.period_s
        if self.tau_s == 0.0:
            return self.hot_c if u < self.sun_s else self.cold_c
        if u < self.sun_s:
            return self.hot_c + (self.sunrise_c - self.hot_c) * math.exp(-u / self.tau_s)
        return self.cold_c + (self.sunset_c - self.cold_c) * math.exp(-(u - self.sun_s) / self.tau_s)


class Recorded:
    """A recorded profile: CSV with a header holding t_s and temperature_c,
    interpolated linearly, held at its ends (or repeated when repeat=True)."""

    def __init__(self, path, repeat=False):
        self.path = str(path)
        self.times_s, self.values_c = read_profile_csv(self.path)
        self.repeat = bool(repeat)
        self.span_s = self.times_s[-1] - self.times_s[0]
        if self.repeat and self.span_s <= 0:
            raise ValueError("{}: a repeated profile needs more than one time".format(self.path))

    def __call__(self, t_s):
        times = self.times_s
        if self.repeat:
            t_s = times[0] + (t_s - times[0]) % self.span_s
        if t_s <= times[0]:
            return self.values_c[0]
        if t_s >= times[-1]:
            return self.values_c[-1]
        i = bisect.bisect_right(times, t_s)
        t0, t1 = times[i - 1], times[i]
        v0, v1 = self.values_c[i - 1], self.values_c[i]
        return v0 + (v1 - v0) * (t_s - t0) / (t1 - t0)


def read_profile_csv(path):
    """(times_s, temperatures_c) from a CSV with t_s,temperature_c columns;
    times must increase."""
    times, values = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"t_s", "temperature_c"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError("{}: missing column(s) {}".format(path, ", ".join(sorted(missing))))
        for row in reader:
            line = reader.line_num
            try:
                t, v = float(row["t_s"]), float(row["temperature_c"])
            except (TypeError, ValueError):
                raise ValueError("{}:{}: not a number in t_s or temperature_c".format(path, line)) from None
            if times and t <= times[-1]:
                raise ValueError("{}:{}: t_s must increase".format(path, line))
            times.append(t)
            values.append(v)
    if not times:
        raise ValueError("{}: no rows".format(path))
    return times, values
