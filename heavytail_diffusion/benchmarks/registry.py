"""The benchmark registry (:func:`register_benchmark`, :func:`get_benchmark`, :func:`list_benchmarks`) and
the registered benchmarks (one factory per name)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..validation import check_positive_int
from .laws import (
    Benchmark,
    Funnel,
    GaussianCopula,
    StudentTMixture,
    ZeroInflatedClaims,
    _checked_cholesky,
    _corr_matrix,
    _paper_scale_trils,
    _positive,
    _StandardisedMixture,
)

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
