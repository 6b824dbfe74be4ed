"""Figures that compare generated samples with a reference: the report's tail panels, scatter grid and
scorecard.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..diagnostics import tail_index
from ..errors import DataError, NumericalError
from ..validation import as_generator, check_sample
from ._style import DATA_COLOR, _color, _new_ax, _oriented, _samples
from .tails import qq_plot, survival_plot

__all__ = ["comparison_figures", "hill_fraction_plot", "model_scatter_grid", "scorecard_plot", "tail_panels"]


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

    Parameters
    ----------
    reference : array-like, shape (n,)
        The reference column (black).
    samples : dict name -> array-like
        Each model's values of the column (colours).
    label : str
        The column's name, in the panel titles.

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

    Parameters
    ----------
    reference : array of shape (n, d)
        The reference rows (grey).
    samples : dict name -> array of shape (m, d)
        Each model's rows (one panel each).
    a, b : int
        Column indices of the horizontal and vertical axes.
    names : sequence of str
        The d column names.
    seed : int or Generator
        Seeds the thinning.
    max_points : int
        Most rows drawn per sample (a random subset beyond).

    Returns
    -------
    Figure
    """
    from ..diagnostics.distances import slog

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
    from ..scorecard import FAMILIES

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


def comparison_figures(reference, samples, columns: Sequence[str], *, summary=None,
                       tail_columns: Sequence[str] | None = None, max_pairs: int = 3, seed=0):  # fmt: skip
    """The figures of a comparison report, in report order, as ``(kind, names, figure)``.

    ``kind`` is ``"scorecard"`` (:func:`scorecard_plot` of ``summary``; ``names`` empty), ``"tails"`` (one
    :func:`tail_panels` figure per tail column; ``names`` = (column,)), then for each of the first
    ``max_pairs`` pairs of tail columns ``"pairs"`` (:func:`model_scatter_grid`) and ``"chi"``
    (:func:`~heavytail_diffusion.plots.joint.chi_plot`; ``names`` = (column a, column b)). A chi plot that
    cannot be drawn is skipped with a warning. Without samples only the scorecard is drawn. Figures are
    created lazily, one per step: save and close each before asking for the next.

    Parameters
    ----------
    reference : array of shape (n, d)
        The rows the samples are judged against (black / grey in every figure).
    samples : dict name -> array of shape (m, d)
        Each model's rows, columns in the order of ``columns``.
    columns : sequence of str
        The d column names.
    summary : DataFrame, optional
        The ranked summary of the models that did not fail (one row per model; see :func:`scorecard_plot`);
        no scorecard figure when None or empty.
    tail_columns : sequence of str, optional
        Columns that get tail figures (default every column).
    max_pairs : int
        Most column pairs drawn (default 3).
    seed : int or Generator
        Seeds the thinning of the scatter grids.

    Yields
    ------
    (str, tuple of str, Figure)

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.plots import comparison_figures
    >>> rng = np.random.default_rng(0)
    >>> R = rng.standard_t(3, size=(300, 2))
    >>> figs = comparison_figures(R, {"t3": rng.standard_t(3, size=(300, 2))}, ["a", "b"], max_pairs=0)
    >>> [(kind, names) for kind, names, _fig in figs]
    [('tails', ('a',)), ('tails', ('b',))]
    """
    import warnings
    from itertools import combinations

    from .joint import chi_plot

    R, S, cols = reference, samples, list(columns)
    tails_cols = cols if tail_columns is None else list(tail_columns)
    if summary is not None and len(summary):
        yield "scorecard", (), scorecard_plot(summary)
    for j, c in enumerate(cols):
        if c not in tails_cols or not S:
            continue
        yield "tails", (c,), tail_panels(R[:, j], {n: S[n][:, j] for n in S}, label=c)
    for a, b in list(combinations([j for j, c in enumerate(cols) if c in tails_cols], 2))[:max_pairs]:
        if not S:
            break
        yield "pairs", (cols[a], cols[b]), model_scatter_grid(R, S, a, b, cols, seed=seed)
        try:
            axes = chi_plot(R[:, a], R[:, b], {n: S[n][:, [a, b]] for n in S}, labels=(cols[a], cols[b]))
        except (ValueError, ArithmeticError) as exc:
            # stacklevel 3: the caller of the function that iterates (as when report drew them itself)
            warnings.warn(f"chi plot of {cols[a]}|{cols[b]} skipped: {exc}", stacklevel=3)
            continue
        yield "chi", (cols[a], cols[b]), axes[0].figure
