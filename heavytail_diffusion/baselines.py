"""The baselines, now in :mod:`heavytail_diffusion.models.baselines` (this module re-exports them)."""

from .models import DiffusionModel, GenerativeModel, TruncatedDiffusion, register_model  # noqa: F401
from .models.baselines import EDM, TEDM, EVTCopulaBaseline, FlowBaseline, OracleStart, _PriorModel  # noqa: F401

__all__ = ["EDM", "TEDM", "EVTCopulaBaseline", "FlowBaseline", "OracleStart"]
