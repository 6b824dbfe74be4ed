"""Extreme-value fits: GPD peaks over threshold and GEV block maxima by maximum likelihood, with return levels."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Real

import numpy as np

from ..errors import DataError, NumericalError
from ..validation import check_sample

__all__ = [
    "GPDFit",
    "fit_gpd",
    "gpd_cdf",
    "gpd_isf",
    "gpd_logpdf",
    "gpd_nllh",
    "gpd_ppf",
    "gpd_sf",
]

# Sign convention, once for the whole module: the shape ``xi > 0`` is a heavy (Frechet-type, Pareto-like) tail
# with tail index alpha = 1 / xi; ``xi = 0`` is the exponential / Gumbel limit; ``xi < 0`` has a finite upper
# endpoint.  scipy's ``genpareto`` uses the same sign (its ``c`` is xi); scipy's ``genextreme`` uses ``c = -xi``.

_SMALL = 1e-3  # |w| below which series expansions replace the closed forms (absolute error < 1e-12)
MIN_EXCEEDANCES = 10


# ---------------------------------------------------------------------------------------------------------
# Numerically stable elementary functions (the xi -> 0 limits)
# ---------------------------------------------------------------------------------------------------------
def _log1p_over(w):
    """log1p(w) / w, equal to 1 at w = 0 (accurate for all w > -1)."""
    w = np.asarray(w, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log1p(w) / w
    return np.where(w == 0.0, 1.0, out)


def _expm1_over(v):
    """expm1(v) / v, equal to 1 at v = 0."""
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.expm1(v) / v
    return np.where(v == 0.0, 1.0, out)


def _expm1_over_deriv(v):
    """d/dv [expm1(v) / v] = (v e^v - expm1(v)) / v^2, equal to 1/2 at v = 0."""
    v = np.asarray(v, dtype=np.float64)
    small = np.abs(v) < _SMALL
    vs = np.where(small, 1.0, v)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (vs * np.exp(vs) - np.expm1(vs)) / vs**2
    series = 0.5 + v / 3.0 + v**2 / 8.0 + v**3 / 30.0
    return np.where(small, series, out)


def _e_w(w):
    """e(w) = 1/(w(1+w)) - log1p(w)/w^2, the xi-derivative kernel; -1/2 at w = 0."""
    w = np.asarray(w, dtype=np.float64)
    small = np.abs(w) < _SMALL
    any_small = bool(small.any())
    if any_small:
        series = -0.5 + w * (2.0 / 3.0 + w * (-0.75 + 0.8 * w))
        if small.all():
            return series
    ws = np.where(small, 1.0, w) if any_small else w
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 / (ws * (1.0 + ws)) - np.log1p(ws) / ws**2
    return np.where(small, series, out) if any_small else out


def _f_w(w):
    """f(w) = 2 log1p(w)/w^3 - 2/(w^2(1+w)) - 1/(w(1+w)^2), the second xi-derivative kernel; 2/3 at w = 0."""
    w = np.asarray(w, dtype=np.float64)
    small = np.abs(w) < _SMALL
    any_small = bool(small.any())
    if any_small:
        series = 2.0 / 3.0 + w * (-1.5 + w * (2.4 - (10.0 / 3.0) * w))
        if small.all():
            return series
    ws = np.where(small, 1.0, w) if any_small else w
    a = 1.0 + ws
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 2.0 * np.log1p(ws) / ws**3 - 2.0 / (ws**2 * a) - 1.0 / (ws * a**2)
    return np.where(small, series, out) if any_small else out


# ---------------------------------------------------------------------------------------------------------
# Closed-form GPD functions
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
    w = shape * z
    with np.errstate(invalid="ignore", divide="ignore"):
        h = z * _log1p_over(np.maximum(w, -1.0))
    return np.where(w <= -1.0, np.inf, h)


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
    """
    y = np.asarray(y, dtype=np.float64)
    return np.where(y < 0, 1.0, np.exp(-_gpd_cum_hazard(y, shape, scale)))


def gpd_cdf(y, shape, scale):
    """Distribution function 1 - S(y) of the GPD (see :func:`gpd_sf`), computed as -expm1(-H(y))."""
    y = np.asarray(y, dtype=np.float64)
    return np.where(y < 0, 0.0, -np.expm1(-_gpd_cum_hazard(y, shape, scale)))


def gpd_logpdf(y, shape, scale):
    """Log density of the GPD: -log sigma - (1 + 1/xi) log1p(xi y / sigma); -inf outside the support.

    For xi = 0 this is the exponential log density -log sigma - y / sigma.
    """
    y = np.asarray(y, dtype=np.float64)
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    z = y / scale
    w = shape * z
    inside = (y >= 0) & (w > -1.0)
    wc = np.where(inside, w, 0.0)
    zc = np.where(inside, z, 0.0)
    out = -np.log(scale) - np.log1p(wc) - zc * _log1p_over(wc)
    return np.where(inside, out, -np.inf)


def gpd_isf(p, shape, scale):
    """Inverse survival function: the excess y with S(y) = p (p = exceedance probability, 0 < p <= 1).

    y = sigma / xi * (p ** (-xi) - 1) = sigma * t * expm1(xi t) / (xi t) with t = -log p, which tends to
    the exponential quantile sigma * t as xi -> 0.  For xi < 0 and p -> 0 it tends to the endpoint -sigma/xi.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p must lie in (0, 1]")
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    t = -np.log(p)
    return scale * t * _expm1_over(shape * t)


def gpd_ppf(q, shape, scale):
    """Quantile function: the excess y with F(y) = q, 0 <= q < 1 (uses t = -log1p(-q) for accuracy)."""
    q = np.asarray(q, dtype=np.float64)
    if np.any((q < 0) | (q >= 1) | np.isnan(q)):
        raise ValueError("q must lie in [0, 1)")
    shape = np.asarray(shape, dtype=np.float64)
    scale = _check_scale(scale)
    t = -np.log1p(-q)
    return scale * t * _expm1_over(shape * t)


def gpd_nllh(excesses, shape: float, scale: float) -> float:
    """Negative log-likelihood of GPD excesses: n log sigma + (1 + 1/xi) sum log1p(xi y_i / sigma).

    Returns +inf outside the parameter space (sigma <= 0 or some 1 + xi y_i / sigma <= 0).
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


# ---------------------------------------------------------------------------------------------------------
# GPD fit
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


def _gpd_grad_hess(y: np.ndarray, scale: float, shape: float):
    """Analytic gradient and Hessian of the GPD nllh in (sigma, xi), stable as xi -> 0."""
    n = y.size
    z = y / scale
    w = shape * z
    a = 1.0 + w
    za = z / a
    s1 = za.sum()
    t1 = (za / a).sum()
    s2 = (za * za).sum()
    z2 = z * z
    g_sigma = (n - (shape + 1.0) * s1) / scale
    g_xi = (z2 * _e_w(w)).sum() + s1
    h_ss = (-n + (shape + 1.0) * (s1 + t1)) / scale**2
    h_sx = (-s1 + (shape + 1.0) * s2) / scale
    h_xx = (z2 * z * _f_w(w)).sum() - s2
    return np.array([g_sigma, g_xi]), np.array([[h_ss, h_sx], [h_sx, h_xx]])


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
    """Minimise the Grimshaw profile nllh over theta = xi / sigma by safeguarded Newton.

    Returns (theta, terms at theta) on convergence, or (theta, None) from a grid-plus-Brent fallback.
    """
    lower = -1.0 / ymax
    theta = theta0
    terms = _profile_terms(y, theta)
    h, d1, d2 = terms[:3]
    for _ in range(100):
        step = -d1 / d2 if d2 > 0 else -np.sign(d1) * 0.5 * max(abs(theta), 0.1 / ymax)
        new = theta + step
        while new <= lower:  # keep inside the support: theta > -1/ymax
            new = 0.5 * (theta + lower)
            step = new - theta
        accepted = False
        for _ in range(60):
            if new != 0.0:
                cand = _profile_terms(y, new)
                if np.isfinite(cand[0]) and cand[0] <= h + 1e-15 * abs(h):
                    accepted = True
                    break
            step *= 0.5
            new = theta + step
        if not accepted:
            break
        converged = abs(step) <= 1e-10 * max(abs(theta), 1e-3 / ymax)
        theta, terms = new, cand
        h, d1, d2 = terms[:3]
        if converged and d2 > 0:
            return theta, terms
    # Fallback: coarse grid in s = log(1 + theta * ymax), then bounded Brent around the best grid point.
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
    return float(np.expm1(res.x) / ymax), None


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


def fit_gpd(x, threshold: float) -> GPDFit:
    """Fit a generalised Pareto distribution to the excesses over ``threshold`` by maximum likelihood.

    Model: for x > u, the excess y = x - u has survival function S(y) = (1 + xi y / sigma) ** (-1/xi)
    (see :func:`gpd_sf`); xi > 0 is a heavy tail.  The data are treated as i.i.d. (no declustering).

    Algorithm: the likelihood is profiled over theta = xi / sigma (Grimshaw 1993): for fixed theta the
    MLE of xi is mean(log1p(theta y)), so the profile nllh / n = log(xi(theta)/theta) + 1 + xi(theta) is
    minimised in one dimension by safeguarded Newton (analytic derivatives; a grid plus Brent search as
    fallback).  One full two-dimensional Newton step on (sigma, xi) with the analytic Hessian polishes the
    optimum, and the inverse of that Hessian (the observed information) gives the covariance matrix.

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
    """
    x, u, y = _threshold_excesses(x, threshold)
    n = y.size
    ymax = float(y.max())
    ybar = float(y.mean())
    # Method-of-moments start (Hosking & Wallis 1987), clipped to where it is sensible.
    var = float(y.var())
    xi0 = float(np.clip(0.5 * (1.0 - ybar**2 / var), -0.4, 0.45)) if var > 0 else 0.0
    sigma0 = ybar * (1.0 - xi0)
    theta0 = xi0 / sigma0 if xi0 != 0.0 else 1e-3 / ymax
    theta, terms = _solve_profile(y, ymax, theta0)
    if terms is not None and abs(theta) * ymax > 1e-3 and abs(terms[3]) > 1e-3:
        # Fast path: the profile optimum is exact, so the gradient vanishes; Hessian from the profile sums.
        h, _, _, shape, m1, m2, ya, a = terms
        shape = float(shape)
        scale = float(shape / theta)
        f0 = n * h
        s1, s2, t1 = m1 / scale, m2 / scale**2, (ya / a).sum() / scale
        lsum = n * shape
        h_ss = (-n + (shape + 1.0) * (s1 + t1)) / scale**2
        h_sx = (-s1 + (shape + 1.0) * s2) / scale
        h_xx = 2.0 * lsum / shape**3 - 2.0 * s1 / shape**2 - (1.0 + 1.0 / shape) * s2
        hess = np.array([[h_ss, h_sx], [h_sx, h_xx]])
    else:
        # Near xi = 0 (or after the fallback): element-wise stable formulas and a Newton polish.
        scale = float((y * _log1p_over(theta * y)).mean())
        shape = theta * scale
        params = np.array([scale, shape])
        f0 = gpd_nllh(y, shape, scale)
        grad, hess = _gpd_grad_hess(y, scale, shape)
        for _ in range(5):
            try:
                step = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            cand = params + step
            fc = gpd_nllh(y, cand[1], cand[0])
            if not (np.isfinite(fc) and fc <= f0 + 1e-12 * abs(f0)):
                break
            params, f0 = cand, fc
            grad, hess = _gpd_grad_hess(y, params[0], params[1])
            if np.all(np.abs(step) <= 1e-12 * np.maximum(np.abs(params), 1e-8 * ybar)):
                break
        scale, shape = float(params[0]), float(params[1])
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
