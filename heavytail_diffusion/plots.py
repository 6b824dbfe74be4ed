"""Extreme-value figures: Hill, GPD and two-sample QQ, log-log survival, threshold aids, return levels, chi(u).

Every function draws on ``ax`` (or ``axes`` for two-panel figures) when given, creates a new figure
otherwise, and returns the axes (``pair_plot`` returns the figure). Data are drawn in black and generated
samples in colours. The tail is on log axes wherever the data allow it (positive values); otherwise a
symmetric-log axis is used and the axis label says so. Nothing is shown: call ``plt.show()`` or
``fig.savefig`` yourself. The shape xi > 0 is a heavy tail, as everywhere in the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .diagnostics import dependence, evt, tail_index
from .errors import DataError, NumericalError
from .validation import as_generator, check_array, check_probability, check_sample

__all__ = [
    "chi_plot",
    "fit_diagnostic_plot",
    "gpd_qq_plot",
    "hill_fraction_plot",
    "hill_plot",
    "mean_residual_life_plot",
    "model_scatter_grid",
    "pair_plot",
    "parameter_stability_plot",
    "qq_plot",
    "return_level_plot",
    "scorecard_plot",
    "survival_plot",
    "tail_panels",
]

DATA_COLOR = "black"
FIT_COLOR = "#d62728"
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
_TAIL_SCALE = {"upper": "x", "lower": "-x", "both": "|x|"}


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------
def _new_ax(ax: Axes | None, figsize=(6.4, 4.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _color(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


def _samples(samples, name: str = "samples") -> dict:
    """None -> {}, an array -> {"generated": array}, a mapping -> itself (names as strings)."""
    if samples is None:
        return {}
    if isinstance(samples, Mapping):
        return {str(k): v for k, v in samples.items()}
    return {"generated": samples}


def _oriented(x, tail: str, name: str = "x") -> np.ndarray:
    """Validate a sample (finite, 1-D, at least 2 values) and :func:`~.diagnostics.tail_index.orient` it."""
    if tail not in _TAIL_SCALE:
        raise ValueError(f"tail must be 'upper', 'lower' or 'both', got {tail!r}")
    return tail_index.orient(check_sample(x, name, min_size=2), tail)


def _ccdf(y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and the empirical survival P(X >= x) (never 0, so it fits a log axis), thinned.

    The largest 500 points are all kept (the tail); the body is thinned on a log-spaced grid of ranks.
    """
    ys = np.sort(y)
    n = ys.size
    surv = (n - np.arange(n)) / n
    if n > max_points:
        keep_top = min(500, max_points // 2)
        body = np.unique(np.geomspace(keep_top + 1, n, max_points - keep_top).astype(int))
        ranks = np.union1d(np.arange(1, keep_top + 1), body)  # rank 1 = largest
        idx = n - ranks
        idx = np.sort(idx)
        ys, surv = ys[idx], surv[idx]
    return ys, surv


def _symlog_threshold(values: np.ndarray) -> float:
    """A symlog linear-range half-width: the median of the non-zero |values| (body linear, tails logarithmic)."""
    a = np.abs(values[np.isfinite(values)])
    a = a[a > 0]
    return float(np.median(a)) if a.size else 1.0


def _tidy_log_axes(ax: Axes) -> None:
    """Readable ticks on log axes spanning less than two decades: 1-2-5 labels in plain numbers, no minor labels.

    (matplotlib otherwise labels every minor tick as 2x10^-2, 3x10^-2, ..., which overlap.)
    """
    from matplotlib import ticker

    for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log" or min(lim) <= 0 or np.log10(max(lim) / min(lim)) >= 2:
            continue
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        axis.set_minor_formatter(ticker.NullFormatter())


def _fmt(v: float) -> str:
    return f"{v:.3g}"


# ---------------------------------------------------------------------------------------------------------
# tail index
# ---------------------------------------------------------------------------------------------------------
def hill_plot(
    x,
    tail: str = "upper",
    k_range: tuple[int, int] | None = None,
    ci: bool = True,
    ax: Axes | None = None,
    label: str | None = None,
    k_selected: int | tail_index.Estimate | None = None,
    *,
    level: float = 0.95,
    log_k: bool = True,
    color: str = DATA_COLOR,
) -> Axes:
    """Hill plot: the Hill estimate of xi against the number k of upper order statistics.

    A plateau of xi over a range of k is the evidence for a Pareto-type tail with xi > 0; the band is the
    pointwise asymptotic interval xi (1 -+ z / sqrt(k)) (see :meth:`HillCurve.ci`), which ignores the bias
    at large k. The k axis is logarithmic by default (the informative small-k region is visible).

    Parameters
    ----------
    x : array-like, shape (n,)
    tail : {"upper", "lower", "both"}
        Upper tail of x, -x or |x|.
    k_range : (k_min, k_max), optional
        Range of k shown (default 5 .. n - 1, limited to where X_(k+1) > 0).
    ci : bool
        Draw the confidence band.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend label of the curve (several curves can share one axes).
    k_selected : int or Estimate, optional
        The chosen k (e.g. ``hill(x).k`` or the Estimate itself), marked with a dashed line and its
        xi; an Estimate's own interval (e.g. bootstrap) is drawn as an error bar.
    level : float
        Confidence level of the band.
    log_k : bool
        Logarithmic k axis.
    color : str
        Colour of the curve.

    Returns
    -------
    Axes
    """
    level = check_probability(level, "level")
    curve = tail_index.hill_curve(x, tail=tail)
    k, xi = curve.k, curve.xi
    lo_b, hi_b = curve.ci(level)
    k_lo, k_hi = (min(5, int(k[-1])), int(k[-1])) if k_range is None else (int(k_range[0]), int(k_range[1]))
    if not 1 <= k_lo < k_hi:
        raise ValueError(f"k_range must satisfy 1 <= k_min < k_max, got {k_range!r}")
    sel = (k >= k_lo) & (k <= k_hi)
    if sel.sum() < 2:
        raise ValueError(
            f"k_range {k_range!r} leaves fewer than 2 points of the Hill curve (k up to {k[-1]})"
        )
    ax = _new_ax(ax)
    ax.plot(k[sel], xi[sel], color=color, lw=1.3, label=label or "Hill estimate")
    if ci:
        ax.fill_between(
            k[sel],
            lo_b[sel],
            hi_b[sel],
            color=color,
            alpha=0.15,
            lw=0,
            label=f"{level:.0%} asymptotic CI" if label is None else None,
        )
    if k_selected is not None:
        est = k_selected if isinstance(k_selected, tail_index.Estimate) else None
        ks = int(est.k if est is not None else k_selected)
        if not 1 <= ks <= k[-1]:
            raise ValueError(f"k_selected={ks} is outside the Hill curve (1 .. {k[-1]})")
        xs = float(est.value if est is not None else xi[ks - 1])
        text = f"k = {ks}: ξ = {xs:.3g}"
        if est is not None and np.isfinite(est.ci_low):
            text += f" [{est.ci_low:.3g}, {est.ci_high:.3g}]"
            ax.errorbar(
                [ks],
                [xs],
                yerr=[[xs - est.ci_low], [est.ci_high - xs]],
                fmt="none",
                ecolor=FIT_COLOR,
                capsize=4,
            )
        ax.axvline(ks, color=FIT_COLOR, ls="--", lw=1)
        ax.plot([ks], [xs], "o", color=FIT_COLOR, label=text)
    # robust y-limits: the curve at very small k is noise and would squash the plateau
    # and at k close to n it describes the body, not the tail: limits come from 10 <= k <= n / 2
    core = sel & (k >= 10) & (k <= max(curve.n // 2, 10))
    ref = xi[core] if np.count_nonzero(core) > 5 else xi[sel]
    lo_q, hi_q = np.quantile(ref, [0.02, 0.98])
    span = max(hi_q - lo_q, 0.1)
    ax.set_ylim(min(0.0, lo_q - 0.15 * span), hi_q + 0.6 * span)
    if log_k:
        ax.set_xscale("log")
    ax.set_xlim(k[sel][0], k[sel][-1])
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("k, number of upper order statistics used" + (" (log scale)" if log_k else ""))
    ax.set_ylabel("ξ (Hill estimate of 1/α)")
    scale = _TAIL_SCALE[tail]
    ax.set_title(f"Hill plot, upper tail of {scale} (n = {curve.n})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------------------
# QQ plots
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


def _qq_probs(n_min: int) -> np.ndarray:
    """Probability grid: the body on a linear grid, both tails out to 1/n and 1 - 1/n on log grids."""
    body = np.linspace(0.01, 0.99, 50)
    t = np.geomspace(0.01, 1.0 / n_min, 30) if n_min > 100 else np.array([])
    return np.unique(np.concatenate([t, body, 1.0 - t]))


def qq_plot(real, generated, ax: Axes | None = None, log: bool = True, *, probs=None) -> Axes:
    """Two-sample QQ plot: quantiles of each generated sample against those of the real one.

    The probabilities cover the body (0.01 ... 0.99) and both tails out to 1/n and 1 - 1/n (log-spaced), so the
    extremes are not a handful of points. Axes: log-log when ``log`` and every value is positive; otherwise
    (``log=True``) a symmetric-log scale, linear within +-t where t is the median of |real| (the axis
    labels say so); ``log=False`` gives linear axes.

    Parameters
    ----------
    real : array-like, shape (n,)
    generated : array-like or dict name -> array-like
        One or several samples (legend entries are the names).
    ax : Axes, optional
    log : bool
    probs : array-like, optional
        Probabilities at which quantiles are compared.

    Returns
    -------
    Axes
    """
    r = check_sample(real, "real")
    gens = {k: check_sample(v, f"generated[{k!r}]") for k, v in _samples(generated).items()}
    if not gens:
        raise ValueError("generated must be an array or a non-empty dict of arrays")
    n_min = min([r.size] + [g.size for g in gens.values()])
    p = _qq_probs(n_min) if probs is None else np.asarray(probs, dtype=float).ravel()
    if p.size == 0 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("probs must lie in [0, 1]")
    qr = np.quantile(r, p)
    ax = _new_ax(ax, figsize=(5.6, 5.2))
    allv = np.concatenate([r] + list(gens.values()))
    qs = {}
    for i, (name, g) in enumerate(gens.items()):
        qs[name] = np.quantile(g, p)
        ax.plot(qr, qs[name], "o", ms=3.5, color=_color(i), alpha=0.85, label=name)
    lim = [min(qr.min(), min(q.min() for q in qs.values())), max(qr.max(), max(q.max() for q in qs.values()))]
    ax.plot(lim, lim, color=DATA_COLOR, lw=1, label="1:1 line")
    if log and np.all(allv > 0):
        ax.set_xscale("log")
        ax.set_yscale("log")
        note = " (log scale)"
    elif log:
        t = _symlog_threshold(r)
        ax.set_xscale("symlog", linthresh=t)
        ax.set_yscale("symlog", linthresh=t)
        note = f" (symlog scale, linear within ±{t:.2g})"
    else:
        note = ""
    ax.set_xlabel("real-data quantile" + note)
    ax.set_ylabel("generated quantile" + note)
    ax.set_title(f"Two-sample QQ plot ({p.size} quantiles, up to p = {p.max():.4g})")
    ax.grid(True, which="major", alpha=0.3)
    _tidy_log_axes(ax)
    ax.legend(loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------------------
# survival
# ---------------------------------------------------------------------------------------------------------
def survival_plot(
    data,
    samples=None,
    ax: Axes | None = None,
    tail: str = "upper",
    *,
    fit: evt.GPDFit | None = None,
    label: str = "data",
    xlabel: str | None = None,
    max_points: int = 2000,
) -> Axes:
    """Log-log empirical survival function P(X >= x) of the data (black) and of generated samples.

    A straight line of slope -1/xi on these axes is a Pareto tail. Only positive values of the analysed
    variable (x, -x or |x|) fit on a log axis; the survival is still computed from the whole sample (the
    curve starts at P(X >= smallest positive value)). Large samples are thinned for drawing (every one of
    the 500 largest values is kept).

    Parameters
    ----------
    data : array-like, shape (n,)
    samples : array-like or dict name -> array-like, optional
    ax : Axes, optional
    tail : {"upper", "lower", "both"}
        Upper tail of x, -x or |x|.
    fit : GPDFit, optional
        A GPD fitted to the (oriented) data: its tail P(X > x) = rate * S_GPD(x - u) is drawn for x >= u.
    label : str
        Legend label of the data.
    xlabel : str, optional
    max_points : int
        Most points drawn per curve.

    Returns
    -------
    Axes
    """
    ax = _new_ax(ax)
    y = _oriented(data, tail, "data")
    curves = [(label, y, DATA_COLOR)] + [
        (name, _oriented(s, tail, f"samples[{name!r}]"), _color(i))
        for i, (name, s) in enumerate(_samples(samples).items())
    ]
    ymin = 1.0
    for name, v, col in curves:
        xs, sv = _ccdf(v, max_points)
        pos = xs > 0
        if not pos.any():
            raise DataError(f"{name}: no positive values in the {tail} tail; nothing to draw on a log axis")
        kw = {"ms": 2.5, "lw": 0.8} if col == DATA_COLOR else {"lw": 1.5}
        ax.plot(
            xs[pos],
            sv[pos],
            "o-" if col == DATA_COLOR else "-",
            color=col,
            label=f"{name} (n = {v.size})",
            **kw,
        )
        ymin = min(ymin, sv[pos].min())
    if fit is not None:
        t = np.geomspace(max(fit.threshold, np.min(y[y > 0])), y.max() * 3.0, 200)
        t = t[t >= fit.threshold]
        ax.plot(
            t,
            fit.rate * evt.gpd_sf(t - fit.threshold, fit.shape, fit.scale),
            "--",
            color=FIT_COLOR,
            lw=1.6,
            label=f"GPD above u = {_fmt(fit.threshold)} (ξ = {fit.shape:.3g})",
        )
        ax.axvline(fit.threshold, color=FIT_COLOR, lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(ymin / 2.0, 1.3)
    scale = _TAIL_SCALE[tail]
    ax.set_xlabel(xlabel or (f"{scale} (log scale)"))
    ax.set_ylabel(f"P({scale.replace('x', 'X')} ≥ {scale}) (log scale)")
    ax.set_title(f"Empirical survival function, upper tail of {scale}")
    ax.grid(True, which="major", alpha=0.3)
    _tidy_log_axes(ax)
    ax.legend(loc="lower left", fontsize="small")
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
    if periods is None:
        if is_gpd:
            t_min = 1.0 / (fit.rate * opb)
            periods = np.geomspace(max(t_min * 1.3, 1.01), 10.0 * fit.n_total / opb, 15)
        else:
            periods = np.geomspace(1.1, 10.0 * fit.n, 15)
    periods = np.asarray(periods, dtype=float).ravel()
    if method == "profile" and xd is None:
        method = "delta"
    used = method
    try:
        df = evt.return_level(fit, periods, data=xd, method=method, level=level, obs_per_block=obs_per_block)
    except NumericalError:
        df = evt.return_level(fit, periods, method="delta", level=level, obs_per_block=obs_per_block)
        used = "delta (profile did not converge)"
    if not hasattr(df, "columns"):  # a single period gives a ReturnLevel
        import pandas as pd

        df = pd.DataFrame([df.to_dict()])
    pts_t = pts_v = None
    if xd is not None:
        if is_gpd:
            exc = np.sort(xd[xd > fit.threshold])[::-1]
            rank = np.arange(1, exc.size + 1)
            pts_t, pts_v = (xd.size + 1.0) / rank / opb, exc
        else:
            mx = np.sort(xd)
            pts_t, pts_v = 1.0 / (1.0 - np.arange(1, mx.size + 1) / (mx.size + 1.0)), mx
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
# dependence
# ---------------------------------------------------------------------------------------------------------
def _pair_array(v, name: str) -> np.ndarray:
    if isinstance(v, tuple) and len(v) == 2:
        v = np.column_stack([np.asarray(v[0], float), np.asarray(v[1], float)])
    A = check_array(v, name, ndim=2, min_rows=20)
    if A.shape[1] != 2:
        raise DataError(f"{name} must have 2 columns (x, y), got shape {A.shape}")
    return A


def chi_plot(
    x,
    y,
    samples=None,
    axes=None,
    *,
    u=None,
    tail: str = "upper",
    level: float = 0.95,
    labels: tuple[str, str] = ("x", "y"),
):
    """chi(u) and chi-bar(u) of a pair of variables (data in black with its band) and of generated samples.

    chi(u) -> chi > 0 means asymptotic tail dependence (joint extremes); chi(u) -> 0 with chi-bar(u) < 1
    means asymptotic independence, chi-bar measuring the residual dependence (Coles, Heffernan & Tawn 1999;
    see :func:`heavytail_diffusion.diagnostics.dependence.chi_curve`).

    Parameters
    ----------
    x, y : array-like, shape (n,)
        Paired data.
    samples : dict name -> (m, 2) array or (xs, ys) tuple, optional
    axes : two Axes, optional
        (chi panel, chi-bar panel); a new side-by-side figure when None.
    u : array-like, optional
        Levels (default 25 from 0.8 to min(0.99, 1 - 20 / n)).
    tail : {"upper", "lower"}
    level : float
    labels : (str, str)
        Names of x and y for the title.

    Returns
    -------
    ndarray of two Axes
    """
    data = _pair_array((x, y), "(x, y)")
    n = data.shape[0]
    if u is None:
        u = np.linspace(0.8, max(0.81, min(0.99, 1.0 - 20.0 / n)), 25)
    df = dependence.chi_curve(data, u=u, level=level, tail=tail)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 4.2), layout="constrained")
    axes = np.asarray(axes).ravel()
    if axes.size != 2:
        raise ValueError(f"axes must hold 2 Axes, got {axes.size}")
    for a, key in ((axes[0], "chi"), (axes[1], "chibar")):
        a.fill_between(
            df["u"],
            df[f"{key}_ci_low"],
            df[f"{key}_ci_high"],
            color=DATA_COLOR,
            alpha=0.15,
            lw=0,
            label=f"{level:.0%} CI",
        )
        a.plot(df["u"], df[key], "o-", ms=3, color=DATA_COLOR, lw=1.2, label=f"data (n = {n})")
    for i, (name, s) in enumerate(_samples(samples).items()):
        S = _pair_array(s, f"samples[{name!r}]")
        ds = dependence.chi_curve(S, u=df["u"].to_numpy(), level=level, tail=tail)
        for a, key in ((axes[0], "chi"), (axes[1], "chibar")):
            a.plot(ds["u"], ds[key], "-", color=_color(i), lw=1.6, label=name)
    for a, key, ylab in ((axes[0], "chi", "χ(u)"), (axes[1], "chibar", "χ̄(u)")):
        # y-range: everything drawn (curves and the band), never below -1
        vals = np.concatenate(
            [df[f"{key}_ci_low"].to_numpy(float)] + [np.asarray(ln.get_ydata(), float) for ln in a.lines]
        )
        vals = vals[np.isfinite(vals)]
        a.axhline(0.0, color="0.6", lw=0.8)
        a.axhline(1.0, color="0.6", lw=0.8, ls=":")
        a.set_ylim(max(-1.05, min(-0.1, vals.min() - 0.1)) if vals.size else -1.05, 1.05)
        a.set_xlabel("quantile level u")
        a.set_ylabel(ylab)
        a.grid(True, alpha=0.3)
    axes[0].set_title(f"χ(u): {labels[0]} vs {labels[1]} ({tail} tail)", fontsize="medium")
    axes[1].set_title("χ̄(u) (1: asymptotic dependence, 0: independence)", fontsize="medium")
    axes[0].legend(loc="best", fontsize="small")
    return axes


def _axis_scale(a, values: list[np.ndarray]) -> tuple[str, dict, str]:
    allv = np.concatenate(values)
    if np.all(allv > 0):
        return "log", {}, " (log)"
    t = _symlog_threshold(values[0])
    return "symlog", {"linthresh": t}, f" (symlog, linear within ±{t:.2g})"


def pair_plot(
    data,
    samples=None,
    columns: Sequence[str] | None = None,
    *,
    max_points: int = 3000,
    seed=0,
    max_columns: int = 6,
):
    """Scatter matrix of the data (black) with generated samples overlaid (colours), tails on log axes.

    Off-diagonal panel (i, j): column j (horizontal) against column i (vertical). Diagonal: log-log
    survival of each column (upper tail of x, or of |x| when x has non-positive values). Axes are
    logarithmic for positive columns and symmetric-log otherwise. At most ``max_points`` random rows of
    each sample are drawn (seeded).

    Parameters
    ----------
    data : array-like or DataFrame, shape (n, d), 2 <= d <= max_columns
    samples : array-like or dict name -> array-like of shape (m, d), optional
    columns : sequence of str, optional
        Column names (default: the DataFrame's, else x0, x1, ...).
    max_points : int
    seed : int or Generator
    max_columns : int

    Returns
    -------
    matplotlib Figure
    """
    if columns is None and hasattr(data, "columns"):
        columns = [str(c) for c in data.columns]
    X = check_array(data, "data", ndim=2, min_rows=2)
    d = X.shape[1]
    if not 2 <= d <= max_columns:
        raise ValueError(f"pair_plot needs 2 to {max_columns} columns, got {d}")
    names = [f"x{j}" for j in range(d)] if columns is None else [str(c) for c in columns]
    if len(names) != d:
        raise ValueError(f"columns has {len(names)} names but data has {d} columns")
    sm = {k: check_array(v, f"samples[{k!r}]", ndim=2, dim=d) for k, v in _samples(samples).items()}
    rng = as_generator(seed)

    def thin(A):
        return A if A.shape[0] <= max_points else A[rng.choice(A.shape[0], max_points, replace=False)]

    shown = [("data", thin(X), DATA_COLOR)] + [(k, thin(v), _color(i)) for i, (k, v) in enumerate(sm.items())]
    scales = [_axis_scale(None, [A[:, j] for _, A, _ in shown]) for j in range(d)]
    fig, axs = plt.subplots(d, d, figsize=(2.8 * d + 0.8, 2.8 * d), layout="constrained", squeeze=False)
    for i in range(d):
        for j in range(d):
            a = axs[i, j]
            if i == j:
                pos = np.all(X[:, j] > 0)
                survival_plot(
                    X[:, j], {k: v[:, j] for k, v in sm.items()}, ax=a, tail="upper" if pos else "both"
                )
                a.set_title("")
                a.set_xlabel(f"{names[j]}" + (" (log)" if pos else " |x| (log)"))
                a.set_ylabel("P(X ≥ x)")
                a.get_legend().remove()
                continue
            for name, A, col in shown:
                a.scatter(
                    A[:, j],
                    A[:, i],
                    s=4,
                    alpha=0.35 if col == DATA_COLOR else 0.3,
                    color=col,
                    lw=0,
                    rasterized=True,
                )
            for ax_set, (sc, kw, _) in ((a.set_xscale, scales[j]), (a.set_yscale, scales[i])):
                ax_set(sc, **kw)
            a.set_xlabel(names[j] + scales[j][2])
            a.set_ylabel(names[i] + scales[i][2])
            a.grid(True, alpha=0.25)
    handles = [plt.Line2D([], [], marker="o", ls="", color=col, label=name) for name, _, col in shown]
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize="small")
    return fig


# ---------------------------------------------------------------------------------------------------------
# comparison figures (used by heavytail_diffusion.report)
# ---------------------------------------------------------------------------------------------------------
_LINESTYLES = ["-", "--", "-.", ":"]


def _restyle(ax: Axes, names: Sequence[str]) -> None:
    """Give each model's line a distinct line style on top of its colour (readable in grey print too)."""
    for line in ax.get_lines():
        lab = line.get_label().split(" (n = ")[0]
        if lab in names:
            line.set_linestyle(_LINESTYLES[list(names).index(lab) % len(_LINESTYLES)])


def hill_fraction_plot(reference, samples, ax: Axes | None = None, tail: str = "upper", *,
                       max_fraction: float = 0.25, title: str | None = None) -> Axes:  # fmt: skip
    """Hill xi against the tail fraction k/n (log axis): the reference (black, with its 95% band) and each
    sample (colours).

    The k/n axis puts samples of different sizes on one scale: a sample whose tail index is right follows
    the reference curve inside its band.

    Parameters
    ----------
    reference : array-like, shape (n,)
    samples : dict name -> array-like
    ax : Axes, optional
    tail : {"upper", "lower"}
        ``"lower"`` analyses -x.
    max_fraction : float
        Largest tail fraction shown (default 0.25).
    title : str, optional

    Returns
    -------
    Axes
    """
    ax = _new_ax(ax)
    y = _oriented(reference, tail, "reference")
    hc = tail_index.hill_curve(y)
    lo, hi = hc.ci()
    keep = (hc.k >= 5) & (hc.k <= max_fraction * hc.n)
    fr = hc.k[keep] / hc.n
    ax.fill_between(fr, lo[keep], hi[keep], color=DATA_COLOR, alpha=0.15, lw=0, label="reference 95% band")
    ax.plot(fr, hc.xi[keep], color=DATA_COLOR, lw=1.6, label=f"reference (n = {hc.n})")
    for i, (name, s) in enumerate(_samples(samples).items()):
        try:
            c = tail_index.hill_curve(_oriented(s, tail, name))
        except DataError:
            continue
        k = (c.k >= 5) & (c.k <= max_fraction * c.n)
        ax.plot(c.k[k] / c.n, c.xi[k], color=_color(i), ls=_LINESTYLES[i % len(_LINESTYLES)], lw=1.3, label=name)
    lo_y = np.nanpercentile(lo[keep], 5) if keep.any() else 0.0
    hi_y = np.nanpercentile(hi[keep], 95) if keep.any() else 1.0
    ax.set_ylim(min(0.0, lo_y) - 0.05, min(max(1.0, hi_y) + 0.1, 3.0))
    ax.set_xscale("log")
    ax.set_xlabel("tail fraction k/n (log scale)")
    ax.set_ylabel("Hill estimate of ξ")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    return ax


def tail_panels(reference, samples, *, label: str = "x"):
    """One row per analysed tail of a column: log-log survival, log-scale QQ of the tail and Hill-against-
    tail-fraction panels, the reference in black and every sample in colour. The lower tail (of -x) gets its
    own row when the reference takes both signs.

    Returns
    -------
    Figure
    """
    r = check_sample(reference, "reference")
    S = {k: check_sample(v, f"samples[{k!r}]") for k, v in _samples(samples).items()}
    names = list(S)
    tails = ["upper", "lower"] if r.min() < 0 < r.max() else ["upper"]
    fig, axs = plt.subplots(len(tails), 3, figsize=(16, 4.6 * len(tails)), layout="constrained", squeeze=False)
    for row, t in enumerate(tails):
        lab = label if t == "upper" else f"-{label}"
        ro = _oriented(r, t)
        so = {n: _oriented(v, t) for n, v in S.items()}
        ax = axs[row, 0]
        try:
            survival_plot(ro, so, ax=ax, label="reference", xlabel=f"{lab} (log scale)")
            _restyle(ax, names)
            if ax.get_legend():
                ax.get_legend().remove()
            qs = np.quantile(ro, [0.5, 0.6, 0.7, 0.8])
            if (qs > 0).any():  # the tail is the story: start near the reference median
                ax.set_xlim(left=float(qs[qs > 0][0]) * 0.8)
                ax.set_ylim(top=0.8)
            ax.set_title(f"{label}: survival, {t} tail", fontsize="medium")
        except (ValueError, ArithmeticError, NumericalError) as exc:
            ax.text(0.5, 0.5, f"no survival plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
        ax = axs[row, 1]
        try:
            m = min([ro.size] + [v.size for v in so.values()])
            qq_plot(ro, so, ax=ax, log=True, probs=1.0 - np.geomspace(0.5, 1.0 / m, 40))
            _restyle(ax, names)
            if ax.get_legend():
                ax.get_legend().remove()
            ax.set_title(f"{label}: QQ of the {t} tail ({lab})", fontsize="medium")
        except (ValueError, ArithmeticError, NumericalError) as exc:
            ax.text(0.5, 0.5, f"no QQ plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
        ax = axs[row, 2]
        try:
            hill_fraction_plot(r, S, ax=ax, tail=t, title=f"{label}: Hill ξ, {t} tail")
        except (ValueError, ArithmeticError, NumericalError) as exc:
            ax.text(0.5, 0.5, f"no Hill plot: {exc}", ha="center", wrap=True, transform=ax.transAxes)
    handles, labels = axs[0, 2].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize="small", title="black: reference")
    return fig


def model_scatter_grid(reference, samples, a: int, b: int, names: Sequence[str], *, seed=0,
                       max_points: int = 2000):  # fmt: skip
    """One panel per model: its rows (colour) over the reference rows (grey) for columns ``a`` and ``b``.

    Positive columns are on log axes, others on slog(x) = sign(x) log1p(|x|); the axes cover the reference
    range widened by 10x (log) or 50% (linear).

    Returns
    -------
    Figure
    """
    from .diagnostics.distances import slog

    R = np.asarray(reference, dtype=np.float64)
    S = {k: np.asarray(v, dtype=np.float64) for k, v in _samples(samples).items()}
    rng = as_generator(seed)
    k = len(S)
    ncol = min(4, k) if k else 1
    nrow = max(1, -(-k // ncol))
    fig, axs = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 3.2 * nrow), layout="constrained", squeeze=False,
                            sharex=True, sharey=True)  # fmt: skip
    logs = [all(np.all(v[:, j] > 0) for v in [R, *S.values()]) for j in (a, b)]

    def coord(A, j, is_log):
        return A[:, j] if is_log else slog(A[:, j])

    def thin(A):
        return A if A.shape[0] <= max_points else A[rng.choice(A.shape[0], max_points, replace=False)]

    Rt = thin(R)
    for i, (name, A) in enumerate(S.items()):
        ax = axs.flat[i]
        T = thin(A)
        ax.scatter(coord(Rt, a, logs[0]), coord(Rt, b, logs[1]), s=4, color="0.35", alpha=0.5, lw=0,
                   rasterized=True, label="reference")  # fmt: skip
        ax.scatter(coord(T, a, logs[0]), coord(T, b, logs[1]), s=3, color=_color(i), alpha=0.35, lw=0,
                   rasterized=True, label=name)  # fmt: skip
        ax.set_xscale("log" if logs[0] else "linear")
        ax.set_yscale("log" if logs[1] else "linear")
        for j, is_log, setter in ((a, logs[0], ax.set_xlim), (b, logs[1], ax.set_ylim)):
            lo, hi = float(coord(R, j, is_log).min()), float(coord(R, j, is_log).max())
            setter(*((lo / 10.0, hi * 10.0) if is_log else (lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo))))
        ax.set_title(name, fontsize="medium", color=_color(i))
        ax.grid(True, alpha=0.25)
    for ax in axs.flat[k:]:
        ax.set_visible(False)
    for ax in axs[-1]:
        ax.set_xlabel(f"{names[a]} (log scale)" if logs[0] else f"slog({names[a]})")
    for ax in axs[:, 0]:
        ax.set_ylabel(f"{names[b]} (log scale)" if logs[1] else f"slog({names[b]})")
    fig.suptitle(f"{names[b]} vs {names[a]}: each model (colour) over the reference rows (grey)", fontsize="medium")
    return fig


def scorecard_plot(summary, metrics: Sequence[str] | None = None):
    """The scorecard as dots: per metric, each model's mean over splits with a ± one standard deviation bar
    and the metric's noise floor as a grey band (from 0 to the floor).

    Parameters
    ----------
    summary : DataFrame
        :attr:`heavytail_diffusion.report.ComparisonResult.summary` (ok models), with columns ``<metric>``,
        ``<metric>_sd`` and ``<metric>_floor``.
    metrics : sequence of str, optional
        Metrics to show (default every ranked metric present).

    Returns
    -------
    Figure
    """
    from .scorecard import FAMILIES

    metrics = [m for m in (metrics or FAMILIES) if m in summary.columns and np.isfinite(summary[m]).any()]
    names = list(summary.index)
    ncol = min(3, max(1, len(metrics)))
    nrow = max(1, -(-len(metrics) // ncol))
    fig, axs = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 0.35 * len(names) * nrow + 1.6 * nrow),
                            layout="constrained", squeeze=False)  # fmt: skip
    ypos = np.arange(len(names))[::-1]
    for ax, m in zip(axs.flat, metrics, strict=False):
        v = summary[m].to_numpy(dtype=float)
        sd = summary.get(m + "_sd", np.full(len(v), np.nan))
        sd = np.nan_to_num(np.asarray(sd, dtype=float))
        fl = np.asarray(summary[m + "_floor"], dtype=float) if m + "_floor" in summary else np.array([np.nan])
        floor = float(np.mean(fl[np.isfinite(fl)])) if np.isfinite(fl).any() else np.nan
        finite = np.isfinite(v)
        if np.isfinite(floor):
            ax.axvspan(0, floor, color="0.85", lw=0, label="noise floor")
        for i in range(len(names)):
            if finite[i]:
                ax.errorbar(v[i], ypos[i], xerr=sd[i], fmt="o", color=_color(i), capsize=3)
            else:
                ax.text(0.02, ypos[i], "undefined", transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        ax.set_yticks(ypos, names, fontsize=8)
        ax.set_title(m, fontsize="medium")
        ax.set_xlim(left=0)
        ax.grid(True, axis="x", alpha=0.3)
    for ax in list(axs.flat)[len(metrics):]:
        ax.set_visible(False)
    return fig


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
