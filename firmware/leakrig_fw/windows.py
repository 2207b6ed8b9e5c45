# The detector's window bank: rings of the last samples of its signals and,
# for windows of 16, 32, ... samples ending at the newest one, the running
# sums from which each window's least-squares slope is read in O(1) per
# sample. Used by the detector; see docs/detector.md.
import math
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

NS = const(3)           # signals: moving averages of pressure and T, and T's square
N_MIN = const(16)       # the shortest window, samples
# Raw pressure for the gross trip: its windows (up to gross_window_s) fit in
# this, up to 128 samples: all of 4 s up to 32 Hz (at a faster rate the
# gross trip looks at 128 samples at most). A divisor of every window ring.
RAW_RING = const(128)
_RECOMPUTE = const(256)  # one window's sums rebuilt from the ring every so many samples


class WindowBank:
    """nw windows of N_MIN << w samples over three signals: the averaged
    pressure and temperature (rings rp, rt: float32 on every platform so
    host and board agree) and the temperature's square (read from rt), and
    the raw pressure (ring rr, on the ngw shortest windows, for the gross
    trip).

    Per window and signal (at w, w + nw, ...): a, the sum of y - r, and s,
    the centred sum of (i - h) y (i = 0 oldest, h the middle), whose value
    is the slope's numerator and owes nothing to r. r is a reference per
    signal, moved to the newest value every _RECOMPUTE samples: in single
    precision a sum of values far from zero keeps only their offset, and s,
    which takes in a at every step, would integrate a's rounding (an
    age-weighted sum, as s + h*a, would lose the slope outright to the
    cancellation). The slope of signal k over window w is s[k*nw + w] *
    inv_sxx[w] per sample.

    The temperature's rate and T dT/dt have no rings: they are the step of
    T and half the step of T^2 per sample step, so a window's slope of
    either comes from that signal's sum a and its values at the window's
    ends, sum (i - h)(y_i - y_(i-1)) = (h + 1) y_newest + h y_before - sum y
    (y_before: the value just before the window; for the longest window the
    one that just left the ring, t_out)."""

    def __init__(self, nw):
        self.nw = nw
        self.ring_n = N_MIN << (nw - 1)
        self.win = array("i", [N_MIN << i for i in range(nw)])
        self.inv_sxx = array("d", [12.0 / (n * (n * n - 1.0)) for n in self.win])
        # each window's slope variance per unit white noise (set by noise_gains)
        self.g2 = array("d", [12.0 / (n * (n * n - 1.0)) for n in self.win])
        # and per unit white noise of the temperature reading: the slope of
        # the rate feature's share (its square, gd) and that share times
        # the mean temperature's (gb), per sample (set by noise_gains)
        self.gb = array("d", [0.0] * nw)
        self.gd = array("d", [0.0] * nw)
        # upcrossing hazard per sample and unit c*phi(c), summed over windows
        self.hz = sum(3.0 / n for n in self.win)
        self.h = array("d", [0.5 * (n - 1) for n in self.win])
        self.rp = array("f", bytes(4 * self.ring_n))
        self.rt = array("f", bytes(4 * self.ring_n))
        self.rr = array("f", bytes(4 * RAW_RING))
        self.a = array("d", [0.0] * (NS * nw))
        self.s = array("d", [0.0] * (NS * nw))
        self.ar = array("d", [0.0] * nw)
        self.sr = array("d", [0.0] * nw)
        self.ref = array("d", [0.0] * (NS + 1))  # the signals' r; the raw pressure's last
        self.ngw = 0
        self.restart()

    def restart(self):
        """Empty every window."""
        self.count = 0
        self.pos = 0
        self.t_out = 0.0   # the T average just before the longest window
        for i in range(self.nw):
            self.ar[i] = 0.0
            self.sr[i] = 0.0
        for i in range(NS * self.nw):
            self.a[i] = 0.0
            self.s[i] = 0.0
        for i in range(NS + 1):
            self.ref[i] = 0.0

    def newest(self):
        """Ring index of the newest sample."""
        return (self.pos - 1) % self.ring_n

    def set_gross_windows(self, ngw):
        """The raw pressure is summed on the ngw shortest windows."""
        if ngw != self.ngw:
            self.ngw = ngw
            for w in range(ngw):
                self.rebuild_raw(w)

    def noise_gains(self, W):
        """Each window's slope of white noise passed through a W-sample
        moving average: the slope's weights averaged over W; the standard
        variance per unit noise variance, per sample (g2). The same noise in the
        temperature reading also reaches the rate feature, (v_i - v_(i-W))
        / W per sample: a reading m samples back enters it with the slope
        weight of window sample m less that of sample m + W. Its square
        summed is gd, its product with the averaged weight gb."""
        for w in range(self.nw):
            n = self.win[w]
            c0 = 12.0 / (n * (n * n - 1.0))
            h = 0.5 * (n - 1)
            g = 0.0
            gb = 0.0
            gd = 0.0
            for m in range(-W, n):
                if m > -W:
                    lo = m if m > 0 else 0
                    hi = m + W - 1 if m + W - 1 < n - 1 else n - 1
                    e = c0 * (0.5 * (lo + hi) - h) * (hi - lo + 1) / W
                else:
                    e = 0.0
                d = c0 * (m - h) if m >= 0 else 0.0
                if m + W < n:
                    d -= c0 * (m + W - h)
                d /= W
                g += e * e
                gb += e * d
                gd += d * d
            self.g2[w] = g
            self.gb[w] = gb
            self.gd[w] = gd

    def push(self, yp, yt, yr):
        """Take in one sample of the averaged pressure and temperature and
        the raw pressure."""
        nw = self.nw
        ring_n = self.ring_n
        pos = self.pos
        cnt = self.count
        rp = self.rp
        rt = self.rt
        yq = yt * yt
        A = self.a
        S = self.s
        win = self.win
        half = self.h
        ref = self.ref
        if cnt == 0:
            # windows restarted: take the references from the first values
            ref[0] = yp
            ref[1] = yt
            ref[2] = yq
            ref[NS] = yr
        rfp = ref[0]
        rft = ref[1]
        rfq = ref[2]
        dp = yp - rfp
        dtc = yt - rft
        dq = yq - rfq
        # per window, for each signal: S takes in the new value at +h and
        # lets out the one n samples old at -h, every other sample moving one
        # place older (-A); while the window fills, its middle moves instead
        for w in range(nw):
            n = win[w]
            if cnt >= n:
                j = (pos - n) % ring_n
                h = half[w]
                out = rp[j] - rfp
                S[w] += h * (dp + out) + out - A[w]
                A[w] += dp - out
                k = w + nw
                tj = rt[j]
                out = tj - rft
                S[k] += h * (dtc + out) + out - A[k]
                A[k] += dtc - out
                k += nw
                out = tj * tj - rfq
                S[k] += h * (dq + out) + out - A[k]
                A[k] += dq - out
            else:
                h = 0.5 * cnt
                S[w] += h * dp - 0.5 * A[w]
                A[w] += dp
                k = w + nw
                S[k] += h * dtc - 0.5 * A[k]
                A[k] += dtc
                k += nw
                S[k] += h * dq - 0.5 * A[k]
                A[k] += dq
        rp[pos] = yp
        self.t_out = rt[pos]
        rt[pos] = yt
        # raw pressure, on the gross trip's windows only
        ring = self.rr
        A = self.ar
        S = self.sr
        rfr = ref[NS]
        dr = yr - rfr
        for w in range(self.ngw):
            n = win[w]
            if cnt >= n:
                out = ring[(pos - n) % RAW_RING] - rfr
                S[w] += half[w] * (dr + out) + out - A[w]
                A[w] += dr - out
            else:
                S[w] += 0.5 * cnt * dr - 0.5 * A[w]
                A[w] += dr
        ring[pos % RAW_RING] = yr
        self.pos = (pos + 1) % ring_n
        cnt += 1
        self.count = cnt
        if cnt % _RECOMPUTE == 0:
            self._rebase(yp, yt, yr)
            # the short windows, cheap, every time (their slopes are the
            # most sensitive to a rounding error in S), one other in turn
            for w in range(nw):
                if w < 2 or w == (cnt // _RECOMPUTE) % nw:
                    self._rebuild(w)

    def _rebase(self, yp, yt, yr):
        """Move each signal's reference r to its newest value: every a
        follows (s does not depend on r)."""
        ref = self.ref
        A = self.a
        cnt = self.count
        k = 0
        for s, v in ((0, yp), (1, yt), (2, yt * yt)):
            delta = v - ref[s]
            ref[s] = v
            for w in range(self.nw):
                n = self.win[w]
                A[k] -= (n if n < cnt else cnt) * delta
                k += 1
        delta = yr - ref[NS]
        ref[NS] = yr
        for w in range(self.ngw):
            n = self.win[w]
            self.ar[w] -= (n if n < cnt else cnt) * delta

    def _rebuild(self, w):
        """Recompute one window's sums from the rings, so rounding cannot
        drift: a and s about the reference, which is near every value."""
        n = self.win[w]
        if self.count < n:
            return
        last = self.pos - 1
        h = self.h[w]
        for s in range(NS):
            ring = self.rp if s == 0 else self.rt
            r = self.ref[s]
            a = 0.0
            b = 0.0
            for age in range(n):
                v = ring[(last - age) % self.ring_n]
                if s == 2:
                    v *= v
                v -= r
                a += v
                b += age * v
            # sum (h - age) v: values about r are small, so little cancels
            self.a[s * self.nw + w] = a
            self.s[s * self.nw + w] = h * a - b
        if w < self.ngw:
            self.rebuild_raw(w)

    def rebuild_raw(self, w):
        n = self.win[w]
        if self.count < n:
            n = self.count
        last = self.pos - 1
        h = 0.5 * (n - 1)
        r = self.ref[NS]
        a = 0.0
        b = 0.0
        for age in range(n):
            v = self.rr[(last - age) % RAW_RING] - r
            a += v
            b += age * v
        self.ar[w] = a
        self.sr[w] = h * a - b

    def before(self, age):
        """The averaged temperature one sample before the one age samples
        back (that sample's own after a restart: no step)."""
        k = (self.pos - 1 - age) % self.ring_n
        if age + 1 >= self.count:
            return self.rt[k]
        return self.t_out if age + 1 >= self.ring_n else self.rt[(k - 1) % self.ring_n]

    def hinge(self, n, m_fixed, k1, k2, k4, k5):
        """Fit level + slope * max(0, i - knee) to the compensated pressure
        of the last n samples, rp - k1 T - k4 T^2 less k2 and k5 (each per
        sample step) times the step of T and half that of T^2 (T = rt),
        the knee m samples back: the best m (m_fixed 0) or m_fixed.
        Returns (m, slope per sample, its information). One pass over the
        rings."""
        rp = self.rp
        rt = self.rt
        k5 *= 0.5
        ring_n = self.ring_n
        last = self.pos - 1
        if n > self.count:
            n = self.count
        # totals over the window: sum c (i = 0 oldest .. n-1 newest)
        tot = 0.0
        for age in range(n):
            k = (last - age) % ring_n
            t = rt[k]
            tp = self.before(age)
            tot += rp[k] - k1 * t - k4 * t * t - k2 * (t - tp) - k5 * (t * t - tp * tp)
        s0 = 0.0   # sum of c over i > j
        s1 = 0.0   # sum of i*c over i > j
        best = 0.0
        best_m = n
        best_shc = 0.0
        best_shh = 0.0
        for age in range(n - 1):
            i = n - 1 - age
            k = (last - age) % ring_n
            t = rt[k]
            tp = self.before(age)
            c = rp[k] - k1 * t - k4 * t * t - k2 * (t - tp) - k5 * (t * t - tp * tp)
            s0 += c
            s1 += i * c
            m = age + 1  # samples after the knee
            sh = 0.5 * m * (m + 1)
            shh = sh * (2 * m + 1) / 3.0 - sh * sh / n
            shc = s1 - (i - 1) * s0 - sh * tot / n
            if m_fixed:
                if m == m_fixed:
                    return m, (shc / shh if shh > 0.0 else 0.0), shh
            elif shc < 0.0 and shh > 0.0:
                score = shc * shc / shh
                if score > best:
                    best = score
                    best_m = m
                    best_shc = shc
                    best_shh = shh
        return best_m, (best_shc / best_shh if best_shh > 0.0 else 0.0), best_shh
