# The loop's thermal model: the pressure that the temperature explains, as a
# linear model of moving-averaged features, learned by recursive least
# squares with forgetting in square-root form. Used by the detector; see
# docs/detector.md (Model).
import math
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

NF = const(6)           # features: 1, T, dT/dt, time, T^2, T dT/dt
_WARMUP = const(64)     # samples before the residual level is tracked
_SOLVE_EVERY = const(10)

# Prior standard deviations of the coefficients (weak: a handful of samples
# outweigh them): level Pa, Pa/K, Pa per K/s, Pa per horizon, Pa/K^2,
# Pa per K^2/s.
_PRIOR_SD = (1.0e6, 2.0e4, 6.0e6, 1.0e6, 1.0e3, 1.0e6)
PRIOR_SIGMA_PA = 10.0
# The T dT/dt gain is the curvature's share of the sensor lag: p = f(T + lag
# dT/dt) to second order has it 2 q lag. A pseudo-observation of s - 2 q lag
# = 0 with this standard deviation (Pa per K^2/s, on the scale of the
# prior) holds it there; without it the gain was free, and on a loop that
# only ramped for hours (T dT/dt then moves with T) it wandered with the
# gain until the turn of the ramp read as a leak.
_TIE_SD = 1.0


def rotate_in(U, u, r, ry, first):
    """Givens rotations taking the row (r, ry), zero before column first,
    into the upper triangular U (NF x NF, flat) with right-hand side u."""
    for i in range(first, NF):
        b = r[i]
        if b == 0.0:
            continue
        k = i * NF
        a = U[k + i]
        rho = math.sqrt(a * a + b * b)
        c = a / rho
        sn = b / rho
        U[k + i] = rho
        for j in range(i + 1, NF):
            uj = U[k + j]
            rj = r[j]
            U[k + j] = c * uj + sn * rj
            r[j] = c * rj - sn * uj
        ui = u[i]
        u[i] = c * ui + sn * ry
        ry = c * ry - sn * ui


class ThermalModel:
    """p = theta . (1, T, dT/dt, t, T^2, T dT/dt) + noise, with the information kept
    as R = U'U and z = U'u, U upper triangular, by rotations (a sum of
    squares formed in single precision loses the model: its rounding,
    compounded by the forgetting, left R indefinite and the fit blew up
    after hours of a temperature ramp). M is the covariance (R + prior)^-1
    per unit residual variance, theta the coefficients.

    Also tracks the temperature reading's white noise (tn_var, K^2), whose
    share of the rate feature's power the fit takes out (td_gain: that
    feature's variance per K^2 of reading noise, set by the detector's
    feature window), and the residual level res_var (Pa^2). The same noise
    reaches the T dT/dt feature scaled by T: its share is taken out along
    (0, 0, 1, 0, 0, T_mean), T_mean the fit's weighted mean of T."""

    def __init__(self, horizon_s, noise_horizon_s):
        self.horizon_s = horizon_s
        self.noise_horizon_s = noise_horizon_s
        self.U = array("d", [0.0] * (NF * NF))
        self.u = array("d", [0.0] * NF)
        self.M = array("d", [0.0] * (NF * NF))
        self.W = array("d", [0.0] * (NF * NF))   # scratch: U with the prior, then its inverse
        self.theta = array("d", [0.0] * NF)
        self.x = array("d", [0.0] * NF)           # the features of the sample being learned
        self._row = array("d", [0.0] * NF)        # scratch: the row being rotated in
        self.v = array("d", [0.0] * NF)           # scratch: u with the prior
        self._D = array("d", [(PRIOR_SIGMA_PA / s) ** 2 for s in _PRIOR_SD])
        self.reset()

    def reset(self):
        for i in range(NF * NF):
            self.U[i] = 0.0
        for i in range(NF):
            self.u[i] = 0.0
            self.theta[i] = 0.0
        self._u_scale = 1.0
        self.tn_var = 0.0     # white-noise variance of the temperature reading, K^2
        self.td_gain = 0.0    # variance of the rate feature per K^2 of white reading noise
        self._wsum = 0.0      # weight the model holds (samples)
        self._tbar = 0.0      # weighted mean of the temperature feature, K
        self.res_var = PRIOR_SIGMA_PA * PRIOR_SIGMA_PA
        self.m_mean = 0.0     # the lag coefficient's running mean after learning, Pa per K/s
        self.m_var = -1.0     # and its running variance (-1: not started)
        self.solve(False)

    def learn(self, x, y, step, samples, learned):
        """Take in the features x (changed in place) and the pressure y of a
        sample step seconds after the last; samples: the detector's count,
        learned: the learning period is over (see solve)."""
        U = self.U
        u = self.u
        lam = 1.0 - step / self.horizon_s
        if lam < 0.5:
            lam = 0.5
        self._wsum = lam * self._wsum + 1.0
        self._tbar += (x[1] - self._tbar) / self._wsum
        # shift the time feature so that 0 is now: x3 -> x3 - delta * x0,
        # which in U moves only row 0 (its column 0 is zero below the diagonal)
        dl = step / self.horizon_s
        U[3] -= dl * U[0]
        # prediction error before the update, for the parameter covariance
        th = self.theta
        e = y - (th[0] + th[1] * x[1] + th[2] * x[2] + th[4] * x[4] + th[5] * x[5])
        if samples > _WARMUP:
            lim = 25.0 * self.res_var
            e2 = e * e
            if e2 > lim:
                e2 = lim
            self.res_var += (step / self.noise_horizon_s) * (e2 - self.res_var)
        # forget (R -> lam R): U and u are kept divided by _u_scale, the
        # product of sqrt(lam) so far, and the new row is divided by it
        # instead of every element multiplied (folded back when it is small)
        g = self._u_scale * math.sqrt(lam)
        if g < 1e-3:
            for i in range(NF * NF):
                U[i] *= g
            for i in range(NF):
                u[i] *= g
            g = 1.0
        self._u_scale = g
        g = 1.0 / g
        for i in range(NF):
            x[i] *= g
        rotate_in(U, u, x, y * g, 0)
        if samples % _SOLVE_EVERY == 0 or samples < _WARMUP:
            self.solve(learned)
            if samples % _SOLVE_EVERY == 0 and learned:
                # the spread of the lag coefficient as it moves, over the
                # model's memory: where the data hold little on it (a loop
                # that ramps, its rate turning only every few hours) the
                # noise share taken out leaves it wandering several times
                # wider than its covariance says (measured on +-5 K ramps
                # at 5 K/h: 0.9 s against 0.23 s)
                a = _SOLVE_EVERY * step / self.horizon_s
                d = th[2] - self.m_mean
                if self.m_var < 0.0:
                    self.m_mean = th[2]
                    self.m_var = 0.0
                else:
                    self.m_mean += a * d
                    self.m_var += a * (d * d - self.m_var)

    def solve(self, learned):
        """Coefficients and covariance from U, with the prior rotated in and
        the reading noise's share taken out of the rate feature's power."""
        V = self.W
        U = self.U
        D = self._D
        r = self._row
        M = self.M
        th = self.theta
        g = self._u_scale
        for i in range(NF * NF):
            V[i] = U[i] * g
        v = self.v
        for i in range(NF):
            v[i] = self.u[i] * g
        for i in range(NF):
            for j in range(NF):
                r[j] = 0.0
            r[i] = math.sqrt(D[i])
            rotate_in(V, v, r, 0.0, i)
        # the tie s = 2 q lag, with the lag of the last solve
        for j in range(NF):
            r[j] = 0.0
        lag = th[2] / th[1] if th[1] != 0.0 else 0.0
        r[4] = -2.0 * lag * PRIOR_SIGMA_PA / _TIE_SD
        r[5] = PRIOR_SIGMA_PA / _TIE_SD
        rotate_in(V, v, r, 0.0, 4)
        # V := V^-1 in place (upper triangular, diagonal >= sqrt of the prior)
        for i in range(NF - 1, -1, -1):
            k = i * NF
            V[k + i] = 1.0 / V[k + i]
            for j in range(NF - 1, i, -1):
                s = 0.0
                for m in range(i + 1, j + 1):
                    s += V[k + m] * V[m * NF + j]
                V[k + j] = -V[k + i] * s
        for i in range(NF):
            for j in range(i, NF):
                s = 0.0
                for m in range(j, NF):
                    s += V[i * NF + m] * V[j * NF + m]
                M[i * NF + j] = s
                M[j * NF + i] = s
        # the reading noise's share of the rate feature's power (it is
        # uncorrelated with the level features), and of the T dT/dt
        # feature's (the same noise times T, here T_mean), at most 70 % of
        # it, comes off R along e = (0, 0, 1, 0, 0, T_mean): a rank-one
        # change of M (Sherman-Morrison)
        tb = self._tbar
        r22 = 0.0
        for i in range(NF):
            a = U[i * NF + 2] + tb * U[i * NF + 5]
            r22 += a * a
        r22 *= g * g
        corr = self._wsum * self.td_gain * self.tn_var
        lim = 0.7 * r22
        if corr > lim:
            corr = lim
        # Once learning is over, it is also at most 90 % of what the data say
        # of the rate coefficient given the others (1 / e'Me). On a steady
        # ramp the rate feature is a constant plus its noise; the constant is
        # explained by the level coefficient as well, so the noise's share
        # was nearly all the information left, and the lag wandered with it
        # (24 -> 160 s within minutes of a 2 K/h ramp at 1 Hz) until the
        # gain's error read as a leak of 0.04 Pa/s. While learning, the full
        # share is taken: a loop that only ramped so far (a triangle's first
        # leg) needs its lag de-biased by the time the ramp turns.
        m2 = self._row
        for i in range(NF):
            m2[i] = M[i * NF + 2] + tb * M[i * NF + 5]
        m22 = m2[2] + tb * m2[5]
        if corr * m22 > 0.9 and learned:
            corr = 0.9 / m22
        den = 1.0 - corr * m22
        if den <= 0.01:
            # not positive definite without that share: keep the last fit
            return
        g = corr / den
        for i in range(NF):
            s = 0.0
            for j in range(i, NF):
                s += V[i * NF + j] * v[j]
            th[i] = s
        for i in range(NF):
            for j in range(NF):
                M[i * NF + j] += g * m2[i] * m2[j]
        t2 = th[2] + tb * th[5]
        for i in range(NF):
            th[i] += g * m2[i] * t2

    def set_coefficients(self, c, k1, k2, k4, k5, learned):
        """Set theta to (c, k1, k2, theta[3], k4, k5) and keep the
        information held: u = U theta. (solve() then takes the reading
        noise's share out again, so the lag comes out somewhat longer than
        set; making u exact for that, U'^-1 (P - C) theta / g^2 more,
        divides by the little the data hold on the curvature where the
        temperature has not moved, and the next solve blew the fit up.)"""
        v = self.v
        v[0] = c
        v[1] = k1
        v[2] = k2
        v[3] = self.theta[3]
        v[4] = k4
        v[5] = k5
        U = self.U
        u = self.u
        for i in range(NF):
            s = 0.0
            for j in range(i, NF):
                s += U[i * NF + j] * v[j]
            u[i] = s
        self.solve(learned)
