"""Bayesian GPD/GEV by NUTS (short chains): agreement with the MLE on large samples, seeds, R-hat/ESS."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import genextreme, genpareto

from heavytail_diffusion.diagnostics import evt
from heavytail_diffusion.diagnostics.bayes import DEFAULT_PRIOR, fit_gev_bayes, fit_gpd_bayes


@pytest.fixture(scope="module")
def gpd_post():
    y = genpareto.rvs(0.3, scale=2.0, size=3000, random_state=np.random.default_rng(8))
    return y, fit_gpd_bayes(y, 0.0, num_samples=150, warmup=100, chains=2, seed=3)


def test_gpd_posterior_mean_agrees_with_mle_on_a_large_sample(gpd_post):
    y, post = gpd_post
    mle = evt.fit_gpd(y, 0.0)
    tab = post.summary()
    assert abs(tab.loc["shape", "mean"] - mle.shape) < mle.se_shape
    assert abs(tab.loc["scale", "mean"] - mle.scale) < mle.se_scale
    assert tab.loc["shape", "sd"] == pytest.approx(mle.se_shape, rel=0.35)
    assert max(post.rhat.values()) < 1.1 and min(post.ess.values()) > 50
    assert len(post.samples) == 300 and post.chains == 2 and post.prior == DEFAULT_PRIOR


def test_gpd_return_level_posterior_brackets_the_mle(gpd_post):
    y, post = gpd_post
    mle = evt.fit_gpd(y, 0.0)
    rl = post.return_levels([1e4]).iloc[0]
    ref = evt.return_level(mle, 1e4)
    assert rl.ci_low < ref.value < rl.ci_high
    d = post.summary_dict([1e4])
    assert d["model"] == "gpd" and d["return_levels"][0]["period"] == 1e4 and d["draws"] == 300


def test_seeded_chains_are_reproducible():
    y = genpareto.rvs(0.2, size=200, random_state=np.random.default_rng(9))
    a = fit_gpd_bayes(y, 0.0, num_samples=30, warmup=30, chains=1, seed=5)
    b = fit_gpd_bayes(y, 0.0, num_samples=30, warmup=30, chains=1, seed=5)
    pd.testing.assert_frame_equal(a.samples, b.samples)


def test_gev_posterior_near_mle():
    x = genextreme.rvs(-0.1, loc=10, scale=2, size=400, random_state=np.random.default_rng(10))
    post = fit_gev_bayes(x, num_samples=150, warmup=100, chains=2, seed=1)
    mle = evt.fit_gev(x)
    tab = post.summary()
    assert abs(tab.loc["loc", "mean"] - mle.loc) < mle.se_loc
    assert abs(tab.loc["shape", "mean"] - mle.shape) < mle.se_shape
    with pytest.raises(ValueError, match="num_samples"):
        fit_gev_bayes(x, num_samples=2)
