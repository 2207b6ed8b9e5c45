"""What the virtual board's pins and buses are wired to: the I2C, SPI and
1-Wire buses holding chip emulators, plain pins, and the watchdog. The link
server turns VM requests into calls on this object."""
import time

from .bus import I2CBus, OneWireBus, SPIBus
from .clock import SimClock


class Watchdog:
    """Expires when not fed within its timeout of simulated time, or of the
    VM's own CPU time: a loop that hangs without sleeping never advances
    lockstep time, but it does burn CPU. A VM that is idle (at the REPL,
    waiting on the host to read its output, or not scheduled on a busy
    machine) burns none, so it is not taken for hung.

    cpu_clock returns the VM's CPU seconds (the virtual board supplies it);
    it is read only by expired(), which the board polls, never per feed, and
    at most every CPU_CHECK_S of wall time (the board polls on every burst
    of VM output, and reading a process's CPU time is a file read): a hung
    loop is caught that much later at most."""

    CPU_CHECK_S = 0.02

    def __init__(self, clock, cpu_clock=None):
        self.clock = clock
        self.cpu_clock = cpu_clock or time.process_time
        self.timeout_ms = None
        self._fed_sim_us = 0
        self._fed_cpu = 0.0
        self._fed = False
        self._cpu_check_at = 0.0
        self.expiries = 0

    def start(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self._fed_sim_us = self.clock.now_us
        self._fed_cpu = self.cpu_clock()
        self._fed = False
        self._cpu_check_at = time.monotonic() + self.CPU_CHECK_S

    def feed(self):
        self._fed_sim_us = self.clock.now_us
        self._fed = True  # the CPU time is taken at the next expired()

    def stop(self):
        """A reset stops the watchdog until the firmware starts it again."""
        self.timeout_ms = None

    def expired(self):
        if self.timeout_ms is None:
            return False
        if self.clock.now_us - self._fed_sim_us > self.timeout_ms * 1000:
            return True
        wall = time.monotonic()
        if wall < self._cpu_check_at:
            return False
        self._cpu_check_at = wall + self.CPU_CHECK_S
        cpu = self.cpu_clock()
        if self._fed:
            # Fed since the last check: the CPU time counts from now (the
            # feed was at most CPU_CHECK_S of wall time ago).
            self._fed = False
            self._fed_cpu = cpu
        return cpu - self._fed_cpu > self.timeout_ms / 1000


class SimHardware:
    def __init__(self, clock=None):
        self.clock = clock or SimClock()
        self.i2c_buses = {}
        self.spi_buses = {}
        self.onewire_buses = {}
        self.pins = {}          # last level written by the firmware, by pin id
        self.pin_inputs = {}    # levels the rig drives into the board
        self.watchdog = Watchdog(self.clock)
        self.resets_requested = 0

    # A bus is made the first time it is named (no new object per transfer).
    def i2c(self, bus_id):
        bus = self.i2c_buses.get(bus_id)
        if bus is None:
            bus = self.i2c_buses.setdefault(int(bus_id), I2CBus())
        return bus

    def spi(self, bus_id):
        bus = self.spi_buses.get(bus_id)
        if bus is None:
            bus = self.spi_buses.setdefault(int(bus_id), SPIBus())
        return bus

    def onewire(self, pin_id):
        bus = self.onewire_buses.get(pin_id)
        if bus is None:
            bus = self.onewire_buses.setdefault(str(pin_id), OneWireBus())
        return bus

    def i2c_write_acks(self):
        """((bus, addr, mask), ...): the I2C devices that acknowledge a write
        whose first byte is in mask (I2CBus.write_acks), as things stand."""
        out = []
        for bus_id, bus in self.i2c_buses.items():
            for addr, mask in bus.write_acks():
                out.append((bus_id, addr, mask))
        return tuple(out)

    def pin_write(self, pin_id, level):
        self.pins[pin_id] = level
        for bus in self.spi_buses.values():
            if bus.has_cs(pin_id):
                bus.select(pin_id, level == 0)  # chip selects are active low

    def pin_read(self, pin_id):
        if pin_id in self.pin_inputs:
            return self.pin_inputs[pin_id]
        return self.pins.get(pin_id, 1)  # inputs float high (pull-ups)
