"""Shared style of the figures: colours, axes helpers, the oriented sample and its survival curve."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..diagnostics import tail_index
from ..validation import check_sample

__all__ = ["DATA_COLOR", "FIT_COLOR", "model_color"]


DATA_COLOR = "black"
FIT_COLOR = "#d62728"
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
_TAIL_SCALE = {"upper": "x", "lower": "-x", "both": "|x|"}


def _new_ax(ax: Axes | None, figsize=(6.4, 4.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def model_color(i: int) -> str:
    """Colour of the ``i``-th generated sample in every figure (the data are black, :data:`DATA_COLOR`).

    Examples
    --------
    >>> from heavytail_diffusion.plots import model_color
    >>> model_color(0), model_color(9) == model_color(0)
    ('#1f77b4', True)
    """
    return _PALETTE[i % len(_PALETTE)]


#: The private name used before :func:`model_color` was public.
_color = model_color


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
