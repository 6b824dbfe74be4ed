"""The generalised Pareto distribution (GPD): distribution functions, likelihood, moment start and the MLE.

One argument order everywhere: ``(y, shape, scale)`` with ``y`` the excesses over the threshold, ``shape``
xi (xi > 0 a heavy tail with tail index 1/xi; scipy's ``genpareto(c=xi)`` uses the same sign) and ``scale``
sigma > 0.  Gradients, Hessians and covariances are in the order (scale, shape), as in R's evd::fpot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from numbers import Real

import numpy as np

from ...errors import DataError, NumericalError
from ...validation import check_sample
from .kernels import _e_w, _expm1_over, _expm1_over_deriv, _expm1_over_deriv2, _f_w, _log1p_over
from .optimise import newton_minimize, profile_interval
from .return_levels import compute_return_levels

__all__ = [
    "GPDFit",
    "fit_gpd",
    "gpd_cdf",
    "gpd_isf",
    "gpd_isf_log",
    "gpd_logpdf",
    "gpd_logsf",
    "gpd_moment_start",
    "gpd_nllh",
    "gpd_nllh_derivs",
    "gpd_ppf",
    "gpd_sf",
]

MIN_EXCEEDANCES = 10


# ---------------------------------------------------------------------------------------------------------
# Distribution functions
# ---------------------------------------------------------------------------------------------------------
def _check_scale(scale):
    scale = np.asarray(scale, dtype=np.float64)
    if np.any(~(scale > 0)):
        raise ValueError(f"scale must be positive, got {scale}")
    return scale


def _gpd_cum_hazard(y, shape, scale):
    """H(y) = -log S(y) = log1p(xi y / sigma) / xi for y in the support (inf above a finite endpoint)."""
    y = np.asarray(y, dtype=np.float64)
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    z = np.maximum(y, 0.0) / scale
    with np.errstate(invalid="ignore", divide="ignore"):
        w = shape * z  # nan for xi = 0 at y = inf: handled below
        h = z * _log1p_over(np.maximum(w, -1.0))
    return np.where((w <= -1.0) | (z == np.inf), np.inf, h)


def gpd_sf(y, shape, scale):
    """Survival function of the generalised Pareto distribution for excesses ``y`` over the threshold.

    S(y) = (1 + xi * y / sigma) ** (-1 / xi) for 1 + xi y / sigma > 0, and exp(-y / sigma) when xi = 0;
    S(y) = 1 for y < 0 and S(y) = 0 beyond the upper endpoint -sigma / xi when xi < 0.  Computed as
    exp(-log1p(xi y / sigma) / xi) with a stable xi -> 0 limit, so it keeps full relative accuracy deep in
    the tail.

    Parameters
    ----------
    y : array-like
        Excesses over the threshold (same units as the data).
    shape : float or array-like
        xi; xi > 0 is a heavy tail (tail index 1 / xi).  scipy ``genpareto(c=xi)`` uses the same sign.
    scale : float or array-like
        sigma > 0.

    Returns
    -------
    ndarray
    """
    y = np.asarray(y, dtype=np.float64)
    return np.where(y < 0, 1.0, np.exp(-_gpd_cum_hazard(y, shape, scale)))


def gpd_logsf(y, shape, scale):
    """Log survival function -log1p(xi y / sigma) / xi of the GPD (see :func:`gpd_sf`); -inf past an endpoint.

    Parameters
    ----------
    y, shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray
        log S(y): 0 for y <= 0, finite (and accurate) for every finite y in the support, -inf at y = +inf.

    Examples
    --------
    Far beyond where S(y) underflows (S(1e300) is about 1e-300 ** 2):

    >>> float(gpd_logsf(1e300, 0.5, 1.0))
    -1380.16476...
    """
    y = np.asarray(y, dtype=np.float64)
    return np.where(y < 0, 0.0, -_gpd_cum_hazard(y, shape, scale))


def gpd_cdf(y, shape, scale):
    """Distribution function 1 - S(y) of the GPD (see :func:`gpd_sf`), computed as -expm1(-H(y)).

    Parameters
    ----------
    y, shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray
    """
    y = np.asarray(y, dtype=np.float64)
    return np.where(y < 0, 0.0, -np.expm1(-_gpd_cum_hazard(y, shape, scale)))


def gpd_logpdf(y, shape, scale):
    """Log density of the GPD: -log sigma - (1 + 1/xi) log1p(xi y / sigma); -inf outside the support.

    For xi = 0 this is the exponential log density -log sigma - y / sigma.

    Parameters
    ----------
    y, shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray
    """
    y = np.asarray(y, dtype=np.float64)
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    z = y / scale
    with np.errstate(invalid="ignore"):
        w = shape * z  # nan for xi = 0 at y = inf: outside below
    inside = (y >= 0) & (w > -1.0) & (y < np.inf)
    wc = np.where(inside, w, 0.0)
    zc = np.where(inside, z, 0.0)
    out = -np.log(scale) - np.log1p(wc) - zc * _log1p_over(wc)
    return np.where(inside, out, -np.inf)


def gpd_isf(p, shape, scale):
    """Inverse survival function: the excess y with S(y) = p (p = exceedance probability, 0 < p <= 1).

    y = sigma / xi * (p ** (-xi) - 1) = sigma * t * expm1(xi t) / (xi t) with t = -log p, which tends to
    the exponential quantile sigma * t as xi -> 0.  For xi < 0 and p -> 0 it tends to the endpoint -sigma/xi.

    Parameters
    ----------
    p : array-like
        Exceedance probabilities in (0, 1].
    shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray

    Examples
    --------
    The excess exceeded with probability 1e-3 by a GPD with xi = 0.5, sigma = 1 is 2 (1000^0.5 - 1):

    >>> float(gpd_isf(1e-3, 0.5, 1.0))
    61.2455...
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p must lie in (0, 1]")
    return gpd_isf_log(np.log(p), shape, scale)


def gpd_isf_log(log_p, shape, scale):
    """Inverse survival function from log p: the excess y with log S(y) = log_p, accurate for p below 1e-308.

    y = sigma t expm1(xi t) / (xi t) with t = -log p (see :func:`gpd_isf`); log_p = -inf gives the upper
    endpoint (+inf for xi >= 0, -sigma/xi for xi < 0).  Values of ``log_p`` above 0 are treated as 0.

    Parameters
    ----------
    log_p : array-like
        Log exceedance probabilities, <= 0.
    shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(gpd_isf_log(-1000.0, 0.0, 2.0))
    2000.0
    """
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    t = -np.minimum(np.asarray(log_p, dtype=np.float64), 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = scale * t * _expm1_over(shape * t)
        endpoint = np.where(shape < 0, -scale / np.where(shape < 0, shape, -1.0), np.inf)
    return np.where(t == np.inf, endpoint, out)


def gpd_ppf(q, shape, scale):
    """Quantile function: the excess y with F(y) = q, 0 <= q < 1 (uses t = -log1p(-q) for accuracy).

    Parameters
    ----------
    q : array-like
        Probabilities in [0, 1).
    shape, scale
        As in :func:`gpd_sf`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(gpd_ppf(0.999, 0.5, 1.0))
    61.2455...
    """
    q = np.asarray(q, dtype=np.float64)
    if np.any((q < 0) | (q >= 1) | np.isnan(q)):
        raise ValueError("q must lie in [0, 1)")
    return gpd_isf_log(np.log1p(-q), shape, scale)


# ---------------------------------------------------------------------------------------------------------
# Likelihood and moment start
# ---------------------------------------------------------------------------------------------------------
def gpd_nllh(excesses, shape: float, scale: float) -> float:
    """Negative log-likelihood of GPD excesses: n log sigma + (1 + 1/xi) sum log1p(xi y_i / sigma).

    Parameters
    ----------
    excesses : array-like
        y_i > 0.
    shape, scale : float
        xi and sigma.

    Returns
    -------
    float
        +inf outside the parameter space (sigma <= 0 or some 1 + xi y_i / sigma <= 0).
    """
    y = np.asarray(excesses, dtype=np.float64)
    if not scale > 0:
        return np.inf
    z = y / scale
    w = shape * z
    if np.any(w <= -1.0):
        return np.inf
    lw = np.log1p(w)
    return float(y.size * np.log(scale) + lw.sum() + (z * _log1p_over(w)).sum())


def gpd_nllh_derivs(excesses, shape: float, scale: float):
    """Analytic gradient and Hessian of :func:`gpd_nllh` in (sigma, xi), stable as xi -> 0.

    Parameters
    ----------
    excesses : ndarray
        y_i > 0, inside the support of (shape, scale).
    shape, scale : float
        xi and sigma.

    Returns
    -------
    gradient : ndarray, shape (2,)
        d nllh / d(sigma, xi).
    hessian : ndarray, shape (2, 2)
        In the same order (scale, shape), as the fit's covariance.
    """
    y = np.asarray(excesses, dtype=np.float64)
    n = y.size
    z = y / scale
    w = shape * z
    a = 1.0 + w
    za = z / a
    s1 = za.sum()
    t1 = (za / a).sum()
    s2 = za @ za
    g_sigma = (n - (shape + 1.0) * s1) / scale
    h_ss = (-n + (shape + 1.0) * (s1 + t1)) / scale**2
    h_sx = (-s1 + (shape + 1.0) * s2) / scale
    if abs(shape) > 1e-3:
        # closed forms; the cancellation costs at most ~eps / xi^2 relative accuracy
        lsum = np.log1p(w).sum()
        g_xi = -lsum / shape**2 + (1.0 + 1.0 / shape) * s1
        h_xx = 2.0 * lsum / shape**3 - 2.0 * s1 / shape**2 - (1.0 + 1.0 / shape) * s2
    else:
        z2 = z * z
        g_xi = (z2 * _e_w(w)).sum() + s1
        h_xx = (z2 * z * _f_w(w)).sum() - s2
    return np.array([g_sigma, g_xi]), np.array([[h_ss, h_sx], [h_sx, h_xx]])


def _gpd_grad_hess(y: np.ndarray, scale: float, shape: float):
    """:func:`gpd_nllh_derivs` with the pre-split argument order (y, scale, shape), kept for old callers."""
    return gpd_nllh_derivs(y, shape, scale)


def gpd_moment_start(excesses, *, ddof: int = 0, shape_bounds=None, cover_max: bool = False):
    """Method-of-moments GPD estimate (Hosking & Wallis 1987): the start of the fits and a fallback.

    xi = (1 - m^2 / v) / 2 and sigma = m (1 - xi), with m and v the mean and variance of the excesses
    (xi = 0, sigma = m when v = 0).  The moments exist for xi < 1/2 only, so for heavier tails this is a
    rough start, not an estimate.

    Parameters
    ----------
    excesses : array-like
        y_i > 0.
    ddof : int, default 0
        Delta degrees of freedom of the variance.
    shape_bounds : (float, float), optional
        Clip xi to this interval before sigma is computed (``fit_gpd`` starts from (-0.4, 0.45)).
    cover_max : bool, default False
        For a bounded estimate (xi < 0), raise sigma so that the endpoint sigma / (-xi) is not below the
        largest excess (so that every excess has positive density).

    Returns
    -------
    (shape, scale) : tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).exponential(2.0, size=100_000)
    >>> shape, scale = gpd_moment_start(y)
    >>> round(shape, 2), round(scale, 1)
    (0.0, 2.0)
    """
    y = np.asarray(excesses, dtype=np.float64)
    m = float(y.mean())
    v = float(y.var(ddof=ddof)) if y.size > ddof else 0.0
    xi = 0.5 * (1.0 - m**2 / v) if v > 0 else 0.0
    if shape_bounds is not None:
        xi = float(np.clip(xi, *shape_bounds))
    sigma = m * (1.0 - xi)
    if cover_max and xi < 0:
        sigma = max(sigma, -xi * float(y.max()) * (1 + 1e-9))
    return xi, sigma


# ---------------------------------------------------------------------------------------------------------
# The fit object
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GPDFit:
    """Maximum-likelihood fit of a generalised Pareto distribution to the excesses over a threshold.

    Attributes
    ----------
    threshold : float
        u; exceedances are the observations x > u and the excesses are x - u.
    shape : float
        xi (xi > 0: heavy tail with tail index 1/xi).
    scale : float
        sigma > 0, in data units.
    se_shape, se_scale : float
        Standard errors from the inverse observed information (analytic Hessian of the nllh at the MLE).
        They are asymptotically valid for xi > -1/2 only (Smith 1985).
    cov : ndarray, shape (2, 2)
        Covariance matrix of (scale, shape), in that order (as in R's evd::fpot).
    nllh : float
        Negative log-likelihood at the MLE.
    n_exceedances : int
        Number of observations above the threshold.
    n_total : int
        Number of observations in the data (used for the exceedance rate).
    """

    threshold: float
    shape: float
    scale: float
    se_shape: float
    se_scale: float
    cov: np.ndarray
    nllh: float
    n_exceedances: int
    n_total: int

    @property
    def rate(self) -> float:
        """zeta_u = n_exceedances / n_total, the estimated probability of exceeding the threshold."""
        return self.n_exceedances / self.n_total

    def to_dict(self) -> dict:
        """Plain-Python dict (JSON-serialisable) of all fields plus the rate; cov as a nested list."""
        d = asdict(self)
        d["cov"] = np.asarray(self.cov).tolist()
        for key in ("threshold", "shape", "scale", "se_shape", "se_scale", "nllh"):
            d[key] = float(d[key])
        d["n_exceedances"] = int(d["n_exceedances"])
        d["n_total"] = int(d["n_total"])
        d["rate"] = self.rate
        return d

    def return_level(self, period, *, data=None, method="delta", level=0.95, obs_per_block=None):
        """The m-observation return level x_m = u + sigma / xi ((m zeta_u)^xi - 1) (Coles 2001, eq. 4.13).

        m = period, or period * obs_per_block (evd's ``npp``) when the period counts blocks (years).  The
        delta-method variance includes the binomial uncertainty of zeta_u; the profile interval holds zeta_u
        fixed, as in R's evd/ismev.  See :func:`heavytail_diffusion.diagnostics.evt.return_level` for the
        parameters and the result.

        Parameters
        ----------
        period : float or array-like
            Return period(s), > 1.
        data : array-like, optional
            All observations the fit used, or only those above the threshold; needed by ``"profile"``.
        method : {"delta", "profile", "both"}
        level : float
            Confidence level in (0, 1).
        obs_per_block : float, optional
            Observations per block, so that ``period`` counts blocks.

        Returns
        -------
        ReturnLevel or DataFrame
        """
        return compute_return_levels(
            self, period, data=data, method=method, level=level, obs_per_block=obs_per_block
        )

    # hooks of compute_return_levels
    def _check_obs_per_block(self, obs_per_block) -> None:
        if obs_per_block is not None and not (
            isinstance(obs_per_block, Real) and np.isfinite(obs_per_block) and obs_per_block > 0
        ):
            raise ValueError(f"obs_per_block must be a positive number, got {obs_per_block!r}")

    def _refit_scaled(self, xd: np.ndarray, c: float) -> GPDFit:
        sub = fit_gpd(xd, self.threshold / c)
        return replace(sub, n_total=self.n_total) if sub.n_total != self.n_total else sub

    def _profile_data(self, data) -> np.ndarray:
        xall = check_sample(data, "data", min_size=2)
        y = xall[xall > self.threshold] - self.threshold
        # all observations, or the exceedances alone (e.g. cluster peaks of a declustered fit)
        if y.size != self.n_exceedances or xall.size not in (self.n_total, self.n_exceedances):
            raise ValueError("data does not match the fit (different number of observations or exceedances)")
        return y

    def _level_and_se(self, period: float, obs_per_block):
        """(value, delta-method se, log(m zeta)) of the level; the gradient is in (zeta, sigma, xi)."""
        lm = _gpd_rl_setup(self, period, obs_per_block)
        u, s, xi, zeta = self.threshold, self.scale, self.shape, self.rate
        value = float(_gpd_rl_value(u, s, xi, lm))
        m = np.exp(lm) / zeta
        d_zeta = s * m * (m * zeta) ** (xi - 1.0)
        d_sigma = lm * float(_expm1_over(xi * lm))
        d_xi = s * lm * lm * float(_expm1_over_deriv(xi * lm))
        var = d_zeta**2 * zeta * (1 - zeta) / self.n_total + np.array([d_sigma, d_xi]) @ self.cov @ np.array(
            [d_sigma, d_xi]
        )
        return value, float(np.sqrt(max(var, 0.0))), lm

    def _profile_ci(self, y: np.ndarray, lm: float, value: float, se: float, level: float):
        prof = _gpd_profile(self, y, lm)
        span = max(se, 1e-6 * abs(value), 1e-12)
        return profile_interval(
            prof, self.nllh, value, span, level, lower_limit=self.threshold, what="return_level profile"
        )


# ---------------------------------------------------------------------------------------------------------
# The fit: Grimshaw's profile over theta = xi / sigma, then the Hessian in (sigma, xi)
# ---------------------------------------------------------------------------------------------------------
def _profile_terms(y: np.ndarray, theta: float):
    """Grimshaw profile at theta = xi / sigma (theta != 0).

    xi(theta) = mean log(1 + theta y) is the MLE of xi for fixed theta, and the profile nllh / n is
    h(theta) = log(xi / theta) + 1 + xi.  Returns h, h', h'', xi and (sum y/a, sum (y/a)^2, y/a, a) with
    a = 1 + theta y, reused for the Hessian at the optimum.
    """
    w = theta * y
    a = 1.0 + w
    # np.log is several times faster than np.log1p; it is exact enough unless every theta*y is tiny.
    g = (np.log1p(w) if abs(theta) * y.max() < 1e-3 else np.log(a)).mean()
    ya = y / a
    m1 = ya.sum()
    m2 = ya @ ya
    n = y.size
    g1 = m1 / n
    g2 = -m2 / n
    ratio = g / theta
    if not ratio > 0:
        return np.inf, 0.0, 0.0, g, m1, m2, ya, a
    h = np.log(ratio) + 1.0 + g
    d1 = g1 / g - 1.0 / theta + g1
    d2 = g2 / g - (g1 / g) ** 2 + 1.0 / theta**2 + g2
    return h, d1, d2, g, m1, m2, ya, a


def _profile_value(y: np.ndarray, theta: float) -> float:
    if theta == 0.0:
        return float(np.log(y.mean()) + 1.0)
    if np.any(theta * y <= -1.0):
        return np.inf
    g = np.log1p(theta * y).mean()
    return float(np.log(g / theta) + 1.0 + g)


def _solve_profile(y: np.ndarray, ymax: float, theta0: float):
    """Minimise the Grimshaw profile nllh over theta = xi / sigma > -1/ymax by :func:`newton_minimize`.

    Returns (theta, terms at theta) on convergence, or (theta, None) from a grid-plus-Brent fallback.
    """
    lower = -1.0 / ymax
    theta = theta0 if theta0 > lower else 0.5 * lower  # a start outside the support would never move
    last: dict = {}

    def terms_at(th: float):
        if last.get("theta") != th:
            with np.errstate(divide="ignore", invalid="ignore"):
                t = _profile_terms(y, th) if th != 0.0 else (np.inf, 0.0, 0.0)
            last["theta"], last["terms"] = th, t
        return last["terms"]

    def derivs(p):
        t = terms_at(float(p[0]))
        return t[0], np.array([t[1]]), np.array([[t[2]]])

    try:
        p, _, _ = newton_minimize(
            lambda p: terms_at(float(p[0]))[0],
            derivs,
            [theta],
            [max(abs(theta), 1e-3 / ymax)],
            lower=[lower],
            tol=0.0,
            xtol=1e-10,
            what="GPD fit",
        )
    except NumericalError:
        return _solve_profile_grid(y, ymax), None
    terms = terms_at(float(p[0]))
    if not terms[3] > -1.0:  # ran towards the support's edge, where the likelihood is unbounded (xi < -1)
        return _solve_profile_grid(y, ymax), None
    return float(p[0]), terms


def _solve_profile_grid(y: np.ndarray, ymax: float) -> float:
    """Fallback: coarse grid in s = log(1 + theta * ymax), then bounded Brent around the best grid point."""
    from scipy.optimize import minimize_scalar

    s_grid = np.linspace(-12.0, 14.0, 261)
    th_grid = np.expm1(s_grid) / ymax
    vals = np.array([_profile_value(y, t) for t in th_grid])
    i = int(np.nanargmin(vals))
    if i == 0 or i == len(s_grid) - 1:
        raise NumericalError(
            "GPD likelihood has no interior maximum (the shape estimate runs to the boundary: xi <= -1 "
            "or xi very large); try a different threshold"
        )
    res = minimize_scalar(
        lambda s: _profile_value(y, np.expm1(s) / ymax),
        bounds=(s_grid[i - 1], s_grid[i + 1]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(np.expm1(res.x) / ymax)


def _threshold_excesses(x, threshold, name: str = "x"):
    x = check_sample(x, name, min_size=2)
    if not isinstance(threshold, Real | np.floating | np.integer) or not np.isfinite(threshold):
        raise DataError(f"threshold must be a finite number, got {threshold!r}")
    threshold = float(threshold)
    xmax = float(x.max())
    if np.all(x == x[0]):
        raise DataError(f"{name} is constant (every value is {x[0]:g}); a GPD cannot be fitted")
    if threshold >= xmax:
        raise DataError(
            f"threshold {threshold:g} is at or above the maximum of {name} ({xmax:g}); choose a lower threshold"
        )
    y = x[x > threshold] - threshold
    if y.size < MIN_EXCEEDANCES:
        raise DataError(
            f"only {y.size} observations of {name} exceed the threshold {threshold:g}; at least "
            f"{MIN_EXCEEDANCES} are needed (choose a lower threshold)"
        )
    if np.all(y == y[0]):
        raise DataError(f"all {y.size} exceedances of {name} over {threshold:g} are equal; cannot fit a GPD")
    return x, threshold, y


def _fit_rescaled(u: float, y: np.ndarray, n_total: int, ymax: float) -> GPDFit:
    """The GPD is scale-equivariant: fit y / c and rescale (c a power of two, so the division is exact).

    Without this, squares and moments of excesses near 1e200 overflow.
    """
    c = 2.0 ** np.floor(np.log2(ymax))
    f = fit_gpd(y / c, 0.0)  # all excesses are > 0 = the threshold on that scale
    jac = np.diag([c, 1.0])
    with np.errstate(over="ignore", under="ignore"):
        cov = jac @ f.cov @ jac  # may over/underflow far from 1; return_level then refits on data / c
    return GPDFit(
        threshold=u,
        shape=f.shape,
        scale=f.scale * c,
        se_shape=f.se_shape,
        se_scale=f.se_scale * c,
        cov=cov,
        nllh=f.nllh + y.size * float(np.log(c)),
        n_exceedances=f.n_exceedances,
        n_total=int(n_total),
    )


def _hessian_from_profile(terms, theta: float, n: int):
    """(shape, scale, nllh, Hessian in (sigma, xi)) from Grimshaw's sums at an exact profile optimum."""
    h, _, _, shape, m1, m2, ya, a = terms
    shape = float(shape)
    scale = float(shape / theta)
    s1, s2, t1 = m1 / scale, m2 / scale**2, (ya / a).sum() / scale
    lsum = n * shape
    h_ss = (-n + (shape + 1.0) * (s1 + t1)) / scale**2
    h_sx = (-s1 + (shape + 1.0) * s2) / scale
    h_xx = 2.0 * lsum / shape**3 - 2.0 * s1 / shape**2 - (1.0 + 1.0 / shape) * s2
    return shape, scale, n * h, np.array([[h_ss, h_sx], [h_sx, h_xx]])


def _polish(y: np.ndarray, theta: float):
    """Near xi = 0 (or after the fallback): element-wise stable formulas and a Newton polish in (sigma, xi)."""
    scale = float((y * _log1p_over(theta * y)).mean())
    p0 = np.array([scale, theta * scale])

    def derivs(p):
        f = gpd_nllh(y, p[1], p[0])
        if not np.isfinite(f):
            return f, None, None
        g, h = gpd_nllh_derivs(y, p[1], p[0])
        return f, g, h

    try:
        p, f0, hess = newton_minimize(
            lambda p: gpd_nllh(y, p[1], p[0]),
            derivs,
            p0,
            [max(abs(scale), 1e-8 * float(y.mean())), 1.0],
            tol=0.0,
            xtol=1e-12,
            what="GPD fit",
        )
    except NumericalError:  # keep the profile optimum
        p, (f0, _, hess) = p0, derivs(p0)
    return float(p[1]), float(p[0]), f0, hess


def fit_gpd(x, threshold: float) -> GPDFit:
    """Fit a generalised Pareto distribution to the excesses over ``threshold`` by maximum likelihood.

    Model: for x > u, the excess y = x - u has survival function S(y) = (1 + xi y / sigma) ** (-1/xi)
    (see :func:`gpd_sf`); xi > 0 is a heavy tail.  The data are treated as i.i.d. (no declustering).

    Algorithm: the likelihood is profiled over theta = xi / sigma (Grimshaw 1993): for fixed theta the
    MLE of xi is mean(log1p(theta y)), so the profile nllh / n = log(xi(theta)/theta) + 1 + xi(theta) is
    minimised in one dimension by safeguarded Newton (analytic derivatives; a grid plus Brent search as
    fallback), starting from :func:`gpd_moment_start`.  Near xi = 0 a two-dimensional Newton polish on
    (sigma, xi) with the analytic Hessian follows, and the inverse of that Hessian (the observed information)
    gives the covariance matrix.

    Parameters
    ----------
    x : array-like, shape (n,)
        All observations (finite).  Only those strictly above ``threshold`` enter the likelihood; ``n`` is
        kept as ``n_total`` for the exceedance rate.
    threshold : float
        u, strictly below max(x), leaving at least 10 exceedances.

    Returns
    -------
    GPDFit

    Raises
    ------
    DataError (a ValueError)
        Non-finite or constant data, a threshold at or above the maximum, fewer than 10 exceedances.
    NumericalError (a RuntimeError)
        When the likelihood has no interior maximum (xi <= -1) or the Hessian is not positive definite.

    References
    ----------
    Grimshaw, S. D. (1993). Computing maximum likelihood estimates for the generalized Pareto distribution.
    Technometrics 35(2), 185-191.  Coles, S. (2001). An Introduction to Statistical Modeling of Extreme
    Values, Springer, section 4.3.

    Examples
    --------
    Lomax (Pareto II) data with tail index 3 have a GPD tail with xi = 1/3 above any threshold:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).pareto(3.0, size=20_000)
    >>> fit = fit_gpd(x, threshold=0.5)
    >>> fit.n_exceedances, round(fit.shape, 2), round(fit.se_shape, 2)
    (5844, 0.33, 0.02)
    """
    x, u, y = _threshold_excesses(x, threshold)
    ymax = float(y.max())
    if not 2.0**-100 < ymax < 2.0**100:
        return _fit_rescaled(u, y, x.size, ymax)
    n = y.size
    xi0, sigma0 = gpd_moment_start(y, shape_bounds=(-0.4, 0.45))
    theta0 = xi0 / sigma0 if xi0 != 0.0 else 1e-3 / ymax
    theta, terms = _solve_profile(y, ymax, theta0)
    if terms is not None and abs(theta) * ymax > 1e-3 and abs(terms[3]) > 1e-3:
        # Fast path: the profile optimum is exact, so the gradient vanishes; Hessian from the profile sums.
        shape, scale, f0, hess = _hessian_from_profile(terms, theta, n)
    else:
        shape, scale, f0, hess = _polish(y, theta)
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        raise NumericalError(
            f"GPD fit at threshold {u:g}: the observed information is not positive definite at the optimum "
            f"(shape {shape:.3g}); the fit is unreliable - try a lower threshold"
        ) from None
    inv_chol = np.linalg.inv(chol)
    cov = inv_chol.T @ inv_chol
    return GPDFit(
        threshold=u,
        shape=shape,
        scale=scale,
        se_shape=float(np.sqrt(cov[1, 1])),
        se_scale=float(np.sqrt(cov[0, 0])),
        cov=cov,
        nllh=float(f0),
        n_exceedances=int(n),
        n_total=int(x.size),
    )


# ---------------------------------------------------------------------------------------------------------
# Return level: value and profile likelihood
# ---------------------------------------------------------------------------------------------------------
def _gpd_rl_setup(fit: GPDFit, period: float, obs_per_block: float | None) -> float:
    m = period * (1.0 if obs_per_block is None else obs_per_block)
    lm = np.log(m * fit.rate)
    if not lm > 0:
        raise ValueError(
            f"period {period:g} is too short: m * rate = {m * fit.rate:.3g} <= 1, so the return level would lie "
            f"below the threshold {fit.threshold:g}; the period must exceed {1.0 / fit.rate:.4g} observations"
        )
    return float(lm)


def _gpd_rl_value(u, scale, shape, lm):
    """The GPD level u + sigma ((m zeta)^xi - 1) / xi, written stably with lm = log(m zeta) (arrays broadcast)."""
    return u + scale * lm * _expm1_over(shape * lm)


def _gpd_profile(fit: GPDFit, y: np.ndarray, lm: float):
    """Profile nllh of the m-observation return level r: minimise over xi with sigma = (r-u)/(lm E(xi lm)).

    E(v) = expm1(v)/v.  One-dimensional :func:`newton_minimize` in xi with exact first and second
    derivatives (chain rule through sigma(xi)), warm-started from the previous r.  Levels where no shape is
    feasible or the minimisation fails get +inf (outside any interval).
    """
    u = fit.threshold
    cache = {"xi": fit.shape}

    def parts(r, xi):
        v = xi * lm
        e0 = float(_expm1_over(v))
        e1 = float(_expm1_over_deriv(v))
        e2 = _expm1_over_deriv2(v)
        s = (r - u) / (lm * e0)
        q1 = -lm * e1 / e0  # sigma'/sigma
        ds = s * q1
        d2s = s * (q1 * q1 - lm * lm * (e2 / e0 - (e1 / e0) ** 2))
        return s, ds, d2s

    last: dict = {}

    def fun(r, p):
        xi = float(p[0])
        ps = parts(r, xi)
        last["key"], last["parts"], last["f"] = (r, xi), ps, gpd_nllh(y, xi, ps[0])
        return last["f"]

    def derivs(r, p):
        xi = float(p[0])
        if last.get("key") != (r, xi):  # the line search has just evaluated the accepted point
            fun(r, p)
        (s, ds, d2s), f = last["parts"], last["f"]
        if not np.isfinite(f):
            return f, None, None
        g, h = gpd_nllh_derivs(y, xi, s)
        d1 = g[1] + g[0] * ds
        d2 = h[1, 1] + 2.0 * h[0, 1] * ds + h[0, 0] * ds * ds + g[0] * d2s
        return f, np.array([d1]), np.array([[d2]])

    def prof(r):
        if not r > u:
            return np.inf
        feasible = (
            xi for xi in (cache["xi"], fit.shape, 0.0, 0.5, 1.0, 2.0, 4.0) if np.isfinite(fun(r, [xi]))
        )
        start = next(feasible, None)
        if start is None:
            return np.inf  # no feasible shape for this level
        try:
            p, f, _ = newton_minimize(
                lambda p: fun(r, p),
                lambda p: derivs(r, p),
                [start],
                [1.0],
                tol=0.0,
                xtol=1e-10,
                what="GPD return-level profile",
            )
        except NumericalError:
            return np.inf
        cache["xi"] = float(p[0])
        return f

    return prof
