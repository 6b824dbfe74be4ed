"""The per-column summary equals direct calls to the estimators, records per-column failures, rejects bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.cli._common import to_jsonable
from heavytail_diffusion.data import dataset_path, load_table
from heavytail_diffusion.diagnostics import evt, quantiles, tail_index
from heavytail_diffusion.diagnostics.summary import diagnose_column, diagnose_table
from heavytail_diffusion.errors import DataError


@pytest.fixture(scope="module")
def danish():
    return load_table(dataset_path("danish"), columns="loss_mdkk")


@pytest.fixture(scope="module")
def danish_summary(danish):
    return diagnose_table(danish, threshold=10)


def test_danish_matches_direct_calls_and_evd(danish, danish_summary):
    x = danish.values[:, 0]
    res = danish_summary.columns["loss_mdkk"]
    assert res["n"] == x.size == 2167
    g = res["gpd"]
    # R evd::fpot(danish, 10): scale 6.97545, shape 0.496988, se 1.11349 / 0.136283, 109 exceedances
    assert g["n_exceedances"] == 109 and g["threshold_rule"] == "user"
    assert g["shape"] == pytest.approx(0.496988, rel=1e-4)
    assert g["scale"] == pytest.approx(6.97545, rel=1e-4)
    assert g["se_shape"] == pytest.approx(0.136283, rel=1e-3)
    assert g["se_scale"] == pytest.approx(1.11349, rel=1e-3)
    h = tail_index.hill(x, seed=0)
    assert res["hill"]["xi"] == h.value and res["hill"]["k"] == h.k
    assert (res["hill"]["ci_low"], res["hill"]["ci_high"]) == (h.ci_low, h.ci_high)
    q = res["quantiles"]
    assert q["q0.99"] == pytest.approx(np.quantile(x, 0.99))
    assert q["es_0.99"] == pytest.approx(quantiles.expected_shortfall(x, 0.99))
    assert q["weissman_q0.9999"] == pytest.approx(quantiles.weissman_quantile(x, 0.9999, k=h.k, xi=h.value))
    rl = res["return_levels"]
    assert rl["unit"] == "observations" and "gev" not in res
    fit = evt.fit_gpd(x, 10)
    direct = evt.return_level(fit, 1000, data=x, method="profile")
    row = next(r for r in rl["gpd"] if r["period"] == 1000)
    assert row["value"] == pytest.approx(direct.value) and row["ci_high"] == pytest.approx(direct.ci_high)
    # the GPD 0.9999 quantile is the 10000-observation return level
    assert q["gpd_q0.9999"] == pytest.approx(next(r for r in rl["gpd"] if r["period"] == 10000)["value"])


def test_outputs_json_and_flat_frame(danish_summary):
    d = danish_summary.to_dict()
    text = json.dumps(to_jsonable(d), allow_nan=False)
    assert json.loads(text)["columns"]["loss_mdkk"]["gpd"]["n_exceedances"] == 109
    df = danish_summary.to_frame()
    assert list(df.index) == ["loss_mdkk"]
    for col in ("hill_xi", "gpd_shape", "gpd_se_scale", "quantiles_q0.999", "return_levels_gpd_1000_ci_low"):
        assert col in df.columns
    assert df.loc["loss_mdkk", "gpd_shape"] == d["columns"]["loss_mdkk"]["gpd"]["shape"]


def test_thresholds_per_column_auto_and_block_size():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": (1 - rng.random(1000)) ** -0.5, "b": rng.standard_t(4, 1000)})
    s = diagnose_table(X, threshold={"a": 3.0}, block_size=50, seed=1)
    a, b = s.columns["a"], s.columns["b"]
    assert a["gpd"]["threshold"] == 3.0 and a["gpd"]["threshold_rule"] == "user"
    choice = evt.select_threshold(X["b"].to_numpy())
    assert b["gpd"]["threshold"] == choice.threshold and b["gpd"]["threshold_rule"].startswith("auto")
    gev = evt.fit_gev(evt.block_maxima(X["a"].to_numpy(), 50))
    assert a["gev"]["n_blocks"] == 20 and a["gev"]["shape"] == pytest.approx(gev.shape)
    assert a["return_levels"]["unit"] == "blocks" and {r["period"] for r in a["return_levels"]["gev"]} == {
        10,
        100,
    }
    # block size 1: the rows are the maxima
    m = X["a"].to_numpy()[:40]
    s1 = diagnose_column(m, threshold="auto", block_size=1)
    assert s1["gev"]["n_blocks"] == 40 and s1["gev"]["shape"] == pytest.approx(evt.fit_gev(m).shape)
    with pytest.raises(DataError, match="unknown column"):
        diagnose_table(X, threshold={"c": 1.0})


def test_lower_and_both_tails_analyse_minus_x_and_abs_x():
    rng = np.random.default_rng(2)
    x = rng.standard_t(3, 800)
    low = diagnose_column(x, tail="lower", name="r")
    assert low["scale"] == "-r"
    assert low["hill"]["xi"] == tail_index.hill(x, tail="lower", seed=0).value
    assert low["quantiles"]["q0.99"] == pytest.approx(np.quantile(-x, 0.99))
    both = diagnose_column(x, tail="both", threshold=1.0)
    assert both["gpd"]["n_exceedances"] == int(np.sum(np.abs(x) > 1.0))


def test_failed_part_recorded_not_raised():
    # every value negative: Hill (logs of the upper tail) is impossible, the GPD and quantiles still work
    x = np.random.default_rng(3).normal(size=500) - 10.0
    res = diagnose_column(x)
    assert "error" in res["hill"] and "positive" in res["hill"]["error"]
    assert "shape" in res["gpd"]
    assert res["quantiles"]["weissman_q0.9999"] is None
    s = diagnose_table(np.column_stack([x, -x]), columns=["neg", "pos"])
    assert "error" in s.columns["neg"]["hill"] and "xi" in s.columns["pos"]["hill"]
    assert "hill_error" in s.to_frame().columns


def test_bad_input_raises_clear_errors():
    rng = np.random.default_rng(4)
    X = rng.standard_t(3, size=(200, 2))
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(DataError, match="non-finite"):
        diagnose_table(bad)
    const = X.copy()
    const[:, 0] = 1.0
    with pytest.raises(DataError, match="constant"):
        diagnose_table(const)
    with pytest.raises(DataError, match="at or above the maximum"):
        diagnose_table(X, columns=["a", "b"], threshold=100.0)
    with pytest.raises(DataError, match="column 'b'.*exceed"):
        diagnose_table(X, columns=["a", "b"], threshold={"b": float(np.sort(X[:, 1])[-5])})
    with pytest.raises(ValueError, match="tail"):
        diagnose_table(X, tail="left")
    with pytest.raises(ValueError, match="threshold"):
        diagnose_column(X[:, 0], threshold="median")


def test_atoms_and_ties_are_split_off_and_reported():
    """A column that is 92% exact zeros, with counts beside it and a category: Hill and the threshold see
    the continuous part only, ties of the counts are jittered (reported), the category is not analysed."""
    import pandas as pd

    from heavytail_diffusion.data import load_table
    from heavytail_diffusion.diagnostics.summary import diagnose_table

    rng = np.random.default_rng(0)
    n = 3000
    loss = np.where(rng.random(n) < 0.92, 0.0, rng.pareto(2.0, n) + 1.0)
    frame = pd.DataFrame({"loss": loss, "claims": rng.poisson(3, n) * 3 + rng.integers(0, 2, n) * 7,
                          "region": rng.choice(["n", "s"], n)})  # fmt: skip
    res = diagnose_table(load_table(frame)).to_dict()["columns"]
    cp = res["loss"]["continuous_part"]
    assert cp["atoms"] == {"0": pytest.approx(np.mean(loss == 0))} and cp["n_continuous"] == int((loss > 0).sum())
    assert res["loss"]["gpd"]["threshold"] > 1.0  # not on the atom
    assert 0.3 < res["loss"]["hill"]["xi"] < 0.8  # true 0.5 for the continuous part
    assert "jitter" in res["claims"]["continuous_part"]["ties"]
    assert "skipped" in res["region"]
    assert any("atoms split off" in w for w in res["loss"]["warnings"])
