"""Tests of report.compare / write_report: every requested model and metric present, failures reported, files."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.report import METRICS, auto_preprocessing, compare, score_samples, write_report

FAST = {"flow": {"flow_steps": 20}, "truncated": {"train_steps": 30, "steps": 3}}
MODELS = ["evt-copula", "flow", "truncated"]


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_t(3, size=(n, 2))
    z[:, 1] = 0.6 * z[:, 0] + 0.8 * z[:, 1]
    return pd.DataFrame({"ret": z[:, 0], "claim": np.exp(z[:, 1])})  # two-sided and positive heavy tails


@pytest.fixture(scope="module")
def result():
    with pytest.warns(UserWarning, match="oracle-start"):
        return compare(
            _data(), MODELS + ["oracle-start"], quick=True, n_samples=800, model_params=FAST, progress=False
        )


def test_every_model_and_metric(result):
    M = result.metrics
    assert set(M.model) == set(MODELS + ["oracle-start"])
    assert set(M.metric) <= set(METRICS)
    expected = {
        "hill_xi", "hill_xi_abs_error", "gpd_xi", "quantile_rel_error", "var_rel_error", "es_rel_error",
        "tail_ks", "ccdf_area", "ccdf_signed_area", "max_sliced_w2", "max_sliced_w2_slog", "energy_distance",
        "chi", "chi_abs_error", "memorisation_ratio", "memorisation_frac_close", "nfe", "fit_seconds",
        "sample_seconds",
    }  # fmt: skip
    for name in MODELS:
        got = set(M[M.model == name].metric)
        assert expected <= got, expected - got
        # both tails of the two-sided column, the upper tail of the positive one
        q = M[(M.model == name) & (M.metric == "tail_ks")]
        assert sorted(zip(q["target"], q["tail"], strict=True)) == [
            ("claim", "upper"),
            ("ret", "lower"),
            ("ret", "upper"),
        ]
    # defined metrics are finite (quantile errors only where the reference supports them)
    ok = M[M.model.isin(MODELS) & (M.metric != "quantile_rel_error")]
    assert ok.value.notna().all(), ok[ok.value.isna()]
    sup = M[(M.metric == "quantile_rel_error") & M.supported]
    assert sup.value.notna().all() and len(sup)
    assert not M[
        (M.metric == "quantile_rel_error") & np.isclose(M.level, 0.999)
    ].supported.any()  # 120 test rows
    # the joint distances carry the train-vs-test floor
    assert M[M.metric.str.startswith("max_sliced")].floor.gt(0).all()


def test_failed_model_is_an_error_row(result):
    M = result.metrics
    err = M[M.model == "oracle-start"]
    assert list(err.metric) == ["error"] and "oracle" in err.note.iloc[0]
    S = result.summary
    assert S.index[-1] == "oracle-start" and S.loc["oracle-start", "status"].startswith("failed")
    assert S.loc[MODELS, "rank"].notna().all() and S["rank"].dropna().is_monotonic_increasing  # best first


def test_split_and_samples(result):
    assert result.train.shape == (280, 2) and result.test.shape == (120, 2)
    rows = {tuple(r) for r in result.train} | {tuple(r) for r in result.test}
    assert len(rows) == 400  # a partition of the rows
    assert all(s.shape == (800, 2) and np.isfinite(s).all() for s in result.samples.values())
    assert result.info["preprocessing"] == ["robust", "log"]  # the positive column spans > 2 decades
    assert (result.samples["evt-copula"][:, 1] > 0).all()


def test_write_report(result, tmp_path):
    path = write_report(result, tmp_path / "rep")
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {
        "metrics.csv",
        "summary.csv",
        "report.md",
        "report.html",
        "tails_ret.png",
        "tails_claim.png",
    } <= files
    assert {"pairs_ret_claim.png", "chi_ret_claim.png"} <= files
    md = (tmp_path / "rep" / "report.md").read_text()
    html = path.read_text()
    for name in MODELS + ["oracle-start"]:
        assert name in md and name in html
    assert "data:image/png;base64," in html and "seed 0" in md
    back = pd.read_csv(tmp_path / "rep" / "metrics.csv")
    assert len(back) == len(result.metrics)


def test_same_seed_same_split():
    a = compare(_data(120), ["evt-copula"], n_samples=200, seed=3, quick=True, progress=False)
    b = compare(_data(120), ["evt-copula"], n_samples=200, seed=3, quick=True, progress=False)
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.samples["evt-copula"], b.samples["evt-copula"])


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown model.*'nope'"):
        compare(_data(), ["evt-copula", "nope"])
    with pytest.raises(DataError, match="missing"):
        compare(_data(), ["evt-copula"], columns=["ret", "missing"])
    with pytest.raises(ValueError, match="test_fraction"):
        compare(_data(), ["evt-copula"], test_fraction=1.5)
    with pytest.raises(ValueError, match="not being compared"):
        compare(_data(), ["evt-copula"], model_params={"edm": {"steps": 5}})


def test_auto_preprocessing():
    X = np.column_stack([np.geomspace(1, 1e4, 50), np.linspace(1, 50, 50), np.linspace(-1, 1, 50)])
    assert auto_preprocessing(X) == ["log", "robust", "robust"]


def test_score_samples_perfect_copy_beats_shifted():
    rng = np.random.default_rng(1)
    R = rng.standard_t(3, size=(500, 2))
    train = rng.standard_t(3, size=(500, 2))
    M = score_samples(R, {"same": rng.standard_t(3, size=(3000, 2)), "light": rng.normal(size=(3000, 2))},
                      train=train, columns=["a", "b"], quick=True)  # fmt: skip
    ks = M[M.metric == "tail_ks"].groupby("model").value.mean()
    assert ks["same"] < ks["light"]
    hill = M[M.metric == "hill_xi_abs_error"].groupby("model").value.mean()
    assert hill["same"] < hill["light"]


def test_too_light_model_gets_undefined_tail_metrics_not_zero():
    rng = np.random.default_rng(2)
    R = rng.standard_t(3, size=(400, 1))
    capped = np.clip(rng.standard_t(3, size=(2000, 1)), -0.5, 0.5)  # never reaches the reference 0.9 quantile
    M = score_samples(R, {"capped": capped}, train=rng.standard_t(3, size=(400, 1)), quick=True)
    for metric in ("ccdf_area", "tail_ks"):
        rows = M[M.metric == metric]
        assert rows.value.isna().all() and len(rows) == 2  # both tails of a two-sided column
    assert "never exceeds" in M[M.metric == "ccdf_area"].note.iloc[0]


def test_a_failing_gpd_fit_is_a_nan_metric_not_a_crash(monkeypatch):
    """A GPD fit with no interior maximum (NumericalError) on one model's samples once stopped a whole
    ht10d comparison; it must become a NaN metric with the message as its note."""
    from heavytail_diffusion.diagnostics import evt
    from heavytail_diffusion.errors import NumericalError

    real_fit = evt.fit_gpd
    calls = {"n": 0}

    def flaky_fit(y, u):
        calls["n"] += 1
        if calls["n"] > 2:  # the reference fits succeed; the model's fail
            raise NumericalError("GPD likelihood has no interior maximum")
        return real_fit(y, u)

    monkeypatch.setattr(evt, "fit_gpd", flaky_fit)
    X = _data().to_numpy()
    scored = score_samples(X[:200], {"m": X[200:]}, train=X[:200], columns=["ret", "claim"], quick=True)
    gpd = scored[(scored.model == "m") & (scored.metric == "gpd_xi")]
    assert len(gpd) and gpd.value.isna().any()
    assert gpd.note.str.contains("no interior maximum").any()
