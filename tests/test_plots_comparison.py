"""The comparison report's figures (plots.comparison_figures) and the plots package's old names."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from heavytail_diffusion import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)

    def law(n):
        z = rng.standard_t(3, size=(n, 2))
        return np.column_stack([z[:, 0], np.exp(0.6 * z[:, 0] + 0.8 * z[:, 1])])  # two-sided, positive

    return law(400), {"copy": law(800), "light": rng.normal(size=(800, 2)) + [0.0, 3.0]}


def test_comparison_figures_come_in_report_order(rows):
    import pandas as pd

    R, S = rows
    summary = pd.DataFrame({"survival_area": [0.5, 2.0], "survival_area_sd": [0.1, 0.2],
                            "survival_area_floor": [0.4, 0.4]}, index=["copy", "light"])  # fmt: skip
    figs = list(plots.comparison_figures(R, S, ["ret", "claim"], summary=summary, seed=0))
    assert [(kind, names) for kind, names, _ in figs] == [
        ("scorecard", ()), ("tails", ("ret",)), ("tails", ("claim",)), ("pairs", ("ret", "claim")),
        ("chi", ("ret", "claim"))]  # fmt: skip
    assert all(isinstance(fig, Figure) for _, _, fig in figs)
    tails = {names: fig for kind, names, fig in figs if kind == "tails"}
    assert len(tails[("ret",)].axes) == 6 and len(tails[("claim",)].axes) == 3  # two tails, one tail
    assert [ax.get_title() for ax in figs[3][2].axes if ax.get_visible()] == ["copy", "light"]


def test_comparison_figures_follow_tail_columns_pairs_and_samples(rows):
    R, S = rows
    only = list(plots.comparison_figures(R, S, ["ret", "claim"], tail_columns=["claim"]))
    assert [(kind, names) for kind, names, _ in only] == [("tails", ("claim",))]  # no pair of tail columns
    kinds = [k for k, _, _ in plots.comparison_figures(R, S, ["ret", "claim"], max_pairs=0)]
    assert kinds == ["tails", "tails"]
    assert list(plots.comparison_figures(R, {}, ["ret", "claim"])) == []  # nothing to compare


def test_the_package_keeps_every_old_name():
    from heavytail_diffusion.plots import _ccdf, _color, _oriented, _restyle, model_color, tails

    assert _color is model_color and model_color(0) == plots._PALETTE[0]
    assert plots.hill_plot is tails.hill_plot
    assert callable(_ccdf) and callable(_oriented) and callable(_restyle)
    for name in ("chi_plot", "fit_diagnostic_plot", "gpd_qq_plot", "hill_fraction_plot", "hill_plot",
                 "mean_residual_life_plot", "model_scatter_grid", "pair_plot", "parameter_stability_plot",
                 "qq_plot", "return_level_plot", "scorecard_plot", "survival_plot",
                 "tail_panels"):  # fmt: skip
        assert name in plots.__all__ and callable(getattr(plots, name)), name
