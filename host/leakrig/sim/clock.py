"""Simulated time. In lockstep mode time moves only when the firmware sleeps,
so hours of rig time pass in seconds; in real-time mode it follows the wall
clock (optionally scaled)."""
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

    def advance_s(self, dt_s):
        """Move lockstep time forward from the host side (tests, rig controls)."""
        return self.sleep_until_us(self.now_us + int(dt_s * 1e6))
