"""Issue 13 regressions: EVT estimators are scale-equivariant from 1e-300 to 1e300 (no OverflowError, no
collapsed intervals, no NaN bounds, no raw numpy warnings), and degenerate cases are reported as such."""

import warnings

import numpy as np
import pytest

from heavytail_diffusion.diagnostics import evt, tail_index
from heavytail_diffusion.diagnostics.summary import diagnose_column
from heavytail_diffusion.errors import DataError

X0 = np.random.default_rng(0).pareto(2.5, 2000) + 1.0
SCALES = [1e-300, 1e-150, 1e160, 1e200, 1e300]


def _strict(f):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return f()


@pytest.fixture(scope="module")
def reference():
    u = float(np.quantile(X0, 0.95))
    gpd = evt.fit_gpd(X0, u)
    m = evt.block_maxima(X0, 50)
    gev = evt.fit_gev(m)
    return {
        "u": u,
        "gpd": gpd,
        "gev": gev,
        "rl": evt.return_level(gpd, 1000, data=X0, method="profile"),
        "rl_gev": evt.return_level(gev, 100, data=m, method="profile"),
        "mrl": evt.mean_residual_life(X0),
        "diag": diagnose_column(X0, block_size=50),
    }


@pytest.mark.parametrize("c", SCALES)
def test_gpd_gev_and_return_levels_are_equivariant(c, reference):
    x = X0 * c
    u = reference["u"] * c
    g = _strict(lambda: evt.fit_gpd(x, u))
    assert g.shape == pytest.approx(reference["gpd"].shape, rel=1e-10)
    assert g.scale == pytest.approx(reference["gpd"].scale * c, rel=1e-10)
    rl = _strict(lambda: evt.return_level(g, 1000, data=x, method="profile"))
    ref = reference["rl"]
    for a, b in [(rl.value, ref.value), (rl.ci_low, ref.ci_low), (rl.ci_high, ref.ci_high)]:
        assert a == pytest.approx(b * c, rel=1e-8)
    assert rl.ci_low < rl.value < rl.ci_high  # never collapsed to [v, v]
    m = evt.block_maxima(x, 50)
    gv = _strict(lambda: evt.fit_gev(m))
    assert gv.shape == pytest.approx(reference["gev"].shape, rel=1e-8)
    assert gv.loc == pytest.approx(reference["gev"].loc * c, rel=1e-8)
    r2 = _strict(lambda: evt.return_level(gv, 100, data=m, method="profile"))
    assert r2.ci_high == pytest.approx(reference["rl_gev"].ci_high * c, rel=1e-6)
    mrl = _strict(lambda: evt.mean_residual_life(x))
    assert not mrl[["ci_low", "ci_high"]].isna().to_numpy().any()
    np.testing.assert_allclose(mrl.ci_high.to_numpy(), reference["mrl"].ci_high.to_numpy() * c, rtol=1e-9)


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_diagnose_column_is_equivariant_at_extreme_scales(c, reference):
    res = _strict(lambda: diagnose_column(X0 * c, block_size=50))
    ref = reference["diag"]
    assert res["gpd"]["shape"] == pytest.approx(ref["gpd"]["shape"], rel=1e-9)
    for a, b in zip(res["return_levels"]["gpd"], ref["return_levels"]["gpd"]):
        assert a["ci_high"] == pytest.approx(b["ci_high"] * c, rel=1e-8)
    assert res["gev"]["shape"] == pytest.approx(ref["gev"]["shape"], rel=1e-8)


def test_return_level_without_data_at_extreme_scale_says_what_to_do():
    x = X0 * 1e300
    g = evt.fit_gpd(x, float(np.quantile(x, 0.95)))
    with pytest.raises(ValueError, match="pass data="):
        evt.return_level(g, 1000)


def test_two_valued_data_are_degenerate_not_xi_zero():
    x = np.r_[np.ones(500), np.full(500, 2.0)]
    with pytest.raises(DataError, match="degenerate"):
        tail_index.hill(x, k=100)
    res = diagnose_column(x)
    assert "degenerate" in res["hill"]["error"]
    assert res["quantiles"]["weissman_q0.9999"] is None


def test_bounded_tail_has_no_gpd_standard_errors():
    x = np.random.default_rng(1).beta(1.0, 1.0 / 0.7, 5000)  # GPD shape -0.7 at the upper endpoint 1
    res = diagnose_column(x, threshold=float(np.quantile(x, 0.8)))
    g = res["gpd"]
    assert g["shape"] < -0.5 and g["se_shape"] is None and g["se_scale"] is None and "Smith" in g["se_note"]


def test_infinite_mean_tail_reports_no_expected_shortfall():
    x = np.random.default_rng(2).pareto(1 / 1.9, 3000) + 1.0  # xi = 1.9
    res = diagnose_column(x)
    assert res["gpd"]["shape"] > 1 and res["quantiles"]["es_0.99"] is None
    assert any("infinite mean" in w for w in res["warnings"])
