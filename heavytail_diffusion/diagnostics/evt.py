"""Extreme-value fits: GPD peaks over threshold and GEV block maxima by maximum likelihood, with return levels."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real

import numpy as np

from ..errors import DataError, NumericalError
from ..validation import check_sample

__all__ = [
    "GEVFit",
    "GPDFit",
    "ReturnLevel",
    "ThresholdChoice",
    "block_maxima",
    "fit_gev",
    "fit_gpd",
    "gev_nllh",
    "gpd_cdf",
    "gpd_isf",
    "gpd_logpdf",
    "gpd_nllh",
    "gpd_ppf",
    "gpd_sf",
    "mean_residual_life",
    "parameter_stability",
    "return_level",
    "select_threshold",
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
    theta = theta0 if theta0 > lower else 0.5 * lower  # a start outside the support would never move
    terms = _profile_terms(y, theta)
    h, d1, d2 = terms[:3]
    for _ in range(100):
        step = -d1 / d2 if d2 > 0 else -np.sign(d1) * 0.5 * max(abs(theta), 0.1 / ymax)
        new = theta + step
        if new <= lower:  # keep inside the support: theta > -1/ymax
            new = 0.5 * (theta + lower)
            step = new - theta
            if not new > lower:  # theta is at the support's edge (xi -> -1): no room for Newton
                break
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
    ymax = float(y.max())
    if not 2.0**-100 < ymax < 2.0**100:
        # The GPD is scale-equivariant: fit y / c and rescale (c a power of two, so the division is exact);
        # without this, squares and moments of excesses near 1e200 overflow.
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
            n_total=int(x.size),
        )
    n = y.size
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


# ---------------------------------------------------------------------------------------------------------
# A small safeguarded Newton minimiser (analytic gradient and Hessian)
# ---------------------------------------------------------------------------------------------------------
def _newton_minimize(
    fun, derivs, p0, typical, *, max_iter: int = 100, max_step=None, lower=None, what: str = "fit"
):
    """Minimise ``fun`` by Newton steps with Levenberg damping, Armijo backtracking and lower bounds.

    ``derivs(p)`` returns (f, gradient, Hessian); ``fun(p)`` returns f alone (+inf outside the parameter
    space) for the line search.  ``typical`` gives the parameters' natural scales (the damping is applied to
    the Hessian scaled by them) and ``max_step`` caps |step_j| / typical_j.  ``lower`` (optional) are lower
    bounds, handled by an active set: a coordinate at its bound whose gradient points outwards is held there
    and Newton runs on the others (a projected Newton method).  Convergence: a full, undamped Newton step
    whose decrement g' H^-1 g is below 1e-10 (the next decrement is then ~1e-20: the optimum is exact to
    rounding).  Returns (p, f, hessian); raises NumericalError when it cannot converge.
    """
    p = np.asarray(p0, dtype=np.float64).copy()
    typical = np.asarray(typical, dtype=np.float64)
    lower = np.full(p.size, -np.inf) if lower is None else np.asarray(lower, dtype=np.float64)
    p = np.maximum(p, lower)
    f, g, hess = derivs(p)
    if not np.isfinite(f):
        raise NumericalError(f"{what}: the starting point lies outside the parameter space")
    for _ in range(max_iter):
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(hess))):
            raise NumericalError(
                f"{what}: non-finite derivatives (an observation sits on the support boundary)"
            )
        gs = g * typical
        hs = hess * np.outer(typical, typical)
        free = ~((p <= lower) & (g > 0))
        if not free.any():
            return p, f, hess  # a corner of the box satisfies the optimality conditions
        step_s = np.zeros(p.size)
        hf = hs[np.ix_(free, free)]
        evals = np.linalg.eigvalsh(hf)
        damped = not evals[0] > 1e-10 * max(evals[-1], 1e-300)
        lam = abs(evals[0]) + 1e-3 * abs(evals[-1]) + 1e-8 if damped else 0.0
        step_s[free] = -np.linalg.solve(hf + lam * np.eye(hf.shape[0]), gs[free])
        dec = -float(gs @ step_s)  # Newton decrement (f units); > 0 for a descent direction
        if not damped and dec <= 1e-22 * max(1.0, abs(f)):
            return p, f, hess
        found, full = _box_armijo(fun, p, f, gs, step_s, typical, max_step, lower, 0.0 if damped else 1e-14)
        if found is None:
            if dec <= 1e-12 * max(1.0, abs(f)) and not damped:
                return p, f, hess  # no further progress in floating point at a stationary point
            # fall back to a steepest-descent step (in the scaled parameters) before giving up
            sd = np.where(free, -gs, 0.0)
            sd /= max(float(np.linalg.norm(sd)), 1e-300)
            found, _ = _box_armijo(fun, p, f, gs, sd, typical, max_step, lower, 0.0)
            if found is None:
                raise NumericalError(f"{what}: the line search failed (the likelihood may be unbounded)")
            damped = True
        p = found
        f, g, hess = derivs(p)
        if full and not damped and dec <= 1e-10 * max(1.0, abs(f)):
            return p, f, hess
    raise NumericalError(f"{what}: Newton iterations did not converge in {max_iter} steps")


def _box_armijo(fun, p, f, gs, step_s, typical, max_step, lower, slack):
    """Cap the scaled step, shorten it to stay above ``lower``, then backtrack (Armijo).

    Returns (new point or None, whether the full Newton step was taken).
    """
    scale = 1.0
    if max_step is not None:
        scale = max(1.0, float(np.max(np.abs(step_s) / max_step)))
    step_s = np.where((step_s < 0) & (p <= lower), 0.0, step_s)  # project out moves through a bound
    step = step_s * typical / scale
    down = (step < 0) & np.isfinite(lower)
    if np.any(down):
        room = float(np.min((lower[down] - p[down]) / step[down]))
        if room < 1.0:
            scale /= room
            step = step * room
    slope = float(gs @ step_s) / scale
    if not slope < 0:
        return None, False
    t = 1.0
    for _ in range(60):
        cand = np.maximum(p + t * step, lower)
        fc = fun(cand)
        if np.isfinite(fc) and fc <= f + 1e-4 * t * slope + (slack * abs(f) if t == 1.0 else 0.0):
            return cand, t == 1.0 and scale == 1.0
        t *= 0.5
    return None, False


def _cov_from_hessian(hess: np.ndarray, what: str) -> np.ndarray:
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        raise NumericalError(
            f"{what}: the observed information is not positive definite at the optimum; standard errors are "
            "undefined (the shape estimate may be near its boundary)"
        ) from None
    inv = np.linalg.inv(chol)
    return inv.T @ inv


# ---------------------------------------------------------------------------------------------------------
# GEV
# ---------------------------------------------------------------------------------------------------------
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


def gev_nllh(maxima, loc: float, scale: float, shape: float) -> float:
    """GEV negative log-likelihood n log sigma + (1 + 1/xi) sum log t_i + sum t_i^(-1/xi), t = 1 + xi z.

    z = (x - mu)/sigma; the xi = 0 (Gumbel) limit n log sigma + sum z + sum exp(-z) is used continuously.
    Returns +inf outside the parameter space.
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
        p, f, _ = _newton_minimize(
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
            p, f, _ = _newton_minimize(
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
    cov = _cov_from_hessian(hess, "GEV fit")
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


def _unit(x: np.ndarray) -> float:
    """1, or a power of two bringing max |x| near 1 when it lies outside [2^-60, 2^60] (for rescaled fits)."""
    m = float(np.max(np.abs(x)))
    if m == 0.0 or 2.0**-60 < m < 2.0**60:
        return 1.0
    return float(2.0 ** np.floor(np.log2(m)))


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
    from ..validation import check_positive_int

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


# ---------------------------------------------------------------------------------------------------------
# Return levels
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnLevel:
    """A return level with its confidence interval.

    period : return period (observations for a GPD fit, or blocks - e.g. years - when ``obs_per_block``
        was given; blocks for a GEV fit).  value : the level.  ci_low, ci_high : interval bounds (ci_high may
        be +inf for a profile interval when the likelihood does not bound the level).  method : "delta" or
        "profile".  level : the confidence level.
    """

    period: float
    value: float
    ci_low: float
    ci_high: float
    method: str
    level: float

    def to_dict(self) -> dict:
        return {k: (float(v) if k != "method" else v) for k, v in asdict(self).items()}


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
    return u + scale * lm * _expm1_over(shape * lm)


def _gev_rl_lp(period: float) -> float:
    # z_p = mu + sigma (y_p^(-xi) - 1) / xi with y_p = -log(1 - 1/T); lp = -log y_p
    return float(-np.log(-np.log1p(-1.0 / period)))


def _profile_ci(prof, value: float, nllh_hat: float, se: float, lower_limit: float, level: float, what: str):
    """Endpoints where 2 (profile nllh - nllh_hat) = chi2_1(level), by bracketing and brentq."""
    from scipy.optimize import brentq
    from scipy.stats import chi2

    crit = 0.5 * chi2.ppf(level, 1)

    def dev(r):
        return prof(r) - nllh_hat - crit

    d0 = dev(value)
    if d0 > 1e-6 * max(1.0, crit):
        raise NumericalError(
            f"{what}: the profile at the MLE lies above the minimum; the fit did not converge"
        )
    span = max(se, 1e-6 * abs(value), 1e-12)
    # lower endpoint: approach lower_limit (the threshold for GPD; -inf for GEV) geometrically
    lo_in, lo = value, None
    for j in range(60):
        step = span * 2.0**j * 0.25
        r = value - step
        if np.isfinite(lower_limit) and r <= lower_limit:
            r = lower_limit + (lo_in - lower_limit) * 0.5
        try:
            dr = dev(r)
        except NumericalError:
            dr = np.inf
        if dr > 0:
            lo = r
            break
        lo_in = r
        if np.isfinite(lower_limit) and lo_in - lower_limit <= 1e-9 * max(1.0, abs(value)):
            break
    hi_in, hi = value, None
    for j in range(80):
        r = value + span * 2.0**j * 0.25
        try:
            dr = dev(r)
        except NumericalError:
            dr = np.inf
        if dr > 0:
            hi = r
            break
        hi_in = r
        if r > abs(value) * 1e8 + 1e8 * span:
            break
    ci_low = brentq(dev, lo, lo_in, xtol=1e-10 * max(1.0, abs(value))) if lo is not None else lower_limit
    ci_high = brentq(dev, hi_in, hi, xtol=1e-10 * max(1.0, abs(value))) if hi is not None else np.inf
    return float(ci_low), float(ci_high)


def _expm1_over_deriv2(v: float) -> float:
    """Second derivative of expm1(v)/v: (v^2 e^v - 2 v e^v + 2 expm1(v)) / v^3, 1/3 at v = 0."""
    if abs(v) < _SMALL:
        return 1.0 / 3.0 + v / 4.0 + v * v / 10.0 + v**3 / 36.0
    return (v * v * np.exp(v) - 2.0 * v * np.exp(v) + 2.0 * np.expm1(v)) / v**3


def _gpd_profile(fit: GPDFit, y: np.ndarray, lm: float):
    """Profile nllh of the m-observation return level r: minimise over xi with sigma = (r-u)/(lm E(xi lm)).

    E(v) = expm1(v)/v.  One-dimensional Newton in xi with exact first and second derivatives (chain rule
    through sigma(xi)) and backtracking; warm-started from the previous r.
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

    def prof(r):
        if not r > u:
            return np.inf
        xi = cache["xi"]
        s, ds, d2s = parts(r, xi)
        f = gpd_nllh(y, xi, s)
        if not np.isfinite(f):
            for cand in (fit.shape, 0.0, 0.5, 1.0, 2.0, 4.0):
                s, ds, d2s = parts(r, cand)
                f = gpd_nllh(y, cand, s)
                if np.isfinite(f):
                    xi = cand
                    break
            else:
                raise NumericalError("GPD return-level profile: no feasible shape for this level")
        for _ in range(100):
            g, h = _gpd_grad_hess(y, s, xi)
            d1 = g[1] + g[0] * ds
            d2 = h[1, 1] + 2.0 * h[0, 1] * ds + h[0, 0] * ds * ds + g[0] * d2s
            step = -d1 / d2 if d2 > 0 else -np.sign(d1) * 0.1
            t = 1.0
            for _ in range(60):
                xn = xi + t * step
                sn, dsn, d2sn = parts(r, xn)
                fn = gpd_nllh(y, xn, sn)
                if np.isfinite(fn) and fn <= f + 1e-4 * t * d1 * step + 1e-13 * abs(f):
                    break
                t *= 0.5
            else:
                raise NumericalError("GPD return-level profile: the line search failed")
            xi, s, ds, d2s, f = xn, sn, dsn, d2sn, fn
            if abs(t * step) <= 1e-10 * max(1.0, abs(xi)):
                cache["xi"] = xi
                return f
        raise NumericalError("GPD return-level profile: Newton iterations did not converge")

    return prof


def _gev_profile_ci(fit: GEVFit, x: np.ndarray, lp: float, value: float, se: float, level: float):
    """Profile-likelihood interval of the GEV return level z_p (Coles 2001, section 3.3.3).

    The location is eliminated through the return level: mu = z_p - sigma a(xi), a(xi) = lp E(xi lp) with
    lp = -log y_p, y_p = -log(1 - 1/T) and E(v) = expm1(v)/v (stable at xi = 0).  For each z_p the nllh is
    minimised over (log sigma, xi >= -0.99) by Newton with analytic derivatives (chain rule through mu),
    warm-started from the nearest level already profiled (keeping sigma's ratio to the smallest feasible
    scale).  Where that Newton crawls (heavy tails, far levels: the optimum hugs the lower endpoint
    b = mu - sigma/xi just below min(x)), it is retried in the coordinates (log(min(x) - b), xi); nested
    bounded one-dimensional searches are the last resort.  The endpoints solve
    2 (nllh_p(z_p) - nllh) = chi2_1(level): geometric scans from the MLE bracket them, brentq refines.  Returns (ci_low, ci_high); ci_high is +inf
    when the deviance stays below the critical value up to z_p - value = 1e12 se (the data do not bound the
    level).  Raises NumericalError when a profile point cannot be computed.
    """
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import chi2

    ls_hat = math.log(fit.scale)
    crit = 0.5 * chi2.ppf(level, 1)
    nllh_hat = fit.nllh
    tol_f = 1e-7 * max(1.0, abs(nllh_hat))
    typical = np.array([1.0, 1.0])
    max_step = np.array([1.0, 0.5])
    # xi >= -0.99: for xi < -1 the GEV likelihood is unbounded, and as xi -> -1 the profile runs into a corner
    # (endpoint at the largest maximum) where Newton crawls; the MLE itself always stays inside.
    bounds = np.array([-np.inf, min(-0.99, 0.5 * (fit.shape - 1.0))])
    solved: list[tuple[float, np.ndarray]] = [(value, np.array([np.log(fit.scale), fit.shape]))]

    def a_terms(xi):
        # a = lp E(v), a' = lp^2 E'(v), a'' = lp^3 E''(v) with v = xi lp, E(v) = expm1(v)/v (scalar maths)
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

    def fun(r, q):
        s = math.exp(min(q[0], 700.0))
        a0 = a_terms(q[1])[0]
        return gev_nllh(x, r - s * a0, s, q[1]) if np.isfinite(a0) else np.inf

    def derivs(r, q):
        s = math.exp(min(q[0], 700.0))
        a0, a1, a2 = a_terms(q[1])
        if not np.isfinite(a0):
            return np.inf, None, None
        f, g, h = _gev_derivs(x, r - s * a0, s, q[1])
        if g is None:
            return f, None, None
        jac = np.array([[-s * a0, -s * a1], [s, 0.0], [0.0, 1.0]])
        hq = jac.T @ h @ jac
        hq += g[0] * np.array([[-s * a0, -s * a1], [-s * a1, -s * a2]])
        hq[0, 0] += g[1] * s
        return f, jac.T @ g, hq

    xmin, xmax = float(x.min()), float(x.max())

    def smin_of(r, xi):
        # for fixed (r, xi) the support contains the data iff sigma > xi (r - edge) exp(-xi lp), with edge the
        # smallest maximum when xi > 0 (lower endpoint) and the largest when xi < 0 (upper endpoint)
        return xi * (r - (xmin if xi > 0 else xmax)) * math.exp(-xi * lp)

    def warm(r, r0, q):
        """Start for level r from the solution q at r0: keep sigma / sigma_min (the data's distance from the
        support endpoint, which the optimum sits close to in the tails), else sigma itself; made feasible."""
        xi = max(float(q[1]), bounds[1])
        ls = float(q[0])
        m0, m1 = smin_of(r0, xi), smin_of(r, xi)
        if m0 > 0 and m1 > 0:
            ls = ls + math.log(m1 / m0)
        elif m1 > 0 and not ls > math.log(2.0 * m1):
            ls = math.log(2.0 * m1)
        return np.array([ls, xi])

    def endpoint_newton(r, starts):
        """Newton in (beta, xi), beta = log(min(x) - b), sigma = xi (r - b) exp(-xi lp); needs xi > 0."""
        c = r - xmin

        def to_q(pb):
            d = c + math.exp(pb[0])
            return np.array([math.log(pb[1]) + math.log(d) - pb[1] * lp, pb[1]])

        def fun_b(pb):
            return fun(r, to_q(pb)) if pb[1] > 0 and pb[0] < 700 else np.inf

        def derivs_b(pb):
            if not (pb[1] > 0 and pb[0] < 700):
                return np.inf, None, None
            q = to_q(pb)
            f, g, h = derivs(r, q)
            if g is None:
                return f, None, None
            e = math.exp(pb[0])
            d = c + e
            jb, jx = e / d, 1.0 / pb[1] - lp
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
                pb, f, _ = _newton_minimize(
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

    def nested(r):
        """min over (log sigma, xi) by bounded Brent in log sigma inside a grid + bounded Brent over xi."""

        def inner(xi):
            m = smin_of(r, xi)
            lo, hi = (math.log(m) + 1e-12, math.log(m) + 40.0) if m > 0 else (ls_hat - 25.0, ls_hat + 25.0)
            res = minimize_scalar(
                lambda ls: fun(r, (ls, xi)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
            )
            return res.fun, res.x

        grid = np.linspace(bounds[1], max(5.0, 3.0 * fit.shape), 41)
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
        return np.array([ls, xi]), float(fv)

    mode = {"endpoint": False}

    def prof(r: float) -> float:
        near = sorted(solved, key=lambda item: abs(item[0] - r))[:2] + [solved[0]]
        starts = [warm(r, r0, q) for r0, q in near]
        # Newton from the warm starts; in the heavy tail the optimum can hug the lower endpoint
        # b = mu - sigma/xi < min(x), a thin curved valley in (log sigma, xi) where Newton crawls: then retry in
        # the coordinates (log(min(x) - b), xi), where that valley is straight.  Last resort: nested searches.
        if mode["endpoint"] and r > xmin:  # the previous level needed the endpoint coordinates: start there
            q, f = endpoint_newton(r, starts[:1])
            if q is not None:
                return finish(r, q, f)
        for q0 in starts:
            if not np.isfinite(fun(r, q0)):
                continue
            try:
                q, f, _ = _newton_minimize(
                    lambda q: fun(r, q),
                    lambda q: derivs(r, q),
                    q0,
                    typical,
                    max_iter=40,
                    max_step=max_step,
                    lower=bounds,
                    what="GEV return-level profile",
                )
                break
            except NumericalError:
                if r > xmin:
                    q, f = endpoint_newton(r, [q0])
                    if q is not None:
                        mode["endpoint"] = True
                        break
        else:
            q, f = nested(r)
            try:
                q, f, _ = _newton_minimize(
                    lambda q: fun(r, q),
                    lambda q: derivs(r, q),
                    q,
                    typical,
                    max_step=max_step,
                    lower=bounds,
                    what="GEV return-level profile",
                )
            except NumericalError:
                pass  # keep the nested-search optimum
        return finish(r, q, f)

    def finish(r, q, f):
        if f < nllh_hat - tol_f:
            raise NumericalError(
                f"GEV return-level profile: level {r:.6g} has a lower nllh ({f:.10g}) than the fit "
                f"({nllh_hat:.10g}); the GEV fit is not the global maximum"
            )
        solved.append((r, q))
        return f - nllh_hat - crit

    if prof(value) > -crit + tol_f:
        raise NumericalError("GEV return-level profile: the profile at the MLE lies above the minimum")
    span = max(se, 1e-6 * abs(value), 1e-12)
    xtol = 1e-10 * max(abs(value), span)
    ends = []
    for sign in (-1.0, 1.0):
        inside, outside, d = value, None, 1.0
        while d <= 1e12:
            r = value + sign * d * span
            if prof(r) > 0:
                outside = r
                break
            inside = r
            d *= 1.5 if d < 8 else 2.0
        if outside is None:
            if sign < 0:
                raise NumericalError("GEV return-level profile: the lower endpoint could not be bracketed")
            ends.append(np.inf)
        else:
            ends.append(brentq(prof, min(inside, outside), max(inside, outside), xtol=xtol))
    return float(ends[0]), float(ends[1])


def return_level(
    fit: GPDFit | GEVFit,
    period,
    *,
    data=None,
    method: str = "delta",
    level: float = 0.95,
    obs_per_block: float | None = None,
):
    """Return level for a fitted GPD (peaks over threshold) or GEV (block maxima), with a confidence interval.

    GPD: the m-observation return level, exceeded on average once every m observations, is
    x_m = u + sigma / xi * ((m zeta_u) ** xi - 1) with zeta_u = ``fit.rate`` (Coles 2001, eq. 4.13).  The
    period is in observations, or in blocks (e.g. years) when ``obs_per_block`` (evd's ``npp``) is given:
    m = period * obs_per_block.  Example: Danish fire losses, 2167 observations over 11 years, threshold 10:
    ``return_level(fit, 100, obs_per_block=2167/11)`` is the 100-year level (about 429).

    GEV: the level exceeded with probability 1/T in a block, z = mu - sigma / xi * (1 - y ** (-xi)) with
    y = -log(1 - 1/T) (Coles 2001, eq. 3.10); the period is in blocks.

    Intervals:

    - ``"delta"``: value +- z_{(1+level)/2} * se, with the delta-method variance grad' V grad.  For GPD the
      uncertainty of zeta_u (binomial, var zeta(1-zeta)/n) is included (Coles 2001, section 4.3.3).
    - ``"profile"``: the likelihood is reparameterised by the return level; the profile negative
      log-likelihood (minimised over the remaining parameters by Newton steps) is solved for
      2 (nllh_p(r) - nllh) = chi2_1(level) by brentq on each side (Coles 2001, section 2.6.6).  zeta_u is
      held fixed, as in R's evd/ismev.  Usually asymmetric and preferable for heavy tails.  ci_high is +inf
      when the profile does not reach the critical value (the data do not bound the level).  Any failure to
      converge raises NumericalError; no unconverged value is ever returned.
    - ``"both"``: a DataFrame with one row per method.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    period : float or array-like
        Return period(s), > 1 (see above for units).
    data : array-like, optional
        The data the fit used (for GPD all observations or only those above the threshold; the maxima for
        GEV); required by ``"profile"``.
    method : {"delta", "profile", "both"}
    level : float
        Confidence level in (0, 1).
    obs_per_block : float, optional
        GPD only: observations per block (year), so that ``period`` counts blocks.

    Returns
    -------
    ReturnLevel for a scalar period and a single method; otherwise a DataFrame with columns
    period, value, ci_low, ci_high, method, level.
    """
    from scipy.stats import norm

    from ..validation import check_probability

    if method not in ("delta", "profile", "both"):
        raise ValueError(f"method must be 'delta', 'profile' or 'both', got {method!r}")
    level = check_probability(level, "level")
    periods = np.atleast_1d(np.asarray(period, dtype=np.float64))
    if periods.ndim != 1 or periods.size == 0 or not np.all(np.isfinite(periods)) or np.any(periods <= 1):
        raise ValueError(f"period must be finite and > 1, got {period!r}")
    if obs_per_block is not None:
        if not isinstance(fit, GPDFit):
            raise ValueError("obs_per_block applies to GPD fits only; GEV periods are counted in blocks")
        if not (isinstance(obs_per_block, Real) and np.isfinite(obs_per_block) and obs_per_block > 0):
            raise ValueError(f"obs_per_block must be a positive number, got {obs_per_block!r}")
    methods = ["delta", "profile"] if method == "both" else [method]
    unit = fit.scale if isinstance(fit, GPDFit | GEVFit) else 1.0
    if not 2.0**-60 < unit < 2.0**60:
        # equivariance: compute on data / c with a refitted (identical up to c) model and scale back
        if data is None:
            raise ValueError(
                f"the fit's scale ({unit:.3g}) is too large or small for its covariance to be used directly; "
                "pass data= (the observations the fit used) and the levels are computed on rescaled data"
            )
        c = float(2.0 ** np.floor(np.log2(unit)))
        xd = check_sample(data, "data", min_size=2) / c
        sub = fit_gpd(xd, fit.threshold / c) if isinstance(fit, GPDFit) else fit_gev(xd)
        if isinstance(fit, GPDFit) and (sub.n_total != fit.n_total):
            from dataclasses import replace

            sub = replace(sub, n_total=fit.n_total)
        res = return_level(sub, period, data=xd, method=method, level=level, obs_per_block=obs_per_block)
        if isinstance(res, ReturnLevel):
            return ReturnLevel(res.period, res.value * c, res.ci_low * c, res.ci_high * c, res.method, res.level)
        for col in ("value", "ci_low", "ci_high"):
            res[col] = res[col] * c
        return res
    zq = norm.ppf(0.5 + level / 2.0)
    prepared = None
    if "profile" in methods:
        if data is None:
            raise ValueError("method='profile' needs data= (the observations the fit used)")
        if isinstance(fit, GPDFit):
            xall = check_sample(data, "data", min_size=2)
            y = xall[xall > fit.threshold] - fit.threshold
            # all observations, or the exceedances alone (e.g. cluster peaks of a declustered fit)
            if y.size != fit.n_exceedances or xall.size not in (fit.n_total, fit.n_exceedances):
                raise ValueError(
                    "data does not match the fit (different number of observations or exceedances)"
                )
            prepared = y
        elif isinstance(fit, GEVFit):
            prepared = check_sample(data, "data", min_size=2)
            if prepared.size != fit.n:
                raise ValueError("data does not match the fit (different number of maxima)")
        else:
            raise TypeError(f"fit must be a GPDFit or GEVFit, got {type(fit).__name__}")
    rows = []
    for T in periods:
        if isinstance(fit, GPDFit):
            lm = _gpd_rl_setup(fit, float(T), obs_per_block)
            u, s, xi, zeta = fit.threshold, fit.scale, fit.shape, fit.rate
            value = float(_gpd_rl_value(u, s, xi, lm))
            m = np.exp(lm) / zeta
            # gradient w.r.t. (zeta, sigma, xi)
            d_zeta = s * m * (m * zeta) ** (xi - 1.0)
            d_sigma = lm * float(_expm1_over(xi * lm))
            d_xi = s * lm * lm * float(_expm1_over_deriv(xi * lm))
            var = d_zeta**2 * zeta * (1 - zeta) / fit.n_total + np.array(
                [d_sigma, d_xi]
            ) @ fit.cov @ np.array([d_sigma, d_xi])
            lower_limit = u
        elif isinstance(fit, GEVFit):
            lp = _gev_rl_lp(float(T))
            value = float(fit.loc + fit.scale * lp * _expm1_over(fit.shape * lp))
            grad = np.array(
                [
                    1.0,
                    lp * float(_expm1_over(fit.shape * lp)),
                    fit.scale * lp * lp * float(_expm1_over_deriv(fit.shape * lp)),
                ]
            )
            var = grad @ fit.cov @ grad
            lower_limit = -np.inf
        else:
            raise TypeError(f"fit must be a GPDFit or GEVFit, got {type(fit).__name__}")
        se = float(np.sqrt(max(var, 0.0)))
        for meth in methods:
            if meth == "delta":
                lo, hi = value - zq * se, value + zq * se
            else:
                if isinstance(fit, GPDFit):
                    prof = _gpd_profile(fit, prepared, lm)
                    lo, hi = _profile_ci(
                        prof, value, fit.nllh, se, lower_limit, level, "return_level profile"
                    )
                else:
                    lo, hi = _gev_profile_ci(fit, prepared, lp, value, se, level)
            rows.append(ReturnLevel(float(T), value, float(lo), float(hi), meth, level))
    if np.ndim(period) == 0 and len(methods) == 1:
        return rows[0]
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows])


# ---------------------------------------------------------------------------------------------------------
# Threshold choice aids
# ---------------------------------------------------------------------------------------------------------
def mean_residual_life(x, thresholds=None, *, level: float = 0.95):
    """Mean residual life (mean excess) data: e(u) = mean(x - u | x > u) with a normal-theory interval.

    Above a threshold where the GPD holds, e(u) = (sigma_u0 + xi u) / (1 - xi) is linear in u (xi < 1); look
    for the lowest u above which the plot is linear (Coles 2001, section 4.3.1).  The interval is
    e(u) +- z * sd(excesses) / sqrt(n_u).

    Parameters
    ----------
    x : array-like, shape (n,)
    thresholds : array-like, optional
        Default: 100 points from min(x) up to the 11th largest value (so every threshold leaves >= 10).
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame with columns threshold, mean_excess, ci_low, ci_high, n_exceedances (NaN statistics where
    fewer than 2 observations exceed the threshold).
    """
    import pandas as pd
    from scipy.stats import norm

    from ..validation import check_probability

    x = check_sample(x, "x", min_size=2)
    level = check_probability(level, "level")
    xs = np.sort(x)
    if xs[0] == xs[-1]:
        raise DataError(f"x is constant (every value is {xs[0]:g})")
    if thresholds is None:
        top = xs[-11] if xs.size > 11 else xs[-2]
        thresholds = np.linspace(xs[0], top, 100)
    u = np.asarray(thresholds, dtype=np.float64).ravel()
    if u.size == 0 or not np.all(np.isfinite(u)):
        raise ValueError("thresholds must be a non-empty array of finite numbers")
    c = _unit(xs)
    if c != 1.0:  # equivariance: squares of values near 1e200 overflow, near 1e-300 underflow
        res = mean_residual_life(xs / c, u / c, level=level)
        for col in ("threshold", "mean_excess", "ci_low", "ci_high"):
            res[col] = res[col] * c
        return res
    # suffix sums of the sorted data give every mean excess in O(n log n + T log n)
    csum = np.concatenate([np.cumsum(xs[::-1])[::-1], [0.0]])
    csq = np.concatenate([np.cumsum((xs**2)[::-1])[::-1], [0.0]])
    idx = np.searchsorted(xs, u, side="right")
    k = xs.size - idx
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = csum[idx] - k * u
        s2 = csq[idx] - 2 * u * csum[idx] + k * u * u
        mean = s1 / k
        var = np.maximum(s2 - k * mean**2, 0.0) / (k - 1)
        half = norm.ppf(0.5 + level / 2) * np.sqrt(var / k)
    ok = k >= 2
    mean = np.where(ok, mean, np.nan)
    half = np.where(ok, half, np.nan)
    return pd.DataFrame(
        {
            "threshold": u,
            "mean_excess": mean,
            "ci_low": mean - half,
            "ci_high": mean + half,
            "n_exceedances": k,
        }
    )


def parameter_stability(x, thresholds, *, level: float = 0.95):
    """GPD fits over a range of thresholds: shape and modified scale with delta-method intervals.

    If the GPD holds above u0, the shape xi and the modified scale sigma* = sigma_u - xi u are constant for
    u > u0 (Coles 2001, section 4.3.4); var(sigma*) = V_ss - 2 u V_sx + u^2 V_xx from the fit's covariance.

    Returns
    -------
    DataFrame with columns threshold, shape, shape_ci_low, shape_ci_high, modified_scale,
    modified_scale_ci_low, modified_scale_ci_high, n_exceedances.  Thresholds leaving fewer than 10
    exceedances raise DataError (as in :func:`fit_gpd`).
    """
    import pandas as pd
    from scipy.stats import norm

    from ..validation import check_probability

    x = check_sample(x, "x", min_size=2)
    level = check_probability(level, "level")
    u = np.asarray(thresholds, dtype=np.float64).ravel()
    if u.size == 0 or not np.all(np.isfinite(u)):
        raise ValueError("thresholds must be a non-empty array of finite numbers")
    zq = norm.ppf(0.5 + level / 2)
    rows = []
    for ui in u:
        f = fit_gpd(x, float(ui))
        ms = f.scale - f.shape * ui
        v = f.cov[0, 0] - 2 * ui * f.cov[0, 1] + ui * ui * f.cov[1, 1]
        se_ms = float(np.sqrt(max(v, 0.0)))
        rows.append(
            {
                "threshold": float(ui),
                "shape": f.shape,
                "shape_ci_low": f.shape - zq * f.se_shape,
                "shape_ci_high": f.shape + zq * f.se_shape,
                "modified_scale": ms,
                "modified_scale_ci_low": ms - zq * se_ms,
                "modified_scale_ci_high": ms + zq * se_ms,
                "n_exceedances": f.n_exceedances,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ThresholdChoice:
    """Result of :func:`select_threshold`: the threshold, its GPD fit, the rule and the candidate table."""

    threshold: float
    fit: GPDFit
    method: str
    table: object  # pandas DataFrame: one row per candidate (threshold, quantile, shape, CI, n, stable)


def select_threshold(
    x,
    *,
    method: str = "stability",
    quantiles=None,
    min_exceedances: int = 30,
    level: float = 0.95,
) -> ThresholdChoice:
    """Automatic, deterministic threshold choice for peaks over threshold.

    Rule ``"stability"`` (a formalisation of the parameter-stability plot, Coles 2001, section 4.3.4; see
    also Scarrott & MacDonald 2012, REVSTAT 10, for a review): fit the GPD at the candidate thresholds
    u_1 < ... < u_K (empirical quantiles, default 0.80, 0.81, ..., 0.98), keeping only candidates with at
    least ``min_exceedances`` exceedances.  Choose the lowest u_k such that the shape estimate at every
    higher candidate lies inside the ``level`` confidence interval of xi at u_k (so raising the threshold
    does not change xi beyond its sampling error).  If no candidate satisfies this, the highest candidate is
    returned (the table shows why).  When the data are too few for any candidate to leave
    ``min_exceedances``, the single threshold leaving max(10, min(min_exceedances, n - 1)) exceedances is used.

    Parameters
    ----------
    x : array-like, shape (n,)
    method : {"stability"}
    quantiles : array-like, optional
        Candidate quantile levels in (0, 1).
    min_exceedances : int
        Minimum number of exceedances at a candidate (guaranteed where the data allow).
    level : float
        Confidence level of the shape intervals.

    Returns
    -------
    ThresholdChoice
    """
    import pandas as pd
    from scipy.stats import norm

    from ..validation import check_positive_int, check_probability

    if method != "stability":
        raise ValueError(f"method must be 'stability', got {method!r}")
    x = check_sample(x, "x", min_size=2)
    level = check_probability(level, "level")
    min_exceedances = check_positive_int(min_exceedances, "min_exceedances", minimum=MIN_EXCEEDANCES)
    if np.all(x == x[0]):
        raise DataError(f"x is constant (every value is {x[0]:g}); no threshold can be chosen")
    qs = (
        np.round(np.arange(0.80, 0.985, 0.01), 2)
        if quantiles is None
        else np.asarray(quantiles, float).ravel()
    )
    if qs.size == 0 or np.any(~((qs > 0) & (qs < 1))):
        raise ValueError("quantiles must lie in (0, 1)")
    qs = np.unique(qs)
    xs = np.sort(x)
    n = xs.size
    cands = []
    for q in qs:
        u = float(np.quantile(xs, q))
        k = int(n - np.searchsorted(xs, u, side="right"))
        if k >= min_exceedances:
            cands.append((float(q), u))
    if not cands:
        k = max(MIN_EXCEEDANCES, min(min_exceedances, n - 1))
        if k > n - 1 or xs[n - k - 1] >= xs[-1]:
            raise DataError(f"x has {n} values; at least {MIN_EXCEEDANCES + 1} distinct values are needed")
        u = float(xs[n - k - 1])
        f = fit_gpd(x, u)
        table = pd.DataFrame(
            [
                {
                    "quantile": 1 - k / n,
                    "threshold": u,
                    "shape": f.shape,
                    "shape_ci_low": np.nan,
                    "shape_ci_high": np.nan,
                    "n_exceedances": f.n_exceedances,
                    "stable": False,
                }
            ]
        )
        return ThresholdChoice(u, f, "fallback: fewest exceedances allowed", table)
    zq = norm.ppf(0.5 + level / 2)
    fits = [fit_gpd(x, u) for _, u in cands]
    shape = np.array([f.shape for f in fits])
    lo = shape - zq * np.array([f.se_shape for f in fits])
    hi = shape + zq * np.array([f.se_shape for f in fits])
    stable = np.array(
        [bool(np.all((shape[i + 1 :] >= lo[i]) & (shape[i + 1 :] <= hi[i]))) for i in range(len(fits))]
    )
    table = pd.DataFrame(
        {
            "quantile": [q for q, _ in cands],
            "threshold": [u for _, u in cands],
            "shape": shape,
            "shape_ci_low": lo,
            "shape_ci_high": hi,
            "n_exceedances": [f.n_exceedances for f in fits],
            "stable": stable,
        }
    )
    i = int(np.argmax(stable)) if stable.any() else len(fits) - 1
    return ThresholdChoice(cands[i][1], fits[i], "stability", table)
