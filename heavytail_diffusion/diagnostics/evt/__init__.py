"""Extreme-value fits: GPD peaks over threshold and GEV block maxima by maximum likelihood, with return levels.

One module a concept: :mod:`.gpd` (the generalised Pareto distribution and its fit), :mod:`.gev` (the
generalised extreme-value distribution for block maxima), :mod:`.return_levels` (return levels and their
intervals), :mod:`.threshold` (threshold choice), :mod:`.optimise` (the one Newton minimiser and the one
profile-likelihood interval they all use) and :mod:`.kernels` (stable xi -> 0 limits).  Every name that
``heavytail_diffusion.diagnostics.evt`` offered as a single module is importable from here.

Sign convention: the shape xi > 0 is a heavy (Frechet-type, Pareto-like) tail with tail index 1 / xi;
scipy's ``genpareto`` uses the same sign, scipy's ``genextreme`` uses ``c = -xi``.
"""

from __future__ import annotations

import math  # noqa: F401  (module-level names of the pre-split evt.py)
from dataclasses import asdict, dataclass  # noqa: F401
from numbers import Real  # noqa: F401

import numpy as np  # noqa: F401

from ...errors import DataError, NumericalError  # noqa: F401
from ...validation import check_sample  # noqa: F401
from .gev import (  # noqa: F401
    MIN_MAXIMA,
    GEVFit,
    _feasible_starts,
    _gev_derivs,
    _gev_derivs_log,
    _gev_mle,
    _gev_profile_ci,
    _gev_rl_lp,
    _gev_rl_value,
    _gev_start,
    block_maxima,
    fit_gev,
    gev_nllh,
)
from .gpd import (  # noqa: F401
    MIN_EXCEEDANCES,
    GPDFit,
    _check_scale,
    _gpd_cum_hazard,
    _gpd_grad_hess,
    _gpd_profile,
    _gpd_rl_setup,
    _gpd_rl_value,
    _profile_terms,
    _profile_value,
    _solve_profile,
    _threshold_excesses,
    fit_gpd,
    gpd_cdf,
    gpd_isf,
    gpd_isf_log,
    gpd_logpdf,
    gpd_logsf,
    gpd_moment_start,
    gpd_nllh,
    gpd_nllh_derivs,
    gpd_ppf,
    gpd_sf,
)
from .kernels import (  # noqa: F401
    _SMALL,
    _e_w,
    _expm1_over,
    _expm1_over_deriv,
    _expm1_over_deriv2,
    _f_w,
    _log1p_over,
    _unit,
)
from .optimise import (  # noqa: F401
    _box_armijo,
    _cov_from_hessian,
    _newton_minimize,
    _profile_ci,
    cov_from_hessian,
    newton_minimize,
    profile_interval,
)
from .return_levels import ReturnLevel, return_level
from .threshold import ThresholdChoice, mean_residual_life, parameter_stability, select_threshold

__all__ = [
    "GEVFit",
    "GPDFit",
    "ReturnLevel",
    "ThresholdChoice",
    "block_maxima",
    "fit_gev",
    "fit_gpd",
    "gev_nllh",
    "gpd_cdf",
    "gpd_isf",
    "gpd_isf_log",
    "gpd_logpdf",
    "gpd_logsf",
    "gpd_moment_start",
    "gpd_nllh",
    "gpd_ppf",
    "gpd_sf",
    "mean_residual_life",
    "parameter_stability",
    "return_level",
    "select_threshold",
]
