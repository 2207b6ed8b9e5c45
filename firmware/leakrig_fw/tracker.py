# Rate of a leak through the whole leak: once a leak is suspected the thermal
# model is frozen and the pressure is read in the gas cushion's volume
# coordinate, where that frozen model stays right while the loop drains; a
# fading-memory quadratic fit follows the leak there. See docs/detector.md.
import math
from array import array

from leakrig_fw.thermal import NF

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_KELVIN = 273.15
_REBASE = const(256)    # the level's reference moves to the level this often (float32)
# the gas law's pressure P0 = k^2 / (q + k/T) is taken only within these
# multiples of the absolute level; otherwise the linear model is kept
_P0_LO = 0.7
_P0_HI = 1.7


class LeakTracker:
    """State of the tracking: frozen thermal coefficients, the coordinate
    map, and four fading-memory quadratic filters (the compensated
    coordinate and, with the same gains, the three temperature features,
    whose rates carry the thermal coefficients' uncertainty to the rate)."""

    def __init__(self):
        # filter states, 3 per signal (level, rate per sample, half the
        # acceleration per sample^2): x_c, tc, Td, tq
        self._f = array("d", [0.0] * 15)
        # white-noise covariance of the x_c filter: xx, xv, xa, vv, va, aa
        self._cov = array("d", [0.0] * 6)
        self._th = array("d", [0.0] * 6)     # frozen (c, k, m, q), k_x (gas) and the T dT/dt gain
        self._gain_cov = array("d", [0.0] * 6)  # Cov of (k, m, q): 11 12 14 22 24 44
        self.active = False
        self.gas = False
        self.n = 0
        self.noise_var = 0.0     # white-noise variance of the pressure, set at the start
        self._jf = 0.0           # third derivative of the leak, per sample^3 (averaged)

    def start(self, theta, cov, t_ref_c, p_ref, fade_samples, infl):
        """Freeze the thermal model theta = (c, k, m, r, q, s) (cov: its
        covariance, NF x NF flat) and reset the filters. fade_samples: the memory of
        the fit; infl: the learned excursion factor applied to sigma."""
        c = theta[0]
        k = theta[1]
        q = theta[4]
        th = self._th
        th[0] = c
        th[1] = k
        th[2] = theta[2]
        th[3] = q
        th[5] = theta[5]
        gc = self._gain_cov
        gc[0] = cov[1 * NF + 1]
        gc[1] = cov[1 * NF + 2]
        gc[2] = cov[1 * NF + 4]
        gc[3] = cov[2 * NF + 2]
        gc[4] = cov[2 * NF + 4]
        gc[5] = cov[4 * NF + 4]
        self._tk0 = t_ref_c + _KELVIN
        self._p_ref = p_ref
        # the gas cushion: p = nRT / V_gas with V_gas linear in T and in the
        # liquid lost gives k = P0 (1/T + u), q = P0 u (1/T + u), so the gas
        # pressure at the reference state is P0 = k^2 / (q + k/T)
        self.gas = False
        den = q + k / self._tk0
        level = p_ref + c
        if k > 0.0 and den > 0.0 and level > 0.0:
            p0 = k * k / den
            if _P0_LO * level < p0 < _P0_HI * level:
                self.gas = True
                self._p0 = p0
                th[4] = k - p0 / self._tk0     # gain in the volume coordinate
                # its standard uncertainty from that of (k, q)
                dk = 2.0 * k / den - k * k / (den * den * self._tk0)
                dq = -k * k / (den * den)
                var = dk * dk * gc[0] + 2.0 * dk * dq * gc[2] + dq * dq * gc[5]
                self._p0b = p0 + (math.sqrt(var) if var > 0.0 else 0.0)
        self._lag = th[2] / k if k != 0.0 else 0.0
        f = self._f
        for i in range(15):
            f[i] = 0.0
        for i in range(6):
            self._cov[i] = 0.0
        self._theta_f = 1.0 - 3.0 / fade_samples if fade_samples > 6 else 0.5
        self._infl = infl
        self._ref = 0.0
        self.n = 0
        self._jf = 0.0
        self.active = True
        self.pc_offset = None

    def coordinate(self, y, tc, td, tq, tx, alt=False):
        """The compensated coordinate of one averaged sample (y: pressure
        relative to p_ref; tc, td, tq, tx: the temperature features): the leak's
        own displacement, Pa at the reference state (0 before the leak).
        alt: with P0 one standard uncertainty higher."""
        th = self._th
        g = y - th[0]
        if not self.gas:
            return g - th[1] * tc - th[2] * td - th[3] * tq - th[5] * tx
        p0 = self._p0b if alt else self._p0
        h = tc + self._lag * td
        # x = P0 (1 - (T/T0) (P0/G)) with G = P0 + g, T = T0 + h, written
        # without the cancellation of two numbers near 1
        x = (g - p0 * h / self._tk0) / (1.0 + g / p0)
        kx = th[1] - p0 / self._tk0
        return x - kx * h

    def pressure_at_reference(self, xc):
        """Compensated pressure (Pa, relative to p_ref) of coordinate xc:
        the pressure at the reference temperature with the leak's loss."""
        if not self.gas:
            return xc
        p0 = self._p0
        return self._th[0] + p0 * xc / (p0 - xc)

    def update(self, y, xc, tc, td, tq, noise_var):
        """One sample into the filters: the expanding-memory fit until its
        gain falls to the fading one, then the fading-memory fit."""
        f = self._f
        n = self.n
        self.n = n + 1
        self._y = y
        if n % _REBASE == 0:
            f[12] -= f[0]
            self._ref = f[0] + self._ref
            f[0] = 0.0
        z0 = xc - self._ref
        z4 = self.coordinate(self._y, tc, td, tq, 0.0, True) - self._ref if self.gas else z0
        if n == 0:
            f[0] = z0
            f[3] = tc
            f[6] = td
            f[9] = tq
            f[12] = z4
            return
        th = self._theta_f
        d = (n + 1.0) * (n + 2.0) * (n + 3.0)
        g = 3.0 * (3.0 * n * n + 3.0 * n + 2.0) / d
        gf = 1.0 - th * th * th
        if g > gf:
            h = 18.0 * (2.0 * n + 1.0) / d
            k = 30.0 / d
        else:
            g = gf
            om = 1.0 - th
            h = 1.5 * om * om * (1.0 + th)
            k = 0.5 * om * om * om
        a0 = f[2]
        for j in range(5):
            i = 3 * j
            if j == 0:
                z = z0
            elif j == 1:
                z = tc
            elif j == 2:
                z = td
            elif j == 3:
                z = tq
            else:
                z = z4
            a = f[i + 2]
            v = f[i + 1]
            xp = f[i] + v + a
            e = z - xp
            f[i] = xp + g * e
            f[i + 1] = v + 2.0 * a + h * e
            f[i + 2] = a + k * e
        # the leak's third derivative (per sample^3: twice the change of the
        # half acceleration), averaged over the fit's memory
        self._jf += (1.0 - th) * (2.0 * (f[2] - a0) - self._jf)
        # covariance of (x, v, a) from white noise: P <- (I - K H) F P F' (I - K H)' + K K' s2
        c = self._cov
        pxx = c[0]
        pxv = c[1]
        pxa = c[2]
        pvv = c[3]
        pva = c[4]
        paa = c[5]
        # F P F', F = [[1 1 1] [0 1 2] [0 0 1]]
        ax = pxx + pxv + pxa
        av = pxv + pvv + pva
        aa = pxa + pva + paa
        fxx = ax + av + aa
        fxv = av + 2.0 * aa
        fxa = aa
        bv = pvv + 2.0 * pva
        ba = pva + 2.0 * paa
        fvv = bv + 2.0 * ba
        fva = ba
        faa = paa
        # (I - K H) M (I - K H)' + K K' s2, H = [1 0 0]
        m = 1.0 - g
        c[0] = m * m * fxx + g * g * noise_var
        c[1] = m * (fxv - h * fxx) + g * h * noise_var
        c[2] = m * (fxa - k * fxx) + g * k * noise_var
        c[3] = fvv - 2.0 * h * fxv + h * h * fxx + h * h * noise_var
        c[4] = fva - h * fxa - k * fxv + h * k * fxx + h * k * noise_var
        c[5] = faa - 2.0 * k * fxa + k * k * fxx + k * k * noise_var

    def local_gains(self, y, tc, td):
        """(k, m) of the pressure at the present state, Pa/K and Pa per K/s:
        dG/dT = G/T + (G/P0)^2 (T0/T) k_x for the gas cushion."""
        th = self._th
        if not self.gas:
            return th[1], th[2]
        g = self.gas_pressure(y)
        tk = self._tk0 + tc + self._lag * td
        gp = g / self._p0
        k = g / tk + gp * gp * self._tk0 / tk * th[4]
        return k, k * self._lag

    def local_curvature(self, y, tc, td):
        """q of the pressure at the present state, Pa/K^2: the gas cushion's
        G u (u + 1/T), u = (G/P0)(T0/T) k_x/P0 the volume's share per K
        (k_x = P0 u at the reference state); the frozen q without it."""
        th = self._th
        if not self.gas:
            return th[3]
        g = self.gas_pressure(y)
        tk = self._tk0 + tc + self._lag * td
        u = g / self._p0 * self._tk0 / tk * th[4] / self._p0
        return g * u * (u + 1.0 / tk)

    def gas_pressure(self, y):
        """The gas law's pressure now (Pa, absolute in its own sense)."""
        return self._p0 + y - self._th[0]

    def rate(self, y, tc, td, dt):
        """(rate Pa/s, sigma Pa/s) at constant present temperature, from
        the present averaged pressure y and temperature features tc, td:
        dG/dx = (G/P0)^2 T0/T in the gas cushion's coordinate."""
        f = self._f
        scale = 1.0
        if self.gas:
            gp = self.gas_pressure(y) / self._p0
            scale = gp * gp * self._tk0 / (self._tk0 + tc + self._lag * td)
        r = f[1] / dt * scale
        if self.gas:
            # the same with P0 one standard uncertainty higher
            gp = (self._p0b + y - self._th[0]) / self._p0b
            r_alt = f[13] / dt * gp * gp * self._tk0 / (self._tk0 + tc + self._lag * td)
            d_p0 = r_alt - r
        else:
            d_p0 = 0.0
        # the thermal coefficients' uncertainty through the features' rates
        bt = f[4]
        bd = f[7]
        bq = f[10]
        gc = self._gain_cov
        var = (bt * bt * gc[0] + 2.0 * bt * bd * gc[1] + 2.0 * bt * bq * gc[2] + bd * bd * gc[3]
               + 2.0 * bd * bq * gc[4] + bq * bq * gc[5])
        var += self._cov[3]
        # the quadratic fit's lag on a rate that bends: on x''' = j its rate
        # is behind by 3 j L^2 per sample (L = 1 / (1 - theta), the memory)
        if self.n > 2.0 / (1.0 - self._theta_f):
            lm = 1.0 / (1.0 - self._theta_f)
            b = 3.0 * self._jf * lm * lm
            var += b * b
        s = math.sqrt(var) / dt * scale * self._infl if var > 0.0 else 0.0
        return r, math.sqrt(s * s + d_p0 * d_p0)

    def time_to(self, y, target, rate, exponent):
        """Time (s) until the pressure falls from the present y to target
        (both relative to p_ref) at constant temperature: the gas cushion's
        rate goes as G^2 and an orifice's flow as G^exponent, so from the
        present rate (< 0) dG/dt = rate (G/G_now)^(2 + exponent)."""
        margin = y - target
        if margin <= 0.0:
            return 0.0
        if not self.gas:
            return margin / -rate
        g_now = self.gas_pressure(y)
        g_min = self.gas_pressure(target)
        if g_min <= 0.0:
            return margin / -rate
        a1 = 1.0 + exponent
        return g_now / (-rate * a1) * (math.pow(g_now / g_min, a1) - 1.0)
