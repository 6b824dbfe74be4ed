"""Two-sample distances between a real sample and a generated one: sliced / max-sliced Wasserstein, energy, MMD, KS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import lgamma, pi, sqrt

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from ..validation import (
    as_generator,
    check_array,
    check_directions,
    check_positive_int,
    check_probability,
    column_label,
)
from .tail_index import orient

__all__ = [
    "ccdf_area",
    "energy_distance",
    "ks_distances",
    "max_sliced_wasserstein",
    "mmd",
    "nearest_distances",
    "noise_floor",
    "sliced_wasserstein",
    "slog",
    "tail_ks",
    "wasserstein_1d",
]

_SPACES = ("natural", "slog")


# ----------------------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------------------


def slog(x) -> np.ndarray:
    """Signed logarithm ``sign(x) * log1p(|x|)``, elementwise.

    Odd, monotone and the identity near 0, it compresses power-law tails to exponential ones, so that a
    distance computed on ``slog`` data is not dominated by the few largest values.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.log1p(np.abs(x))


def _pair(x, y, *, min_rows: int = 1, columns=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (real, generated) pair as 2-D float arrays with the same number of columns."""
    shape_x, shape_y = np.shape(x), np.shape(y)
    X = check_array(x, "x (real sample)", ndim=2, min_rows=min_rows, columns=columns)
    Y = check_array(y, "y (generated sample)", ndim=2, min_rows=min_rows, columns=columns)
    if X.shape[1] != Y.shape[1]:
        raise DataError(
            f"x has shape {shape_x} and y has shape {shape_y}: the two samples must have the same number "
            "of columns"
        )
    return X, Y


def _unit_scale(*arrays: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Divide every array by the same power of two ``c`` so that the largest absolute value lies in [0.5, 1).

    Every distance here is homogeneous in the data (W_p, energy: degree 1; MMD with the median bandwidth:
    degree 0), and multiplying by a power of two is exact in binary floating point (subnormals included,
    since the values are scaled up). Computing at unit scale and multiplying back keeps the results
    equivariant from about 1e-300 to 1e300: without it, squares underflow to an exact 0 near 1e-300 (two
    different samples at distance 0) and overflow to inf / NaN above about 1e154. Returns the scaled
    arrays and ``c`` (1.0 when every value is 0).
    """
    big = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if big == 0.0 or not np.isfinite(big):
        return list(arrays), 1.0
    e = int(np.frexp(big)[1])  # big = f * 2**e with f in [0.5, 1)
    return [np.ldexp(a, -e) for a in arrays], float(np.ldexp(1.0, e))


def _space(X: np.ndarray, Y: np.ndarray, space: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Map both samples to the distance's space, then bring them to unit scale by an exact power of two
    ``c`` (see :func:`_unit_scale`; W_p is homogeneous: W_p(X, Y) = c W_p(X / c, Y / c)). Returns
    ``(X, Y, c)``."""
    if space not in _SPACES:
        raise ValueError(f"space must be one of {_SPACES}, got {space!r}")
    if space == "slog":
        X, Y = slog(X), slog(Y)
    (X, Y), c = _unit_scale(X, Y)
    return X, Y, c


def _check_p(p) -> float:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"p must be a number >= 1, got {p!r}") from None
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p must be a finite number >= 1, got {p}")
    return p


def _random_directions(d: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k directions uniform on the unit sphere S^{d-1}, shape (k, d)."""
    U = rng.standard_normal((k, d))
    return U / np.linalg.norm(U, axis=1, keepdims=True)


def _orthogonal_frames(d: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k unit directions made of stacked Haar-random orthonormal frames (stratified sphere sampling), (k, d)."""
    out = []
    for _ in range(-(-k // d)):
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        out.append((Q * np.sign(np.diag(R))).T)
    return np.concatenate(out, axis=0)[:k]


# ----------------------------------------------------------------------------------------------------------
# exact 1-D Wasserstein between empirical measures
# ----------------------------------------------------------------------------------------------------------


def _merge_grid(n: int, m: int) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Common rank grid of two empirical quantile functions.

    The quantile functions of n and m equally weighted atoms are step functions of the rank t in (0, 1]
    that jump at i/n and j/m. On each interval of the merged breakpoints both are constant, so

        W_p^p = sum_k w_k |x_(ix_k) - y_(iy_k)|^p

    exactly, with w_k the interval lengths (integers over n*m, kept exact in int64). For n == m this is
    the familiar mean of |x_(i) - y_(i)|^p and the index arrays are None.
    """
    if n == m:
        return None, None, np.full(n, 1.0 / n)
    t = np.union1d(np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n)
    w = np.diff(t, prepend=0) / (float(n) * float(m))
    ix = (t + m - 1) // m - 1
    iy = (t + n - 1) // n - 1
    return ix, iy, w


def _wpp_sorted(xs: np.ndarray, ys: np.ndarray, grid, p: float) -> np.ndarray:
    """W_p^p between sorted 1-D samples along the last axis (batched)."""
    ix, iy, w = grid
    diff = xs - ys if ix is None else xs[..., ix] - ys[..., iy]
    np.abs(diff, out=diff)
    if p == 2:
        diff *= diff
    elif p != 1:
        diff **= p
    return diff @ w


def wasserstein_1d(x, y, p: float = 2) -> float:
    """Exact p-Wasserstein distance between two 1-D empirical measures (equal weights; n != m allowed).

    ``W_p = (integral_0^1 |F^{-1}(t) - G^{-1}(t)|^p dt)^(1/p)`` with the empirical quantile functions
    evaluated on the merged grid of their breakpoints (no interpolation, no resampling).

    Parameters
    ----------
    x, y : array_like, shape (n,) and (m,)
        Real and generated samples (finite; a single-column 2-D array is flattened).
    p : float, default 2
        Order, >= 1.

    Returns
    -------
    w : float
        W_p >= 0 (not its p-th power), in the units of the data.

    Examples
    --------
    >>> round(wasserstein_1d([0.0, 1.0], [0.0, 0.0, 3.0], p=1), 4)
    0.8333
    """
    p = _check_p(p)
    (xs, ys), c = _unit_scale(
        check_array(x, "x (real sample)", ndim=1), check_array(y, "y (generated sample)", ndim=1)
    )
    xs, ys = np.sort(xs), np.sort(ys)
    return c * float(_wpp_sorted(xs, ys, _merge_grid(xs.size, ys.size), p) ** (1.0 / p))


def _projected_wpp(X, Y, U, p, grid, batch_bytes: float = 64e6) -> np.ndarray:
    """W_p^p of the projections of X and Y on each row of U, in batches bounded by ``batch_bytes``."""
    n, m = X.shape[0], Y.shape[0]
    b = max(1, int(batch_bytes // (8 * 3 * (n + m))))
    out = np.empty(U.shape[0])
    for s in range(0, U.shape[0], b):
        V = U[s : s + b]
        xs = np.sort(V @ X.T, axis=1)
        ys = np.sort(V @ Y.T, axis=1)
        out[s : s + b] = _wpp_sorted(xs, ys, grid, p)
    return out


def sliced_wasserstein(
    x,
    y,
    n_projections: int = 200,
    p: float = 2,
    seed: int | np.random.Generator | None = 0,
    space: str = "natural",
    directions=None,
) -> float:
    """Sliced p-Wasserstein distance ``(E_theta W_p^p(theta'X, theta'Y))^(1/p)``.

    The expectation over directions theta uniform on the unit sphere is a Monte Carlo average over
    ``n_projections`` seeded directions; each 1-D distance is exact (sorted quantile functions on the merged
    rank grid, so n != m is handled without resampling). Same definition as POT's
    ``ot.sliced_wasserstein_distance`` (Bonneel et al. 2015), which it equals given the same directions.

    Parameters
    ----------
    x, y : array-like, shape (n, d) and (m, d)
        Real and generated samples (1-D arrays are one column; then the distance is the exact 1-D W_p).
    n_projections : int
        Number of random directions (ignored when d == 1 or ``directions`` is given).
    p : float
        Order, >= 1.
    seed : int, Generator or None
        Seed for the directions.
    space : {"natural", "slog"}
        Compute on the data as given or on ``slog(x) = sign(x) log1p|x|`` of both samples.
    directions : array-like, shape (k, d), optional
        Explicit directions (normalised to unit length).

    Returns
    -------
    float
        The sliced W_p, in the units of the data (of slog-data for ``space="slog"``).
    """
    X, Y = _pair(x, y)
    X, Y, c = _space(X, Y, space)
    p = _check_p(p)
    d = X.shape[1]
    if directions is not None:
        U = check_directions(directions, d)
    elif d == 1:
        U = np.ones((1, 1))
    else:
        U = _random_directions(d, check_positive_int(n_projections, "n_projections"), as_generator(seed))
    wpp = _projected_wpp(X, Y, U, p, _merge_grid(X.shape[0], Y.shape[0]))
    return c * float(np.mean(wpp) ** (1.0 / p))


# ----------------------------------------------------------------------------------------------------------
# max-sliced Wasserstein
# ----------------------------------------------------------------------------------------------------------


class _Sliced:
    """W_p^p(u) = W_p^p(u'X, u'Y) with its coupling, for the ascent on the sphere."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, p: float):
        self.X, self.Y, self.p = X, Y, p
        self.grid = _merge_grid(X.shape[0], Y.shape[0])
        self.evals = 0

    def value(self, u: np.ndarray) -> float:
        """W_p^p(u'X, u'Y), by sorting the two projections."""
        self.evals += 1
        return float(_wpp_sorted(np.sort(self.X @ u), np.sort(self.Y @ u), self.grid, self.p))

    def coupling(self, u: np.ndarray) -> np.ndarray:
        """Rows of D = X_sorted(u) - Y_sorted(u) on the merged rank grid, shape (K, d)."""
        ox = np.argsort(self.X @ u)
        oy = np.argsort(self.Y @ u)
        ix, iy, _ = self.grid
        if ix is not None:
            ox, oy = ox[ix], oy[iy]
        return np.take(self.X, ox, axis=0) - np.take(self.Y, oy, axis=0)

    def ascend(self, u: np.ndarray, max_iter: int, tol: float) -> tuple[float, np.ndarray]:
        """Monotone ascent of W_p^p on the sphere from u (safeguarded fixed-point + geodesic line search).

        For a fixed sorting coupling (D = X_sorted - Y_sorted), W_p^p(u) = sum_k w_k |D_k u|^p; this is an
        upper bound of W_p^p that touches it at u (the sorted coupling is optimal at u). For p = 2 the bound
        u'(D'WD)u is maximised by the top eigenvector of D'WD, which we try first; else (or if the
        eigenvector does not increase the true objective) a geodesic step along the projected gradient with
        backtracking. Every accepted step strictly increases the exact objective.
        """
        p, w = self.p, self.grid[2]
        f = self.value(u)
        theta = 0.3
        for _ in range(max_iter):
            D = self.coupling(u)
            f_old = f
            moved = False
            if p == 2:
                _, vecs = np.linalg.eigh(D.T @ (D * w[:, None]))
                v = vecs[:, -1] * (1.0 if vecs[:, -1] @ u >= 0 else -1.0)
                if np.linalg.norm(v - u) > 1e-12:
                    fv = self.value(v)
                    if fv > f:
                        u, f, moved = v, fv, True
            if not moved:
                r = D @ u
                g = D.T @ (w * p * np.abs(r) ** (p - 1) * np.sign(r))
                g -= (g @ u) * u
                gn = np.linalg.norm(g)
                if gn <= 1e-14 * max(f, 1e-300):
                    break
                v = g / gn
                t = min(2.0 * theta, pi / 4)
                while t > 1e-10:
                    cand = np.cos(t) * u + np.sin(t) * v
                    cand /= np.linalg.norm(cand)
                    fc = self.value(cand)
                    if fc > f:
                        u, f, moved, theta = cand, fc, True, t
                        break
                    t *= 0.5
            if not moved or f - f_old <= tol * f:
                break
        return f, u


def _canonical_sign(u: np.ndarray) -> np.ndarray:
    return u if u[np.argmax(np.abs(u))] >= 0 else -u


def max_sliced_wasserstein(
    x,
    y,
    p: float = 2,
    seed: int | np.random.Generator | None = 0,
    space: str = "natural",
    n_restarts: int = 4,
    n_candidates: int = 512,
    screen_size: int = 4096,
    max_iter: int = 100,
    tol: float = 1e-7,
    return_direction: bool = False,
):
    """Max-sliced p-Wasserstein distance ``max_{|u| = 1} W_p(u'X, u'Y)`` with the direction optimised.

    Deshpande et al. (2019) define it as the largest 1-D Wasserstein distance over directions. POT's
    ``ot.max_sliced_wasserstein_distance`` takes the maximum over random directions only, with O(n x
    n_projections) memory; here the direction is optimised:

    1. screening: ``n_candidates`` seeded random directions, the coordinate axes, the principal axes of the
       pooled data and of the covariance difference, and the mean difference are scored by the exact
       W_p on seeded subsamples of at most ``screen_size`` rows of each sample;
    2. the ``n_restarts`` best distinct candidates are refined by a monotone ascent on the sphere (for a
       fixed sorted coupling D = X_sorted - Y_sorted, W_2^2(u) = u' D'WD u, so the fixed-point step is the
       top eigenvector of D'WD; otherwise a geodesic projected-gradient step with backtracking) on the
       subsamples;
    3. the refined directions are scored on the full samples and the best is refined there.

    The answer is deterministic given ``seed``. Since the objective is not concave the maximum is local, but
    it is at least the best of all screened directions (so at least POT's value on a comparable number of
    random directions, up to subsampling noise in the screen). Cost: a few dozen O(n log n) sorts and
    O(n d) memory (about 0.3 s and 50 MB at n = 1e5, d = 10).

    Parameters
    ----------
    x, y : array-like, shape (n, d) and (m, d)
        Real and generated samples (1-D: the exact 1-D W_p).
    p : float
        Order, >= 1.
    seed : int, Generator or None
        Seed for candidates and subsamples.
    space : {"natural", "slog"}
        Data as given or ``sign(x) log1p|x|``.
    n_restarts, n_candidates, screen_size, max_iter : int
        Search effort (see above).
    tol : float
        Relative improvement below which an ascent stops.
    return_direction : bool
        Also return the unit direction (sign fixed so that its largest component is positive).

    Returns
    -------
    float, or (float, ndarray of shape (d,))
        The max-sliced W_p (not its p-th power) and optionally the direction.

    Examples
    --------
    A shift by 1 along the first axis: the best direction is that axis and W_2 is the shift.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((300, 3))
    >>> w, u = max_sliced_wasserstein(x, x + [1.0, 0.0, 0.0], return_direction=True)
    >>> round(w, 3), round(float(u[0]), 3)
    (1.0, 1.0)
    """
    X, Y = _pair(x, y)
    X, Y, c = _space(X, Y, space)
    p = _check_p(p)
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    n_candidates = check_positive_int(n_candidates, "n_candidates")
    screen_size = check_positive_int(screen_size, "screen_size", minimum=2)
    max_iter = check_positive_int(max_iter, "max_iter")
    rng = as_generator(seed)
    n, d = X.shape
    m = Y.shape[0]
    if d == 1:
        value = c * _Sliced(X, Y, p).value(np.ones(1)) ** (1.0 / p)
        return (value, np.ones(1)) if return_direction else value

    # 1. candidates, scored on subsamples
    Xs = X[np.sort(rng.choice(n, screen_size, replace=False))] if n > screen_size else X
    Ys = Y[np.sort(rng.choice(m, screen_size, replace=False))] if m > screen_size else Y
    cands = [_random_directions(d, n_candidates, rng), np.eye(d)]
    pooled = np.concatenate([Xs, Ys])
    cands.append(np.linalg.eigh(np.cov(pooled, rowvar=False, bias=True))[1].T)
    cands.append(
        np.linalg.eigh(np.cov(Xs, rowvar=False, bias=True) - np.cov(Ys, rowvar=False, bias=True))[1].T
    )
    dm = Xs.mean(axis=0) - Ys.mean(axis=0)
    if np.linalg.norm(dm) > 0:
        cands.append(dm[None, :] / np.linalg.norm(dm))
    U = np.concatenate(cands)
    small = _Sliced(Xs, Ys, p)
    scores = _projected_wpp(Xs, Ys, U, p, small.grid)
    starts: list[np.ndarray] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(abs(U[i] @ s) < 0.98 for s in starts):
            starts.append(U[i])
        if len(starts) == n_restarts:
            break

    # 2. refine on the subsamples; 3. pick on the full data and polish there
    full = _Sliced(X, Y, p)
    sub_is_full = Xs is X and Ys is Y
    best_f, best_u = -np.inf, None
    for u0 in starts:
        f_small, u = small.ascend(u0, max_iter, tol)
        f = f_small if sub_is_full else full.value(u)
        if f > best_f:
            best_f, best_u = f, u
    if not sub_is_full:
        best_f, best_u = full.ascend(best_u, max_iter, tol)
    value = c * float(best_f ** (1.0 / p))
    if return_direction:
        return value, _canonical_sign(best_u)
    return value


# ----------------------------------------------------------------------------------------------------------
# energy distance and MMD
# ----------------------------------------------------------------------------------------------------------


def _energy_1d_rows(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Exact 1-D energy distance (V-statistic) of each row pair of P (B, n) and Q (B, m), by sorting.

    With S(z) = sum_{a,b} |z_a - z_b| = 2 sum_i (2i - N - 1) z_(i) over the sorted z (i = 1..N), the
    cross sum is sum_{i,j} |x_i - y_j| = (S(x u y) - S(x) - S(y)) / 2, so
    E = 2 cross / (n m) - S(x) / n^2 - S(y) / m^2 = 2 integral (F_n - G_m)^2 dt.
    """
    n, m = P.shape[1], Q.shape[1]
    N = n + m
    xs = np.sort(P, axis=1)
    ys = np.sort(Q, axis=1)
    zs = np.sort(np.concatenate([xs, ys], axis=1), axis=1, kind="stable")  # timsort merges the two runs

    def S(z, k):
        return 2.0 * (z @ (2.0 * np.arange(1, k + 1) - k - 1.0))

    sx, sy, sz = S(xs, n), S(ys, m), S(zs, N)
    cross = 0.5 * (sz - sx - sy)
    e = 2.0 * cross / (float(n) * m) - sx / float(n) ** 2 - sy / float(m) ** 2
    return np.maximum(e, 0.0)


def energy_distance(
    x,
    y,
    n_projections: int = 100,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """Energy distance ``E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|`` in O((n + m) log(n + m)) time and O(n + m) memory.

    Returned in this squared-distance form (Szekely & Rizzo 2013), the V-statistic on the empirical
    measures, as ``dcor.energy_distance`` does. scipy's ``scipy.stats.energy_distance`` (1-D only) returns
    its square root, ``sqrt(2 integral (F - G)^2)``.

    * d = 1: exact, from sorting: E = 2 integral (F_n - G_m)^2 dt (Cramer's form).
    * d > 1: for every z in R^d, |z| = c_d E_theta |theta'z| with theta uniform on the sphere and
      c_d = sqrt(pi) Gamma((d + 1)/2) / Gamma(d/2) (Baringhaus & Franz 2004), so
      E_d(X, Y) = c_d E_theta[E_1(theta'X, theta'Y)] holds exactly for the empirical measures. The average
      over theta is estimated from ``n_projections`` directions made of stacked random orthonormal frames
      (stratified, lower variance than i.i.d. directions); each 1-D term is exact. The estimate is unbiased
      for the exact V-statistic and never negative; its relative Monte Carlo error is a few percent at 100
      projections.

    Parameters
    ----------
    x, y : array-like, shape (n, d) and (m, d)
        Real and generated samples (1-D accepted).
    n_projections : int
        Directions for d > 1.
    seed : int, Generator or None
        Seed for the directions.

    Returns
    -------
    float
        E >= 0, in the units of the data.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((300, 3))
    >>> round(energy_distance(x, x), 3)
    0.0
    >>> round(energy_distance(x[:, 0], x[:, 0] + 1.0), 4)  # d = 1: exact
    0.5647
    >>> round(energy_distance(x, x + [1.0, 0.0, 0.0]), 3)  # d = 3: 100 seeded projections
    0.379
    """
    X, Y = _pair(x, y)
    (X, Y), scale = _unit_scale(X, Y)  # E is homogeneous of degree 1
    d = X.shape[1]
    if d == 1:
        return scale * float(_energy_1d_rows(X.T, Y.T)[0])
    k = check_positive_int(n_projections, "n_projections")
    U = _orthogonal_frames(d, k, as_generator(seed))
    n, m = X.shape[0], Y.shape[0]
    b = max(1, int(64e6 // (8 * 4 * (n + m))))
    e = np.concatenate([_energy_1d_rows(U[s : s + b] @ X.T, U[s : s + b] @ Y.T) for s in range(0, k, b)])
    c_d = sqrt(pi) * np.exp(lgamma((d + 1) / 2) - lgamma(d / 2))
    return scale * float(c_d * e.mean())


def _imq_sum(A: np.ndarray, B: np.ndarray, c2: float, block: int) -> float:
    """sum_{i,j} (1 + |a_i - b_j|^2 / c^2)^(-1/2), computed in row blocks (memory O(block x len(B)))."""
    nb = np.einsum("ij,ij->i", B, B)
    total = 0.0
    for s in range(0, A.shape[0], block):
        a = A[s : s + block]
        sq = np.einsum("ij,ij->i", a, a)[:, None] + nb[None, :] - 2.0 * (a @ B.T)
        np.maximum(sq, 0.0, out=sq)
        sq /= c2
        sq += 1.0
        total += float(np.sum(1.0 / np.sqrt(sq)))
    return total


def mmd(
    x,
    y,
    kernel: str = "imq",
    bandwidth: float | str = "median",
    max_samples: int = 4000,
    seed: int | np.random.Generator | None = 0,
    block: int = 1024,
) -> float:
    """Unbiased squared maximum mean discrepancy with the inverse multiquadric kernel.

    ``MMD^2_u = mean_{i != i'} k(x_i, x_i') + mean_{j != j'} k(y_j, y_j') - 2 mean_{i, j} k(x_i, y_j)``
    (Gretton et al. 2012) with ``k(a, b) = (1 + |a - b|^2 / c^2)^(-1/2)`` (IMQ, beta = -1/2). Its slowly
    decaying tails keep it sensitive to differences far out, where a Gaussian kernel is blind; it
    metrizes weak convergence and detects non-convergence of tails (Gorham & Mackey 2017). The unbiased
    estimate can be slightly negative when the samples agree.

    Parameters
    ----------
    x, y : array-like, shape (n, d) and (m, d)
        Real and generated samples (1-D accepted), at least 2 rows each.
    kernel : {"imq"}
        Only the IMQ kernel is provided.
    bandwidth : float or "median"
        c > 0; "median" takes the median pairwise distance of a seeded pooled subsample of 1000 rows.
    max_samples : int
        Each sample larger than this is replaced by a seeded subsample of this size without replacement
        (the cost is O(max_samples^2 d)), which keeps the estimator unbiased for the full-sample population
        MMD^2 but adds sampling noise.
    seed : int, Generator or None
        Seed for the subsamples.
    block : int
        Rows per block (memory O(block x max_samples)).

    Returns
    -------
    float
        The unbiased estimate of MMD^2 (dimensionless, kernel values lie in (0, 1]); may be slightly
        negative when the two samples come from the same law.

    Notes
    -----
    The data are centred and divided by a power of two before the kernel sums (squared distances neither
    underflow near 1e-300 nor overflow above 1e154); with the median bandwidth the result is scale
    invariant, with a numeric bandwidth it depends on the data only through ``|a - b| / c``.
    """
    if kernel != "imq":
        raise ValueError(f"kernel must be 'imq', got {kernel!r}")
    X, Y = _pair(x, y, min_rows=2)
    rng = as_generator(seed)
    max_samples = check_positive_int(max_samples, "max_samples", minimum=2)
    block = check_positive_int(block, "block")
    if X.shape[0] > max_samples:
        X = X[rng.choice(X.shape[0], max_samples, replace=False)]
    if Y.shape[0] > max_samples:
        Y = Y[rng.choice(Y.shape[0], max_samples, replace=False)]
    center = np.median(np.concatenate([X, Y]), axis=0)  # reduces cancellation in |a|^2 + |b|^2 - 2ab
    (X, Y), scale = _unit_scale(X - center, Y - center)  # squares neither underflow nor overflow
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ValueError(f"bandwidth must be a positive number or 'median', got {bandwidth!r}")
        Z = np.concatenate([X, Y])
        if Z.shape[0] > 1000:
            Z = Z[rng.choice(Z.shape[0], 1000, replace=False)]
        iu = np.triu_indices(Z.shape[0], 1)
        dist = np.sqrt(np.maximum(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)[iu], 0))
        c = float(np.median(dist))
        if c <= 0:
            c = float(np.mean(dist)) or 1.0
    else:
        c = float(bandwidth)
        if not np.isfinite(c) or c <= 0:
            raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}")
        c /= scale  # the kernel sees |a - b| / c, unchanged by the rescaling
        if not (np.isfinite(c) and c > 0):
            raise ValueError(
                f"bandwidth {bandwidth!r} is too far from the scale of the data (about {scale:.3g}) to be "
                "represented; pass a bandwidth comparable to the distances between rows, or 'median'"
            )
    c2 = c * c
    n, m = X.shape[0], Y.shape[0]
    kxx = (_imq_sum(X, X, c2, block) - n) / (n * (n - 1.0))
    kyy = (_imq_sum(Y, Y, c2, block) - m) / (m * (m - 1.0))
    kxy = _imq_sum(X, Y, c2, block) / (float(n) * m)
    return float(kxx + kyy - 2.0 * kxy)


# ----------------------------------------------------------------------------------------------------------
# per-marginal tests and tail curves
# ----------------------------------------------------------------------------------------------------------


def _labels(columns, d: int) -> list:
    if columns is None:
        return list(range(d))
    columns = list(columns)
    if len(columns) != d:
        raise ValueError(f"columns has {len(columns)} names but the data have {d} columns")
    return columns


def ks_distances(x, y, columns: Sequence | None = None) -> pd.DataFrame:
    """Two-sample Kolmogorov-Smirnov statistic and p-value per marginal (``scipy.stats.ks_2samp``).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Real and generated samples (1-D accepted).
    columns : sequence of length d, optional
        Column labels (default 0, ..., d - 1).

    Returns
    -------
    table : pandas.DataFrame, one row per column
        Columns ``column, statistic, pvalue, n_real, n_generated``; statistic ``sup_t |F_n(t) - G_m(t)|``.
    """
    X, Y = _pair(x, y, columns=columns)
    labels = _labels(columns, X.shape[1])
    rows = []
    for j, lab in enumerate(labels):
        r = stats.ks_2samp(X[:, j], Y[:, j])
        rows.append((lab, float(r.statistic), float(r.pvalue), X.shape[0], Y.shape[0]))
    return pd.DataFrame(rows, columns=["column", "statistic", "pvalue", "n_real", "n_generated"])


def tail_ks(x, y, q: float = 0.95, tail: str = "upper", columns: Sequence | None = None) -> pd.DataFrame:
    """KS distance between the conditional distributions beyond the real sample's q-quantile, per marginal.

    For ``tail="upper"`` the threshold t_j is the real q-quantile of column j and the KS test compares
    {x_j > t_j} with {y_j > t_j}; ``"lower"`` does the same for -x (values below the real (1 - q)-quantile),
    ``"both"`` for |x|. Exceedance counts and fractions are reported, since the conditional law hides a
    wrong tail mass. Where either sample has no exceedance the statistic and p-value are NaN.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Real and generated samples (1-D accepted).
    q : float, default 0.95
        Probability in (0, 1) of the real quantile used as threshold.
    tail : {"upper", "lower", "both"}, default "upper"
        Which tail: x, -x or |x| (see :func:`heavytail_diffusion.diagnostics.tail_index.orient`).
    columns : sequence of length d, optional
        Column labels (default 0, ..., d - 1).

    Returns
    -------
    table : pandas.DataFrame, one row per column
        Columns ``column, threshold, n_real, n_generated, frac_real, frac_generated, statistic, pvalue``
        (threshold on the original scale of the data; n_* exceedance counts, frac_* = n_* / sample size).
    """
    q = check_probability(q, "q")
    X, Y = _pair(x, y, columns=columns)
    labels = _labels(columns, X.shape[1])
    Xo, Yo = orient(X, tail), orient(Y, tail)
    rows = []
    for j, lab in enumerate(labels):
        t = float(np.quantile(Xo[:, j], q))
        a, b = Xo[Xo[:, j] > t, j], Yo[Yo[:, j] > t, j]
        if a.size and b.size:
            r = stats.ks_2samp(a, b)
            st, pv = float(r.statistic), float(r.pvalue)
        else:
            st = pv = float("nan")
        rows.append(
            (
                lab,
                -t if tail == "lower" else t,
                a.size,
                b.size,
                a.size / X.shape[0],
                b.size / Y.shape[0],
                st,
                pv,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "column",
            "threshold",
            "n_real",
            "n_generated",
            "frac_real",
            "frac_generated",
            "statistic",
            "pvalue",
        ],
    )


def _loglog_area(a: np.ndarray, b: np.ndarray, t0: float) -> tuple[float, float, float]:
    """Area and signed area between log S_a and log S_b over log t in [log t0, log min(max a, max b))."""
    a, b = np.sort(a), np.sort(b)
    T = min(a[-1], b[-1])
    if T <= t0:
        return 0.0, 0.0, T
    pts = np.concatenate([[t0], a[(a > t0) & (a < T)], b[(b > t0) & (b < T)], [T]])
    pts = np.unique(pts)
    left = pts[:-1]
    sa = (a.size - np.searchsorted(a, left, side="right")) / a.size  # P(A > t), constant on [left, right)
    sb = (b.size - np.searchsorted(b, left, side="right")) / b.size
    dlog = np.diff(np.log(pts))
    diff = np.log(sb) - np.log(sa)
    return float(np.abs(diff) @ dlog), float(diff @ dlog), float(T)


def ccdf_area(x, y, q_min: float = 0.9, tail: str = "upper", columns: Sequence | None = None) -> pd.DataFrame:
    """Area between the log-log empirical survival curves of real and generated data, per marginal.

    With S_x(t) = #{x_i > t} / n and S_y likewise (unconditional, so a wrong tail mass counts), t0 the
    real q_min-quantile and T = min(max x, max y) (the range where both log S are finite),

        area   = integral_{log t0}^{log T} |log S_y(t) - log S_x(t)| d(log t)
        signed = integral_{log t0}^{log T} (log S_y(t) - log S_x(t)) d(log t)

    computed exactly for the step functions. signed > 0: the generated tail is too heavy (too much mass
    far out); signed < 0: too light. ``mean_log_ratio = signed / (log T - log t0)`` is the average log
    ratio of the survival functions. Logs need t0 > 0: ``tail="upper"`` uses x, ``"lower"`` uses -x
    (losses), ``"both"`` |x|; a DataError is raised if t0 <= 0 (raise q_min or shift the data).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Real and generated samples (1-D accepted).
    q_min : float, default 0.9
        Probability in (0, 1) of the real quantile t0 where the curves start.
    tail : {"upper", "lower", "both"}, default "upper"
        Which tail: x, -x or |x|.
    columns : sequence of length d, optional
        Column labels (default 0, ..., d - 1).

    Returns
    -------
    table : pandas.DataFrame, one row per column
        Columns ``column, threshold, upper_limit, area, signed_area, mean_log_ratio`` (threshold t0 and
        upper_limit T on the oriented scale; the areas in units of log t times log probability).
    """
    q_min = check_probability(q_min, "q_min")
    X, Y = _pair(x, y, columns=columns)
    labels = _labels(columns, X.shape[1])
    Xo, Yo = orient(X, tail), orient(Y, tail)
    rows = []
    for j, lab in enumerate(labels):
        t0 = float(np.quantile(Xo[:, j], q_min))
        if t0 <= 0:
            raise DataError(
                f"ccdf_area: the real q_min = {q_min} quantile of {column_label(columns, j)} "
                f"({'oriented for tail=' + tail}) is {t0:g} <= 0; log-log survival needs a positive "
                "threshold: raise q_min, pick another tail or shift the data"
            )
        area, signed, T = _loglog_area(Xo[:, j], Yo[:, j], t0)
        width = np.log(T) - np.log(t0) if T > t0 else 0.0
        rows.append((lab, t0, T, area, signed, signed / width if width > 0 else 0.0))
    return pd.DataFrame(
        rows, columns=["column", "threshold", "upper_limit", "area", "signed_area", "mean_log_ratio"]
    )


# ----------------------------------------------------------------------------------------------------------
# noise floor
# ----------------------------------------------------------------------------------------------------------


def noise_floor(
    metric: Callable[..., float],
    reference,
    n: int,
    n_repeats: int = 5,
    seed: int | np.random.Generator | None = 0,
    **kwargs,
) -> tuple[float, float]:
    """Reference-vs-reference value of a two-sample metric: what a perfect generator would score.

    Parameters
    ----------
    metric : callable ``metric(a, b, **kwargs) -> float``
        E.g. ``max_sliced_wasserstein``; it must return a number.
    reference : array-like of shape (N, d), or callable ``sampler(n, seed) -> array``
        An array is split, at each repeat, into two disjoint random halves of n rows each (needs N >= 2n);
        a sampler is called twice per repeat with fresh seeds drawn from ``seed``.
    n : int
        Size of each of the two samples (use the sizes of the comparison being judged).
    n_repeats : int
        Repetitions (>= 2 gives a standard deviation).
    seed : int, Generator or None
        Seed for the splits / sampler seeds.
    **kwargs
        Passed to ``metric``.

    Returns
    -------
    (mean, std) : tuple of float
        Mean and standard deviation (ddof = 1; 0 for one repeat) over the repeats.
    """
    if not callable(metric):
        raise TypeError("metric must be a callable metric(a, b, **kwargs) -> float")
    n = check_positive_int(n, "n")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    rng = as_generator(seed)
    if callable(reference):
        pairs = (
            (reference(n, int(rng.integers(2**63 - 1))), reference(n, int(rng.integers(2**63 - 1))))
            for _ in range(n_repeats)
        )
    else:
        R = check_array(reference, "reference", ndim=None)
        if R.shape[0] < 2 * n:
            raise DataError(
                f"reference has {R.shape[0]} rows; two disjoint halves of n = {n} rows need at least {2 * n}"
            )

        def split():
            idx = rng.permutation(R.shape[0])
            return R[idx[:n]], R[idx[n : 2 * n]]

        pairs = (split() for _ in range(n_repeats))
    vals = []
    for a, b in pairs:
        v = metric(a, b, **kwargs)
        if isinstance(v, tuple):
            v = v[0]
        vals.append(float(v))
    vals = np.asarray(vals)
    return float(vals.mean()), float(vals.std(ddof=1)) if vals.size > 1 else 0.0


# ----------------------------------------------------------------------------------------------------------
# nearest training rows (memorisation)
# ----------------------------------------------------------------------------------------------------------


def nearest_distances(x, reference, exclude_self: bool = False, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance from every row of ``x`` to its nearest row of ``reference``.

    The yardstick of memorisation: generated rows much closer to training rows than held-out rows are
    (or than the training rows are to each other) are copies.

    Parameters
    ----------
    x : array-like of shape (m, d)
    reference : array-like of shape (n, d)
    exclude_self : bool
        ``x`` is ``reference`` (or a subset of its rows): skip the zero distance of each row to itself and
        return the distance to the nearest OTHER row (exact duplicates elsewhere still give 0).
    chunk : int
        Rows of ``x`` per block of the brute-force search.

    Returns
    -------
    ndarray of shape (m,)

    Notes
    -----
    A k-d tree (``scipy.spatial.cKDTree``) up to 16 dimensions; above, a chunked brute-force search with
    ``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b`` in O(chunk x n) memory (a k-d tree degenerates in high dimension:
    measured at d = 100, 2e4 queries against 1e4 rows took 97 s with the tree and 4 s by brute force).
    """
    X = check_array(x, "x", ndim=None)
    R = check_array(reference, "reference", ndim=None)
    if X.shape[1] != R.shape[1]:
        raise DataError(f"x has {X.shape[1]} columns but reference has {R.shape[1]}")
    k = 2 if exclude_self else 1
    if R.shape[0] < k:
        raise DataError(f"reference needs at least {k} rows, got {R.shape[0]}")
    (X, R), c = _unit_scale(X, R)  # squared distances neither under- nor overflow
    if X.shape[1] <= 16:
        from scipy.spatial import cKDTree

        dist = cKDTree(R).query(X, k=k)[0]
        return c * (dist[:, -1] if exclude_self else dist)
    chunk = check_positive_int(chunk, "chunk")
    r2 = np.einsum("ij,ij->i", R, R)
    out = np.empty(X.shape[0])
    for s in range(0, X.shape[0], chunk):
        A = X[s : s + chunk]
        d2 = np.einsum("ij,ij->i", A, A)[:, None] + r2[None, :] - 2.0 * (A @ R.T)
        np.maximum(d2, 0.0, out=d2)
        part = np.partition(d2, k - 1, axis=1)[:, k - 1] if exclude_self else d2.min(axis=1)
        out[s : s + chunk] = np.sqrt(part)
    return c * out
