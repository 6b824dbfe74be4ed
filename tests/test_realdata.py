"""heavytail_diffusion.realdata is a deprecated shim: its tests moved to the modules' own test files
(test_preprocessing.py, diagnostics/test_time_blocks.py, test_models.py)."""

import importlib
import sys

import pytest


def test_importing_the_shim_warns_and_reexports_the_moved_names():
    from heavytail_diffusion import preprocessing
    from heavytail_diffusion.diagnostics import time_blocks
    from heavytail_diffusion.models import atoms

    sys.modules.pop("heavytail_diffusion.realdata", None)
    with pytest.warns(DeprecationWarning, match=r"realdata is deprecated.*heavytail_diffusion\.preprocessing"):
        realdata = importlib.import_module("heavytail_diffusion.realdata")
    assert realdata.jitter_ties is preprocessing.jitter_ties and realdata.log_returns is preprocessing.log_returns
    assert realdata.annual_maxima is time_blocks.annual_maxima
    assert realdata.AtomInflated is atoms.AtomInflated and realdata.split_atom is atoms.split_atom
    assert set(realdata.__all__) == {"AtomInflated", "annual_maxima", "day_spans", "grid_step", "jitter_ties",
                                     "log_returns", "make_atom_inflated", "split_atom", "tie_fraction"}
