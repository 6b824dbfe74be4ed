"""Extremal dependence: empirical chi(u) and chi-bar(u) of Coles, Heffernan & Tawn (1999), and Kendall's tau."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from ..validation import check_array, check_probability

__all__ = ["chi", "chi_curve", "chibar", "kendall_tau", "tail_dependence_table"]


def _check_tail(tail: str) -> str:
    if tail not in ("upper", "lower"):
        raise ValueError(
            f"tail must be 'upper' (joint large values) or 'lower' (joint crashes), got {tail!r}"
        )
    return tail


def _pseudo(x, y, tail: str) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-observations rank / (n + 1) (average ranks for ties); reflected for the lower tail."""
    shape_x, shape_y = np.shape(x), np.shape(y)
    a = check_array(x, "x", ndim=1, min_rows=2)
    b = check_array(y, "y", ndim=1, min_rows=2)
    if a.size != b.size:
        raise DataError(f"x has shape {shape_x} and y has shape {shape_y}: they must be paired (same length)")
    if _check_tail(tail) == "lower":
        a, b = -a, -b
    n = a.size
    return stats.rankdata(a) / (n + 1.0), stats.rankdata(b) / (n + 1.0)


def _check_u(u) -> np.ndarray:
    ua = np.asarray(u, dtype=np.float64)
    if ua.size == 0 or not np.all((ua > 0) & (ua < 1)):
        raise ValueError(f"u must lie in (0, 1), got {u!r}")
    return ua


def _joint(U: np.ndarray, V: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C(u) = P(U < u, V < u) and Cbar(u) = P(U > u, V > u), empirical, for every u, in O(n log n)."""
    n = U.size
    mx = np.sort(np.maximum(U, V))
    mn = np.sort(np.minimum(U, V))
    c = np.searchsorted(mx, u, side="left") / n
    cbar = (n - np.searchsorted(mn, u, side="right")) / n
    return c, cbar


def _chi_from(c, u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, 2.0 - np.log(np.where(c > 0, c, 1.0)) / np.log(u), -np.inf)


def _chibar_from(cbar, u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cbar > 0, 2.0 * np.log1p(-u) / np.log(np.where(cbar > 0, cbar, 0.5)) - 1.0, -1.0)


def chi(x, y, u, tail: str = "upper") -> float | np.ndarray:
    """Empirical chi(u) = 2 - log C(u, u) / log u of Coles, Heffernan & Tawn (1999).

    C is the empirical copula of the pseudo-observations rank / (n + 1), C(u, u) = P(U < u, V < u) (as in
    R's ``evd::chiplot``). chi(u) -> chi, the coefficient of upper tail dependence, as u -> 1; chi(u) = 0
    exactly under independence and 1 for comonotone data. (The conditional form P(V > u | U > u) equals
    (1 - 2u + C(u, u)) / (1 - u) and tends to the same limit.) ``tail="lower"`` measures joint crashes
    (applied to -x, -y).

    Parameters
    ----------
    x, y : array-like, shape (n,)
        Paired samples.
    u : float or array-like
        Levels in (0, 1).
    tail : {"upper", "lower"}, default "upper"
        "lower" for joint crashes (computed on -x, -y).

    Returns
    -------
    chi : float or ndarray, shape of ``u``
        chi(u) <= 1; -inf where no pair lies jointly below u (C = 0).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).standard_t(3, size=(2000, 2))
    >>> chi(z[:, 0], z[:, 0] ** 3, 0.95)  # comonotone
    1.0
    >>> round(chi(z[:, 0], z[:, 1], 0.95), 3)  # independent: near 0
    -0.011
    >>> np.round(chi(z[:, 0], z[:, 0] + 0.5 * z[:, 1], [0.9, 0.99]), 3)  # tail dependent
    array([0.7  , 0.698])
    """
    U, V = _pseudo(x, y, tail)
    ua = _check_u(u)
    out = _chi_from(_joint(U, V, ua)[0], ua)
    return float(out) if out.ndim == 0 else out


def chibar(x, y, u, tail: str = "upper") -> float | np.ndarray:
    """Empirical chi-bar(u) = 2 log(1 - u) / log Cbar(u, u) - 1 of Coles, Heffernan & Tawn (1999).

    Cbar(u, u) = P(U > u, V > u) on the pseudo-observations. chi-bar in [-1, 1] measures dependence within
    asymptotic independence: chi-bar -> 1 for asymptotically dependent pairs, -> rho for a Gaussian copula
    with correlation rho, 0 under independence. -1 where no pair is jointly above u.

    Parameters
    ----------
    x, y : array-like, shape (n,)
        Paired samples.
    u : float or array-like
        Levels in (0, 1).
    tail : {"upper", "lower"}, default "upper"
        "lower" for joint crashes (computed on -x, -y).

    Returns
    -------
    chibar : float or ndarray, shape of ``u``
        chi-bar(u) in [-1, 1] (-1 where Cbar(u, u) = 0).
    """
    U, V = _pseudo(x, y, tail)
    ua = _check_u(u)
    out = _chibar_from(_joint(U, V, ua)[1], ua)
    return float(out) if out.ndim == 0 else out


def _columns(X, columns) -> tuple[np.ndarray, list]:
    A = check_array(X, "X", ndim=2, min_rows=2, columns=columns)
    if A.shape[1] < 2:
        raise DataError(f"X has shape {A.shape}; tail dependence needs at least 2 columns")
    if columns is None:
        names = list(range(A.shape[1]))
    else:
        names = list(columns)
        if len(names) != A.shape[1]:
            raise ValueError(f"columns has {len(names)} names but X has {A.shape[1]} columns")
    return A, names


def _pairs(pairs, names: list) -> list[tuple[int, int]]:
    if pairs is None:
        return list(combinations(range(len(names)), 2))
    out = []
    for a, b in pairs:
        idx = []
        for v in (a, b):
            if v in names:
                idx.append(names.index(v))
            elif isinstance(v, int | np.integer) and 0 <= v < len(names):
                idx.append(int(v))
            else:
                raise ValueError(f"pair element {v!r} is neither a column name nor a column index")
        if idx[0] == idx[1]:
            raise ValueError(f"pair ({a!r}, {b!r}) uses the same column twice")
        out.append((idx[0], idx[1]))
    return out


def chi_curve(
    X,
    u=None,
    pairs: Sequence[tuple] | None = None,
    columns: Sequence | None = None,
    level: float = 0.95,
    tail: str = "upper",
) -> pd.DataFrame:
    """chi(u) and chi-bar(u) with pointwise confidence intervals for pairs of columns, as a tidy table.

    Intervals are the delta-method ones of ``evd::chiplot``: with C = C(u, u) and Cbar = Cbar(u, u)
    binomial proportions, sd(chi) = sqrt(C (1 - C) / n) / (C |log u|) and
    sd(chibar) = sqrt(Cbar (1 - Cbar) / n) * 2 |log(1 - u)| / (Cbar log(Cbar)^2); the intervals are
    estimate +- z sd, clipped to the attainable ranges (chi in [2 - log(max(2u - 1, 0)) / log u, 1],
    chibar in [-1, 1]). They ignore the rank transform and the dependence across u.

    Parameters
    ----------
    X : array-like, shape (n, d), d >= 2
    u : array-like, optional
        Levels in (0, 1); default ``np.linspace(0.8, 0.99, 20)``.
    pairs : sequence of (a, b), optional
        Column names or indices; default all d (d - 1) / 2 pairs.
    columns : sequence of str, optional
        Column names (default 0..d-1).
    level : float
        Confidence level of the intervals.
    tail : {"upper", "lower"}
        "lower" for joint crashes.

    Returns
    -------
    DataFrame with columns ``column_1, column_2, u, chi, chi_ci_low, chi_ci_high, chibar, chibar_ci_low,
    chibar_ci_high, n_joint`` (n_joint: number of rows jointly beyond u, the support of chibar).
    """
    A, names = _columns(X, columns)
    ua = _check_u(np.linspace(0.8, 0.99, 20) if u is None else u).ravel()
    z = stats.norm.ppf(0.5 + check_probability(level, "level") / 2)
    n = A.shape[0]
    frames = []
    for i, j in _pairs(pairs, names):
        U, V = _pseudo(A[:, i], A[:, j], tail)
        c, cbar = _joint(U, V, ua)
        ch, chb = _chi_from(c, ua), _chibar_from(cbar, ua)
        with np.errstate(divide="ignore", invalid="ignore"):
            sd_chi = np.sqrt(c * (1 - c) / n) / (c * np.abs(np.log(ua)))
            lc = np.log(np.where((cbar > 0) & (cbar < 1), cbar, 0.5))
            sd_chibar = np.sqrt(cbar * (1 - cbar) / n) * 2 * np.abs(np.log1p(-ua)) / (cbar * lc**2)
        sd_chi = np.where(c > 0, sd_chi, np.inf)
        sd_chibar = np.where(cbar > 0, sd_chibar, np.inf)
        with np.errstate(divide="ignore"):
            chi_lo_bound = 2.0 - np.log(np.maximum(2 * ua - 1, 0.0)) / np.log(ua)
        chi_lo_bound = np.where(np.isfinite(chi_lo_bound), chi_lo_bound, -np.inf)
        frames.append(
            pd.DataFrame(
                {
                    "column_1": names[i],
                    "column_2": names[j],
                    "u": ua,
                    "chi": ch,
                    "chi_ci_low": np.clip(ch - z * sd_chi, chi_lo_bound, 1.0),
                    "chi_ci_high": np.clip(ch + z * sd_chi, chi_lo_bound, 1.0),
                    "chibar": chb,
                    "chibar_ci_low": np.clip(chb - z * sd_chibar, -1.0, 1.0),
                    "chibar_ci_high": np.clip(chb + z * sd_chibar, -1.0, 1.0),
                    "n_joint": np.rint(cbar * n).astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def kendall_tau(X, columns: Sequence | None = None) -> pd.DataFrame:
    """Matrix of Kendall's tau-b between all pairs of columns (``scipy.stats.kendalltau``, O(n log n) each).

    Parameters
    ----------
    X : array-like, shape (n, d), d >= 2, n >= 2
    columns : sequence of str, optional
        Column names (default 0..d-1).

    Returns
    -------
    tau : DataFrame, shape (d, d)
        Symmetric, indexed by the column names, ones on the diagonal (NaN where tau is undefined).
    """
    A, names = _columns(X, columns)
    d = A.shape[1]
    T = np.eye(d)
    for i, j in combinations(range(d), 2):
        t = stats.kendalltau(A[:, i], A[:, j]).statistic
        T[i, j] = T[j, i] = np.nan if t is None else float(t)
    return pd.DataFrame(T, index=names, columns=names)


def tail_dependence_table(
    X, u: float = 0.95, columns: Sequence | None = None, level: float = 0.95, tail: str = "upper"
) -> pd.DataFrame:
    """One row per pair of columns: chi(u), chi-bar(u) with intervals (see :func:`chi_curve`) and Kendall's tau.

    Parameters
    ----------
    X : array-like, shape (n, d), d >= 2
    u : float, default 0.95
        Level in (0, 1).
    columns : sequence of str, optional
        Column names (default 0..d-1).
    level : float, default 0.95
        Confidence level of the intervals.
    tail : {"upper", "lower"}, default "upper"
        "lower" for joint crashes.

    Returns
    -------
    table : DataFrame, d (d - 1) / 2 rows
        Columns ``column_1, column_2, u, chi, chi_ci_low, chi_ci_high, chibar, chibar_ci_low,
        chibar_ci_high, n_joint, kendall_tau``.
    """
    u = check_probability(u, "u")
    A, names = _columns(X, columns)
    out = chi_curve(A, u=[u], columns=names, level=level, tail=tail)
    tau = kendall_tau(A, columns=names).to_numpy()
    idx = {nm: k for k, nm in enumerate(names)}
    out["kendall_tau"] = [tau[idx[a], idx[b]] for a, b in zip(out["column_1"], out["column_2"], strict=True)]
    return out
