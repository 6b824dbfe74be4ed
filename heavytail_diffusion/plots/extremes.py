"""Figures of a GPD or GEV fit: GPD QQ, threshold choice (mean residual life, parameter stability),
return levels and the four-panel fit diagnostic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..diagnostics import evt
from ..errors import DataError, NumericalError
from ..validation import check_probability, check_sample
from ._style import DATA_COLOR, FIT_COLOR, _fmt, _new_ax, _tidy_log_axes

__all__ = [
    "fit_diagnostic_plot",
    "gpd_qq_plot",
    "mean_residual_life_plot",
    "parameter_stability_plot",
    "return_level_plot",
]


# ---------------------------------------------------------------------------------------------------------
# GPD QQ plot
# ---------------------------------------------------------------------------------------------------------
def gpd_qq_plot(x, fit: evt.GPDFit, ax: Axes | None = None, *, level: float = 0.95) -> Axes:
    """QQ plot of the exceedances of ``fit.threshold`` against the fitted generalised Pareto quantiles.

    With x_(1) <= ... <= x_(m) the m exceedances, the i-th point is (u + G^-1(p_i), x_(i)) with
    p_i = i / (m + 1) and G the fitted GPD of the excesses. Points on the 1:1 line mean a good fit; the
    band is the pointwise ``level`` range of the i-th order statistic under the fitted model
    (u + G^-1 of Beta(i, m + 1 - i) quantiles; parameter uncertainty ignored). Log-log axes when u > 0.

    Parameters
    ----------
    x : array-like, shape (n,)
        The data the GPD was fitted to (all observations; only those above the threshold are used).
    fit : GPDFit
    ax : Axes, optional
    level : float
        Level of the pointwise band.

    Returns
    -------
    Axes
    """
    from scipy import stats

    xa = check_sample(x, "x")
    level = check_probability(level, "level")
    u = fit.threshold
    exc = np.sort(xa[xa > u])
    m = exc.size
    if m < 2:
        raise DataError(f"only {m} observations exceed the threshold {u:g}; the fit does not match x")
    i = np.arange(1, m + 1)
    model = u + evt.gpd_ppf(i / (m + 1.0), fit.shape, fit.scale)
    a = (1.0 - level) / 2.0
    band_lo = u + evt.gpd_ppf(stats.beta.ppf(a, i, m + 1 - i), fit.shape, fit.scale)
    band_hi = u + evt.gpd_ppf(stats.beta.ppf(1 - a, i, m + 1 - i), fit.shape, fit.scale)
    ax = _new_ax(ax, figsize=(5.6, 5.2))
    ax.fill_between(
        model,
        band_lo,
        band_hi,
        color=FIT_COLOR,
        alpha=0.12,
        lw=0,
        label=f"{level:.0%} pointwise band under the fit",
    )
    lim = [min(model[0], exc[0]), max(model[-1], exc[-1])]
    ax.plot(lim, lim, color=FIT_COLOR, lw=1, label="1:1 line")
    ax.plot(model, exc, "o", ms=3.5, mfc="none", color=DATA_COLOR, label=f"{m} exceedances")
    logs = u > 0
    if logs:
        ax.set_xscale("log")
        ax.set_yscale("log")
    note = " (log scale)" if logs else ""
    ax.set_xlabel("fitted GPD quantile" + note)
    ax.set_ylabel("empirical quantile (exceedance)" + note)
    ax.set_title(
        f"GPD QQ plot above u = {_fmt(u)}\nξ = {fit.shape:.3g} ± {fit.se_shape:.2g}, "
        f"σ = {fit.scale:.3g} ± {fit.se_scale:.2g}"
    )
    ax.grid(True, which="major", alpha=0.3)
    _tidy_log_axes(ax)
    ax.legend(loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------------------
# threshold choice
# ---------------------------------------------------------------------------------------------------------
def mean_residual_life_plot(
    x, ax: Axes | None = None, *, thresholds=None, level: float = 0.95, threshold: float | None = None
) -> Axes:
    """Mean residual life plot: e(u) = mean(x - u | x > u) against u with a pointwise interval.

    Above a threshold where the GPD holds, e(u) is linear in u with slope xi / (1 - xi); choose the lowest
    u above which the curve is straight within its band (Coles 2001, section 4.3.1). Data from
    :func:`heavytail_diffusion.diagnostics.evt.mean_residual_life`.

    Parameters
    ----------
    x : array-like, shape (n,)
    ax : Axes, optional
    thresholds : array-like, optional
        Default: 100 points from min(x) to the 11th largest value.
    level : float
    threshold : float, optional
        A chosen threshold, marked with a vertical line.

    Returns
    -------
    Axes
    """
    df = evt.mean_residual_life(x, thresholds, level=level)
    ax = _new_ax(ax)
    ax.fill_between(
        df["threshold"],
        df["ci_low"],
        df["ci_high"],
        color=DATA_COLOR,
        alpha=0.15,
        lw=0,
        label=f"{level:.0%} CI",
    )
    ax.plot(df["threshold"], df["mean_excess"], color=DATA_COLOR, lw=1.3, label="mean excess")
    if threshold is not None:
        ax.axvline(threshold, color=FIT_COLOR, ls="--", lw=1, label=f"chosen u = {_fmt(threshold)}")
    ax.set_xlabel("threshold u")
    ax.set_ylabel("mean excess e(u) = E[X − u | X > u]")
    ax.set_title("Mean residual life (linear above a good threshold)")
    ax.grid(True, alpha=0.3)
    _tidy_log_axes(ax)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _stability_thresholds(x: np.ndarray, n_thresholds: int = 30) -> np.ndarray:
    """Empirical quantiles from the median up to the value leaving max(30, 10) exceedances."""
    xs = np.sort(x)
    n = xs.size
    top = xs[n - min(30, max(10, n // 10)) - 1]
    lo = xs[n // 2]
    if not lo < top:
        lo = xs[0]
    return np.unique(np.linspace(lo, top, n_thresholds))


def parameter_stability_plot(
    x,
    axes=None,
    *,
    thresholds=None,
    level: float = 0.95,
    threshold: float | None = None,
):
    """Parameter-stability plot: GPD shape xi and modified scale sigma* = sigma_u - xi u against u.

    Both are constant above a threshold where the GPD model holds (Coles 2001, section 4.3.4); intervals
    are the delta-method ones of :func:`heavytail_diffusion.diagnostics.evt.parameter_stability`.
    Thresholds whose fit fails are skipped.

    Parameters
    ----------
    x : array-like, shape (n,)
    axes : sequence of two Axes, optional
        (modified scale panel, shape panel); a new two-panel figure when None.
    thresholds : array-like, optional
        Default: 30 values from the median to the value leaving 30 exceedances.
    level : float
    threshold : float, optional
        A chosen threshold, marked in both panels.

    Returns
    -------
    ndarray of two Axes
    """
    xa = check_sample(x, "x", min_size=20)
    u = _stability_thresholds(xa) if thresholds is None else np.asarray(thresholds, dtype=float).ravel()
    import pandas as pd

    parts = []
    for ui in u:
        try:
            parts.append(evt.parameter_stability(xa, [ui], level=level))
        except (DataError, NumericalError):
            continue
    if not parts:
        raise DataError("the GPD fit failed at every threshold; choose other thresholds")
    df = pd.concat(parts, ignore_index=True)
    if axes is None:
        _, axes = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.4), layout="constrained")
    axes = np.asarray(axes).ravel()
    if axes.size != 2:
        raise ValueError(f"axes must hold 2 Axes, got {axes.size}")
    t = df["threshold"]
    for a, key, ylab in (
        (axes[0], "modified_scale", "modified scale σ* = σ_u − ξ u"),
        (axes[1], "shape", "shape ξ"),
    ):
        a.errorbar(
            t,
            df[key],
            yerr=[df[key] - df[f"{key}_ci_low"], df[f"{key}_ci_high"] - df[key]],
            fmt="o",
            ms=3.5,
            color=DATA_COLOR,
            ecolor="0.55",
            elinewidth=1,
            capsize=0,
            label=f"MLE with {level:.0%} CI",
        )
        if threshold is not None:
            a.axvline(threshold, color=FIT_COLOR, ls="--", lw=1, label=f"chosen u = {_fmt(threshold)}")
        a.set_ylabel(ylab)
        a.grid(True, alpha=0.3)
    axes[1].axhline(0.0, color="0.6", lw=0.8)
    axes[1].set_xlabel("threshold u")
    axes[0].set_title("Parameter stability (flat above a good threshold)")
    axes[0].legend(loc="best", fontsize="small")
    return axes


# ---------------------------------------------------------------------------------------------------------
# return levels
# ---------------------------------------------------------------------------------------------------------
def _default_periods(fit: evt.GPDFit | evt.GEVFit, opb: float) -> np.ndarray:
    """15 log-spaced periods: GPD from just above the threshold to 10x the data span, GEV from 1.1 blocks."""
    if isinstance(fit, evt.GPDFit):
        t_min = 1.0 / (fit.rate * opb)
        return np.geomspace(max(t_min * 1.3, 1.01), 10.0 * fit.n_total / opb, 15)
    return np.geomspace(1.1, 10.0 * fit.n, 15)


def _return_level_frame(fit, periods: np.ndarray, xd, method: str, level: float, obs_per_block):
    """(table of return levels, the interval method used): the delta method where the profile fails.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    periods : ndarray
        Return periods (> 1).
    xd : ndarray or None
        The data (needed for the profile interval).
    method : {"profile", "delta"}
    level : float
        Confidence level.
    obs_per_block : float or None
        GPD periods in blocks of this many observations.

    Returns
    -------
    (DataFrame with columns period, value, ci_low, ci_high, ...; str)
    """
    try:
        df = evt.return_level(fit, periods, data=xd, method=method, level=level, obs_per_block=obs_per_block)
        used = method
    except NumericalError:
        df = evt.return_level(fit, periods, method="delta", level=level, obs_per_block=obs_per_block)
        used = "delta (profile did not converge)"
    if not hasattr(df, "columns"):  # a single period gives a ReturnLevel
        import pandas as pd

        df = pd.DataFrame([df.to_dict()])
    return df, used


def _empirical_return_points(fit, xd: np.ndarray, opb: float) -> tuple[np.ndarray, np.ndarray]:
    """(periods, values) of the data: GPD exceedances at (n + 1) / rank, GEV maxima at 1 / (1 - i / (m + 1))."""
    if isinstance(fit, evt.GPDFit):
        exc = np.sort(xd[xd > fit.threshold])[::-1]
        rank = np.arange(1, exc.size + 1)
        return (xd.size + 1.0) / rank / opb, exc
    mx = np.sort(xd)
    return 1.0 / (1.0 - np.arange(1, mx.size + 1) / (mx.size + 1.0)), mx


def return_level_plot(
    fit: evt.GPDFit | evt.GEVFit,
    ax: Axes | None = None,
    periods=None,
    data=None,
    *,
    obs_per_block: float | None = None,
    method: str = "profile",
    level: float = 0.95,
    logy: bool | None = None,
) -> Axes:
    """Return level against return period (log axis), with a confidence band and the empirical points.

    GPD: the level exceeded on average once every ``period`` observations (or blocks of ``obs_per_block``
    observations), plotted from just above the threshold to 10 times the data span; the empirical point
    of the i-th largest observation is at period (n + 1) / i. GEV: the level exceeded with probability
    1/period per block; the i-th smallest of m maxima is at period 1 / (1 - i / (m + 1)). The band is the
    profile-likelihood interval (``method="profile"``, needs ``data``; an upper end that the likelihood
    does not bound is drawn to the top of the axes) or the delta-method one (``"delta"``). If the profile
    fails to converge, the delta method is used and the legend says so. See
    :func:`heavytail_diffusion.diagnostics.evt.return_level`.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    ax : Axes, optional
    periods : array-like, optional
        Periods (> 1) of the curve (default: 15 log-spaced).
    data : array-like, optional
        GPD: all observations the fit used; GEV: the maxima. Needed for the profile band and the points.
    obs_per_block : float, optional
        GPD only: periods are counted in blocks of this many observations.
    method : {"profile", "delta"}
    level : float
    logy : bool, optional
        Log return-level axis (default: when every level and data point is positive).

    Returns
    -------
    Axes
    """
    if method not in ("profile", "delta"):
        raise ValueError(f"method must be 'profile' or 'delta', got {method!r}")
    is_gpd = isinstance(fit, evt.GPDFit)
    if not is_gpd and not isinstance(fit, evt.GEVFit):
        raise TypeError(f"fit must be a GPDFit or GEVFit, got {type(fit).__name__}")
    opb = 1.0 if obs_per_block is None else float(obs_per_block)
    xd = None if data is None else check_sample(data, "data")
    periods = _default_periods(fit, opb) if periods is None else periods
    periods = np.asarray(periods, dtype=float).ravel()
    if method == "profile" and xd is None:
        method = "delta"
    df, used = _return_level_frame(fit, periods, xd, method, level, obs_per_block)
    pts_t, pts_v = (None, None) if xd is None else _empirical_return_points(fit, xd, opb)
    if logy is None:
        logy = bool(np.all(df["value"] > 0) and (pts_v is None or np.all(pts_v > 0)))
    ax = _new_ax(ax)
    lo = df["ci_low"].to_numpy(dtype=float)
    hi = df["ci_high"].to_numpy(dtype=float)
    if logy:
        lo = np.where(lo > 0, lo, np.nan)
    top = max(np.nanmax(df["value"]), np.nanmax(pts_v) if pts_v is not None else -np.inf)
    finite_hi = hi[np.isfinite(hi)]
    ymax = max(top, finite_hi.max() if finite_hi.size else top) * (1.5 if logy else 1.1)
    hi = np.where(np.isfinite(hi), hi, ymax)
    what = "profile-likelihood" if used == "profile" else used
    ax.fill_between(df["period"], lo, hi, color=FIT_COLOR, alpha=0.15, lw=0, label=f"{level:.0%} CI, {what}")
    model = "GPD" if is_gpd else "GEV"
    ax.plot(
        df["period"],
        df["value"],
        color=FIT_COLOR,
        lw=1.6,
        label=f"{model} return level (ξ = {fit.shape:.3g})",
    )
    if pts_v is not None:
        ax.plot(
            pts_t,
            pts_v,
            "o",
            ms=3.5,
            mfc="none",
            color=DATA_COLOR,
            label="empirical" + (" (exceedances)" if is_gpd else " (block maxima)"),
        )
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_ylim(top=ymax)
    if is_gpd:
        unit = "observations" if obs_per_block is None else f"blocks of {opb:g} observations"
        title = f"Return levels, GPD above u = {_fmt(fit.threshold)}"
    else:
        unit = "blocks"
        title = f"Return levels, GEV fit to {fit.n} block maxima"
    ax.set_xlabel(f"return period ({unit}, log scale)")
    ax.set_ylabel("return level" + (" (log scale)" if logy else ""))
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    _tidy_log_axes(ax)
    ax.legend(loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------------------
# the standard four-panel fit diagnostic (Coles 2001, figures 3.5 and 4.5)
# ---------------------------------------------------------------------------------------------------------
def fit_diagnostic_plot(
    fit: evt.GPDFit | evt.GEVFit,
    data,
    *,
    obs_per_block: float | None = None,
    level: float = 0.95,
    axes=None,
):
    """Probability, quantile, return-level and density plots of a GPD or GEV fit, as one 2 x 2 figure.

    Probability plot: the empirical probabilities i / (m + 1) of the sorted excesses (GPD) or maxima (GEV)
    against the fitted distribution function at them; quantile plot: the sorted values against the fitted
    quantiles at i / (m + 1); both along the 1:1 line for a good fit.  Return-level plot:
    :func:`return_level_plot` (profile-likelihood band).  Density: histogram of the values with the fitted
    density.  As R's ``ismev::gev.diag`` / ``gpd.diag`` and ``plot.fevd``.

    Parameters
    ----------
    fit : GPDFit or GEVFit
    data : array-like
        GPD: all observations (or only those above the threshold); GEV: the maxima.
    obs_per_block : float, optional
        GPD return periods in blocks (e.g. observations per year).
    level : float
        Level of the return-level band.
    axes : array of 4 Axes, optional

    Returns
    -------
    ndarray of 4 Axes
    """
    from scipy.stats import genextreme

    x = check_sample(data, "data")
    is_gpd = isinstance(fit, evt.GPDFit)
    if not is_gpd and not isinstance(fit, evt.GEVFit):
        raise TypeError(f"fit must be a GPDFit or GEVFit, got {type(fit).__name__}")
    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(9.6, 8.0))
    axs = np.asarray(axes).ravel()
    if axs.size != 4:
        raise ValueError(f"axes must hold 4 Axes, got {axs.size}")
    if is_gpd:
        v = np.sort(x[x > fit.threshold] - fit.threshold)
        cdf = evt.gpd_cdf(v, fit.shape, fit.scale)
        p = np.arange(1, v.size + 1) / (v.size + 1.0)
        model_q = evt.gpd_ppf(p, fit.shape, fit.scale)
        grid = np.linspace(0.0, v.max(), 200)
        dens = np.exp(evt.gpd_logpdf(grid, fit.shape, fit.scale))
        what, shift = f"excess over {_fmt(fit.threshold)}", fit.threshold
    else:
        v = np.sort(x)
        dist = genextreme(-fit.shape, loc=fit.loc, scale=fit.scale)
        cdf = dist.cdf(v)
        p = np.arange(1, v.size + 1) / (v.size + 1.0)
        model_q = dist.ppf(p)
        lo, hi = v.min(), v.max()
        grid = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 200)
        dens = dist.pdf(grid)
        what, shift = "block maximum", 0.0
    ax = axs[0]
    ax.plot(p, cdf, "o", ms=3, color=DATA_COLOR)
    ax.plot([0, 1], [0, 1], color=FIT_COLOR)
    ax.set(xlabel="empirical probability", ylabel="model probability", title="Probability plot")
    ax = axs[1]
    ax.plot(model_q + shift, v + shift, "o", ms=3, color=DATA_COLOR)
    lim = [min(model_q.min(), v.min()) + shift, max(model_q.max(), v.max()) + shift]
    ax.plot(lim, lim, color=FIT_COLOR)
    ax.set(xlabel="model quantile", ylabel="empirical quantile", title="Quantile plot")
    return_level_plot(fit, axs[2], data=x, obs_per_block=obs_per_block if is_gpd else None, level=level)
    axs[2].set_title("Return level plot")
    ax = axs[3]
    ax.hist(v + shift, bins=min(30, max(5, int(np.sqrt(v.size)))), density=True, color="#cccccc",
            edgecolor="white")
    ax.plot(grid + shift, dens, color=FIT_COLOR)
    ax.set(xlabel=what if not is_gpd else "value", ylabel="density", title="Density plot")
    name = "GPD" if is_gpd else "GEV"
    axs[0].figure.suptitle(f"{name} fit: xi = {fit.shape:.3g}, scale = {_fmt(fit.scale)}")
    axs[0].figure.tight_layout()
    return axs
