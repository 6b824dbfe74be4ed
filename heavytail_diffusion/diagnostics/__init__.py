"""Extreme-value diagnostics for heavy-tailed data and for comparing generated samples with real ones.

Sign convention everywhere: the extreme-value index (shape) xi > 0 is a heavy, Pareto-type tail with
survival function ~ x^(-1/xi); scipy's ``genextreme`` uses c = -xi, ours does not.

Modules
-------
tail_index
    Hill, Pickands and moment (Dekkers-Einmahl-de Haan) estimators returning an :class:`Estimate`,
    ``hill_curve`` (every k at once), automatic k (``select_k``), and the Clauset-Shalizi-Newman
    ``powerlaw_fit``.
evt
    Peaks over threshold (``fit_gpd`` -> :class:`GPDFit`), block maxima (``block_maxima``, ``fit_gev`` ->
    :class:`GEVFit`), ``return_level`` with delta-method and profile-likelihood intervals, the threshold
    aids ``mean_residual_life`` and ``parameter_stability``, ``select_threshold``, and stable GPD
    distribution functions (``gpd_sf``, ``gpd_isf``, ...).
quantiles
    ``value_at_risk``, ``expected_shortfall``, ``weissman_quantile`` extrapolation, ``quantile_errors``
    of a generated sample against a real one (per marginal and along directions).
distances
    Two-sample distances: sliced and max-sliced Wasserstein, energy distance, MMD, KS, tail KS, log-log
    CCDF area, and the reference-vs-reference ``noise_floor``.
dependence
    Tail dependence ``chi``/``chibar`` and their curves with intervals, Kendall's tau.
summary
    ``diagnose_table``: the per-column summary behind ``heavytail diagnose``.
time_blocks
    ``block_maxima_by_time`` (calendar year / season / month from dates or years), ``observations_per_year``
    (POT return periods in years).
declustering
    Runs declustering (``decluster``), the Ferro-Segers ``extremal_index``, ``fit_gpd_declustered``.
nonstationary
    ``fit_gev_nonstationary`` / ``fit_gpd_nonstationary`` (location, log-scale linear in covariates),
    ``fit_gev_rlargest`` (r largest per block, missing values allowed), ``likelihood_ratio_test``.
powerlaw_compare
    ``compare_powerlaw`` (Vuong tests against lognormal, exponential, stretched exponential, truncated
    power law) and the CSN goodness-of-fit ``powerlaw_gof``.
bayes
    ``fit_gpd_bayes`` / ``fit_gev_bayes``: NUTS posteriors (pyro), R-hat, ESS, return levels.
"""

from .bayes import Posterior, fit_gev_bayes, fit_gpd_bayes
from .declustering import Clusters, DeclusteredFit, decluster, extremal_index, fit_gpd_declustered
from .dependence import chi, chi_curve, chibar, kendall_tau, tail_dependence_table
from .distances import (
    ccdf_area,
    energy_distance,
    ks_distances,
    max_sliced_wasserstein,
    mmd,
    nearest_distances,
    noise_floor,
    sliced_wasserstein,
    slog,
    tail_ks,
    wasserstein_1d,
)
from .evt import (
    GEVFit,
    GPDFit,
    ReturnLevel,
    ThresholdChoice,
    block_maxima,
    fit_gev,
    fit_gpd,
    gev_nllh,
    gpd_cdf,
    gpd_isf,
    gpd_logpdf,
    gpd_nllh,
    gpd_ppf,
    gpd_sf,
    mean_residual_life,
    parameter_stability,
    return_level,
    select_threshold,
)
from .nonstationary import (
    LikelihoodRatioTest,
    NonStationaryFit,
    fit_gev_nonstationary,
    fit_gev_rlargest,
    fit_gpd_nonstationary,
    likelihood_ratio_test,
)
from .powerlaw_compare import GoodnessOfFit, PowerLawComparison, compare_powerlaw, powerlaw_gof
from .quantiles import (
    DirectionalError,
    expected_shortfall,
    quantile_errors,
    value_at_risk,
    weissman_quantile,
    worst_direction_quantile_error,
)
from .summary import DiagnosticSummary, diagnose_column, diagnose_table
from .tail_index import (
    Estimate,
    HillCurve,
    PowerLawFit,
    hill,
    hill_curve,
    moment_estimator,
    orient,
    pickands,
    powerlaw_fit,
    reduced_bias_hill,
    select_k,
)
from .time_blocks import TimeBlockMaxima, block_maxima_by_time, observation_years, observations_per_year

__all__ = [
    "Clusters",
    "DeclusteredFit",
    "DiagnosticSummary",
    "DirectionalError",
    "Estimate",
    "GEVFit",
    "GPDFit",
    "GoodnessOfFit",
    "HillCurve",
    "LikelihoodRatioTest",
    "NonStationaryFit",
    "Posterior",
    "PowerLawComparison",
    "PowerLawFit",
    "ReturnLevel",
    "ThresholdChoice",
    "TimeBlockMaxima",
    "block_maxima",
    "block_maxima_by_time",
    "ccdf_area",
    "chi",
    "chi_curve",
    "chibar",
    "compare_powerlaw",
    "decluster",
    "diagnose_column",
    "diagnose_table",
    "energy_distance",
    "expected_shortfall",
    "extremal_index",
    "fit_gev",
    "fit_gev_bayes",
    "fit_gev_nonstationary",
    "fit_gev_rlargest",
    "fit_gpd",
    "fit_gpd_bayes",
    "fit_gpd_declustered",
    "fit_gpd_nonstationary",
    "gev_nllh",
    "gpd_cdf",
    "gpd_isf",
    "gpd_logpdf",
    "gpd_nllh",
    "gpd_ppf",
    "gpd_sf",
    "hill",
    "hill_curve",
    "kendall_tau",
    "ks_distances",
    "likelihood_ratio_test",
    "max_sliced_wasserstein",
    "mean_residual_life",
    "mmd",
    "moment_estimator",
    "nearest_distances",
    "noise_floor",
    "observation_years",
    "observations_per_year",
    "orient",
    "parameter_stability",
    "pickands",
    "powerlaw_fit",
    "powerlaw_gof",
    "quantile_errors",
    "reduced_bias_hill",
    "return_level",
    "select_k",
    "select_threshold",
    "sliced_wasserstein",
    "slog",
    "tail_dependence_table",
    "tail_ks",
    "value_at_risk",
    "wasserstein_1d",
    "weissman_quantile",
    "worst_direction_quantile_error",
]
