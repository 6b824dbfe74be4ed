"""Tests of the pyro flow priors (tiny configurations: a few steps on a small 2-D problem)."""

import numpy as np
import pytest
from scipy import stats

from heavytail_diffusion.errors import ModelFileError
from heavytail_diffusion.priors import FlowPrior, load_prior, make_prior

TINY = {"n_layers": 2, "hidden": 16, "count_bins": 4, "steps": 25, "batch_size": 128, "progress": False}


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 2)) @ np.linalg.cholesky([[1.0, 0.6], [0.6, 1.0]]).T
    return z / np.sqrt(rng.chisquare(3, size=(2000, 1)) / 3)


@pytest.fixture(scope="module")
def flow_evt(X):
    return make_prior("flow-evt", **TINY).fit(X, sigma_T=0.5, seed=0)


def test_flow_evt_fits_and_samples(flow_evt, X):
    assert np.all(np.isfinite(flow_evt.loss_history_))
    # it learns the dependence: better than the independent-normal-scores start (the identity flow)
    z = flow_evt.margins_.to_normal(X)
    gain = flow_evt._flow_log_prob(z).mean() - stats.norm.logpdf(z).sum(1).mean()
    assert gain > 0.02
    s = flow_evt.sample(5000, seed=1)
    assert s.shape == (5000, 2) and np.all(np.isfinite(s))
    np.testing.assert_array_equal(s, flow_evt.sample(5000, seed=1))
    c = flow_evt.sample_clean(20000, seed=2)
    # the far tails come from the GPD margins: the 0.99 quantiles are the data's within sampling error
    np.testing.assert_allclose(np.quantile(c, 0.99, axis=0), np.quantile(X, 0.99, axis=0), rtol=0.15)
    assert stats.kendalltau(c[:5000, 0], c[:5000, 1]).statistic > 0.15  # truth 0.41


def test_fit_deterministic_given_seed(flow_evt, X):
    again = make_prior("flow-evt", **TINY).fit(X, sigma_T=0.5, seed=0)
    np.testing.assert_array_equal(flow_evt.sample(500, seed=3), again.sample(500, seed=3))


def test_log_prob_definitions(flow_evt, X):
    lp = flow_evt.log_prob_clean(X[:50])
    assert lp.shape == (50,) and np.all(np.isfinite(lp))
    with pytest.raises(NotImplementedError, match="log_prob_clean"):
        flow_evt.log_prob(X[:5])
    ft = make_prior("flow-t", **TINY).fit(X, sigma_T=0.5, seed=0)
    assert np.all(np.isfinite(ft.log_prob(X[:20])))
    assert np.all(np.isfinite(ft.sample(1000, seed=0)))
    with pytest.raises(NotImplementedError):
        ft.sample_clean(10)


def test_state_round_trip(flow_evt, X):
    state = flow_evt.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    rebuilt = load_prior("flow-evt", flow_evt.get_config(), state)
    np.testing.assert_array_equal(flow_evt.sample(300, seed=4), rebuilt.sample(300, seed=4))
    np.testing.assert_allclose(rebuilt.log_prob_clean(X[:20]), flow_evt.log_prob_clean(X[:20]))
    bad = {k: v for k, v in state.items() if not k.startswith("flow.layers.0")}
    with pytest.raises(ModelFileError):
        load_prior("flow-evt", flow_evt.get_config(), bad)


def test_learned_df_and_one_dimension(X):
    p = FlowPrior(marginals="none", base="studentt", df=None, **TINY).fit(X[:, :1], sigma_T=0.0, seed=0)
    assert p.net_.df().item() > 1
    assert p.sample(100, seed=0).shape == (100, 1)


def test_bad_parameters(X):
    with pytest.raises(ValueError, match="base"):
        FlowPrior(base="laplace").fit(X, 0.5)
    with pytest.raises(ValueError, match="steps"):
        FlowPrior(steps=0).fit(X, 0.5)
    with pytest.raises(ValueError, match="bad parameters"):
        make_prior("flow-evt", wrong=1)


def test_fixed_noise_ablation_fits_on_one_noised_copy(X):
    fresh = make_prior("flow-t", **TINY).fit(X, sigma_T=0.5, seed=0)
    fixed = make_prior("flow-t", fresh_noise=False, **TINY).fit(X, sigma_T=0.5, seed=0)
    assert fixed.get_config()["fresh_noise"] is False and fresh.get_config()["fresh_noise"] is True
    s = fixed.sample(500, seed=1)
    assert s.shape == (500, 2) and np.all(np.isfinite(s))
    # same seed, different training stream: the fitted flows differ
    assert not np.allclose(s, fresh.sample(500, seed=1))
    again = make_prior("flow-t", fresh_noise=False, **TINY).fit(X, sigma_T=0.5, seed=0)
    np.testing.assert_array_equal(s, again.sample(500, seed=1))
    rebuilt = load_prior("flow-t", fixed.get_config(), fixed.state_dict())
    np.testing.assert_array_equal(s, rebuilt.sample(500, seed=1))
