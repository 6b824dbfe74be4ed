"""Shared pytest configuration: headless plotting and few threads on the 2-core CI machine."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

from hypothesis import settings

# Property tests draw the same examples on every run (CI must not depend on luck); HYPOTHESIS_PROFILE=explore
# draws fresh ones locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
