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

# The laws (each family with its exact truth) and the registry of named benchmarks live in two modules;
# every name importable from the former single module ``benchmarks.py`` is re-exported here.
from .laws import (  # noqa: F401
    _LOG_2PI,
    Benchmark,
    Funnel,
    GaussianCopula,
    StudentTMixture,
    ZeroInflatedClaims,
    _checked_cholesky,
    _corr_matrix,
    _paper_scale_trils,
    _positive,
    _standardise,
    _StandardisedMixture,
)
from .registry import (  # noqa: F401
    _REGISTRY,
    _defaults,
    _Entry,
    _xi_summary,
    copula_pareto,
    funnel,
    get_benchmark,
    gmm2d,
    ht,
    ht2d,
    ht10d,
    list_benchmarks,
    mvt,
    register_benchmark,
    zi_claims,
)

__all__ = [
    "Benchmark",
    "Funnel",
    "GaussianCopula",
    "StudentTMixture",
    "get_benchmark",
    "list_benchmarks",
    "register_benchmark",
]
