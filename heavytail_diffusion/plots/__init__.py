"""Extreme-value figures: Hill, GPD and two-sample QQ, log-log survival, threshold aids, return levels, chi(u).

Every function draws on ``ax`` (or ``axes`` for two-panel figures) when given, creates a new figure
otherwise, and returns the axes (``pair_plot`` returns the figure). Data are drawn in black and generated
samples in colours. The tail is on log axes wherever the data allow it (positive values); otherwise a
symmetric-log axis is used and the axis label says so. Nothing is shown: call ``plt.show()`` or
``fig.savefig`` yourself. The shape xi > 0 is a heavy tail, as everywhere in the package.

Modules, by topic: :mod:`.tails` (Hill, QQ, survival of one sample), :mod:`.extremes` (GPD/GEV fits:
GPD QQ, threshold choice, return levels, fit diagnostic), :mod:`.joint` (chi(u), scatter matrix),
:mod:`.comparison` (the comparison report's figures) and :mod:`._style` (colours and axes helpers).
Every name is importable from ``heavytail_diffusion.plots`` as before the split into modules.
"""

from __future__ import annotations

# Importable from heavytail_diffusion.plots when it was one module (kept: no API break).
from collections.abc import Mapping, Sequence  # noqa: F401

import matplotlib.pyplot as plt  # noqa: F401
import numpy as np  # noqa: F401
from matplotlib.axes import Axes  # noqa: F401

from ..diagnostics import dependence, evt, tail_index  # noqa: F401
from ..errors import DataError, NumericalError  # noqa: F401
from ..validation import as_generator, check_array, check_probability, check_sample  # noqa: F401
from ._style import (  # noqa: F401
    _PALETTE,
    _TAIL_SCALE,
    DATA_COLOR,
    FIT_COLOR,
    _ccdf,
    _color,
    _fmt,
    _new_ax,
    _oriented,
    _samples,
    _symlog_threshold,
    _tidy_log_axes,
    model_color,
)
from .comparison import (  # noqa: F401
    _LINESTYLES,
    _restyle,
    comparison_figures,
    hill_fraction_plot,
    model_scatter_grid,
    scorecard_plot,
    tail_panels,
)
from .extremes import (  # noqa: F401
    _stability_thresholds,
    fit_diagnostic_plot,
    gpd_qq_plot,
    mean_residual_life_plot,
    parameter_stability_plot,
    return_level_plot,
)
from .joint import _axis_scale, _pair_array, chi_plot, pair_plot  # noqa: F401
from .tails import _qq_probs, hill_plot, qq_plot, survival_plot  # noqa: F401

__all__ = [
    "chi_plot",
    "comparison_figures",
    "fit_diagnostic_plot",
    "gpd_qq_plot",
    "hill_fraction_plot",
    "hill_plot",
    "mean_residual_life_plot",
    "model_color",
    "model_scatter_grid",
    "pair_plot",
    "parameter_stability_plot",
    "qq_plot",
    "return_level_plot",
    "scorecard_plot",
    "survival_plot",
    "tail_panels",
]
