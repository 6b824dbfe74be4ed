"""Threshold choice for peaks over threshold: mean residual life, parameter stability, automatic selection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DataError
from ...validation import check_sample
from .gpd import MIN_EXCEEDANCES, GPDFit, fit_gpd
from .kernels import _unit

__all__ = ["ThresholdChoice", "mean_residual_life", "parameter_stability", "select_threshold"]


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

    Examples
    --------
    Lomax data with tail index 3 have e(u) = (1 + u) / 2, linear in u:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).pareto(3.0, size=2000)
    >>> mean_residual_life(x, [0.0, 0.5, 1.0]).round(3)
       threshold  mean_excess  ci_low  ci_high  n_exceedances
    0        0.0        0.516   0.477    0.555           2000
    1        0.5        0.804   0.697    0.912            587
    2        1.0        1.164   0.946    1.383            242
    """
    import pandas as pd
    from scipy.stats import norm

    from ...validation import check_probability

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

    Parameters
    ----------
    x : array_like, shape (n,)
        Finite observations (data units).
    thresholds : array_like
        Finite thresholds u (data units), flattened; each must leave at least 10 exceedances.
    level : float, default 0.95
        Confidence level of the Wald intervals estimate +- z_{(1+level)/2} se, in (0, 1).

    Returns
    -------
    table : DataFrame
        One row per threshold, in the given order, with columns threshold, shape, shape_ci_low,
        shape_ci_high, modified_scale, modified_scale_ci_low, modified_scale_ci_high, n_exceedances.

    Raises
    ------
    ValueError
        If ``thresholds`` is empty or not all finite.
    DataError
        For a threshold leaving fewer than 10 exceedances (as in :func:`fit_gpd`).
    NumericalError
        When a fit's observed information is not positive definite (from :func:`fit_gpd`).
    """
    import pandas as pd
    from scipy.stats import norm

    from ...validation import check_probability

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

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).pareto(3.0, size=2000)
    >>> choice = select_threshold(x)
    >>> choice.method, round(choice.threshold, 3), choice.fit.n_exceedances, round(choice.fit.shape, 2)
    ('stability', 0.897, 280, 0.32)
    """
    from scipy.stats import norm

    from ...validation import check_positive_int, check_probability

    if method != "stability":
        raise ValueError(f"method must be 'stability', got {method!r}")
    x = check_sample(x, "x", min_size=2)
    level = check_probability(level, "level")
    min_exceedances = check_positive_int(min_exceedances, "min_exceedances", minimum=MIN_EXCEEDANCES)
    if np.all(x == x[0]):
        raise DataError(f"x is constant (every value is {x[0]:g}); no threshold can be chosen")
    xs = np.sort(x)
    cands = _candidates(xs, quantiles, min_exceedances)
    if not cands:
        return _fallback_choice(x, xs, min_exceedances)
    zq = norm.ppf(0.5 + level / 2)
    fits = [fit_gpd(x, u) for _, u in cands]
    shape = np.array([f.shape for f in fits])
    lo = shape - zq * np.array([f.se_shape for f in fits])
    hi = shape + zq * np.array([f.se_shape for f in fits])
    stable = np.array(
        [bool(np.all((shape[i + 1 :] >= lo[i]) & (shape[i + 1 :] <= hi[i]))) for i in range(len(fits))]
    )
    table = _table(
        [q for q, _ in cands], [u for _, u in cands], shape, lo, hi, [f.n_exceedances for f in fits], stable
    )
    i = int(np.argmax(stable)) if stable.any() else len(fits) - 1
    return ThresholdChoice(cands[i][1], fits[i], "stability", table)


def _table(quantile, threshold, shape, lo, hi, n_exceedances, stable):
    import pandas as pd

    return pd.DataFrame(
        {
            "quantile": quantile,
            "threshold": threshold,
            "shape": shape,
            "shape_ci_low": lo,
            "shape_ci_high": hi,
            "n_exceedances": n_exceedances,
            "stable": stable,
        }
    )


def _candidates(xs: np.ndarray, quantiles, min_exceedances: int) -> list[tuple[float, float]]:
    """(quantile level, threshold) of the candidates leaving at least ``min_exceedances`` exceedances."""
    qs = (
        np.round(np.arange(0.80, 0.985, 0.01), 2)
        if quantiles is None
        else np.asarray(quantiles, float).ravel()
    )
    if qs.size == 0 or np.any(~((qs > 0) & (qs < 1))):
        raise ValueError("quantiles must lie in (0, 1)")
    qs = np.unique(qs)
    n = xs.size
    cands = []
    for q in qs:
        u = float(np.quantile(xs, q))
        k = int(n - np.searchsorted(xs, u, side="right"))
        if k >= min_exceedances:
            cands.append((float(q), u))
    return cands


def _fallback_choice(x: np.ndarray, xs: np.ndarray, min_exceedances: int) -> ThresholdChoice:
    """Too few data for any candidate: the threshold leaving max(10, min(min_exceedances, n - 1))."""
    n = xs.size
    k = max(MIN_EXCEEDANCES, min(min_exceedances, n - 1))
    if k > n - 1 or xs[n - k - 1] >= xs[-1]:
        raise DataError(f"x has {n} values; at least {MIN_EXCEEDANCES + 1} distinct values are needed")
    u = float(xs[n - k - 1])
    f = fit_gpd(x, u)
    table = _table([1 - k / n], [u], [f.shape], [np.nan], [np.nan], [f.n_exceedances], [False])
    return ThresholdChoice(u, f, "fallback: fewest exceedances allowed", table)
