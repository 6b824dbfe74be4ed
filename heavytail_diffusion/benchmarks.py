"""Seeded synthetic targets with ground truth (density, tail indices, marginal quantiles) for benchmarking.

Every benchmark is built by name with :func:`get_benchmark` and exposes the same small interface
(:class:`Benchmark`): ``dim``, ``tail_index`` (per-marginal upper-tail xi = 1/alpha, xi > 0 heavy tail,
0 light tail), ``lower_tail_index``, ``sample(n, seed)``, ``log_prob(x)`` and ``marginal_quantile(q)``.

Registered benchmarks
---------------------
ht, ht2d, ht10d   the Student-t mixtures of the paper (DESIGN.md, "Benchmarks to reproduce"), standardised
gmm2d             5 x 5 grid of Gaussian modes at {-2, ..., 2}^2 (light-tailed control)
mvt               correlated multivariate Student-t
copula-pareto     Gaussian copula with Pareto (or Student-t) margins of chosen tail indices
funnel            Neal's funnel with heavy-tailed Student-t nuisance coordinates
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from .validation import as_generator, check_array, check_positive_int, check_probability

__all__ = [
    "Benchmark",
    "Funnel",
    "GaussianCopula",
    "StudentTMixture",
    "get_benchmark",
    "list_benchmarks",
    "register_benchmark",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


# --------------------------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------------------------


class Benchmark:
    """A synthetic target distribution on R^dim with known ground truth.

    Subclasses implement ``_sample(n, rng)`` and, where tractable, ``_log_prob(x)`` and
    ``_marginal_quantile_exact(q)``. A subclass without exact marginal quantiles falls back on
    :meth:`marginal_quantile_mc`, which uses one cached Monte Carlo sample of ``quantile_mc_size`` rows
    (1,000,000 by default) drawn with seed ``quantile_mc_seed`` (12345) per instance.

    Attributes
    ----------
    name : str
        Registry name (set by :func:`get_benchmark`).
    dim : int
        Dimension d of the samples.
    tail_index : ndarray of shape (d,)
        Extreme-value index xi = 1/alpha of each marginal's upper tail (xi > 0 heavy, 0 light/Gumbel,
        xi < 0 bounded).
    lower_tail_index : ndarray of shape (d,)
        The same for the lower tail (the upper tail of -X_j).
    params : dict
        The parameters the benchmark was built with (defaults filled in).
    quantile_exact : bool
        Whether :meth:`marginal_quantile` is analytic (root finding / quadrature on the exact CDF) rather than
        Monte Carlo.
    """

    name: str = "benchmark"
    description: str = ""
    quantile_mc_size: int = 1_000_000
    quantile_mc_seed: int = 12345
    quantile_exact: bool = False

    def __init__(self, dim: int, tail_index, lower_tail_index=None):
        self.dim = int(dim)
        self.tail_index = np.broadcast_to(np.asarray(tail_index, dtype=np.float64), (self.dim,)).copy()
        lower = self.tail_index if lower_tail_index is None else lower_tail_index
        self.lower_tail_index = np.broadcast_to(np.asarray(lower, dtype=np.float64), (self.dim,)).copy()
        self.params: dict = {}
        self._mc_sorted: np.ndarray | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "dim")
        return f"{type(self).__name__}<{self.name}>(dim={self.dim}{', ' + args if args else ''})"

    # ---- sampling ----------------------------------------------------------------------------------------
    def sample(self, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` independent rows, shape (n, dim); the same integer seed gives identical output.

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, numpy Generator or None, default None
            Seed or generator (None: fresh entropy).

        Returns
        -------
        x : ndarray of float64, shape (n, dim)
            Independent draws from the benchmark distribution.

        Examples
        --------
        >>> import numpy as np
        >>> x = get_benchmark("ht2d").sample(500, seed=0)
        >>> x.shape
        (500, 2)
        >>> np.array_equal(x, get_benchmark("ht2d").sample(500, seed=0))
        True
        >>> round(float(x.std()), 2)
        0.95
        """
        n = check_positive_int(n, "n")
        out = np.asarray(self._sample(n, as_generator(seed)), dtype=np.float64)
        assert out.shape == (n, self.dim)
        return out

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    # ---- density -----------------------------------------------------------------------------------------
    def log_prob(self, x) -> np.ndarray:
        """Exact log density (natural log, w.r.t. Lebesgue measure on R^dim) at rows of ``x`` (n, dim) -> (n,)."""
        x = np.asarray(x) if not isinstance(x, np.ndarray) else x
        if self.dim == 1 and np.ndim(x) == 1:
            x = x[:, None]
        if np.ndim(x) == 2 and np.shape(x)[1] != self.dim:
            raise ValueError(
                f"x must have {self.dim} columns for benchmark '{self.name}', got {np.shape(x)[1]}"
            )
        x = check_array(x, "x", ndim=2, dim=self.dim)
        return np.asarray(self._log_prob(x), dtype=np.float64)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            f"benchmark '{self.name}' has no tractable density; log_prob is unavailable"
        )

    # ---- quantiles ---------------------------------------------------------------------------------------
    def marginal_quantile(self, q) -> np.ndarray:
        """Quantiles of each marginal: shape (len(q), dim), or (dim,) for a scalar ``q`` in (0, 1).

        Exact where the benchmark says so (``quantile_exact``), else from the cached Monte Carlo sample
        (:meth:`marginal_quantile_mc`).
        """
        scalar = np.ndim(q) == 0
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if qs.ndim != 1:
            raise ValueError(f"q must be a scalar or a 1-D array of probabilities, got shape {np.shape(q)}")
        for v in qs:
            check_probability(v, "q")
        out = self._marginal_quantile_exact(qs) if self.quantile_exact else self.marginal_quantile_mc(qs)
        out = np.asarray(out, dtype=np.float64).reshape(len(qs), self.dim)
        return out[0] if scalar else out

    def _marginal_quantile_exact(self, q: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def marginal_quantile_mc(self, q) -> np.ndarray:
        """Monte Carlo marginal quantiles from one cached sample of ``quantile_mc_size`` rows (seeded).

        The sample is drawn once per instance with seed ``quantile_mc_seed`` and kept sorted per column;
        quantiles use numpy's default (linear) interpolation. Resolution is limited by the sample size:
        q = 0.9999 rests on about ``1e-4 * quantile_mc_size`` points above it.
        """
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if self._mc_sorted is None:
            self._mc_sorted = np.sort(self.sample(self.quantile_mc_size, seed=self.quantile_mc_seed), axis=0)
        return np.quantile(self._mc_sorted, qs, axis=0)


# --------------------------------------------------------------------------------------------------------------
# Mixtures of multivariate Student-t / Gaussian components
# --------------------------------------------------------------------------------------------------------------


class StudentTMixture(Benchmark):
    r"""Finite mixture of multivariate Student-t (or Gaussian, ``df=inf``) distributions.

    .. math::
        p(x) = \sum_k w_k\, t_\nu(x;\ \mu_k, L_k L_k^\top), \qquad
        t_\nu(x; \mu, \Sigma) = \frac{\Gamma((\nu+d)/2)}{\Gamma(\nu/2)(\nu\pi)^{d/2}|\Sigma|^{1/2}}
        \left(1 + \tfrac{1}{\nu}(x-\mu)^\top\Sigma^{-1}(x-\mu)\right)^{-(\nu+d)/2}.

    Each marginal j is a univariate mixture of scaled t: ``sum_k w_k t_nu((x - mu_kj) / s_kj) / s_kj`` with
    ``s_kj = sqrt((L_k L_k^T)_jj)``; its CDF is exact and :meth:`marginal_quantile` inverts it with Brent's
    method (on the survival function for q > 0.5 to keep accuracy deep in the upper tail), bracketed by the
    smallest and largest component quantiles. Every marginal has upper and lower tail index xi = 1/nu
    (0 for Gaussian components).

    Parameters
    ----------
    locs : array of shape (K, d)
    scale_trils : array of shape (K, d, d)
        Lower-triangular Cholesky factors L_k with positive diagonals.
    weights : array of shape (K,)
        Non-negative, summing to 1.
    df : float
        Degrees of freedom nu > 0 shared by all components; ``np.inf`` for Gaussian components.
    """

    quantile_exact = True

    def __init__(self, locs, scale_trils, weights, df: float):
        locs = np.atleast_2d(np.asarray(locs, dtype=np.float64))
        K, d = locs.shape
        L = np.asarray(scale_trils, dtype=np.float64).reshape(K, d, d)
        w = np.asarray(weights, dtype=np.float64).reshape(K)
        if not np.all(np.isfinite(locs)) or not np.all(np.isfinite(L)):
            raise ValueError("locs and scale_trils must be finite")
        if np.any(np.triu(L, 1) != 0) or np.any(np.diagonal(L, axis1=1, axis2=2) <= 0):
            raise ValueError("scale_trils must be lower triangular with positive diagonals")
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"weights must be non-negative and sum to 1, got sum {w.sum():g}")
        df = float(df)
        if not df > 0:
            raise ValueError(f"df must be > 0 (np.inf for Gaussian components), got {df}")
        xi = 0.0 if np.isinf(df) else 1.0 / df
        super().__init__(d, xi)
        self.locs, self.scale_trils, self.weights, self.df = locs, L, w / w.sum(), df
        self._marg_scale = np.sqrt(np.einsum("kij,kij->ki", L, L))  # (K, d): sqrt(diag(L L^T))

    # moments ------------------------------------------------------------------------------------------------
    def mean(self) -> np.ndarray:
        """Exact mean sum_k w_k mu_k (requires df > 1)."""
        if self.df <= 1:
            raise ValueError(f"the mean is undefined for df={self.df} <= 1")
        return self.weights @ self.locs

    def covariance(self) -> np.ndarray:
        """Exact covariance sum_k w_k (Sigma_k nu/(nu-2) + mu_k mu_k^T) - m m^T (requires df > 2)."""
        if self.df <= 2:
            raise ValueError(f"the covariance is infinite for df={self.df} <= 2")
        infl = 1.0 if np.isinf(self.df) else self.df / (self.df - 2.0)
        sig = np.einsum("kij,klj->kil", self.scale_trils, self.scale_trils) * infl
        m = self.mean()
        second = np.einsum("k,kij->ij", self.weights, sig + self.locs[:, :, None] * self.locs[:, None, :])
        return second - np.outer(m, m)

    # sampling ---------------------------------------------------------------------------------------------
    def _sample(self, n, rng):
        K, d = self.locs.shape
        comp = rng.choice(K, size=n, p=self.weights)
        z = rng.standard_normal((n, d))
        g = np.ones(n) if np.isinf(self.df) else rng.chisquare(self.df, size=n) / self.df
        out = np.empty((n, d))
        for k in range(K):
            idx = np.flatnonzero(comp == k)
            if idx.size:
                out[idx] = self.locs[k] + (z[idx] @ self.scale_trils[k].T) / np.sqrt(g[idx])[:, None]
        return out

    # density ----------------------------------------------------------------------------------------------
    def _log_prob(self, x):
        K, d = self.locs.shape
        nu = self.df
        lp = np.empty((K, x.shape[0]))
        for k in range(K):
            L = self.scale_trils[k]
            r = linalg.solve_triangular(L, (x - self.locs[k]).T, lower=True, check_finite=False)
            maha = np.einsum("ij,ij->j", r, r)
            logdet = np.sum(np.log(np.diag(L)))
            if np.isinf(nu):
                lp[k] = -0.5 * (d * _LOG_2PI + maha) - logdet
            else:
                lp[k] = (
                    special.gammaln((nu + d) / 2)
                    - special.gammaln(nu / 2)
                    - 0.5 * d * np.log(nu * np.pi)
                    - logdet
                    - 0.5 * (nu + d) * np.log1p(maha / nu)
                )
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights)
        return special.logsumexp(lp + logw[:, None], axis=0)

    # marginals --------------------------------------------------------------------------------------------
    def _unit(self):
        return stats.norm if np.isinf(self.df) else stats.t(self.df)

    def _unit_cdf(self, u):  # standard t (or normal) CDF via scipy.special: no frozen-distribution overhead
        return special.ndtr(u) if np.isinf(self.df) else special.stdtr(self.df, u)

    def marginal_cdf(self, x, j: int):
        """Exact CDF of marginal j at ``x`` (any shape).

        Parameters
        ----------
        x : array_like
            Points at which to evaluate, any shape.
        j : int
            Zero-based coordinate index, 0 <= j < dim.

        Returns
        -------
        F : ndarray of float64, same shape as ``x``
            ``F_j(x) = sum_k w_k T_nu((x - mu_kj) / s_kj)`` with T_nu the standard t (or normal) CDF.
        """
        x = np.asarray(x, dtype=np.float64)[..., None]
        u = (x - self.locs[:, j]) / self._marg_scale[:, j]
        return np.sum(self.weights * self._unit_cdf(u), axis=-1)

    def marginal_sf(self, x, j: int):
        """Exact survival function P(X_j > x) of marginal j (accurate deep in the upper tail).

        Parameters
        ----------
        x : array_like
            Points at which to evaluate, any shape.
        j : int
            Zero-based coordinate index, 0 <= j < dim.

        Returns
        -------
        S : ndarray of float64, same shape as ``x``
            ``S_j(x) = sum_k w_k T_nu(-(x - mu_kj) / s_kj)`` (computed directly, not as 1 - F_j).
        """
        x = np.asarray(x, dtype=np.float64)[..., None]
        u = (x - self.locs[:, j]) / self._marg_scale[:, j]
        return np.sum(self.weights * self._unit_cdf(-u), axis=-1)

    def _marginal_quantile_exact(self, q):
        unit = self._unit()
        out = np.empty((len(q), self.dim))
        keep = self.weights > 0
        for j in range(self.dim):
            mu, s = self.locs[keep, j], self._marg_scale[keep, j]
            for i, qi in enumerate(q):
                comp_q = mu + s * unit.ppf(qi)
                lo, hi = float(comp_q.min()), float(comp_q.max())
                if keep.sum() == 1 or hi - lo <= 1e-15 * max(1.0, abs(hi)):
                    out[i, j] = lo
                    continue
                if qi > 0.5:
                    f = lambda t, j=j, qi=qi: float(self.marginal_sf(t, j)) - (1.0 - qi)
                else:
                    f = lambda t, j=j, qi=qi: float(self.marginal_cdf(t, j)) - qi
                out[i, j] = optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=500)
        return out


def _paper_scale_trils(rng: np.random.Generator, K: int, d: int) -> np.ndarray:
    """scale_tril_k = 4 * A_k * diag(U(0.1, 1)) * 0.1, A_k unit lower-triangular with N(0, 1) strictly-lower entries."""
    A = np.tril(rng.standard_normal((K, d, d)), -1) + np.eye(d)
    s = rng.uniform(0.1, 1.0, size=(K, d))
    return 4.0 * A * s[:, None, :] * 0.1  # A @ diag(s) scales the columns of A


def _standardise(mix: StudentTMixture) -> tuple[np.ndarray, float]:
    """Global location and scalar scale: the exact mixture mean and sqrt(mean of the per-coordinate variances)."""
    m = mix.mean()
    scale = float(np.sqrt(np.trace(mix.covariance()) / mix.dim))
    return m, scale


class _StandardisedMixture(StudentTMixture):
    """A mixture built from raw components, optionally mapped by y = (x - m) / s (see :func:`ht`)."""

    def __init__(self, locs, scale_trils, weights, df, standardize: bool):
        raw = StudentTMixture(locs, scale_trils, weights, df)
        if standardize:
            m, s = _standardise(raw)
        else:
            m, s = np.zeros(raw.dim), 1.0
        # An affine map of a t component is a t component: loc (mu - m)/s, scale_tril L/s. The density of the
        # standardised mixture (with its Jacobian s^-d) is therefore the mixture of the mapped components.
        super().__init__((raw.locs - m) / s, raw.scale_trils / s, raw.weights, df)
        self.raw_mean_, self.raw_scale_ = m, s


# --------------------------------------------------------------------------------------------------------------
# Gaussian copula with Pareto / Student-t margins
# --------------------------------------------------------------------------------------------------------------


class GaussianCopula(Benchmark):
    r"""Gaussian copula with correlation matrix R and heavy-tailed margins of chosen tail indices xi_j.

    X_j = F_j^{-1}(Phi(Z_j)) with Z ~ N(0, R). Margins:

    - ``"pareto"``: Pareto type I with unit scale, F_j(x) = 1 - x^{-1/xi_j} on [1, inf); upper tail index xi_j.
      The lower tail is bounded with a positive density at the end point x = 1, so its extreme-value index is
      ``lower_tail_index = -1``.
    - ``"t"``: Student-t with df_j = 1/xi_j; upper and lower tail index xi_j.

    The density is exact: log p(x) = log c_R(z) + sum_j log f_j(x_j), with z_j = Phi^{-1}(F_j(x_j)) (computed
    as -Phi^{-1}(1 - F_j) through the survival functions, accurate in the upper tail) and
    log c_R(z) = -1/2 log|R| - 1/2 z^T (R^{-1} - I) z. Marginal quantiles are analytic.
    """

    quantile_exact = True

    def __init__(self, corr, xi, margin: str = "pareto"):
        R = np.asarray(corr, dtype=np.float64)
        d = R.shape[0]
        xi = np.broadcast_to(np.asarray(xi, dtype=np.float64), (d,)).copy()
        if np.any(~np.isfinite(xi)) or np.any(xi <= 0):
            raise ValueError(f"xi (tail indices) must be positive and finite, got {xi.tolist()}")
        if margin not in ("pareto", "t"):
            raise ValueError(f"margin must be 'pareto' or 't', got {margin!r}")
        super().__init__(d, xi, -1.0 if margin == "pareto" else xi)
        self.corr, self.xi, self.margin = R, xi, margin
        self._chol = _checked_cholesky(R, "corr")
        self._prec_minus_I = linalg.cho_solve((self._chol, True), np.eye(d)) - np.eye(d)
        self._half_logdet = float(np.sum(np.log(np.diag(self._chol))))

    def _isf(self, s):  # (n, d) survival probabilities -> values
        if self.margin == "pareto":
            return s ** (-self.xi)
        return stats.t.isf(s, 1.0 / self.xi)

    def _sample(self, n, rng):
        z = rng.standard_normal((n, self.dim)) @ self._chol.T
        return self._isf(stats.norm.sf(z))

    def _log_prob(self, x):
        if self.margin == "pareto":
            inside = np.all(x >= 1.0, axis=1)
            xs = np.where(x >= 1.0, x, 1.0)
            logsf = -np.log(xs) / self.xi
            logf = -np.log(self.xi) - (1.0 / self.xi + 1.0) * np.log(xs)
        else:
            inside = np.ones(x.shape[0], dtype=bool)
            df = 1.0 / self.xi
            logsf = stats.t.logsf(x, df)
            logf = stats.t.logpdf(x, df)
        # Phi^{-1}(F) = -Phi^{-1}(sf), from log sf for accuracy; the clip keeps the end point x = 1 finite
        z = -special.ndtri_exp(np.minimum(logsf, -np.finfo(np.float64).tiny))
        logc = -self._half_logdet - 0.5 * np.einsum("ni,ij,nj->n", z, self._prec_minus_I, z)
        out = logc + logf.sum(axis=1)
        return np.where(inside, out, -np.inf)

    def _marginal_quantile_exact(self, q):
        return self._isf(1.0 - q[:, None] * np.ones((1, self.dim)))


# --------------------------------------------------------------------------------------------------------------
# Neal's funnel
# --------------------------------------------------------------------------------------------------------------


class Funnel(Benchmark):
    r"""Neal's funnel with independent heavy-tailed nuisance coordinates.

    Coordinates, in order: v ~ N(0, scale_v^2); x_1, ..., x_m | v ~ N(0, exp(v)) independently;
    then ``n_nuisance`` independent Student-t(nuisance_df) coordinates. The density is exact.

    Tail indices (honest version): v is Gaussian (xi = 0). Each x_i = exp(v/2) Z is a normal scale mixture
    with a log-normal scale (sigma = scale_v/2): all its moments are finite, so it lies in the Gumbel domain
    and its true extreme-value index is 0, even though its tails are far heavier than Gaussian and Hill-type
    estimates on finite samples come out clearly positive (they converge to 0 only very slowly). We assign
    0. The nuisance coordinates have xi = 1/nuisance_df.

    Marginal quantiles are exact up to numerical quadrature: the CDF of x_i is E_v[Phi(x exp(-v/2))],
    integrated by the trapezoid rule (geometrically convergent here) and inverted with Brent's method.

    References
    ----------
    R. M. Neal (2003), "Slice sampling", Annals of Statistics 31(3), section 8.
    """

    quantile_exact = True

    def __init__(self, dim: int = 10, n_nuisance: int = 2, nuisance_df: float = 2.5, scale_v: float = 3.0):
        m = dim - 1 - n_nuisance
        if m < 1:
            raise ValueError(
                f"funnel needs dim >= n_nuisance + 2 (v and at least one x), got dim={dim}, "
                f"n_nuisance={n_nuisance}"
            )
        xi = np.r_[0.0, np.zeros(m), np.full(n_nuisance, 1.0 / nuisance_df)]
        super().__init__(dim, xi)
        self.n_x, self.n_nuisance, self.nuisance_df, self.scale_v = m, n_nuisance, float(nuisance_df), scale_v
        self._u_grid = np.linspace(-40.0, 40.0, 16001)
        w = stats.norm.pdf(self._u_grid)
        self._u_weights = w / w.sum()

    def _sample(self, n, rng):
        v = self.scale_v * rng.standard_normal(n)
        x = rng.standard_normal((n, self.n_x)) * np.exp(v / 2)[:, None]
        t = rng.standard_t(self.nuisance_df, size=(n, self.n_nuisance))
        return np.column_stack([v, x, t])

    def _log_prob(self, y):
        v, x, t = y[:, 0], y[:, 1 : 1 + self.n_x], y[:, 1 + self.n_x :]
        lp = stats.norm.logpdf(v, scale=self.scale_v)
        lp += -0.5 * self.n_x * (_LOG_2PI + v) - 0.5 * np.sum(x**2, axis=1) * np.exp(-v)
        lp += stats.t.logpdf(t, self.nuisance_df).sum(axis=1)
        return lp

    def _x_sf(self, x: float) -> float:
        """P(x_i > x) = E_v[Phi(-x exp(-v/2))], by quadrature over the standardised u = v / scale_v."""
        if x <= 0:
            return 0.5 if x == 0 else 1.0 - self._x_sf(-x)
        # Trapezoid rule on u = v / scale_v in [-40, 40], step 0.005: the integrand is analytic and decays
        # like a Gaussian, so the rule converges geometrically (relative error far below 1e-10 here).
        u = self._u_grid
        y = np.exp(np.minimum(np.log(x) - self.scale_v / 2 * u, 700.0))
        return float(np.sum(self._u_weights * special.ndtr(-y)))

    def _x_quantile(self, q: float) -> float:
        if q == 0.5:
            return 0.0
        p = 1.0 - q if q > 0.5 else q  # symmetric: quantile(q) = -quantile(1 - q)
        hi = 1.0
        while self._x_sf(hi) > p:
            hi *= 4.0
        r = optimize.brentq(lambda s: self._x_sf(s) - p, 1e-300, hi, xtol=1e-12, rtol=1e-11)
        return r if q > 0.5 else -r

    def _marginal_quantile_exact(self, q):
        out = np.empty((len(q), self.dim))
        out[:, 0] = stats.norm.ppf(q, scale=self.scale_v)
        out[:, 1 : 1 + self.n_x] = np.array([self._x_quantile(float(qi)) for qi in q])[:, None]
        out[:, 1 + self.n_x :] = stats.t.ppf(q, self.nuisance_df)[:, None]
        return out


# --------------------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., Benchmark]
    description: str


_REGISTRY: dict[str, _Entry] = {}


def register_benchmark(name: str, description: str | None = None):
    """Decorator registering a factory (function or class) returning a :class:`Benchmark` under ``name``.

    The factory's keyword arguments, with their defaults, are the benchmark's parameters; the description
    defaults to the first line of its docstring.

    Parameters
    ----------
    name : str
        Registry name; registering a name twice raises ValueError.
    description : str, optional
        One-line description for :func:`list_benchmarks` (default: the factory docstring's first line).

    Returns
    -------
    deco : callable
        The decorator; it registers the factory and returns it unchanged.
    """

    def deco(factory):
        if name in _REGISTRY:
            raise ValueError(f"benchmark '{name}' is already registered")
        desc = description or (inspect.getdoc(factory) or "").split("\n")[0]
        _REGISTRY[name] = _Entry(factory, desc)
        return factory

    return deco


def _defaults(factory) -> dict:
    sig = inspect.signature(factory)
    return {k: p.default for k, p in sig.parameters.items() if k != "self"}


def get_benchmark(name: str, **params) -> Benchmark:
    """Build the benchmark registered as ``name`` with the given parameters (others take their defaults).

    Parameters
    ----------
    name : str
        A registered name (see :func:`list_benchmarks`), e.g. ``"ht2d"``, ``"ht10d"``, ``"mvt"``.
    **params
        Keyword parameters of that benchmark's factory (e.g. ``df``, ``dim``, ``seed``).

    Returns
    -------
    bench : Benchmark
        The instance, with ``name``, ``description`` and ``params`` (all parameters, defaults filled in) set.

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones), an unknown parameter (listing the accepted ones) or an
        invalid parameter value.

    Examples
    --------
    >>> import numpy as np
    >>> b = get_benchmark("mvt", dim=3, df=4.0)
    >>> b.dim, b.tail_index
    (3, array([0.25, 0.25, 0.25]))
    >>> np.round(b.marginal_quantile(0.99), 4)
    array([3.7469, 3.7469, 3.7469])
    >>> get_benchmark("ht10d").sample(100, seed=0).shape
    (100, 10)
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown benchmark {name!r}; valid names: {', '.join(sorted(_REGISTRY))}")
    entry = _REGISTRY[name]
    accepted = _defaults(entry.factory)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for benchmark {name!r}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )
    bench = entry.factory(**params)
    bench.name = name
    bench.description = entry.description
    bench.params = {**accepted, **params}
    return bench


def _xi_summary(xi: np.ndarray) -> str:
    u = np.unique(np.round(xi, 4))
    return ", ".join(f"{v:g}" for v in u)


def list_benchmarks() -> pd.DataFrame:
    """Table of the registered benchmarks at their default parameters.

    Columns: name, dim, tail_index (distinct upper-tail xi values over the marginals), max_tail_index,
    description, parameters (defaults, as ``key=value`` text).
    """
    rows = []
    for name in sorted(_REGISTRY):
        b = get_benchmark(name)
        rows.append(
            {
                "name": name,
                "dim": b.dim,
                "tail_index": _xi_summary(b.tail_index),
                "max_tail_index": float(b.tail_index.max()),
                "description": _REGISTRY[name].description,
                "parameters": ", ".join(f"{k}={v!r}" for k, v in b.params.items()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# Parameter helpers
# --------------------------------------------------------------------------------------------------------------


def _checked_cholesky(R: np.ndarray, name: str) -> np.ndarray:
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {R.shape}")
    if not np.all(np.isfinite(R)) or not np.allclose(R, R.T):
        raise ValueError(f"{name} must be a finite symmetric matrix")
    try:
        return np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} is not positive definite") from None


def _corr_matrix(dim: int, rho: float, corr) -> np.ndarray:
    if corr is not None:
        R = np.atleast_2d(np.asarray(corr, dtype=np.float64))
        if R.shape != (dim, dim):
            raise ValueError(f"corr must have shape ({dim}, {dim}), got {R.shape}")
        if not np.allclose(np.diag(R), 1.0):
            raise ValueError("corr must have a unit diagonal")
        return R
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"rho must be a number, got {rho!r}") from None
    lo = -1.0 / (dim - 1) if dim > 1 else -1.0
    if not lo < rho < 1.0:
        raise ValueError(f"rho must lie in ({lo:g}, 1) for an equicorrelation matrix in dim {dim}, got {rho}")
    return np.full((dim, dim), float(rho)) + (1.0 - float(rho)) * np.eye(dim)


def _positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not v > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


# --------------------------------------------------------------------------------------------------------------
# Registered benchmarks
# --------------------------------------------------------------------------------------------------------------


@register_benchmark("ht")
def ht(
    dim: int = 2, n_components: int | None = None, df: float = 3.0, seed: int = 0, standardize: bool = True
) -> StudentTMixture:
    """Paper's Student-t mixture in any dim (default 4 components if dim <= 2 else 20), df 3, standardised.

    Construction (DESIGN.md), all drawn from ``np.random.default_rng(seed)`` in this order: locations
    mu_k ~ U(-1, 1)^d; scale_tril_k = 4 * A_k * diag(U(0.1, 1)) * 0.1 with A_k unit lower-triangular with
    N(0, 1) strictly-lower entries; weights ~ Dirichlet(1, ..., 1). Then, if ``standardize``, the mixture is
    mapped by y = (x - m) / s with the exact mean m = sum_k w_k mu_k and ONE scalar s = sqrt(tr(C) / d), the
    root mean of the per-coordinate variances of the exact covariance
    C = sum_k w_k (Sigma_k df/(df-2) + mu_k mu_k^T) - m m^T (so the overall std is 1 but the coordinates
    keep their relative scales and the correlation structure). Standardisation needs df > 2.
    Every marginal has tail index 1/df in both tails.

    Parameters
    ----------
    dim : int, default 2
        Dimension d.
    n_components : int, optional
        Number of components K (default 4 if dim <= 2 else 20).
    df : float, default 3.0
        Degrees of freedom nu > 0 of every component (tail index 1/nu).
    seed : int, default 0
        Seed (>= 0) of the construction; sampling has its own seed.
    standardize : bool, default True
        Apply the global map y = (x - m) / s above (needs df > 2).

    Returns
    -------
    mix : StudentTMixture
        The mixture; ``raw_mean_`` and ``raw_scale_`` hold m and s (0 and 1 when not standardised).
    """
    dim = check_positive_int(dim, "dim")
    K = (4 if dim <= 2 else 20) if n_components is None else check_positive_int(n_components, "n_components")
    df = _positive(df, "df")
    if standardize and df <= 2:
        raise ValueError(
            f"standardize=True needs df > 2 (finite variance), got df={df}; pass standardize=False"
        )
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    locs = rng.uniform(-1.0, 1.0, size=(K, dim))
    trils = _paper_scale_trils(rng, K, dim)
    weights = rng.dirichlet(np.ones(K))
    return _StandardisedMixture(locs, trils, weights, df, bool(standardize))


@register_benchmark("ht2d")
def ht2d(n_components: int = 4, df: float = 3.0, seed: int = 0, standardize: bool = True) -> StudentTMixture:
    """HT-2D: mixture of 4 bivariate Student-t (df 3), standardised (construction: see ht).

    Parameters
    ----------
    n_components, df, seed, standardize
        As in :func:`ht` (defaults 4, 3.0, 0, True); the dimension is 2.

    Returns
    -------
    mix : StudentTMixture
    """
    return ht(2, n_components, df, seed, standardize)


@register_benchmark("ht10d")
def ht10d(
    n_components: int = 20, df: float = 3.0, seed: int = 0, standardize: bool = True
) -> StudentTMixture:
    """HT-10D: mixture of 20 Student-t (df 3) in 10-D, standardised (construction: see ht).

    Parameters
    ----------
    n_components, df, seed, standardize
        As in :func:`ht` (defaults 20, 3.0, 0, True); the dimension is 10.

    Returns
    -------
    mix : StudentTMixture
    """
    return ht(10, n_components, df, seed, standardize)


@register_benchmark("gmm2d")
def gmm2d(seed: int = 0, weights: str = "equal", standardize: bool = False) -> StudentTMixture:
    """GMM-2D: 5 x 5 grid of Gaussian modes at {-2, ..., 2}^2 (light-tailed control, tail index 0).

    Covariances follow the HT construction (scale_tril = 4 * A * diag(U(0.1, 1)) * 0.1, from
    ``default_rng(seed)``). ``weights="equal"`` (default: the design note specifies none, and a grid of
    modes is conventionally equally weighted) or ``"dirichlet"`` (Dirichlet(1), drawn after the
    covariances). Not standardised by default so that the modes sit on the integer grid;
    ``standardize=True`` applies the same global map as ``ht``.

    Parameters
    ----------
    seed : int, default 0
        Seed (>= 0) of the covariances (and Dirichlet weights).
    weights : {"equal", "dirichlet"}, default "equal"
        Mixture weights: 1/25 each, or Dirichlet(1).
    standardize : bool, default False
        Map y = (x - m) / s as in :func:`ht`.

    Returns
    -------
    mix : StudentTMixture
        25 Gaussian components (``df = inf``) in 2-D.
    """
    if weights not in ("equal", "dirichlet"):
        raise ValueError(f"weights must be 'equal' or 'dirichlet', got {weights!r}")
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    g = np.arange(-2.0, 3.0)
    locs = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    trils = _paper_scale_trils(rng, 25, 2)
    w = np.full(25, 1.0 / 25) if weights == "equal" else rng.dirichlet(np.ones(25))
    return _StandardisedMixture(locs, trils, w, np.inf, bool(standardize))


@register_benchmark("mvt")
def mvt(dim: int = 2, df: float = 3.0, rho: float = 0.5, corr=None, scale: float = 1.0) -> StudentTMixture:
    """Multivariate Student-t, location 0, scale matrix scale^2 * R (equicorrelation rho, or a corr matrix).

    Marginals are scale * t(df) exactly (tail index 1/df in both tails); the scale matrix is the
    correlation matrix of the t only up to the factor df/(df-2) (the correlations are the same).

    Parameters
    ----------
    dim : int, default 2
        Dimension d.
    df : float, default 3.0
        Degrees of freedom nu > 0.
    rho : float, default 0.5
        Equicorrelation, in (-1/(d-1), 1); ignored when ``corr`` is given.
    corr : array_like, shape (d, d), optional
        Correlation matrix (symmetric positive definite, unit diagonal).
    scale : float, default 1.0
        Common marginal scale, > 0.

    Returns
    -------
    dist : StudentTMixture
        A one-component mixture with location 0 and scale_tril ``scale * cholesky(R)``.
    """
    dim = check_positive_int(dim, "dim")
    df, scale = _positive(df, "df"), _positive(scale, "scale")
    R = _corr_matrix(dim, rho, corr)
    L = scale * _checked_cholesky(R, "corr")
    return StudentTMixture(np.zeros((1, dim)), L[None], np.ones(1), df)


@register_benchmark("copula-pareto")
def copula_pareto(
    dim: int = 2, rho: float = 0.5, corr=None, xi=None, df=None, margin: str = "pareto"
) -> GaussianCopula:
    """Gaussian copula (equicorrelation rho, or a corr matrix) with Pareto or Student-t margins of tail indices xi.

    See :class:`GaussianCopula`.

    Parameters
    ----------
    dim : int, default 2
        Dimension d.
    rho : float, default 0.5
        Equicorrelation of the latent Gaussian, in (-1/(d-1), 1); ignored when ``corr`` is given.
    corr : array_like, shape (d, d), optional
        Latent correlation matrix (symmetric positive definite, unit diagonal).
    xi : float or array_like of shape (d,), optional
        Upper tail indices, > 0; default evenly spaced from 1/3 to 1/2 (df 3 down to 2; 1/3 when d = 1).
    df : float or array_like of shape (d,), optional
        Alternative to ``xi`` (xi = 1/df), mainly for ``margin="t"``; give one of the two.
    margin : {"pareto", "t"}, default "pareto"
        Pareto type I (unit scale, support [1, inf)) or Student-t margins.

    Returns
    -------
    dist : GaussianCopula
    """
    dim = check_positive_int(dim, "dim")
    if xi is not None and df is not None:
        raise ValueError("give either xi or df, not both")
    if df is not None:
        dfs = np.broadcast_to(np.asarray(df, dtype=np.float64), (dim,))
        if np.any(~(dfs > 0)):
            raise ValueError(f"df must be positive, got {df!r}")
        xi = 1.0 / dfs
    elif xi is None:
        xi = np.linspace(1 / 3, 1 / 2, dim) if dim > 1 else np.array([1 / 3])
    xi_arr = np.asarray(xi, dtype=np.float64)
    if xi_arr.ndim > 1 or (xi_arr.ndim == 1 and len(xi_arr) not in (1, dim)):
        raise ValueError(f"xi must be a scalar or have {dim} entries, got {np.shape(xi)}")
    return GaussianCopula(_corr_matrix(dim, rho, corr), xi_arr, margin)


@register_benchmark("funnel")
def funnel(dim: int = 10, n_nuisance: int = 2, nuisance_df: float = 2.5, scale_v: float = 3.0) -> Funnel:
    """Neal's funnel (v ~ N(0, 9), x_i | v ~ N(0, e^v)) plus Student-t nuisance coordinates (df 2.5).

    Parameters
    ----------
    dim : int, default 10
        Total dimension: v, ``dim - 1 - n_nuisance`` funnel coordinates x_i (at least one), the nuisances.
    n_nuisance : int, default 2
        Number of independent Student-t coordinates, >= 0.
    nuisance_df : float, default 2.5
        Their degrees of freedom, > 0 (tail index 1/nuisance_df).
    scale_v : float, default 3.0
        Standard deviation of v, > 0 (v ~ N(0, scale_v^2)).

    Returns
    -------
    dist : Funnel
    """
    dim = check_positive_int(dim, "dim", minimum=2)
    n_nuisance = check_positive_int(n_nuisance, "n_nuisance", minimum=0)
    return Funnel(dim, n_nuisance, _positive(nuisance_df, "nuisance_df"), _positive(scale_v, "scale_v"))


# --------------------------------------------------------------------------------------------------------------
# A mixed claims table: atoms, a cap, a count and a category, with known truth
# --------------------------------------------------------------------------------------------------------------


class ZeroInflatedClaims(Benchmark):
    r"""A fire-insurance-like table with exact zeros, a capped column, a count and a category.

    A Gaussian copula (latent ``Z ~ N(0, R)``, ``U = Phi(Z)``) joins six columns:

    ============  ==================================================================================
    building      0 with probability p_b (default 0.08), else GPD(xi_b = 0.6, scale 1)
    contents      0 with probability 0.23, else GPD(0.5, 0.5)
    profits       0 with probability 0.72, else GPD(0.7, 0.3)
    liability     min(GPD(0.4, 1), cap) with cap = 5: an atom at the policy limit (P = 6.4%)
    claimants     negative binomial (size 2, p 0.3) counts: an integer column (xi = 0)
    region        "north" / "south" / "east" with probabilities 0.5 / 0.3 / 0.2 (codes 0, 1, 2)
    ============  ==================================================================================

    Column j is ``0`` when ``U_j < p_j`` and ``F_j^{-1}((U_j - p_j) / (1 - p_j))`` otherwise, so the zero
    pattern depends on the other columns through the copula: rows with a large building loss rarely have
    zero profits (the latent correlations are 0.6 between the three losses, 0.4 with liability and
    claimants, 0.3 with region). Marginal quantiles are exact: ``q_j(q) = 0`` for ``q <= p_j`` and
    ``F_j^{-1}((q - p_j) / (1 - p_j))`` above. ``region`` is categorical: its quantiles are the codes'.

    Attributes
    ----------
    columns : tuple of str
    schema : dict
        The true column kinds as declarations (for :func:`heavytail_diffusion.data.load_table` /
        ``schema=`` of a model); inference from a sample should find the same.
    atom_probability : ndarray of shape (dim,)
        P(column = its atom) (0 atoms for claimants and region: NaN).
    """

    columns = ("building", "contents", "profits", "liability", "claimants", "region")
    quantile_exact = True

    def __init__(self, p_zero=(0.08, 0.23, 0.72), xi=(0.6, 0.5, 0.7), scale=(1.0, 0.5, 0.3), cap: float = 5.0,
                 rho: float = 0.6):  # fmt: skip
        self.p_zero = np.asarray(p_zero, dtype=np.float64)
        self.xi = np.asarray(xi, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        if self.p_zero.shape != (3,) or self.xi.shape != (3,) or self.scale.shape != (3,):
            raise ValueError("p_zero, xi and scale need one entry each for building, contents, profits")
        if np.any((self.p_zero < 0) | (self.p_zero >= 1)):
            raise ValueError(f"p_zero must lie in [0, 1), got {p_zero!r}")
        if np.any(self.xi <= 0) or np.any(self.scale <= 0):
            raise ValueError("xi and scale must be positive")
        self.cap = _positive(cap, "cap")
        R = np.full((6, 6), 0.3)
        R[:3, :3] = rho
        R[3:5, :5] = R[:5, 3:5] = 0.4
        np.fill_diagonal(R, 1.0)
        self.corr = R
        self._chol = _checked_cholesky(R, "zi-claims correlation")
        xi_all = np.array([*self.xi, 0.4, 0.0, 0.0])
        super().__init__(6, xi_all, lower_tail_index=np.zeros(6))
        p_cap = float(stats.genpareto.sf(self.cap, 0.4))
        self.atom_probability = np.array([*self.p_zero, p_cap, np.nan, np.nan])
        self.region_probs = np.array([0.5, 0.3, 0.2])
        self.schema = {
            "building": "nonnegative", "contents": "nonnegative", "profits": "nonnegative",
            "liability": {"kind": "positive", "upper": self.cap, "atoms": [self.cap]},
            "claimants": "integer", "region": "categorical",
        }  # fmt: skip

    def _from_uniform(self, U: np.ndarray) -> np.ndarray:
        X = np.empty_like(U)
        for j in range(3):
            p = self.p_zero[j]
            pos = U[:, j] >= p
            X[:, j] = 0.0
            X[pos, j] = stats.genpareto.ppf((U[pos, j] - p) / (1 - p), self.xi[j], scale=self.scale[j])
        X[:, 3] = np.minimum(stats.genpareto.ppf(U[:, 3], 0.4), self.cap)
        X[:, 4] = stats.nbinom.ppf(U[:, 4], 2, 0.3)
        X[:, 5] = np.searchsorted(np.cumsum(self.region_probs)[:-1], U[:, 5], side="right").astype(np.float64)
        return X

    def _sample(self, n, rng):
        Z = rng.standard_normal((n, 6)) @ self._chol.T
        return self._from_uniform(special.ndtr(Z))

    def sample_frame(self, n: int, seed=None) -> pd.DataFrame:
        """:meth:`sample` as a DataFrame: region as its labels, claimants as integers.

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, numpy Generator or None, default None
            As in :meth:`Benchmark.sample` (the same seed gives the same rows as ``sample``).

        Returns
        -------
        frame : pandas.DataFrame, shape (n, 6)
            Columns :attr:`columns`; ``claimants`` int64, ``region`` object labels, the rest float64.
        """
        X = self.sample(n, seed=seed)
        df = pd.DataFrame(X, columns=list(self.columns))
        df["claimants"] = df["claimants"].astype(np.int64)
        df["region"] = np.array(["north", "south", "east"], dtype=object)[X[:, 5].astype(np.int64)]
        return df

    def _marginal_quantile_exact(self, q):
        U = np.repeat(np.asarray(q, dtype=np.float64)[:, None], 6, axis=1)
        return self._from_uniform(U)


@register_benchmark("zi-claims")
def zi_claims(p_zero=(0.08, 0.23, 0.72), xi=(0.6, 0.5, 0.7), scale=(1.0, 0.5, 0.3), cap: float = 5.0,
              rho: float = 0.6) -> ZeroInflatedClaims:  # fmt: skip
    """Mixed claims table: zero-inflated GPD losses (atom pattern tied to the sizes), a capped column, counts, a category.

    Parameters
    ----------
    p_zero : sequence of 3 floats, default (0.08, 0.23, 0.72)
        P(loss = 0) for building, contents, profits, each in [0, 1).
    xi : sequence of 3 floats, default (0.6, 0.5, 0.7)
        GPD shape (tail index, > 0) of the positive part of each loss.
    scale : sequence of 3 floats, default (1.0, 0.5, 0.3)
        GPD scale (> 0) of each loss.
    cap : float, default 5.0
        Policy limit of ``liability``: the column is min(GPD(0.4, 1), cap).
    rho : float, default 0.6
        Latent Gaussian correlation among the three losses (0.4 with liability/claimants, 0.3 with region).

    Returns
    -------
    dist : ZeroInflatedClaims
    """
    return ZeroInflatedClaims(p_zero, xi, scale, cap, rho)
