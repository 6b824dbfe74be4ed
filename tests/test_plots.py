"""Every plot function returns labelled axes with log scales where the tail lives (drawn headless, Agg)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from heavytail_diffusion import plots
from heavytail_diffusion.diagnostics import evt, tail_index
from heavytail_diffusion.errors import DataError


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def pareto():
    rng = np.random.default_rng(1)
    return (1.0 - rng.random(600)) ** (-1.0 / 2.0)  # Pareto(alpha = 2), xi = 0.5, support >= 1


@pytest.fixture(scope="module")
def gpd_fit(pareto):
    return evt.fit_gpd(pareto, float(np.quantile(pareto, 0.9)))


def _labelled(ax: Axes) -> None:
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_hill_plot_log_k_band_and_selected_k(pareto):
    est = tail_index.hill(pareto, seed=0)
    ax = plots.hill_plot(pareto, k_selected=est)
    assert isinstance(ax, Axes)
    _labelled(ax)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"k = {est.k}" in t for t in labels)
    assert any("CI" in t for t in labels)
    assert ax.collections, "confidence band missing"
    # the curve drawn is the Hill curve itself
    curve = tail_index.hill_curve(pareto)
    k, xi = ax.lines[0].get_data()
    np.testing.assert_allclose(xi, curve.xi[np.asarray(k, int) - 1])


def test_hill_plot_on_given_axes_and_k_range(pareto):
    _fig, ax0 = plt.subplots()
    ax = plots.hill_plot(pareto, k_range=(10, 200), ax=ax0, ci=False, log_k=False, label="sample A")
    assert ax is ax0 and ax.get_xscale() == "linear"
    k, _ = ax.lines[0].get_data()
    assert k.min() == 10 and k.max() == 200
    with pytest.raises(ValueError, match="k_range"):
        plots.hill_plot(pareto, k_range=(50, 10))
    with pytest.raises(ValueError, match="k_selected"):
        plots.hill_plot(pareto, k_selected=10_000)


def test_gpd_qq_plot_log_log_with_all_exceedances(pareto, gpd_fit):
    ax = plots.gpd_qq_plot(pareto, gpd_fit)
    _labelled(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    pts = next(ln for ln in ax.lines if ln.get_marker() == "o")
    assert len(pts.get_xdata()) == gpd_fit.n_exceedances
    np.testing.assert_allclose(np.sort(pts.get_ydata()), np.sort(pareto[pareto > gpd_fit.threshold]))


def test_qq_plot_log_symlog_linear_and_legend(pareto):
    rng = np.random.default_rng(2)
    gen = {"a": pareto * 1.1, "b": (1.0 - rng.random(800)) ** (-1.0 / 3.0)}
    ax = plots.qq_plot(pareto, gen)
    _labelled(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "1:1 line"]
    t = rng.standard_t(3, 500)
    ax2 = plots.qq_plot(t, rng.standard_t(3, 500))
    assert ax2.get_xscale() == "symlog" and "symlog" in ax2.get_xlabel()
    ax3 = plots.qq_plot(t, t, log=False)
    assert ax3.get_xscale() == "linear"
    with pytest.raises(ValueError, match="generated"):
        plots.qq_plot(t, {})


def test_survival_plot_data_black_samples_coloured_and_fit(pareto, gpd_fit):
    rng = np.random.default_rng(3)
    ax = plots.survival_plot(pareto, {"model": pareto * rng.uniform(0.9, 1.1, pareto.size)}, fit=gpd_fit)
    _labelled(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.lines[0].get_color() == "black"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("data") and texts[1].startswith("model") and "GPD" in texts[2]
    # survival of the data: P(X >= largest) = 1/n
    y = ax.lines[0].get_ydata()
    assert y.min() == pytest.approx(1.0 / pareto.size)


def test_survival_plot_lower_tail_and_no_positive_values():
    x = -np.exp(np.random.default_rng(4).normal(size=300))
    ax = plots.survival_plot(x, tail="lower")
    assert "-x" in ax.get_xlabel()
    with pytest.raises(DataError, match="no positive values"):
        plots.survival_plot(x, tail="upper")


def test_mean_residual_life_plot(pareto):
    ax = plots.mean_residual_life_plot(pareto, threshold=2.0)
    _labelled(ax)
    assert "mean excess" in ax.get_ylabel()
    assert any("chosen u = 2" in t.get_text() for t in ax.get_legend().get_texts())


def test_parameter_stability_plot_two_panels(pareto):
    axes = plots.parameter_stability_plot(pareto, threshold=2.0)
    assert len(axes) == 2
    assert "modified scale" in axes[0].get_ylabel() and "shape" in axes[1].get_ylabel()
    assert axes[1].get_xlabel() == "threshold u"
    _fig, given = plt.subplots(1, 2)
    out = plots.parameter_stability_plot(pareto, axes=given, thresholds=[1.5, 2.0, 3.0])
    assert out[0] is given[0]


def test_return_level_plot_gpd_and_gev(pareto, gpd_fit):
    ax = plots.return_level_plot(gpd_fit, data=pareto)
    _labelled(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "observations" in ax.get_xlabel()
    assert any("profile" in t.get_text() for t in ax.get_legend().get_texts())
    ax = plots.return_level_plot(gpd_fit, data=pareto, obs_per_block=50, method="delta")
    assert "blocks of 50" in ax.get_xlabel()
    maxima = evt.block_maxima(pareto, 20)
    gev = evt.fit_gev(maxima)
    ax = plots.return_level_plot(gev, data=maxima, method="delta")
    assert "blocks" in ax.get_xlabel() and ax.get_xscale() == "log"
    pts = next(ln for ln in ax.lines if ln.get_marker() == "o")
    assert len(pts.get_xdata()) == maxima.size


def test_chi_plot_data_and_samples():
    rng = np.random.default_rng(5)
    z = rng.standard_t(3, size=(800, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    axes = plots.chi_plot(
        z[:, 0], z[:, 1], samples={"indep": rng.standard_t(3, size=(800, 2))}, labels=("a", "b")
    )
    assert len(axes) == 2
    assert axes[0].get_ylabel() == "χ(u)" and axes[1].get_ylabel() == "χ̄(u)"
    assert "a vs b" in axes[0].get_title()
    assert any(ln.get_label() == "indep" for ln in axes[0].lines)


def test_pair_plot_grid_with_log_axes():
    rng = np.random.default_rng(6)
    X = np.exp(rng.normal(size=(300, 2)))
    fig = plots.pair_plot(X, {"model": X * 1.05}, columns=["u", "v"], max_points=100)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    off = fig.axes[1]
    assert off.get_xscale() == "log" and off.get_yscale() == "log"
    assert off.get_xlabel().startswith("v") and off.get_ylabel().startswith("u")
    Y = rng.standard_t(3, size=(300, 3))
    fig = plots.pair_plot(Y)
    assert fig.axes[1].get_xscale() == "symlog"
    with pytest.raises(ValueError, match="columns"):
        plots.pair_plot(rng.normal(size=(50, 1)))
