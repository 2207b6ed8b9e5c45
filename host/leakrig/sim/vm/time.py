# The virtual board's `time`: the simulator's clock stands in for the chip's
# timer, so that in lockstep mode a sleep advances the rig's physics instead of
# the wall clock. Same names and wrap-around semantics as on a board.
import _simlink

_TICKS_PERIOD = 1 << 30
_TICKS_MAX = _TICKS_PERIOD - 1
_TICKS_HALF = _TICKS_PERIOD >> 1
# 2000-01-01 is MicroPython's epoch on boards; the simulated run starts at its
# wall-clock start, fetched once.
_epoch_offset_s = None


def ticks_us():
    return _simlink.now_us() & _TICKS_MAX


def ticks_ms():
    return (_simlink.now_us() // 1000) & _TICKS_MAX


def ticks_cpu():
    return ticks_us()


def ticks_add(ticks, delta):
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(end, start):
    return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def sleep_us(us):
    if us > 0:
        _simlink.sleep_until_us(_simlink.now_us() + int(us))


def sleep_ms(ms):
    if ms > 0:
        _simlink.sleep_until_us(_simlink.now_us() + int(ms) * 1000)


def sleep(s):
    if s > 0:
        _simlink.sleep_until_us(_simlink.now_us() + int(s * 1000000))


def time_ns():
    return _simlink.now_us() * 1000


def time():
    return _simlink.now_us() // 1000000


def gmtime(secs=None):
    if secs is None:
        secs = time()
    secs = int(secs)
    days, rem = divmod(secs, 86400)
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    wday = (days + 5) % 7  # 2000-01-01 was a Saturday
    y = 2000
    while True:
        ylen = 366 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 365
        if days < ylen:
            break
        days -= ylen
        y += 1
    yday = days + 1
    mdays = (31, 29 if ylen == 366 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    m = 0
    while days >= mdays[m]:
        days -= mdays[m]
        m += 1
    return (y, m + 1, days + 1, hh, mm, ss, wday, yday)


localtime = gmtime
