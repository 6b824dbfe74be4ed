"""Deprecated: the real-data helpers moved to the layers they belong to (this module re-exports them).

- :func:`log_returns`, :func:`day_spans`, :func:`tie_fraction`, :func:`grid_step`, :func:`jitter_ties`:
  :mod:`heavytail_diffusion.preprocessing`
- :func:`annual_maxima`: :mod:`heavytail_diffusion.diagnostics.time_blocks`
- :func:`split_atom`, :class:`AtomInflated`, :func:`make_atom_inflated`: :mod:`heavytail_diffusion.models.atoms`
  (AtomInflated itself is deprecated: the column schema gives every generator its atoms)
"""

from __future__ import annotations

import warnings

from .diagnostics.time_blocks import annual_maxima
from .models.atoms import AtomInflated, make_atom_inflated, split_atom
from .preprocessing import day_spans, grid_step, jitter_ties, log_returns, tie_fraction

__all__ = [
    "AtomInflated",
    "annual_maxima",
    "day_spans",
    "grid_step",
    "jitter_ties",
    "log_returns",
    "make_atom_inflated",
    "split_atom",
    "tie_fraction",
]

warnings.warn(
    "heavytail_diffusion.realdata is deprecated: import log_returns, day_spans, tie_fraction, grid_step and "
    "jitter_ties from heavytail_diffusion.preprocessing, annual_maxima from "
    "heavytail_diffusion.diagnostics.time_blocks, split_atom from heavytail_diffusion.models.atoms",
    DeprecationWarning,
    stacklevel=2,
)
