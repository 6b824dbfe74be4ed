"""Figures of two or more columns together: tail dependence chi(u) and chi-bar(u), the scatter matrix."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..diagnostics import dependence
from ..errors import DataError
from ..validation import as_generator, check_array
from ._style import DATA_COLOR, _color, _samples, _symlog_threshold
from .tails import survival_plot

__all__ = ["chi_plot", "pair_plot"]


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
