"""Tail quantiles: value at risk, expected shortfall, Weissman extrapolation, and generated-vs-real quantile errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..validation import (
    as_generator,
    check_array,
    check_directions,
    check_positive_int,
    check_probability,
    check_sample,
)

__all__ = [
    "DirectionalError",
    "expected_shortfall",
    "quantile_errors",
    "value_at_risk",
    "weissman_quantile",
    "worst_direction_quantile_error",
]

DEFAULT_QS = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999)


def _check_tail(tail: str) -> str:
    if tail not in ("upper", "lower"):
        raise ValueError(f"tail must be 'upper' or 'lower', got {tail!r}")
    return tail


def _losses(x, tail: str, name: str = "x") -> np.ndarray:
    """Input as a 1-D or 2-D float array, negated for the lower tail (loss convention)."""
    X = check_array(x, name, ndim=None)
    if X.ndim > 2:
        raise DataError(f"{name} must be 1-D or 2-D, got an array of shape {X.shape}")
    return -X if _check_tail(tail) == "lower" else X


def value_at_risk(x, level: float = 0.99, tail: str = "upper") -> float | np.ndarray:
    """Empirical value at risk: the ``level`` quantile of the losses.

    ``tail="upper"``: the losses are x itself and VaR = Q_x(level) (claims, rainfall, large positive values).
    ``tail="lower"``: loss convention for returns, the losses are -x and VaR = Q_{-x}(level) = -Q_x(1 - level),
    a positive number when the lower tail is negative.

    The quantile is numpy's default ("linear", R type 7) interpolation of the order statistics.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, d)
        Sample; a 2-D array gives one value per column.
    level : float, default 0.99
        Confidence level in (0, 1), e.g. 0.99.
    tail : {"upper", "lower"}, default "upper"
        Losses x (upper) or -x (lower).

    Returns
    -------
    var : float, or ndarray of shape (d,) for 2-D input
        ``VaR_level = Q_L(level)``, in the units of the data (of -x for ``tail="lower"``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1.0, 101.0)
    >>> round(value_at_risk(x, 0.95), 4)
    95.05
    >>> round(value_at_risk(x - 50.0, 0.95, tail="lower"), 4)  # losses are 50 - x
    44.05
    """
    level = check_probability(level, "level")
    L = _losses(x, tail)
    out = np.quantile(L, level, axis=0)
    return float(out) if np.ndim(out) == 0 else out


def expected_shortfall(x, level: float = 0.99, tail: str = "upper") -> float | np.ndarray:
    """Empirical expected shortfall ``ES = (1 / (1 - level)) integral_level^1 VaR_u du`` of the losses.

    Computed exactly for the empirical distribution of the losses L (x, or -x for ``tail="lower"``, the
    same convention as :func:`value_at_risk`): with k = n (1 - level) and L_(1) >= L_(2) >= ... the
    order statistics from the top, ES = (sum_{i <= floor(k)} L_(i) + (k - floor(k)) L_(floor(k) + 1)) / k
    (Acerbi & Tasche 2002). It is coherent and at least the empirical VaR (inverted-CDF quantile).

    Parameters
    ----------
    x : array-like, shape (n,) or (n, d)
        Sample; a 2-D array gives one value per column.
    level : float, default 0.99
        Confidence level in (0, 1).
    tail : {"upper", "lower"}, default "upper"
        Losses x (upper) or -x (lower).

    Returns
    -------
    es : float, or ndarray of shape (d,) for 2-D input
        ``ES_level`` (about ``E[L | L > VaR_level]``), in the units of the losses.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1.0, 101.0)
    >>> round(expected_shortfall(x, 0.95), 4)  # mean of the top 5 values
    98.0
    >>> np.round(expected_shortfall(np.column_stack([x, -x]), 0.95, tail="lower"), 4)
    array([-3., 98.])
    """
    level = check_probability(level, "level")
    L = _losses(x, tail)
    one = L.ndim == 1
    L2 = L[:, None] if one else L
    n = L2.shape[0]
    k = n * (1.0 - level)
    kf = int(np.floor(k))
    top = -np.sort(-L2, axis=0)  # descending
    s = top[:kf].sum(axis=0)
    if kf < n and k > kf:
        s = s + (k - kf) * top[kf]
    es = s / k
    return float(es[0]) if one else es


def _hill_top(xs_desc: np.ndarray, k: int) -> float:
    """Hill estimate mean(log X_(i)) - log X_(k+1) from descending order statistics (X_(k+1) > 0)."""
    return float(np.mean(np.log(xs_desc[:k])) - np.log(xs_desc[k]))


def weissman_quantile(x, q, k: int | None = None, xi: float | None = None) -> float | np.ndarray:
    """Weissman (1978) extreme-quantile estimate, valid beyond the sample for heavy (Pareto-type) tails.

    ``Q(q) = X_(n-k) * (k / (n (1 - q)))^xi``, with X_(n-k) the (k+1)-th largest value and xi the Hill
    estimate ``(1/k) sum_{i=1}^k log X_(n-i+1) - log X_(n-k)`` at the same k (xi > 0: heavy tail) unless
    given. Upper tail; for a lower tail pass -x.

    Parameters
    ----------
    x : array-like, shape (n,)
        Sample; the k + 1 largest values must be positive.
    q : float or array-like
        Probability level(s) in (0, 1), typically with n (1 - q) < k (extrapolation).
    k : int, optional
        Number of top order statistics, 1 <= k < n. Default: floor(sqrt(n)), a common rule of thumb
        (consistent: k -> inf, k / n -> 0), not an optimal choice.
    xi : float, optional
        Tail index to use instead of the Hill estimate.

    Returns
    -------
    float or ndarray like q.
    """
    xs = check_sample(x, "x", min_size=3)
    n = xs.size
    qa = np.asarray(q, dtype=np.float64)
    if qa.size == 0 or not np.all((qa > 0) & (qa < 1)):
        raise ValueError(f"q must lie in (0, 1), got {q!r}")
    k = int(np.floor(np.sqrt(n))) if k is None else check_positive_int(k, "k")
    if k >= n:
        raise ValueError(f"k must satisfy 1 <= k < n = {n}, got {k}")
    top = -np.sort(-xs)
    if top[k] <= 0:
        raise DataError(
            f"weissman_quantile needs the {k + 1} largest values to be positive (logs); the {k + 1}-th "
            f"largest is {top[k]:g}: use a smaller k or shift the data"
        )
    if xi is None:
        xi = _hill_top(top, k)
    else:
        xi = float(xi)
        if not np.isfinite(xi):
            raise ValueError(f"xi must be finite, got {xi}")
    out = top[k] * (k / (n * (1.0 - qa))) ** xi
    return float(out) if out.ndim == 0 else out


def _pair(real, generated, columns) -> tuple[np.ndarray, np.ndarray]:
    shape_r, shape_g = np.shape(real), np.shape(generated)
    R = check_array(real, "real", ndim=2, columns=columns)
    G = check_array(generated, "generated", ndim=2, columns=columns)
    if R.shape[1] != G.shape[1]:
        raise DataError(
            f"real has shape {shape_r} and generated has shape {shape_g}: they must have the same number "
            "of columns"
        )
    if columns is not None and len(columns) != R.shape[1]:
        raise ValueError(f"columns has {len(columns)} names but the data have {R.shape[1]} columns")
    return R, G


def _check_qs(qs) -> np.ndarray:
    qa = np.atleast_1d(np.asarray(qs, dtype=np.float64))
    if qa.size == 0 or qa.ndim != 1:
        raise ValueError(f"qs must be a non-empty 1-D sequence of probabilities, got {qs!r}")
    bad = ~((qa > 0) & (qa < 1))
    if bad.any():
        raise ValueError(f"qs must lie in (0, 1); got {qa[bad][0]}")
    return qa


def _rel(gen: np.ndarray, real: np.ndarray) -> np.ndarray:
    """(gen - real) / |real|; 0 where both are 0, +-inf where only real is 0."""
    diff = gen - real
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff / np.abs(real)
    out[(real == 0) & (diff == 0)] = 0.0
    return out


def quantile_errors(
    real,
    generated,
    qs: Sequence[float] = DEFAULT_QS,
    directions=None,
    columns: Sequence | None = None,
) -> pd.DataFrame:
    """Quantiles of generated vs real data per marginal and along given directions, as a tidy table.

    For each marginal j (and each unit direction u, on the projections x @ u) and each q:
    ``rel_error = (Q_gen(q) - Q_real(q)) / |Q_real(q)|`` and ``abs_error = |Q_gen(q) - Q_real(q)|``, with
    numpy's default ("linear") empirical quantiles. Lower-tail quantiles are asked for with q < 0.5.

    ``supported`` is False where the real sample cannot estimate the quantile: fewer than one real
    observation beyond it, n_real * min(q, 1 - q) < 1 (the value is then an interpolated sample extreme,
    not a quantile estimate); such rows are kept but should not be read as errors. rel_error is +-inf only
    if a real quantile is exactly 0 and the generated one is not (never NaN).

    Parameters
    ----------
    real, generated : array-like, shape (n, d) and (m, d)
        1-D arrays are one column.
    qs : sequence of float
        Probability levels in (0, 1).
    directions : array-like, shape (k, d) or (d,), optional
        Directions (normalised to unit length), e.g. the max-sliced Wasserstein direction.
    columns : sequence of str, optional
        Column names (default: 0..d-1).

    Returns
    -------
    DataFrame with columns ``target, kind ("marginal" or "direction"), q, real, generated, abs_error,
    rel_error, supported, n_real, n_generated``; directions are named ``"direction 0"``, ...

    Examples
    --------
    A Gaussian generator for Student-t (df 3) data misses the upper quantiles by half and more:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real, gen = rng.standard_t(3, size=(2000, 2)), rng.standard_normal((2000, 2))
    >>> e = quantile_errors(real, gen, qs=[0.99, 0.999])
    >>> e[["target", "q", "real", "generated", "rel_error"]].round(3)
      target      q    real  generated  rel_error
    0      0  0.990   4.233      2.226     -0.474
    1      0  0.999  11.273      2.834     -0.749
    2      1  0.990   4.086      2.305     -0.436
    3      1  0.999  11.370      2.878     -0.747
    """
    R, G = _pair(real, generated, columns)
    qa = _check_qs(qs)
    d = R.shape[1]
    names = list(columns) if columns is not None else list(range(d))
    blocks = [("marginal", names, R, G)]
    if directions is not None:
        U = check_directions(directions, d)
        blocks.append(("direction", [f"direction {i}" for i in range(U.shape[0])], R @ U.T, G @ U.T))
    frames = []
    n, m = R.shape[0], G.shape[0]
    supported = n * np.minimum(qa, 1 - qa) >= 1
    for kind, labels, A, B in blocks:
        qr = np.quantile(A, qa, axis=0)  # (len(qs), k)
        qg = np.quantile(B, qa, axis=0)
        k = A.shape[1]
        frames.append(
            pd.DataFrame(
                {
                    "target": np.tile(np.asarray(labels, dtype=object), qa.size),
                    "kind": kind,
                    "q": np.repeat(qa, k),
                    "real": qr.ravel(),
                    "generated": qg.ravel(),
                    "abs_error": np.abs(qg - qr).ravel(),
                    "rel_error": _rel(qg, qr).ravel(),
                    "supported": np.repeat(supported, k),
                    "n_real": n,
                    "n_generated": m,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["kind", "target", "q"], key=_sort_key, kind="stable").reset_index(drop=True)


def _sort_key(s: pd.Series) -> pd.Series:
    if s.name in ("kind", "target"):  # keep the order as given: marginals first, columns as given
        return pd.Series(pd.factorize(s)[0], index=s.index)
    return s


@dataclass(frozen=True)
class DirectionalError:
    """Quantile error along one unit direction (see :func:`worst_direction_quantile_error`)."""

    direction: np.ndarray
    q: float
    real: float
    generated: float
    abs_error: float
    rel_error: float
    supported: bool


def worst_direction_quantile_error(
    real,
    generated,
    q: float = 0.99,
    n_directions: int = 512,
    seed: int | np.random.Generator | None = 0,
    criterion: str = "relative",
    n_refine: int = 200,
) -> DirectionalError:
    """The unit direction u whose projected q-quantile is worst reproduced, and that error.

    Maximises over the sphere ``|Q_gen(q; u'Y) - Q_real(q; u'X)|`` (``criterion="absolute"``) or that divided
    by ``|Q_real(q; u'X)|`` (``"relative"``). Directions u and -u differ (upper vs lower tail of the
    projection), so the whole sphere is searched: ``n_directions`` seeded random directions plus the
    +- coordinate axes, then a seeded local random search (shrinking Gaussian perturbations, ``n_refine``
    proposals, accepting improvements) from the best one. The objective is piecewise smooth and not
    concave, so the answer is a good local maximum, deterministic given ``seed``.

    The relative criterion is ill-posed for directions where the real quantile is near 0 (e.g. q close to
    0.5, or uncentred data); use ``criterion="absolute"`` there (directions are unit vectors, so absolute
    errors are comparable across directions).

    Parameters
    ----------
    real, generated : array-like, shape (n, d) and (m, d)
        1-D arrays are one column.
    q : float, default 0.99
        Probability level in (0, 1) of the projected quantiles.
    n_directions : int, default 512
        Random directions screened (the 2d signed coordinate axes are added).
    seed : int, Generator or None, default 0
        Seed of the directions and the local search.
    criterion : {"relative", "absolute"}, default "relative"
        Maximise ``|Q_gen - Q_real| / |Q_real|`` or ``|Q_gen - Q_real|``.
    n_refine : int, default 200
        Proposals of the local random search (0: none).

    Returns
    -------
    DirectionalError
        direction (unit, shape (d,)), q, real and generated quantiles, abs_error, rel_error (signed), and
        ``supported`` (n_real * min(q, 1 - q) >= 1, as in :func:`quantile_errors`).
    """
    R, G = _pair(real, generated, None)
    q = check_probability(q, "q")
    if criterion not in ("relative", "absolute"):
        raise ValueError(f"criterion must be 'relative' or 'absolute', got {criterion!r}")
    n_directions = check_positive_int(n_directions, "n_directions")
    n_refine = check_positive_int(n_refine, "n_refine", minimum=0)
    rng = as_generator(seed)
    d = R.shape[1]

    def errs(U):
        qr = np.quantile(R @ U.T, q, axis=0)
        qg = np.quantile(G @ U.T, q, axis=0)
        a = np.abs(qg - qr)
        if criterion == "relative":
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.where(qr != 0, a / np.abs(qr), np.where(a > 0, np.inf, 0.0))
        return a, qr, qg

    U = rng.standard_normal((n_directions, d))
    U = np.concatenate([U / np.linalg.norm(U, axis=1, keepdims=True), np.eye(d), -np.eye(d)])
    crit = np.concatenate([errs(U[s : s + 64])[0] for s in range(0, U.shape[0], 64)])
    i = int(np.argmax(crit))
    u, best = U[i], crit[i]
    step = 0.3
    for _ in range(n_refine):
        if d == 1 or step < 1e-4:
            break
        cand = u + step * rng.standard_normal(d)
        cand /= np.linalg.norm(cand)
        c = errs(cand[None, :])[0][0]
        if c > best:
            u, best = cand, c
            step *= 1.5
        else:
            step *= 0.9
    _, qr, qg = errs(u[None, :])
    qr, qg = float(qr[0]), float(qg[0])
    return DirectionalError(
        direction=u,
        q=q,
        real=qr,
        generated=qg,
        abs_error=abs(qg - qr),
        rel_error=float(_rel(np.array([qg]), np.array([qr]))[0]),
        supported=bool(R.shape[0] * min(q, 1 - q) >= 1),
    )
