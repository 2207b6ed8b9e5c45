"""Simulated time. In lockstep mode time moves only when the firmware sleeps,
so hours of rig time pass in seconds; in real-time mode it follows the wall
clock (optionally scaled). While no host listens (the cable is out, or the
port is closed), a board's time cannot run ahead of the wall clock: lockstep
sleeps are then paced (see pace_until_us)."""
import threading
import time


class SimClock:
    def __init__(self, lockstep=True, speed=1.0, start_us=0):
        if speed <= 0:
            raise ValueError("Not a valid sim speed: {!r}".format(speed))
        self.lockstep = lockstep
        self.speed = speed
        self._now_us = int(start_us)
        self._wall0 = time.monotonic()
        self._lock = threading.Lock()
        self.wall_epoch_s = time.time()  # host UTC at sim time zero
        # Set by the virtual board: true while no host has the port open.
        self.host_away = lambda: False
        self._pace_anchor = None  # (wall s, sim us) when the host went away

    @property
    def now_us(self):
        if self.lockstep:
            return self._now_us
        return self._now_us + int((time.monotonic() - self._wall0) * 1e6 * self.speed)

    @property
    def now_s(self):
        return self.now_us / 1e6

    def sleep_until_us(self, t_us):
        """Advance to t_us (never backwards); return the new time."""
        if self.lockstep:
            with self._lock:
                if t_us > self._now_us:
                    self._now_us = int(t_us)
                return self._now_us
        wait_s = (t_us - self.now_us) / 1e6 / self.speed
        if wait_s > 0:
            time.sleep(wait_s)
        return self.now_us

    def pace_until_us(self, t_us, poll_s=0.02):
        """Before a lockstep sleep to t_us: while no host listens, wait until
        the wall clock has run as far since the host went away as board time
        will have; return at once if it is there, or once a host is back.
        A board whose host is away runs at its own pace, not the VM's, so a
        host that takes seconds to come back finds seconds of data, not
        minutes. Call it without holding locks that the host side needs."""
        if not self.lockstep:
            return
        # Never longer than the sleep itself, whatever the anchor says.
        latest = time.monotonic() + max(0, t_us - self._now_us) / 1e6
        while self.host_away():
            anchor = self._pace_anchor
            if anchor is None:
                anchor = self._pace_anchor = (time.monotonic(), self._now_us)
            now = time.monotonic()
            wait_s = min(anchor[0] + (t_us - anchor[1]) / 1e6, latest) - now
            if wait_s <= 0:
                return
            time.sleep(min(wait_s, poll_s))
        self.end_pacing()

    def end_pacing(self):
        """A host listens again: lockstep runs free."""
        self._pace_anchor = None

    def advance_s(self, dt_s):
        """Move lockstep time forward from the host side (tests, rig controls)."""
        return self.sleep_until_us(self.now_us + int(dt_s * 1e6))
