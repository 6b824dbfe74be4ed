"""``make_model("auto")``: the choice on validation splits, its reasons, edge cases, save/load."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.models import MODELS, GenerativeModel, load_model, make_model
from heavytail_diffusion.models.auto import AutoModel


class _Gaussian(GenerativeModel):
    """A light-tailed test generator: independent Gaussians with the preprocessed rows' medians and IQR/1.349
    scales (the bulk's spread)."""

    name = "test-gaussian"

    def _fit(self, Z, rng):
        q1, q2, q3 = np.quantile(Z, [0.25, 0.5, 0.75], axis=0)
        self.mu_, self.cov_ = q2, np.diag(((q3 - q1) / 1.349) ** 2)

    def _sample(self, n, rng, **options):
        return rng.multivariate_normal(self.mu_, self.cov_, size=n)

    def _get_state(self):
        return {"mu": self.mu_.tolist(), "cov": self.cov_.tolist()}, {}

    def _set_state(self, config, arrays):
        self.mu_, self.cov_ = np.asarray(config["mu"]), np.asarray(config["cov"])


class _Broken(_Gaussian):
    name = "test-broken"

    def _fit(self, Z, rng):
        raise RuntimeError("this generator always fails")


@pytest.fixture
def extra_models(monkeypatch):
    monkeypatch.setitem(MODELS, "test-gaussian", _Gaussian)
    monkeypatch.setitem(MODELS, "test-broken", _Broken)
    monkeypatch.setitem(
        MODELS, "test-broken-too", type("_BrokenToo", (_Broken,), {"name": "test-broken-too"})
    )


def _heavy(n=1500, seed=0):
    return np.random.default_rng(seed).standard_t(2.5, size=(n, 2))


@pytest.mark.parametrize("order", [["test-gaussian", "evt-t-copula"], ["evt-t-copula", "test-gaussian"]])
def test_auto_picks_the_candidate_with_the_right_tails(extra_models, order):
    m = make_model("auto", candidates=order, progress=False, seed=0).fit(_heavy())
    assert m.chosen_ == "evt-t-copula" and isinstance(m.model_, MODELS["evt-t-copula"])
    assert "test-gaussian" in m.reason_ and "evt-t-copula" in m.reason_
    sel = m.selection_
    assert set(sel.candidate) == set(order) and sorted(sel.split.unique()) == [0, 1]
    mean = sel.groupby("candidate").tail_error.mean()
    assert mean["evt-t-copula"] < mean["test-gaussian"]
    assert np.allclose(sel.tail_error, (sel.q99_error + sel.q999_error) / 2)
    assert m.sample(7, seed=0).shape == (7, 2) and m.nfe == 0


def test_tolerance_keeps_the_first_candidate_when_the_others_only_tie(extra_models):
    m = make_model("auto", candidates=["test-gaussian", "evt-t-copula"], tolerance=0.999, progress=False)
    assert m.fit(_heavy()).chosen_ == "test-gaussian"  # a later candidate must be 99.9% lower to win


def test_same_seed_same_choice_and_samples(extra_models):
    kw = {"candidates": ["evt-t-copula", "test-gaussian"], "progress": False, "seed": 3}
    a, b = make_model("auto", **kw).fit(_heavy()), make_model("auto", **kw).fit(_heavy())
    pd.testing.assert_frame_equal(a.selection_, b.selection_.assign(fit_seconds=a.selection_.fit_seconds))
    assert np.array_equal(a.sample(100, seed=1), b.sample(100, seed=1))


def test_refit_uses_every_row(extra_models):
    X = _heavy()
    m = make_model("auto", candidates=["evt-t-copula", "test-gaussian"], progress=False, seed=0).fit(X)
    direct = make_model("evt-t-copula", seed=0).fit(X)
    assert np.array_equal(m.sample(200, seed=5), direct.sample(200, seed=5))
    kept = make_model("auto", candidates=["evt-t-copula", "test-gaussian"], refit=False, progress=False).fit(
        X
    )
    assert not np.array_equal(kept.sample(200, seed=5), direct.sample(200, seed=5))  # the 70% split-0 fit


def test_a_failing_candidate_is_reported_and_skipped(extra_models):
    m = make_model("auto", candidates=["test-broken", "evt-t-copula"], progress=False).fit(_heavy())
    assert m.chosen_ == "evt-t-copula" and "failed: test-broken" in m.reason_
    assert (
        m.selection_.loc[m.selection_.candidate == "test-broken", "note"].str.contains("always fails").all()
    )


def test_every_candidate_failing_is_an_error(extra_models):
    with pytest.raises(DataError, match="every candidate failed.*always fails"):
        make_model("auto", candidates=["test-broken", "test-broken-too"], progress=False).fit(_heavy())


def test_too_few_rows_keeps_the_first_candidate_with_a_warning(extra_models):
    with pytest.warns(UserWarning, match="too few to hold out"):
        m = make_model("auto", candidates=["test-gaussian", "evt-t-copula"], progress=False).fit(_heavy(50))
    assert m.chosen_ == "test-gaussian" and m.selection_.empty


@pytest.mark.parametrize(
    "params, match",
    [
        ({"candidates": []}, "at least one"),
        ({"candidates": ["no-such-model"]}, "unknown model"),
        ({"candidates": ["auto", "evt-t-copula"]}, "cannot be its own"),
        ({"candidates": ["evt-t-copula"], "candidate_params": {"edm": {}}}, "not candidates"),
        ({"tolerance": 1.5}, "tolerance"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_splits": 0}, "n_splits"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        make_model("auto", progress=False, **params).fit(_heavy(100))


def test_bad_data_is_refused_before_any_fit():
    X = _heavy(200)
    X[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        make_model("auto", progress=False).fit(X)


def test_save_load_same_samples_and_selection(extra_models, tmp_path):
    df = pd.DataFrame(_heavy(), columns=["a", "b"])
    df["a"] = np.abs(df["a"])  # a positive column: the schema's support is kept through the choice
    m = make_model("auto", candidates=["evt-t-copula", "test-gaussian"], progress=False).fit(df)
    m.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert isinstance(back, AutoModel) and back.chosen_ == m.chosen_ and back.reason_ == m.reason_
    assert np.array_equal(back.sample(300, seed=2), m.sample(300, seed=2))
    assert (m.sample(2000, seed=0)[:, 0] >= 0).all()
    pd.testing.assert_frame_equal(back.selection_, m.selection_, check_dtype=False)
    assert list(back.sample_frame(3, seed=0).columns) == ["a", "b"]
