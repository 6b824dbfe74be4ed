"""The generalised extreme-value distribution (GEV) for block maxima: likelihood, MLE, return-level profile.

G(z) = exp(-(1 + xi (z - mu) / sigma) ** (-1/xi)); xi > 0 is the heavy (Frechet) case, as in R's evd and
ismev.  scipy's ``genextreme`` uses ``c = -xi``.  Parameter order (loc, scale, shape) everywhere, also in the
covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import DataError, NumericalError
from ...validation import check_sample
from .kernels import (
    _SMALL,
    _e_w,
    _expm1_over,
    _expm1_over_deriv,
    _expm1_over_deriv2,
    _f_w,
    _log1p_over,
    _unit,
)
from .optimise import cov_from_hessian, newton_minimize, profile_interval
from .return_levels import compute_return_levels

__all__ = ["GEVFit", "block_maxima", "fit_gev", "gev_nllh"]

MIN_MAXIMA = 10


@dataclass(frozen=True)
class GEVFit:
    """Maximum-likelihood fit of the generalised extreme-value distribution to block maxima.

    G(z) = exp(-(1 + xi (z - mu) / sigma) ** (-1/xi)) on 1 + xi (z - mu)/sigma > 0; xi > 0 is the heavy
    (Frechet) case.  scipy's ``genextreme`` uses ``c = -xi``: ``genextreme(-fit.shape, fit.loc, fit.scale)``.

    Attributes
    ----------
    loc, scale, shape : float
        mu, sigma > 0, xi.
    se_loc, se_scale, se_shape : float
        Standard errors from the inverse observed information (valid for xi > -1/2).
    cov : ndarray, shape (3, 3)
        Covariance of (loc, scale, shape), in that order (as in R's evd::fgev).
    nllh : float
        Negative log-likelihood at the MLE.
    n : int
        Number of maxima.
    """

    loc: float
    scale: float
    shape: float
    se_loc: float
    se_scale: float
    se_shape: float
    cov: np.ndarray
    nllh: float
    n: int

    def to_dict(self) -> dict:
        """Plain-Python dict (JSON-serialisable); cov as a nested list."""
        d = {
            k: float(getattr(self, k))
            for k in ("loc", "scale", "shape", "se_loc", "se_scale", "se_shape", "nllh")
        }
        d["cov"] = np.asarray(self.cov).tolist()
        d["n"] = int(self.n)
        return d

    def return_level(self, period, *, data=None, method="delta", level=0.95, obs_per_block=None):
        """The level exceeded with probability 1/T in a block: z = mu - sigma / xi (1 - y^(-xi)), y = -log(1 - 1/T).

        (Coles 2001, eq. 3.10; the period is in blocks.)  See
        :func:`heavytail_diffusion.diagnostics.evt.return_level` for the intervals and the result.

        Parameters
        ----------
        period : float or array-like
            Return period(s) T > 1, in blocks.
        data : array-like, optional
            The maxima the fit used; needed by ``"profile"``.
        method : {"delta", "profile", "both"}
        level : float
            Confidence level in (0, 1).
        obs_per_block : None
            GPD only; anything else raises ValueError.

        Returns
        -------
        ReturnLevel or DataFrame
        """
        return compute_return_levels(
            self, period, data=data, method=method, level=level, obs_per_block=obs_per_block
        )

    # hooks of compute_return_levels
    def _check_obs_per_block(self, obs_per_block) -> None:
        if obs_per_block is not None:
            raise ValueError("obs_per_block applies to GPD fits only; GEV periods are counted in blocks")

    def _refit_scaled(self, xd: np.ndarray, c: float) -> GEVFit:
        return fit_gev(xd)

    def _profile_data(self, data) -> np.ndarray:
        x = check_sample(data, "data", min_size=2)
        if x.size != self.n:
            raise ValueError("data does not match the fit (different number of maxima)")
        return x

    def _level_and_se(self, period: float, obs_per_block):
        """(value, delta-method se, lp = -log y_p) of the level; the gradient is in (mu, sigma, xi)."""
        lp = _gev_rl_lp(period)
        value = float(_gev_rl_value(self.loc, self.scale, self.shape, lp))
        grad = np.array(
            [
                1.0,
                lp * float(_expm1_over(self.shape * lp)),
                self.scale * lp * lp * float(_expm1_over_deriv(self.shape * lp)),
            ]
        )
        var = grad @ self.cov @ grad
        return value, float(np.sqrt(max(var, 0.0))), lp

    def _profile_ci(self, x: np.ndarray, lp: float, value: float, se: float, level: float):
        return _gev_profile_ci(self, x, lp, value, se, level)


def gev_nllh(maxima, loc: float, scale: float, shape: float) -> float:
    """GEV negative log-likelihood n log sigma + (1 + 1/xi) sum log t_i + sum t_i^(-1/xi), t = 1 + xi z.

    z = (x - mu)/sigma; the xi = 0 (Gumbel) limit n log sigma + sum z + sum exp(-z) is used continuously.

    Parameters
    ----------
    maxima : array_like, shape (n,)
        Block maxima x_i (data units).
    loc : float
        Location mu (data units).
    scale : float
        Scale sigma, > 0 (data units).
    shape : float
        Shape xi; xi > 0 is a heavy (Frechet-type) tail.

    Returns
    -------
    nllh : float
        The negative log-likelihood; +inf outside the parameter space (sigma <= 0 or some 1 + xi z_i <= 0).
    """
    x = np.asarray(maxima, dtype=np.float64)
    if not scale > 0:
        return np.inf
    z = (x - loc) / scale
    w = shape * z
    if np.any(w <= -1.0):
        return np.inf
    lz = z * _log1p_over(w)  # log(t) / xi
    with np.errstate(over="ignore"):
        return float(x.size * np.log(scale) + np.log1p(w).sum() + lz.sum() + np.exp(-lz).sum())


def _gev_derivs(x: np.ndarray, loc: float, scale: float, shape: float):
    """GEV nllh with its analytic gradient and Hessian in (mu, sigma, xi), stable as xi -> 0.

    Per observation l = log sigma + g(z, xi), z = (x - mu)/sigma, t = 1 + xi z, L = log(t)/xi, u = exp(-L),
    g = log t + L + u.  The z-derivatives are closed forms: g_z = (1 + xi - u)/t, g_zz = (1 + xi)(u - xi)/t^2;
    the xi-derivatives use L_xi = z^2 e(xi z) and L_xixi = z^3 f(xi z), whose kernels e, f switch to series
    for |xi z| < 1e-3 (as in the GPD code).  Returns (inf, None, None) outside the parameter space.
    """
    if not scale > 0:
        return np.inf, None, None
    n = x.size
    z = (x - loc) / scale
    w = shape * z
    if np.any(w <= -1.0):
        return np.inf, None, None
    it = 1.0 / (1.0 + w)
    lz = z * _log1p_over(w)  # L = log(t) / xi
    with np.errstate(over="ignore"):
        u = np.exp(-lz)
    f = float(n * np.log(scale) + np.log1p(w).sum() + lz.sum() + u.sum())
    lxi = z * z * _e_w(w)
    lxixi = z * z * z * _f_w(w)
    one_u = 1.0 - u
    gz = (1.0 + shape - u) * it
    gzz = (1.0 + shape) * (u - shape) * it * it
    gzx = it * it * (1.0 - z * one_u) + u * lxi * it
    zit = z * it
    gxx = lxixi * one_u + u * lxi * lxi - zit * zit
    s_gz, s_zgz = gz.sum(), (z * gz).sum()
    s_gzz, s_zgzz, s_z2gzz = gzz.sum(), (z * gzz).sum(), (z * z * gzz).sum()
    s_gzx, s_zgzx = gzx.sum(), (z * gzx).sum()
    grad = np.array([-s_gz / scale, (n - s_zgz) / scale, (zit + lxi * one_u).sum()])
    h_mm = s_gzz / scale**2
    h_ms = (s_zgzz + s_gz) / scale**2
    h_ss = (-n + s_z2gzz + 2.0 * s_zgz) / scale**2
    h_mx = -s_gzx / scale
    h_sx = -s_zgzx / scale
    h_xx = gxx.sum()
    hess = np.array([[h_mm, h_ms, h_mx], [h_ms, h_ss, h_sx], [h_mx, h_sx, h_xx]])
    return f, grad, hess


def _gev_derivs_log(x: np.ndarray, p: np.ndarray):
    """_gev_derivs in the optimisation parameters (mu, log sigma, xi)."""
    scale = float(np.exp(p[1]))
    f, g, h = _gev_derivs(x, p[0], scale, p[2])
    if g is None:
        return f, None, None
    jac = np.array([1.0, scale, 1.0])
    hl = h * np.outer(jac, jac)
    hl[1, 1] += scale * g[1]
    return f, g * jac, hl


def _gev_start(x: np.ndarray):
    """Probability-weighted-moment (L-moment) start of Hosking, Wallis & Wood (1985), made feasible."""
    from scipy.special import gamma

    xs = np.sort(x)
    n = xs.size
    i = np.arange(n)
    b0 = xs.mean()
    b1 = (i / (n - 1) * xs).mean()
    b2 = (i * (i - 1) / ((n - 1) * (n - 2)) * xs).mean()
    l1, l2, l3 = b0, 2 * b1 - b0, 6 * b2 - 6 * b1 + b0
    if not l2 > 0:
        return b0, max(xs.std(), 1e-12), 0.0
    t3 = l3 / l2
    c = 2.0 / (3.0 + t3) - np.log(2) / np.log(3)
    k = float(np.clip(7.8590 * c + 2.9554 * c * c, -0.9, 0.45))  # Hosking's k = -xi
    if abs(k) < 1e-6:
        sigma = l2 / np.log(2)
        mu = l1 - 0.5772156649 * sigma
    else:
        sigma = l2 * k / ((1 - 2.0**-k) * gamma(1 + k))
        mu = l1 - sigma * (1 - gamma(1 + k)) / k
    xi = -k
    # shrink xi towards 0 until every maximum lies inside the support
    for _ in range(60):
        if np.all(1.0 + xi * (xs - mu) / sigma > 1e-8):
            break
        xi *= 0.5
    else:
        xi = 0.0
    return float(mu), float(sigma), float(xi)


def _feasible_starts(x: np.ndarray, mu0: float, sigma0: float, xi0: float) -> list[np.ndarray]:
    """Starts in (mu, log sigma, xi): the PWM start and Gumbel-moment starts at a few shapes, all feasible."""
    sg = float(x.std()) * np.sqrt(6.0) / np.pi
    mg = float(x.mean()) - 0.5772156649 * sg
    out = [np.array([mu0, np.log(sigma0), xi0])]
    for xi in (0.0, 0.3, -0.2, 0.8):
        p = np.array([mg, np.log(sg), xi])
        if np.isfinite(gev_nllh(x, p[0], sg, xi)):
            out.append(p)
    return out


def _gev_mle(x: np.ndarray):
    """(mu, sigma, xi), nllh and Hessian in (mu, sigma, xi) at the GEV MLE; NumericalError when none is found.

    Newton (analytic derivatives, log sigma) from the PWM start; if it fails, Nelder-Mead from several starts
    and a Newton polish of the best.  The result must be a stationary point with a positive-definite
    Hessian, otherwise NumericalError.
    """
    from scipy.optimize import minimize

    mu0, sigma0, xi0 = _gev_start(x)
    typical = np.array([sigma0, 1.0, 1.0])
    max_step = np.array([2.0, 1.0, 0.5])
    bounds = np.array([-np.inf, -np.inf, -1.0])  # the likelihood is unbounded for xi < -1

    def fun(p):
        return gev_nllh(x, p[0], np.exp(p[1]), p[2])

    def derivs(p):
        return _gev_derivs_log(x, p)

    starts = _feasible_starts(x, mu0, sigma0, xi0)
    try:
        p, f, _ = newton_minimize(
            fun, derivs, starts[0], typical, max_step=max_step, lower=bounds, what="GEV fit"
        )
    except NumericalError as exc:
        first_error = exc
        best = None
        for s in starts:
            res = minimize(
                fun, s, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 1000}
            )
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
        if best is None:
            raise first_error from None
        try:
            p, f, _ = newton_minimize(
                fun, derivs, best.x, typical, max_step=max_step, lower=bounds, what="GEV fit"
            )
        except NumericalError:
            if best.x[2] <= -1.0:
                raise NumericalError(
                    "GEV fit: the shape estimate runs to xi <= -1, where the likelihood is unbounded and the "
                    "MLE does not exist (a short upper tail; too few maxima?)"
                ) from None
            raise NumericalError(
                f"GEV fit did not converge ({first_error}); Nelder-Mead fallback too"
            ) from None
    if p[2] <= -1.0 + 1e-6:
        raise NumericalError("GEV fit: the shape estimate reached xi <= -1, where the MLE does not exist")
    scale = float(np.exp(p[1]))
    f, _, hess = _gev_derivs(x, p[0], scale, p[2])
    return np.array([p[0], scale, p[2]]), f, hess


def fit_gev(maxima) -> GEVFit:
    """Fit the generalised extreme-value distribution to block maxima by maximum likelihood.

    Shape convention: xi > 0 is the heavy-tailed Frechet case (as in R's evd and ismev); scipy's
    ``genextreme`` uses ``c = -xi``.  The start comes from probability-weighted moments (Hosking et al.
    1985); the likelihood is then minimised in (mu, log sigma, xi) by safeguarded Newton steps with the
    analytic gradient and Hessian (line search, Levenberg damping where the Hessian is indefinite).  If that
    fails, Nelder-Mead runs from several starts and Newton polishes the best point.  The analytic Hessian at
    the optimum is the observed information.  The xi -> 0 (Gumbel) limit is evaluated with series
    expansions, so fits with xi near 0 are as accurate as any other.  A non-converged answer is never
    returned: failure raises NumericalError.

    Parameters
    ----------
    maxima : array-like, shape (n,)
        Block maxima (for example from :func:`block_maxima`), at least 10 finite, not all equal.

    Returns
    -------
    GEVFit

    Raises
    ------
    DataError
        Non-finite, constant, or fewer than 10 maxima.
    NumericalError
        When the optimiser cannot converge (for example a likelihood unbounded for xi < -1) or the observed
        information is not positive definite.

    References
    ----------
    Coles, S. (2001). An Introduction to Statistical Modeling of Extreme Values, Springer, chapter 3.
    Hosking, J. R. M., Wallis, J. R. and Wood, E. F. (1985). Estimation of the generalized extreme-value
    distribution by the method of probability-weighted moments. Technometrics 27, 251-261.

    Examples
    --------
    200 maxima from a GEV with xi = 0.2 (scipy's ``c = -0.2``), mu = 10, sigma = 2:

    >>> import numpy as np
    >>> from scipy import stats
    >>> z = stats.genextreme.rvs(-0.2, loc=10, scale=2, size=200, random_state=np.random.default_rng(0))
    >>> fit = fit_gev(z)
    >>> round(fit.loc, 2), round(fit.scale, 2), round(fit.shape, 2), round(fit.se_shape, 2)
    (10.28, 2.33, 0.21, 0.06)
    """
    x = check_sample(maxima, "maxima", min_size=1)
    if x.size < MIN_MAXIMA:
        raise DataError(
            f"maxima has {x.size} values; at least {MIN_MAXIMA} block maxima are needed for a GEV fit"
        )
    if np.all(x == x[0]):
        raise DataError(f"maxima is constant (every value is {x[0]:g}); a GEV cannot be fitted")
    c = _unit(x)
    if c != 1.0:
        # location-scale equivariance: fit x / c (c a power of two: exact) and map back; squares of maxima
        # near 1e200 overflow and those near 1e-300 underflow otherwise
        f = fit_gev(x / c)
        jac = np.diag([c, c, 1.0])
        with np.errstate(over="ignore", under="ignore"):
            cov = jac @ f.cov @ jac
        return GEVFit(
            loc=f.loc * c,
            scale=f.scale * c,
            shape=f.shape,
            se_loc=f.se_loc * c,
            se_scale=f.se_scale * c,
            se_shape=f.se_shape,
            cov=cov,
            nllh=f.nllh + x.size * float(np.log(c)),
            n=f.n,
        )
    p, f, hess = _gev_mle(x)
    cov = cov_from_hessian(hess, "GEV fit")
    se = np.sqrt(np.diag(cov))
    return GEVFit(
        loc=float(p[0]),
        scale=float(p[1]),
        shape=float(p[2]),
        se_loc=float(se[0]),
        se_scale=float(se[1]),
        se_shape=float(se[2]),
        cov=cov,
        nllh=float(f),
        n=int(x.size),
    )


def block_maxima(x, block_size: int, *, return_index: bool = False):
    """Maxima of consecutive blocks of ``block_size`` observations of a plain array (no dates needed).

    Block j covers x[j*b : (j+1)*b].  A trailing incomplete block (n % b observations) is dropped, with a
    ``UserWarning`` saying how many observations were ignored.  Use ``block_size=365`` (or the number of
    observations per year) for annual maxima of daily data.

    Parameters
    ----------
    x : array-like, shape (n,)
        Finite observations in time order.
    block_size : int
        b >= 1 observations per block; n // b >= 1 blocks are needed.
    return_index : bool
        Also return the position in ``x`` of each block's maximum (first occurrence).

    Returns
    -------
    maxima : ndarray, shape (n // b,)
    index : ndarray of int, shape (n // b,)
        Only when ``return_index`` is True.
    """
    x = check_sample(x, "x", min_size=1)
    from ...validation import check_positive_int

    b = check_positive_int(block_size, "block_size")
    nb = x.size // b
    if nb < 1:
        raise DataError(f"block_size {b} exceeds the number of observations ({x.size}); no complete block")
    rest = x.size - nb * b
    if rest:
        import warnings

        warnings.warn(
            f"block_maxima: the trailing incomplete block of {rest} observations was dropped",
            UserWarning,
            stacklevel=2,
        )
    blocks = x[: nb * b].reshape(nb, b)
    arg = blocks.argmax(axis=1)
    maxima = blocks[np.arange(nb), arg]
    if return_index:
        return maxima, arg + b * np.arange(nb)
    return maxima


def _gev_rl_value(loc, scale, shape, lp):
    """The GEV level mu + sigma (y_p^(-xi) - 1) / xi, y_p = -log(1 - 1/T), written stably with lp = -log y_p."""
    return loc + scale * lp * _expm1_over(shape * lp)


def _gev_rl_lp(period: float) -> float:
    """lp = -log y_p with y_p = -log(1 - 1/T): z_p = mu + sigma lp E(xi lp), E(v) = expm1(v)/v."""
    # z_p = mu + sigma (y_p^(-xi) - 1) / xi with y_p = -log(1 - 1/T); lp = -log y_p
    return float(-np.log(-np.log1p(-1.0 / period)))


# ---------------------------------------------------------------------------------------------------------
# Profile likelihood of the return level
# ---------------------------------------------------------------------------------------------------------
class _GEVLevelProfile:
    """Profile nllh of the GEV return level z_p, minimised over (log sigma, xi >= -0.99) (Coles 2001, 3.3.3).

    The location is eliminated through the return level: mu = z_p - sigma a(xi), a(xi) = lp E(xi lp) with
    lp = -log y_p, y_p = -log(1 - 1/T) and E(v) = expm1(v)/v (stable at xi = 0).  Three strategies, tried in
    order by :meth:`__call__`:

    1. :meth:`newton`: :func:`newton_minimize` in q = (log sigma, xi) with analytic derivatives (chain rule
       through mu), warm-started from the nearest levels already profiled (:meth:`warm`);
    2. :meth:`endpoint_newton`: where that crawls (heavy tails, far levels: the optimum hugs the lower
       endpoint b = mu - sigma/xi just below min(x), a thin curved valley), Newton in the coordinates
       (log(min(x) - b), xi), where the valley is straight;
    3. :meth:`nested`: bounded one-dimensional searches, polished by Newton, as the last resort.
    """

    def __init__(self, fit: GEVFit, x: np.ndarray, lp: float):
        self.fit, self.x, self.lp = fit, x, lp
        self.ls_hat = math.log(fit.scale)
        self.nllh_hat = fit.nllh
        self.tol_f = 1e-7 * max(1.0, abs(fit.nllh))
        self.typical = np.array([1.0, 1.0])
        self.max_step = np.array([1.0, 0.5])
        # xi >= -0.99: for xi < -1 the GEV likelihood is unbounded, and as xi -> -1 the profile runs into a
        # corner (endpoint at the largest maximum) where Newton crawls; the MLE itself always stays inside.
        self.bounds = np.array([-np.inf, min(-0.99, 0.5 * (fit.shape - 1.0))])
        self.xmin, self.xmax = float(x.min()), float(x.max())
        self.endpoint_mode = False
        self.solved: list[tuple[float, np.ndarray]] = []

    def a_terms(self, xi):
        """a = lp E(v), a' = lp^2 E'(v), a'' = lp^3 E''(v) with v = xi lp, E(v) = expm1(v)/v (scalar maths)."""
        lp = self.lp
        v = float(xi) * lp
        if v > 700.0:  # xi > ~100: outside any sensible model; the nllh is treated as +inf
            return np.inf, np.inf, np.inf
        if abs(v) < _SMALL:
            e0 = 1.0 + v * (0.5 + v * (1.0 / 6.0 + v / 24.0))
            e1 = 0.5 + v / 3.0 + v * v / 8.0 + v**3 / 30.0
        else:
            em1 = math.expm1(v)
            e0 = em1 / v
            e1 = (v * (em1 + 1.0) - em1) / (v * v)
        return lp * e0, lp * lp * e1, lp**3 * _expm1_over_deriv2(v)

    def fun(self, r, q):
        s = math.exp(min(q[0], 700.0))
        a0 = self.a_terms(q[1])[0]
        return gev_nllh(self.x, r - s * a0, s, q[1]) if np.isfinite(a0) else np.inf

    def derivs(self, r, q):
        s = math.exp(min(q[0], 700.0))
        a0, a1, a2 = self.a_terms(q[1])
        if not np.isfinite(a0):
            return np.inf, None, None
        f, g, h = _gev_derivs(self.x, r - s * a0, s, q[1])
        if g is None:
            return f, None, None
        jac = np.array([[-s * a0, -s * a1], [s, 0.0], [0.0, 1.0]])
        hq = jac.T @ h @ jac
        hq += g[0] * np.array([[-s * a0, -s * a1], [-s * a1, -s * a2]])
        hq[0, 0] += g[1] * s
        return f, jac.T @ g, hq

    def smin_of(self, r, xi):
        """Smallest sigma whose support holds the data at (r, xi): xi (r - edge) exp(-xi lp).

        The edge is the smallest maximum when xi > 0 (lower endpoint) and the largest when xi < 0.
        """
        return xi * (r - (self.xmin if xi > 0 else self.xmax)) * math.exp(-xi * self.lp)

    def warm(self, r, r0, q):
        """Start for level r from the solution q at r0: keep sigma / sigma_min (the data's distance from the
        support endpoint, which the optimum sits close to in the tails), else sigma itself; made feasible."""
        xi = max(float(q[1]), self.bounds[1])
        ls = float(q[0])
        m0, m1 = self.smin_of(r0, xi), self.smin_of(r, xi)
        if m0 > 0 and m1 > 0:
            ls = ls + math.log(m1 / m0)
        elif m1 > 0 and not ls > math.log(2.0 * m1):
            ls = math.log(2.0 * m1)
        return np.array([ls, xi])

    def newton(self, r, q0, max_iter: int = 100):
        return newton_minimize(
            lambda q: self.fun(r, q),
            lambda q: self.derivs(r, q),
            q0,
            self.typical,
            max_iter=max_iter,
            max_step=self.max_step,
            lower=self.bounds,
            what="GEV return-level profile",
        )

    def endpoint_newton(self, r, starts):
        """Newton in (beta, xi), beta = log(min(x) - b), sigma = xi (r - b) exp(-xi lp); needs xi > 0."""
        c, lp = r - self.xmin, self.lp

        def to_q(pb):
            d = c + math.exp(pb[0])
            return np.array([math.log(pb[1]) + math.log(d) - pb[1] * lp, pb[1]])

        def fun_b(pb):
            return self.fun(r, to_q(pb)) if pb[1] > 0 and pb[0] < 700 else np.inf

        def derivs_b(pb):
            if not (pb[1] > 0 and pb[0] < 700):
                return np.inf, None, None
            f, g, h = self.derivs(r, to_q(pb))
            if g is None:
                return f, None, None
            e = math.exp(pb[0])
            jb, jx = e / (c + e), 1.0 / pb[1] - lp
            jac = np.array([[jb, jx], [0.0, 1.0]])
            hb = jac.T @ h @ jac
            hb[0, 0] += g[0] * jb * (1.0 - jb)
            hb[1, 1] += g[0] * (-1.0 / pb[1] ** 2)
            return f, jac.T @ g, hb

        for q0 in starts:
            xi = float(q0[1])
            if not xi > 0:
                continue
            gap = math.exp(q0[0]) * math.exp(xi * lp) / xi - c  # min(x) - b at the start
            if not gap > 0:
                continue
            try:
                pb, f, _ = newton_minimize(
                    fun_b,
                    derivs_b,
                    np.array([math.log(gap), xi]),
                    np.array([1.0, 1.0]),
                    max_step=np.array([2.0, 0.5]),
                    lower=np.array([-np.inf, 1e-6]),
                    what="GEV return-level profile",
                )
            except NumericalError:
                continue
            if pb[1] > 1e-6:
                return to_q(pb), f
        return None, None

    def nested(self, r):
        """min over (log sigma, xi) by bounded Brent in log sigma inside a grid + bounded Brent over xi."""
        from scipy.optimize import minimize_scalar

        def inner(xi):
            m = self.smin_of(r, xi)
            lo, hi = (
                (math.log(m) + 1e-12, math.log(m) + 40.0)
                if m > 0
                else (self.ls_hat - 25.0, self.ls_hat + 25.0)
            )
            res = minimize_scalar(
                lambda ls: self.fun(r, (ls, xi)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
            )
            return res.fun, res.x

        grid = np.linspace(self.bounds[1], max(5.0, 3.0 * self.fit.shape), 41)
        vals = [inner(xi)[0] for xi in grid]
        i = int(np.argmin(vals))
        if not np.isfinite(vals[i]):
            raise NumericalError(f"GEV return-level profile: no feasible (scale, shape) for level {r:.6g}")
        res = minimize_scalar(
            lambda xi: inner(xi)[0],
            bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 40)]),
            method="bounded",
            options={"xatol": 1e-10},
        )
        xi = float(res.x) if res.fun <= vals[i] else float(grid[i])
        fv, ls = inner(xi)
        q, f = np.array([ls, xi]), float(fv)
        try:
            q, f, _ = self.newton(r, q)
        except NumericalError:
            pass  # keep the nested-search optimum
        return q, f

    def __call__(self, r: float) -> float:
        near = sorted(self.solved, key=lambda item: abs(item[0] - r))[:2] + self.solved[:1]
        starts = [self.warm(r, r0, q) for r0, q in near]
        q = None
        if self.endpoint_mode and r > self.xmin:  # the previous level needed the endpoint coordinates
            q, f = self.endpoint_newton(r, starts[:1])
        if q is None:
            q, f = self._from_starts(r, starts)
        if q is None:
            q, f = self.nested(r)
        if f < self.nllh_hat - self.tol_f:
            raise NumericalError(
                f"GEV return-level profile: level {r:.6g} has a lower nllh ({f:.10g}) than the fit "
                f"({self.nllh_hat:.10g}); the GEV fit is not the global maximum"
            )
        self.solved.append((r, q))
        return f

    def _from_starts(self, r, starts):
        """Newton from each feasible warm start; the endpoint coordinates where Newton fails."""
        for q0 in starts:
            if not np.isfinite(self.fun(r, q0)):
                continue
            try:
                q, f, _ = self.newton(r, q0, max_iter=40)
                return q, f
            except NumericalError:
                if r > self.xmin:
                    q, f = self.endpoint_newton(r, [q0])
                    if q is not None:
                        self.endpoint_mode = True
                        return q, f
        return None, None


def _gev_profile_ci(fit: GEVFit, x: np.ndarray, lp: float, value: float, se: float, level: float):
    """Profile-likelihood interval of the GEV return level z_p (Coles 2001, section 3.3.3).

    The profile nllh is :class:`_GEVLevelProfile`; the endpoints solve 2 (nllh_p(z_p) - nllh) = chi2_1(level)
    by :func:`profile_interval`.  Returns (ci_low, ci_high); ci_high is +inf when the deviance stays below
    the critical value up to z_p - value = 1e12 se (the data do not bound the level).  Raises NumericalError
    when a profile point cannot be computed.
    """
    prof = _GEVLevelProfile(fit, x, lp)
    prof.solved.append((value, np.array([np.log(fit.scale), fit.shape])))
    span = max(se, 1e-6 * abs(value), 1e-12)
    return profile_interval(prof, fit.nllh, value, span, level, what="GEV return-level profile")
