"""Tests of report.compare / score_samples / write_report: repeated splits, failures, columns, report files."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.report import METRICS, compare, score_samples, write_report
from heavytail_diffusion.scorecard import FAMILIES

FAST = {"flow": {"flow_steps": 20}}
MODELS = ["evt-t-copula", "flow"]


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_t(3, size=(n, 2))
    z[:, 1] = 0.6 * z[:, 0] + 0.8 * z[:, 1]
    return pd.DataFrame({"ret": z[:, 0], "claim": np.exp(z[:, 1])})  # two-sided and positive heavy tails


@pytest.fixture(scope="module")
def result():
    with pytest.warns(UserWarning, match="oracle-start"):
        return compare(_data(), MODELS + ["oracle-start"], n_splits=3, quick=True, n_samples=800,
                       model_params=FAST, progress=False)  # fmt: skip


def test_every_split_model_and_metric(result):
    M = result.metrics
    assert set(M.metric) <= set(METRICS)
    assert sorted(M.split.unique()) == [0, 1, 2]
    for name in MODELS:
        got = set(M[M.model == name].metric)
        assert {"survival_area", "quantile_rel_error", "hill_xi_abs_error", "chi_abs_error", "max_sliced_w2_slog",
                "memorisation_ratio", "nfe", "fit_seconds"} <= got  # fmt: skip
        q = M[(M.model == name) & (M.metric == "survival_area") & (M.split == 0)]
        assert sorted(zip(q["target"], q["tail"], strict=True)) == [("claim", "upper"), ("ret", "lower"),
                                                                     ("ret", "upper")]  # fmt: skip
    ranked = M[M.model.isin(MODELS) & M.metric.isin(["survival_area", "hill_xi_abs_error", "chi_abs_error"])]
    assert ranked.value.notna().all() and ranked.floor.notna().all()
    # 120 test rows: the 0.99 and 0.999 quantiles are GPD-extrapolated, never silently empty
    q = M[M.model.isin(MODELS) & (M.metric == "quantile_rel_error")]
    assert set(q.ref_kind) == {"gpd"} and q.value.notna().all()


def test_summary_ranks_with_spread_and_failed_model_last(result):
    S = result.summary
    assert list(S.index[-1:]) == ["oracle-start"] and S.loc["oracle-start", "status"].startswith("failed")
    ok = S.loc[MODELS]
    # the rank is what the report says it is: per split, the mean over the ranked metrics of each model's rank
    # among the models; then the mean over the splits (recomputed here from the per-split table)
    P = result.per_split.set_index(["split", "model"])
    fams = [f for f in FAMILIES if f in P.columns]
    expected = P[fams].groupby(level="split").rank().mean(axis=1).groupby(level="model").mean()
    np.testing.assert_allclose(ok["rank"], expected.loc[MODELS], rtol=1e-12)
    assert (ok.rank_low <= ok["rank"]).all() and (ok["rank"] <= ok.rank_high).all()
    assert np.isclose(ok.share_best.sum(), 1.0)
    assert (ok.survival_area_sd > 0).all()  # spread over 3 splits
    assert len(result.per_split) == 3 * len(MODELS)


def test_splits_differ_and_samples_are_kept(result):
    assert result.train.shape == (280, 2) and result.test.shape == (120, 2)
    rows = {tuple(r) for r in result.train} | {tuple(r) for r in result.test}
    assert len(rows) == 400
    assert all(s.shape == (800, 2) and np.isfinite(s).all() for s in result.samples.values())
    P = result.per_split
    assert P[P.model == "flow"].survival_area.nunique() == 3


def test_small_data_warnings_and_verdict(result):
    assert any("120 test rows" in w for w in result.warnings)
    top = result.summary.index[0]
    assert f"**{top}** ranks first" in result.verdict and "oracle-start" in result.verdict


def test_write_report(result, tmp_path):
    path = write_report(result, tmp_path / "rep")
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {"metrics.csv", "per_split.csv", "summary.csv", "report.md", "report.html", "scorecard.png",
            "tails_ret.png", "tails_claim.png", "pairs_ret_claim.png", "chi_ret_claim.png"} <= files  # fmt: skip
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## Verdict" in md and "(noise floor)" in md and "Small-data warnings" in md
    assert "oracle-start (failed [1])" in md and "[1] oracle-start: split 0: ValueError" in md
    # every figure has a caption that says what to look for
    assert md.count("![") == len([f for f in files if f.endswith(".png")])
    figure_lines = [line for line in md.splitlines() if line.startswith("![")]
    assert len(figure_lines) >= 5 and all(len(line.split("](")[0]) > 60 for line in figure_lines)
    # the scorecard fits a laptop screen: no table row longer than 200 characters
    table = [ln for ln in md.split("## Scorecard")[1].split("\n\n")[1].splitlines()]
    assert max(map(len, table)) < 200
    html = path.read_text()
    assert "data:image/png;base64," in html and "Verdict" in html


def test_every_model_failing_is_reported_not_a_traceback(tmp_path):
    """Issue 13: compare with every requested model failing raised AttributeError in the summary."""
    with pytest.warns(UserWarning, match="failed"):
        res = compare(_data(120), ["oracle-start"], n_splits=2, quick=True, progress=False)
    assert list(res.summary.index) == ["oracle-start"] and res.summary.status.iloc[0].startswith("failed")
    assert "No model produced samples" in res.verdict
    write_report(res, tmp_path / "r")
    assert "oracle-start (failed [1])" in (tmp_path / "r" / "report.md").read_text()


def test_same_seed_same_result():
    a = compare(_data(120), ["evt-t-copula"], n_splits=2, n_samples=200, seed=3, quick=True, progress=False)
    b = compare(_data(120), ["evt-t-copula"], n_splits=2, n_samples=200, seed=3, quick=True, progress=False)
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.samples["evt-t-copula"], b.samples["evt-t-copula"])
    keep = [c for c in a.per_split.columns if not c.endswith("seconds")]  # timings differ
    pd.testing.assert_frame_equal(a.per_split[keep], b.per_split[keep])


def test_time_split_holds_out_blocks():
    res = compare(
        _data(200), ["evt-t-copula"], n_splits=3, split="time", n_samples=200, quick=True, progress=False
    )
    X = _data(200).to_numpy()
    np.testing.assert_array_equal(res.test, X[:60])  # first block: the first 60 rows
    np.testing.assert_array_equal(res.train, X[60:])  # trained on every other row


def test_time_split_orders_rows_by_the_time_column_of_the_schema():
    df = _data(200)
    dates = pd.date_range("2001-01-01", periods=200, freq="D")
    perm = np.random.default_rng(5).permutation(200)
    shuffled = df.iloc[perm].reset_index(drop=True).assign(date=dates[perm])  # rows out of time order
    with pytest.warns(UserWarning, match="not modelled"):
        res = compare(shuffled, ["evt-t-copula"], n_splits=3, split="time", n_samples=200, quick=True,
                      progress=False)  # fmt: skip
    assert res.columns == ("ret", "claim")  # the date column is not scored
    # first block: the 60 earliest dates, whatever their row positions
    np.testing.assert_array_equal(np.sort(res.test[:, 0]), np.sort(df.to_numpy()[:60, 0]))


def test_preprocessing_is_passed_only_when_given(monkeypatch):
    from heavytail_diffusion import report

    seen = []
    real = report._fit_sample_task

    def spy(task):
        seen.append(dict(task["params"]))
        return real(task)

    monkeypatch.setattr(report, "_fit_sample_task", spy)
    compare(_data(120), ["evt-t-copula"], n_splits=1, n_samples=100, quick=True, progress=False)
    assert "preprocessing" not in seen[-1]
    compare(_data(120), ["evt-t-copula"], n_splits=1, n_samples=100, quick=True, progress=False,
            preprocessing="robust")  # fmt: skip
    assert seen[-1]["preprocessing"] == "robust"


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown model.*'nope'"):
        compare(_data(), ["evt-t-copula", "nope"])
    with pytest.raises(DataError, match="missing"):
        compare(_data(), ["evt-t-copula"], columns=["ret", "missing"])
    with pytest.raises(ValueError, match="test_fraction"):
        compare(_data(), ["evt-t-copula"], test_fraction=1.5)
    with pytest.raises(ValueError, match="not being compared"):
        compare(_data(), ["evt-t-copula"], model_params={"edm": {"steps": 5}})


@pytest.fixture(scope="module")
def truth_and_worse():
    """Real rows, fresh rows of the same law (the truth) and a Gaussian fitted to the real rows (mean and
    covariance: a clearly worse generator, with tails far too light and no tail dependence)."""
    real = _data(600, seed=7)
    rng = np.random.default_rng(9)
    gauss = rng.multivariate_normal(real.mean().to_numpy(), real.cov().to_numpy(), 3000)
    return real, _data(3000, seed=8), pd.DataFrame(gauss, columns=real.columns)


def test_a_known_better_generator_ranks_first_whatever_its_label(truth_and_worse):
    real, truth, worse = truth_and_worse
    for labels in (("a", "b"), ("b", "a")):
        res = score_samples(real, {labels[0]: truth, labels[1]: worse}, n_splits=3, quick=True)
        S = res.summary
        good, bad = labels
        assert list(S.index) == [good, bad], labels  # the truth first, under either label
        assert S.loc[good, "rank"] == 1.0 and S.loc[bad, "rank"] == 2.0  # first on every metric and split
        assert S.loc[good, "share_best"] == 1.0 and S.loc[good, "tied_with"] == ""
        for fam in FAMILIES:
            assert S.loc[good, fam] < S.loc[bad, fam], fam
        assert res.verdict.startswith(f"Over 3 splits, **{good}** ranks first")


def test_swapping_the_labels_swaps_the_ranks(truth_and_worse):
    real, truth, worse = truth_and_worse
    # one split: no subsampling of the synthetic sets, so the two runs score exactly the same rows
    ab = score_samples(real, {"a": truth, "b": worse}, n_splits=1, quick=True).summary
    ba = score_samples(real, {"a": worse, "b": truth}, n_splits=1, quick=True).summary
    assert ab.loc["a", "rank"] < ab.loc["b", "rank"]
    assert ba.loc["b", "rank"] == ab.loc["a", "rank"] and ba.loc["a", "rank"] == ab.loc["b", "rank"]
    keep = [c for c in ab.columns if c not in ("tied_with", "best_in")]
    swapped = ba.rename(index={"a": "b", "b": "a"}).loc[list(ab.index), keep]
    pd.testing.assert_frame_equal(swapped, ab[keep])


def test_score_samples_matches_columns_by_name():
    rng = np.random.default_rng(1)
    real = pd.DataFrame(rng.standard_t(3, size=(600, 2)), columns=["a", "b"])
    good = pd.DataFrame(rng.standard_t(3, size=(3000, 2)), columns=["b", "a"])  # other order: matched by name
    res = score_samples(real, {"t3": good, "normal": rng.normal(size=(3000, 2))}, n_splits=3, quick=True)
    S = res.summary
    assert (
        S.index[0] == "t3"
        and (
            S.loc["t3", ["survival_area", "q99_error"]] < S.loc["normal", ["survival_area", "q99_error"]]
        ).all()
    )
    assert res.info["n_test"] == 300 and len(res.per_split) == 6
    with pytest.raises(DataError, match=r"lacks column\(s\) \['b'\].*renamed\? 'b' -> 'B'\?"):
        score_samples(real, {"x": good.rename(columns={"b": "B"})})
    with pytest.raises(DataError, match=r"has column\(s\) \['c'\]"):
        score_samples(real, {"x": good.assign(c=1.0)})
    with pytest.raises(DataError, match="shape"):
        score_samples(real, {"x": np.ones((50, 3))})


def test_peer_names_without_their_package_give_an_install_hint(monkeypatch):
    from heavytail_diffusion import report
    from heavytail_diffusion.models import (
        MODELS,
        peers,  # the module register_peers lives in
    )

    monkeypatch.setattr(peers, "available_peers", list)
    monkeypatch.delitem(MODELS, "sdv-ctgan", raising=False)
    with pytest.raises(ValueError, match=r"need the package\(s\) \['sdv'\].*\[peers\]"):
        report._check_models(["evt-t-copula", "sdv-ctgan"])
