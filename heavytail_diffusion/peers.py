"""The optional peer adapters, now in :mod:`heavytail_diffusion.models.peers` (this module re-exports them)."""

from .models.peers import (  # noqa: F401
    PEERS,
    SDVCTGAN,
    SDVTVAE,
    ForestDiffusion,
    SDVGaussianCopula,
    available_peers,
    register_peers,
)

__all__ = ["PEERS", "available_peers", "register_peers"]
