"""The benchmark laws: the :class:`Benchmark` interface and each family with its exact truth.

Built by name through :func:`heavytail_diffusion.benchmarks.get_benchmark`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from ..validation import as_generator, check_array, check_positive_int, check_probability

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
        >>> from heavytail_diffusion.benchmarks import get_benchmark
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


