"""Run the Examples sections of the package's docstrings as doctests.

Every module of ``heavytail_diffusion`` is collected, so an Examples section added anywhere is
checked by the suite; a module with no examples passes trivially (its case is skipped so the
count of real checks stays visible in the pytest summary).
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import heavytail_diffusion

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(heavytail_diffusion.__path__, prefix="heavytail_diffusion.")
    if not m.name.endswith("__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name, globs={"np": np, **vars(module)}) if t.examples]
    if not tests:
        pytest.skip("no examples")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"


# The most used public functions: each must carry an Examples section that runs here.
REQUIRED = [
    # tables in
    "heavytail_diffusion.data.load_table",
    "heavytail_diffusion.schema.infer_schema",
    "heavytail_diffusion.preprocessing.log_returns",
    "heavytail_diffusion.preprocessing.jitter_ties",
    "heavytail_diffusion.benchmarks.get_benchmark",
    # tail diagnostics
    "heavytail_diffusion.diagnostics.tail_index.hill",
    "heavytail_diffusion.diagnostics.tail_index.select_k",
    "heavytail_diffusion.diagnostics.tail_index.orient",
    "heavytail_diffusion.diagnostics.evt.fit_gpd",
    "heavytail_diffusion.diagnostics.evt.fit_gev",
    "heavytail_diffusion.diagnostics.evt.return_level",
    "heavytail_diffusion.diagnostics.evt.gpd_isf",
    "heavytail_diffusion.diagnostics.evt.mean_residual_life",
    "heavytail_diffusion.diagnostics.evt.select_threshold",
    "heavytail_diffusion.diagnostics.summary.diagnose_column",
    "heavytail_diffusion.diagnostics.time_blocks.annual_maxima",
    "heavytail_diffusion.diagnostics.time_blocks.block_maxima_by_time",
    "heavytail_diffusion.diagnostics.quantiles.value_at_risk",
    "heavytail_diffusion.diagnostics.quantiles.expected_shortfall",
    "heavytail_diffusion.diagnostics.quantiles.quantile_errors",
    "heavytail_diffusion.diagnostics.distances.max_sliced_wasserstein",
    "heavytail_diffusion.diagnostics.distances.energy_distance",
    "heavytail_diffusion.diagnostics.dependence.chi",
    # generators and their scoring
    "heavytail_diffusion.models.make_model",
    "heavytail_diffusion.models.list_models",
    "heavytail_diffusion.models.check_model_names",
    "heavytail_diffusion.priors.make_prior",
    "heavytail_diffusion.scoring.score_samples",
    "heavytail_diffusion.scorecard.score_split",
    "heavytail_diffusion.scorecard.rank_splits",
    "heavytail_diffusion.plots.hill_plot",
    "heavytail_diffusion.plots.survival_plot",
]


@pytest.mark.parametrize("qualname", REQUIRED)
def test_required_examples(qualname):
    module_name, _, attr = qualname.rpartition(".")
    obj = getattr(importlib.import_module(module_name), attr)
    tests = doctest.DocTestFinder(recurse=False).find(obj, qualname, globs={})
    assert tests and tests[0].examples, f"{qualname} has no Examples section"
