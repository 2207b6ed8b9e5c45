"""The simulated watchdog: simulated time checked on every poll, the VM's
CPU time (a file read) at most every CPU_CHECK_S of wall time."""
import time

from leakrig.sim.clock import SimClock
from leakrig.sim.hardware import Watchdog


def test_watchdog_reads_the_cpu_clock_at_most_every_check_interval():
    cpu = [0.0]
    reads = []

    def cpu_clock():
        reads.append(1)
        return cpu[0]
    clock = SimClock()
    wd = Watchdog(clock, cpu_clock)
    wd.start(1000)
    for _ in range(200):
        assert not wd.expired()
    assert len(reads) <= 2  # start, and at most one check this fast
    cpu[0] = 2.0  # a hung loop burns CPU without feeding
    time.sleep(Watchdog.CPU_CHECK_S * 1.5)
    assert wd.expired()
    wd.start(1000)
    clock.advance_s(1.5)  # simulated time is checked on every call
    assert wd.expired()
