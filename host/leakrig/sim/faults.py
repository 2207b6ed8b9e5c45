"""Seeded fault injection for the simulated rig (docs/simulator.md, "Faults").
Sensor value faults wrap a physical-value callable; device faults wrap a chip
emulator's bus methods and drive its fault inputs; link faults act on the
virtual board's byte stream. Specs come from a scenario's tables; the
runtime objects draw from random.Random seeded by (seed, role)."""
import math
import random

from .bus import Nack
from .tables import Table
from .wiring import ROLE_QUANTITIES

ROLES = tuple(ROLE_QUANTITIES)
# Value-fault sub-tables and the unit suffix of their keys.
QUANTITY_UNITS = {"pressure": "pa", "temperature": "c"}


def time_source(clock):
    """A zero-argument callable giving simulated seconds, from a clock object
    with .now_s or from such a callable."""
    if callable(clock):
        return clock
    return lambda: clock.now_s


def quantity_of(name):
    """'pressure' or 'temperature' for a model quantity such as loop_pressure_pa."""
    if name.endswith("_pa"):
        return "pressure"
    if name.endswith("_c"):
        return "temperature"
    raise ValueError("Not a sensed quantity: {!r}".format(name))


class Schedule:
    """When a fault is active: always, from a time on, or in [start, end) windows (s)."""

    def __init__(self, windows):
        self.windows = tuple(windows)

    @classmethod
    def parse(cls, table, key):
        """true / false, a start time in s, or a list of [start_s, end_s]."""
        value = table.raw(key, False)
        if value is True:
            return cls([(-math.inf, math.inf)])
        if value is False:
            return None
        if isinstance(value, (int, float)):
            return cls([(float(value), math.inf)])
        if isinstance(value, list):
            windows = []
            for w in value:
                ok = (isinstance(w, list) and len(w) == 2
                      and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in w)
                      and w[0] < w[1])
                if not ok:
                    raise table.error(key, "windows must be [start_s, end_s] pairs with start < end, got {!r}".format(w))
                windows.append((float(w[0]), float(w[1])))
            return cls(windows)
        raise table.error(key, "must be true, a start time in s, or a list of [start_s, end_s], got {!r}".format(value))

    def active(self, t_s):
        for start, end in self.windows:
            if start <= t_s < end:
                return True
        return False


# --- sensor value faults ---------------------------------------------------------

class ValueFaultSpec:
    """Faults on one quantity (pressure in Pa, temperature in °C) of a sensor.
    Applied in this order: first-order lag, offset and drift, noise,
    quantisation, stuck."""

    def __init__(self, noise=0.0, quantisation=0.0, lag_s=0.0, offset=0.0, drift_per_h=0.0,
                 drift_from_s=0.0, stuck_from_s=None, stuck_until_s=None, stuck_value=None):
        self.noise = noise
        self.quantisation = quantisation
        self.lag_s = lag_s
        self.offset = offset
        self.drift_per_h = drift_per_h
        self.drift_from_s = drift_from_s
        self.stuck_from_s = stuck_from_s
        self.stuck_until_s = math.inf if stuck_until_s is None else stuck_until_s
        self.stuck_value = stuck_value

    @classmethod
    def parse(cls, table, unit):
        spec = cls(
            noise=table.number("noise_" + unit, 0.0, low=0.0),
            quantisation=table.number("quantisation_" + unit, 0.0, low=0.0),
            lag_s=table.number("lag_s", 0.0, low=0.0),
            offset=table.number("offset_" + unit, 0.0),
            drift_per_h=table.number("drift_{}_per_h".format(unit), 0.0),
            drift_from_s=table.number("drift_from_s", 0.0),
            stuck_from_s=table.number("stuck_from_s", None),
            stuck_until_s=table.number("stuck_until_s", None),
            stuck_value=table.number("stuck_value_" + unit, None),
        )
        if spec.stuck_from_s is None and (spec.stuck_value is not None or "stuck_until_s" in table):
            raise table.error("stuck_from_s", "missing (needed by the other stuck_* keys)")
        if spec.stuck_from_s is not None and spec.stuck_until_s <= spec.stuck_from_s:
            raise table.error("stuck_until_s", "must be after stuck_from_s")
        table.done()
        return spec


class FaultyValue:
    """Callable: the true value as the faulty sensor reports it. Two calls
    at the same simulated instant give the same reading."""

    def __init__(self, true_value, spec, rng, now):
        self.true_value = true_value
        self.spec = spec
        self.rng = rng
        self.now = now
        self._t = None
        self._reading = None
        self._lag_in = None     # (t, input) of the last lag update
        self._lag_out = None
        self._held = None

    def _lagged(self, t, x):
        tau = self.spec.lag_s
        if tau <= 0.0:
            return x
        if self._lag_in is None:
            self._lag_in, self._lag_out = (t, x), x  # a settled sensor at start
            return x
        t0, x0 = self._lag_in
        dt = t - t0
        if dt > 0.0:
            # Exact first-order response to an input ramping from x0 to x.
            a = math.exp(-dt / tau)
            slope = (x - x0) / dt
            self._lag_out = x - slope * tau + (self._lag_out - x0 + slope * tau) * a
            self._lag_in = (t, x)
        return self._lag_out

    def __call__(self):
        t = self.now()
        if t == self._t:
            return self._reading
        s = self.spec
        x = self._lagged(t, self.true_value())
        x += s.offset
        if s.drift_per_h and t > s.drift_from_s:
            x += s.drift_per_h * (t - s.drift_from_s) / 3600.0
        if s.noise:
            x += self.rng.gauss(0.0, s.noise)
        if s.quantisation:
            x = round(x / s.quantisation) * s.quantisation
        if s.stuck_from_s is not None and s.stuck_from_s <= t < s.stuck_until_s:
            if self._held is None:
                self._held = x if s.stuck_value is None else s.stuck_value
            x = self._held
        else:
            self._held = None
        self._t, self._reading = t, x
        return x


# --- device faults -----------------------------------------------------------------

class SensorFaultSpec:
    """All faults of one sensor role: value faults per quantity, and device
    faults (NACK, dropout, open 4–20 mA loop, RTD fault, lead resistance)."""

    def __init__(self, role, values=None, nack=None, nack_probability=0.0, dropout=None,
                 open_loop=None, rtd=None, rtd_when=None, lead_ohm=None):
        self.role = role
        self.values = values or {}
        self.nack = nack
        self.nack_probability = nack_probability
        self.dropout = dropout
        self.open_loop = open_loop
        self.rtd = rtd
        self.rtd_when = rtd_when
        self.lead_ohm = lead_ohm

    @classmethod
    def parse(cls, table, role):
        values = {}
        for quantity, unit in QUANTITY_UNITS.items():
            sub = table.table(quantity, None)
            if sub is not None:
                values[quantity] = ValueFaultSpec.parse(sub, unit)
        rtd = table.string("rtd", None, choices=("open", "short"))
        rtd_when = Schedule.parse(table, "rtd_when") if "rtd_when" in table else None
        if rtd is None and rtd_when is not None:
            raise table.error("rtd", "missing (rtd_when needs it)")
        if rtd is not None and rtd_when is None:
            rtd_when = Schedule([(-math.inf, math.inf)])
        spec = cls(role, values,
                   nack=Schedule.parse(table, "nack"),
                   nack_probability=table.number("nack_probability", 0.0, low=0.0, high=1.0),
                   dropout=Schedule.parse(table, "dropout"),
                   open_loop=Schedule.parse(table, "open_loop"),
                   rtd=rtd, rtd_when=rtd_when,
                   lead_ohm=table.number("lead_ohm", None, low=0.0))
        table.done()
        return spec

    @property
    def has_device_faults(self):
        return bool(self.nack or self.nack_probability or self.dropout or self.open_loop
                    or self.rtd or self.lead_ohm is not None)


class SensorFaults:
    """The runtime faults of one role, seeded. The rig calls wrap_value for
    each quantity it feeds the role's emulator, and apply_to_device once
    the emulator is built."""

    def __init__(self, spec, seed):
        self.spec = spec
        self.seed = seed
        self.injected_nacks = 0

    def wrap_value(self, true_value, name, clock):
        """true_value: zero-argument callable of the quantity `name`
        (e.g. loop_pressure_pa). Returns the callable to feed the emulator."""
        spec = self.spec.values.get(quantity_of(name))
        if spec is None:
            return true_value
        rng = random.Random("{}:{}:{}".format(self.seed, self.spec.role, name))
        return FaultyValue(true_value, spec, rng, time_source(clock))

    def apply_to_device(self, chip, clock):
        """Wrap chip's bus methods so that device faults act at the
        simulated time of each transfer."""
        if not self.spec.has_device_faults:
            return
        DeviceFaults(chip, self, time_source(clock),
                     random.Random("{}:{}:device".format(self.seed, self.spec.role))).install()


class DeviceFaults:
    """Device faults on one chip emulator. "Silent" (NACK, a dropout of a
    digital sensor) means: I2C transfers raise Nack; SPI reads 0xFF (MISO
    undriven, pulled high); 1-Wire gives no presence pulse and reads 1.
    A dropout of an analog transducer opens its signal (ADS1115 front end
    disconnected, or a 4–20 mA loop open), of an RTD opens the element."""

    def __init__(self, chip, faults, now, rng):
        self.chip = chip
        self.faults = faults
        self.spec = faults.spec
        self.now = now
        self.rng = rng
        self.front_end = getattr(chip, "front_end", None)
        self.has_rtd = hasattr(chip, "open_rtd")
        self._spi_silent = False
        role = self.spec.role
        if self.spec.open_loop and self.front_end is None:
            raise ValueError("faults.{}.open_loop: the {} sensor has no analog front end"
                             .format(role, type(chip).__name__))
        if (self.spec.rtd or self.spec.lead_ohm is not None) and not self.has_rtd:
            raise ValueError("faults.{}: rtd and lead_ohm need an RTD converter, not {}"
                             .format(role, type(chip).__name__))
        if self.spec.lead_ohm is not None:
            chip.lead_ohm = self.spec.lead_ohm

    def _signal_open(self, t):
        s = self.spec
        return bool((s.open_loop and s.open_loop.active(t))
                    or (s.dropout and s.dropout.active(t) and self.front_end is not None))

    def _update_inputs(self, t):
        """Fault inputs the emulator reads when it converts."""
        s = self.spec
        fe = self.front_end
        if fe is not None and (s.open_loop or s.dropout):
            opened = self._signal_open(t)
            if hasattr(fe, "open_loop"):
                fe.open_loop = opened
            else:
                fe.disconnected = opened
        if self.has_rtd and (s.rtd or s.dropout):
            broken = bool(s.rtd and s.rtd_when.active(t))
            dropped = bool(s.dropout and s.dropout.active(t))
            self.chip.open_rtd = dropped or (broken and s.rtd == "open")
            self.chip.short_rtd = broken and s.rtd == "short" and not dropped

    def _silent(self, t):
        s = self.spec
        if s.nack and s.nack.active(t):
            return True
        if s.dropout and s.dropout.active(t) and self.front_end is None and not self.has_rtd:
            return True
        return bool(s.nack_probability and self.rng.random() < s.nack_probability)

    def _may_be_silent(self):
        """Whether _silent can ever be true for this chip."""
        s = self.spec
        return bool(s.nack or s.nack_probability
                    or (s.dropout and self.front_end is None and not self.has_rtd))

    def _nack(self):
        self.faults.injected_nacks += 1
        raise Nack("{} not responding (injected)".format(type(self.chip).__name__))

    def install(self):
        chip = self.chip
        now = self.now
        if hasattr(chip, "i2c_write"):
            write, read = chip.i2c_write, chip.i2c_read

            def i2c_write(data, stop):
                t = now()
                self._update_inputs(t)
                if self._silent(t):
                    self._nack()
                return write(data, stop)

            def i2c_read(n, stop):
                t = now()
                self._update_inputs(t)
                if self._silent(t):
                    self._nack()
                return read(n, stop)

            chip.i2c_write, chip.i2c_read = i2c_write, i2c_read
            if self._may_be_silent() and hasattr(chip, "write_ack_mask"):
                # A write may be NACKed at any transfer: no write is
                # promised an acknowledge (the VM waits for each one).
                chip.write_ack_mask = lambda: None
        if hasattr(chip, "spi_transfer"):
            select, transfer = chip.spi_select, chip.spi_transfer

            def spi_select(active):
                t = now()
                self._update_inputs(t)
                if active:
                    self._spi_silent = self._silent(t)
                return select(active)

            def spi_transfer(data):
                self._update_inputs(now())
                if self._spi_silent:
                    return b"\xff" * len(data)
                return transfer(data)

            chip.spi_select, chip.spi_transfer = spi_select, spi_transfer
        if hasattr(chip, "ow_reset"):
            reset, write_bit, read_bit = chip.ow_reset, chip.ow_write_bit, chip.ow_read_bit
            state = {"silent": False}

            def ow_reset():
                t = now()
                state["silent"] = self._silent(t)
                if state["silent"]:
                    self.faults.injected_nacks += 1
                    return False
                return reset()

            def ow_write_bit(bit):
                if not state["silent"]:
                    write_bit(bit)

            def ow_read_bit():
                return 1 if state["silent"] else read_bit()

            chip.ow_reset, chip.ow_write_bit, chip.ow_read_bit = ow_reset, ow_write_bit, ow_read_bit


# --- link faults -------------------------------------------------------------------

class LinkFaultSpec:
    """Faults on the board's serial stream: each byte dropped or corrupted
    (one bit flipped) with a probability, and unplug windows (at_s, for_s)."""

    def __init__(self, drop_probability=0.0, corrupt_probability=0.0, unplug=()):
        self.drop_probability = drop_probability
        self.corrupt_probability = corrupt_probability
        self.unplug = tuple(unplug)

    @classmethod
    def parse(cls, table):
        unplug = []
        at = table.number("unplug_at_s", None, low=0.0)
        if at is not None:
            unplug.append((at, table.number("unplug_for_s", low=0.0, low_open=True)))
        elif "unplug_for_s" in table:
            raise table.error("unplug_at_s", "missing (unplug_for_s needs it)")
        extra = table.raw("unplugs", [])
        if not isinstance(extra, list):
            raise table.error("unplugs", "must be a list of [at_s, for_s]")
        for pair in extra:
            ok = (isinstance(pair, list) and len(pair) == 2
                  and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair)
                  and pair[0] >= 0 and pair[1] > 0)
            if not ok:
                raise table.error("unplugs", "each entry must be [at_s, for_s] with for_s > 0, got {!r}".format(pair))
            unplug.append((float(pair[0]), float(pair[1])))
        spec = cls(drop_probability=table.number("drop_probability", 0.0, low=0.0, high=1.0),
                   corrupt_probability=table.number("corrupt_probability", 0.0, low=0.0, high=1.0),
                   unplug=sorted(unplug))
        table.done()
        return spec

    def plugged_at(self, t_s):
        for at, dur in self.unplug:
            if at <= t_s < at + dur:
                return False
        return True


class LinkFaults:
    """Runtime link faults for the virtual board: apply(bytes) -> bytes on
    what the board sends, plugged() for its unplug schedule."""

    def __init__(self, spec, seed, clock):
        self.spec = spec
        self.now = time_source(clock)
        self.rng = random.Random("{}:link".format(seed))
        self.bytes_dropped = 0
        self.bytes_corrupted = 0
        self._to_drop = self._gap(spec.drop_probability)
        self._to_corrupt = self._gap(spec.corrupt_probability)

    def _gap(self, p):
        """Clean bytes before the next faulty one (geometric), so that cost
        goes with faults, not with bytes."""
        if p <= 0.0:
            return math.inf
        if p >= 1.0:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - p))

    def plugged(self):
        return self.spec.plugged_at(self.now())

    def apply(self, data):
        n = len(data)
        if n == 0 or (self._to_drop >= n and self._to_corrupt >= n):
            self._to_drop -= n
            self._to_corrupt -= n
            return data
        out = bytearray(data)
        i = self._to_corrupt
        while i < n:
            out[i] ^= 1 << self.rng.randrange(8)
            self.bytes_corrupted += 1
            i += 1 + self._gap(self.spec.corrupt_probability)
        self._to_corrupt = i - n
        drops = []
        i = self._to_drop
        while i < n:
            drops.append(i)
            i += 1 + self._gap(self.spec.drop_probability)
        self._to_drop = i - n
        for i in reversed(drops):
            del out[i]
        self.bytes_dropped += len(drops)
        return bytes(out)


# --- from a scenario -----------------------------------------------------------------

def parse_sensor_faults(table):
    """{role: SensorFaultSpec} from a scenario's [faults] Table."""
    specs = {}
    for role in table.keys():
        if role not in ROLES:
            raise table.error(role, "unknown sensor role (roles: {})".format(", ".join(ROLES)))
        specs[role] = SensorFaultSpec.parse(table.table(role), role)
    table.done()
    return specs


def sensor_faults_for(scenario, seed):
    """{role: SensorFaults} for the scenario's sensor faults, seeded."""
    specs = getattr(scenario, "sensor_faults", None) or {}
    return {role: SensorFaults(spec, seed) for role, spec in specs.items()}


def link_faults_for(scenario, seed, clock):
    """LinkFaults for the scenario's [link] table, or None."""
    spec = getattr(scenario, "link_faults", None)
    if spec is None:
        return None
    return LinkFaults(spec, seed, clock)
