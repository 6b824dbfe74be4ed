"""The one optimiser of the EVT fits: bounded Newton with line search, its covariance, the profile interval.

Every maximum-likelihood fit of :mod:`heavytail_diffusion.diagnostics.evt` (GPD, GEV, their return-level
profiles, the non-stationary GEV) minimises its negative log-likelihood with :func:`newton_minimize`, turns
the Hessian at the optimum into a covariance with :func:`cov_from_hessian`, and finds profile-likelihood
confidence intervals with :func:`profile_interval`.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import NumericalError

__all__ = ["cov_from_hessian", "newton_minimize", "profile_interval"]


def newton_minimize(
    fun,
    derivs,
    p0,
    typical,
    *,
    max_iter: int = 100,
    max_step=None,
    lower=None,
    tol: float = 1e-10,
    xtol: float = 0.0,
    what: str = "fit",
):
    """Minimise ``fun`` by Newton steps with Levenberg damping, Armijo backtracking and lower bounds.

    Lower bounds are handled by an active set: a coordinate at its bound whose gradient points outwards is
    held there and Newton runs on the others (a projected Newton method).  Where the Hessian is not positive
    definite it is damped (Levenberg), and a steepest-descent step is the last resort before giving up.

    Parameters
    ----------
    fun : callable
        ``fun(p)`` returns the objective alone (+inf outside the parameter space), for the line search.
    derivs : callable
        ``derivs(p)`` returns (f, gradient, Hessian) at an accepted point.
    p0 : array-like, shape (d,)
        Start, inside the parameter space.
    typical : array-like, shape (d,)
        The parameters' natural scales: the damping is applied to the Hessian scaled by them.
    max_iter : int, default 100
        Newton iterations before NumericalError.
    max_step : array-like, shape (d,), optional
        Cap on |step_j| / typical_j.
    lower : array-like, shape (d,), optional
        Lower bounds (-inf where none).
    tol : float, default 1e-10
        Convergence: a full, undamped Newton step whose decrement g' H^-1 g is below ``tol * max(1, |f|)``
        (the next decrement is then about its square: with the default the optimum is exact to rounding).
        A start whose decrement is below ``1e-12 * tol * max(1, |f|)`` is returned as it is.
    xtol : float, default 0
        Also converged after a full, undamped Newton step no longer than ``xtol`` in units of ``typical``
        (the point after that step is returned; use with ``tol=0`` for a criterion on the step alone).
    what : str
        Name of the fit in error messages.

    Returns
    -------
    p : ndarray, shape (d,)
        The minimiser.
    f : float
        ``fun(p)``.
    hessian : ndarray, shape (d, d)
        The Hessian at ``p``.

    Raises
    ------
    NumericalError
        A start outside the parameter space, non-finite derivatives, a failed line search, or no
        convergence in ``max_iter`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> def derivs(p):
    ...     return float((p[0] - 2.0) ** 2), np.array([2.0 * (p[0] - 2.0)]), np.array([[2.0]])
    >>> p, f, h = newton_minimize(lambda p: derivs(p)[0], derivs, [0.0], [1.0])
    >>> round(float(p[0]), 12), f
    (2.0, 0.0)
    """
    p = np.asarray(p0, dtype=np.float64).copy()
    typical = np.asarray(typical, dtype=np.float64)
    lower = np.full(p.size, -np.inf) if lower is None else np.asarray(lower, dtype=np.float64)
    p = np.maximum(p, lower)
    scale2 = np.outer(typical, typical)
    f, g, hess = derivs(p)
    if not np.isfinite(f):
        raise NumericalError(f"{what}: the starting point lies outside the parameter space")
    for _ in range(max_iter):
        if not (np.isfinite(g).all() and np.isfinite(hess).all()):
            raise NumericalError(
                f"{what}: non-finite derivatives (an observation sits on the support boundary)"
            )
        gs = g * typical
        hs = hess * scale2
        free = ~((p <= lower) & (g > 0))
        if not free.any():
            return p, f, hess  # a corner of the box satisfies the optimality conditions
        step_s, damped = _newton_step(hs, gs, free)
        dec = -float(gs @ step_s)  # Newton decrement (f units); > 0 for a descent direction
        if not damped and dec <= 1e-12 * tol * max(1.0, abs(f)):
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
        small = xtol > 0 and full and bool((np.abs(found - p) <= xtol * typical).all())
        p = found
        f, g, hess = derivs(p)
        if full and not damped and (dec <= tol * max(1.0, abs(f)) or small):
            return p, f, hess
    raise NumericalError(f"{what}: Newton iterations did not converge in {max_iter} steps")


def _newton_step(hs: np.ndarray, gs: np.ndarray, free: np.ndarray):
    """Scaled Newton step on the free coordinates, Levenberg-damped where the Hessian is not positive."""
    if gs.size == 1:  # one free parameter: the same steps in scalar arithmetic (numpy's overhead dominates)
        h = float(hs[0, 0])
        damped = not h > 1e-10 * max(h, 1e-300)
        lam = abs(h) + 1e-3 * abs(h) + 1e-8 if damped else 0.0
        return np.array([-float(gs[0]) / (h + lam)]), damped
    step_s = np.zeros(gs.size)
    hf = hs if free.all() else hs[np.ix_(free, free)]
    evals = np.linalg.eigvalsh(hf)
    damped = not evals[0] > 1e-10 * max(evals[-1], 1e-300)
    lam = abs(evals[0]) + 1e-3 * abs(evals[-1]) + 1e-8 if damped else 0.0
    step_s[free] = -np.linalg.solve(hf + lam * np.eye(hf.shape[0]), gs[free])
    return step_s, damped


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
    if down.any():
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
        if math.isfinite(fc) and fc <= f + 1e-4 * t * slope + (slack * abs(f) if t == 1.0 else 0.0):
            return cand, t == 1.0 and scale == 1.0
        t *= 0.5
    return None, False


def cov_from_hessian(hess: np.ndarray, what: str) -> np.ndarray:
    """Covariance of the MLE: the inverse of the observed information (the nllh's Hessian), via Cholesky.

    Parameters
    ----------
    hess : ndarray, shape (d, d)
        Hessian of the negative log-likelihood at the optimum.
    what : str
        Name of the fit in the error message.

    Returns
    -------
    ndarray, shape (d, d)

    Raises
    ------
    NumericalError
        When the Hessian is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> cov_from_hessian(np.array([[4.0, 0.0], [0.0, 1.0]]), "fit")
    array([[0.25, 0.  ],
           [0.  , 1.  ]])
    """
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        raise NumericalError(
            f"{what}: the observed information is not positive definite at the optimum; standard errors are "
            "undefined (the shape estimate may be near its boundary)"
        ) from None
    inv = np.linalg.inv(chol)
    return inv.T @ inv


def profile_interval(
    profile_nllh,
    nllh_hat: float,
    value: float,
    span: float,
    level: float,
    *,
    lower_limit: float = -np.inf,
    what: str = "profile interval",
):
    """Profile-likelihood interval: the two r with 2 (profile_nllh(r) - nllh_hat) = chi2_1(level).

    Geometric scans from the MLE bracket each endpoint (offsets span * 1, 1.5, 2.25, ... up to 8, then
    doubling, to 1e12 span); brentq refines it to 1e-10 max(|value|, span).  Below a finite ``lower_limit``
    (a GPD level cannot lie below its threshold) the lower scan halves its distance to the limit instead.

    Parameters
    ----------
    profile_nllh : callable
        r -> the negative log-likelihood minimised over the other parameters with the quantity fixed at r
        (+inf where r is impossible).
    nllh_hat : float
        The nllh at the MLE.
    value : float
        The MLE of the quantity.
    span : float
        Its natural scale (a standard error); the first probes lie one span from ``value``.
    level : float
        Confidence level in (0, 1).
    lower_limit : float, default -inf
        Lowest possible value; returned as the lower bound when the likelihood does not reach the critical
        value above it.
    what : str
        Name of the quantity in error messages.

    Returns
    -------
    (ci_low, ci_high) : tuple of float
        ci_high is +inf when the deviance stays below the critical value up to value + 1e12 span (the data
        do not bound the quantity).

    Raises
    ------
    NumericalError
        When the profile at ``value`` lies more than 1e-7 max(1, |nllh_hat|) above ``nllh_hat`` (the fit did
        not converge), or the lower endpoint cannot be bracketed and ``lower_limit`` is -inf.

    Examples
    --------
    A normal mean with unit standard error: the interval is value +- 1.96.

    >>> lo, hi = profile_interval(lambda r: 0.5 * r * r, 0.0, 0.0, 1.0, 0.95)
    >>> round(lo, 6), round(hi, 6)
    (-1.959964, 1.959964)
    """
    from scipy.optimize import brentq
    from scipy.stats import chi2

    crit = 0.5 * chi2.ppf(level, 1)

    def excess(r):
        return profile_nllh(r) - nllh_hat - crit

    if excess(value) > -crit + 1e-7 * max(1.0, abs(nllh_hat)):
        raise NumericalError(
            f"{what}: the profile at the MLE lies above the minimum; the fit did not converge"
        )
    xtol = 1e-10 * max(abs(value), span)
    ends = []
    for sign in (-1.0, 1.0):
        inside, outside, d = value, None, 1.0
        while d <= 1e12:
            r = value + sign * d * span
            if sign < 0 and r <= lower_limit:
                r = lower_limit + 0.5 * (inside - lower_limit)
            if excess(r) > 0:
                outside = r
                break
            inside = r
            if sign < 0 and inside - lower_limit <= 1e-9 * max(1.0, abs(value)):
                break
            d *= 1.5 if d < 8 else 2.0
        if outside is not None:
            ends.append(brentq(excess, min(inside, outside), max(inside, outside), xtol=xtol))
        elif sign > 0:
            ends.append(np.inf)
        elif np.isfinite(lower_limit):
            ends.append(lower_limit)
        else:
            raise NumericalError(f"{what}: the lower endpoint could not be bracketed")
    return float(ends[0]), float(ends[1])


# names used before the split (diagnostics.nonstationary imports them from evt)
_newton_minimize = newton_minimize
_cov_from_hessian = cov_from_hessian


def _profile_ci(prof, value: float, nllh_hat: float, se: float, lower_limit: float, level: float, what: str):
    """The pre-split signature of :func:`profile_interval` (``prof`` returns the profile nllh)."""
    span = max(se, 1e-6 * abs(value), 1e-12)
    return profile_interval(prof, nllh_hat, value, span, level, lower_limit=lower_limit, what=what)
