"""Tests of the EVT-copula prior, the reference priors and the registry."""

import numpy as np
import pytest
from scipy import stats

from heavytail_diffusion.errors import DataError, ModelFileError
from heavytail_diffusion.priors import PRIORS, EVTCopulaPrior, load_prior, make_prior
from heavytail_diffusion.priors.copula import _pareto_scale


def _data(n=5000, rho=0.7, seed=0):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky([[1.0, rho], [rho, 1.0]])
    z = rng.standard_normal((n, 2)) @ L.T
    w = np.sqrt(rng.chisquare(3, size=(n, 1)) / 3)
    return z / w  # bivariate Student-t(3), xi = 1/3 per margin


@pytest.fixture(scope="module")
def X():
    return _data()


@pytest.mark.parametrize("copula", ["empirical", "gaussian", "t", "spectral"])
def test_samples_finite_seeded_and_marginal_quantiles(X, copula):
    p = EVTCopulaPrior(copula=copula, df=None if copula != "t" else 4.0).fit(X, sigma_T=0.5, seed=0)
    s = p.sample(40000, seed=1)
    assert s.shape == (40000, 2) and np.all(np.isfinite(s))
    np.testing.assert_array_equal(s, p.sample(40000, seed=1))
    assert not np.array_equal(s, p.sample(40000, seed=2))
    c = p.sample_clean(200000, seed=3)
    np.testing.assert_allclose(np.quantile(c, 0.99, axis=0), np.quantile(X, 0.99, axis=0), rtol=0.08)


def test_empirical_copula_reaches_beyond_training_max(X):
    p = EVTCopulaPrior().fit(X, sigma_T=0.0)
    c = p.sample_clean(200000, seed=0)
    assert np.all(c.max(0) > X.max(0)) and np.all(c.min(0) < X.min(0))
    # uniform jitter inside rank cells: the copula margins are exactly uniform
    log_p, _ = p._copula_logs(100000, np.random.default_rng(0))
    assert stats.kstest(np.exp(log_p[:, 0]), "uniform").pvalue > 1e-3


def test_gaussian_and_t_copula_recover_dependence(X):
    pg = EVTCopulaPrior(copula="gaussian").fit(X, 0.0)
    tau = stats.kendalltau(X[:, 0], X[:, 1]).statistic
    assert abs(pg.corr_[0, 1] - np.sin(np.pi * tau / 2)) < 0.05
    pt = EVTCopulaPrior(copula="t").fit(X, 0.0, seed=0)
    assert abs(pt.corr_[0, 1] - 0.7) < 0.05
    assert 1.5 < pt.df_ < 8  # truth: 3
    # densities at sigma_T = 0 integrate-ish: finite and higher at the centre than far out
    lp = pg.log_prob(np.array([[0.0, 0.0], [30.0, -30.0]]))
    assert np.all(np.isfinite(lp)) and lp[0] > lp[1]
    with pytest.raises(NotImplementedError):
        EVTCopulaPrior().fit(X, 0.5).log_prob(X[:3])


@pytest.mark.parametrize(
    "name",
    ["evt-copula", "evt-gaussian-copula", "evt-t-copula", "evt-spectral-copula", "empirical", "gaussian"],
)
def test_state_round_trip_same_samples(X, name):
    p = make_prior(name).fit(X, sigma_T=1.0, seed=0)
    state = p.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    q = load_prior(name, p.get_config(), state)
    np.testing.assert_array_equal(p.sample(1000, seed=5), q.sample(1000, seed=5))
    with pytest.raises(ModelFileError):
        load_prior(name, p.get_config(), {"junk": np.zeros(2)})


def test_reference_priors(X):
    e = make_prior("empirical").fit(X, 0.8)
    lp = e.log_prob(X[:10])
    assert np.all(np.isfinite(lp))
    g = make_prior("gaussian").fit(X, 2.0)
    s = g.sample(50000, seed=0)
    assert abs(s.std() - 2.0) < 0.05 and abs(s.mean()) < 0.05
    np.testing.assert_allclose(g.log_prob(np.zeros((1, 2))), -2 * np.log(2.0) - np.log(2 * np.pi))


def test_bad_input(X):
    with pytest.raises(ValueError, match="unknown prior 'nope'.*evt-copula"):
        make_prior("nope")
    with pytest.raises(DataError, match="column 1.*NaN"):
        EVTCopulaPrior().fit(np.c_[X[:, 0], np.r_[np.nan, X[1:, 1]]], 1.0)
    with pytest.raises(ValueError, match="sigma_T"):
        EVTCopulaPrior().fit(X, -1.0)
    with pytest.raises(ValueError, match="copula"):
        EVTCopulaPrior(copula="clayton").fit(X, 1.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        EVTCopulaPrior().sample(3)
    p = EVTCopulaPrior(copula="gaussian").fit(X, 0.0)
    with pytest.raises(DataError, match="2"):
        p.log_prob(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n must"):
        p.sample(0)
    assert set(PRIORS) >= {"evt-copula", "evt-gaussian-copula", "flow-evt", "flow-t", "empirical", "gaussian"}


def test_spectral_copula_body_is_empirical_and_tail_radii_are_fresh(X):
    p = EVTCopulaPrior(copula="spectral").fit(X, sigma_T=0.0)
    n, d = X.shape
    k = int(p.tail_rows_.sum())
    assert k == round(0.005 * d * n) and p.angles_.shape == (k, d)
    # the joint-tail rows are those of largest Pareto-scale radius: every body row lies within radius_
    R = np.abs(_pareto_scale((p.ranks_ - 0.5) / n)).sum(1)
    assert R[~p.tail_rows_].max() <= p.radius_ < R[p.tail_rows_].min()
    # far marginal tails: P(U_j > 1 - t) = t for t well beyond the body (the moment constraints)
    log_p, log_q = p._copula_logs(400_000, np.random.default_rng(0))
    for t in (2e-3, 5e-4):
        np.testing.assert_allclose((log_q < np.log(t)).mean(0), t, rtol=0.15)
        np.testing.assert_allclose((log_p < np.log(t)).mean(0), t, rtol=0.15)
    # the joint-tail draws are not the training rows' extremes: radii of the top draws are continuous
    c = p.sample_clean(200_000, seed=1)
    top = c[np.argsort(-np.abs(c).sum(1))[:200]]
    dist = np.min(np.abs(top[:, None, :] - X[None, :, :]).sum(-1), axis=1)
    assert np.median(dist) > 0.05 * np.median(np.abs(top).sum(1))


def test_spectral_copula_checks_its_fraction(X):
    with pytest.raises(ValueError, match="joint_tail_fraction"):
        EVTCopulaPrior(copula="spectral", joint_tail_fraction=0.7).fit(X, sigma_T=0.0)
    with pytest.raises(ValueError, match="at least 20"):
        EVTCopulaPrior(copula="spectral", joint_tail_fraction=0.001).fit(X[:1000], sigma_T=0.0)
