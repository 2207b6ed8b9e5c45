"""Inverse of a monotonic integer function, as the chip emulators need to
turn a physical value into the raw code the part's compensation maps to it."""


def lower_bound(f, target, lo, hi, hint=None):
    """Smallest x in [lo, hi] with f(x) >= target (hi when there is none),
    for f non-decreasing. With a hint (say the last answer: physical values
    move little between conversions), the search gallops out from it, a
    few evaluations instead of a bisection of the whole range; the answer
    is the same."""
    a, b = lo, hi
    if hint is not None and lo < hint < hi:
        step = 1
        if f(hint) < target:
            a = hint + 1
            probe = hint + 1
            while probe < hi and f(probe) < target:
                a = probe + 1
                step <<= 1
                probe = hint + step
            b = min(probe, hi)
        else:
            b = hint
            probe = hint - 1
            while probe > lo and f(probe) >= target:
                b = probe
                step <<= 1
                probe = hint - step
            a = max(probe + 1, lo) if probe > lo else lo
    while a < b:
        mid = (a + b) >> 1
        if f(mid) < target:
            a = mid + 1
        else:
            b = mid
    return a
