"""The chip emulators' inverse search: started from a hint it gives the same
code as a bisection of the whole range, and the emulators give the same raw
codes with and without the last answer as a hint."""
import random

from hypothesis import given, strategies as st

from leakrig.sim.chips import bmp280, ms5837
from leakrig.sim.chips._search import lower_bound


def _bisect(f, target, lo, hi):
    a, b = lo, hi
    while a < b:
        mid = (a + b) >> 1
        if f(mid) < target:
            a = mid + 1
        else:
            b = mid
    return a


@given(st.integers(0, 1000), st.integers(-5, 3005), st.integers(-10, 1010), st.integers(1, 7))
def test_lower_bound_with_any_hint_is_the_bisection(hi, target, hint, slope):
    def f(x):
        return (x * slope) // 3
    assert lower_bound(f, target, 0, hi, hint) == _bisect(f, target, 0, hi)


def test_raw_codes_do_not_depend_on_the_hint():
    rng = random.Random(3)
    c = tuple(ms5837.make_prom()[1:7])
    for _ in range(300):
        p = rng.uniform(-1e5, 3.5e6)
        t = rng.uniform(-40.0, 80.0)   # the part's range: the compensation is monotonic there
        cold = ms5837.raw_from_physical(c, p, t)
        hint = (cold[0] + rng.randint(-3000, 3000), cold[1] + rng.randint(-3000, 3000))
        assert ms5837.raw_from_physical(c, p, t, hint) == cold
        pb = rng.uniform(2.0e4, 1.3e5)
        tb = rng.uniform(-45.0, 90.0)
        for bits in (16, 20):
            cold = bmp280.raw_from_physical(bmp280.DATASHEET_CALIB, pb, tb, bits)
            hint = (cold[0] + rng.randint(-3000, 3000), cold[1] + rng.randint(-3000, 3000))
            assert bmp280.raw_from_physical(bmp280.DATASHEET_CALIB, pb, tb, bits, hint) == cold
