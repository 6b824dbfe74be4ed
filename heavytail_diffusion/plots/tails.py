"""Figures of one sample's tail: Hill plot, two-sample QQ plot, log-log survival function."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..diagnostics import evt, tail_index
from ..errors import DataError
from ..validation import check_probability, check_sample
from ._style import (
    _TAIL_SCALE,
    DATA_COLOR,
    FIT_COLOR,
    _ccdf,
    _color,
    _fmt,
    _new_ax,
    _oriented,
    _samples,
    _symlog_threshold,
    _tidy_log_axes,
)

__all__ = ["hill_plot", "qq_plot", "survival_plot"]


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

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # headless, as the test suite (tests/conftest.py)
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from heavytail_diffusion.plots import hill_plot
    >>> x = np.random.default_rng(0).pareto(2.0, 500) + 1.0  # Pareto, xi = 0.5
    >>> ax = hill_plot(x, k_selected=100)
    >>> type(ax).__name__, ax.get_xscale(), ax.get_title()
    ('Axes', 'log', 'Hill plot, upper tail of x (n = 500)')
    >>> plt.close(ax.figure)
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

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # headless, as the test suite (tests/conftest.py)
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from heavytail_diffusion.plots import survival_plot
    >>> x = np.random.default_rng(0).pareto(2.0, 500) + 1.0
    >>> ax = survival_plot(x, {"too heavy": x ** 1.5})
    >>> type(ax).__name__, ax.get_xscale(), ax.get_yscale()
    ('Axes', 'log', 'log')
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['data (n = 500)', 'too heavy (n = 500)']
    >>> plt.close(ax.figure)
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
