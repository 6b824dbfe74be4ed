"""Tests of the GPD-tailed marginals and their normal scores."""

import numpy as np
import pytest
from scipy import stats

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.priors.marginals import GPDTailMarginal, MarginalTransform


@pytest.fixture(scope="module")
def t3():
    x = stats.t(3).rvs(20000, random_state=np.random.default_rng(0))
    return x, GPDTailMarginal().fit(x)


def test_cdf_ppf_round_trip(t3):
    _, m = t3
    p = np.array([1e-10, 1e-4, 0.01, 0.04, 0.2, 0.5, 0.8, 0.97, 0.999, 1 - 1e-9])
    np.testing.assert_allclose(m.cdf(m.ppf(p)), p, rtol=1e-9, atol=1e-15)
    q = np.array([1e-300, 1e-12, 1e-3, 0.2])
    np.testing.assert_allclose(m.sf(m.isf(q)), q, rtol=1e-9)
    assert np.all(np.diff(m.ppf(np.linspace(0.001, 0.999, 500))) > 0)


def test_tail_index_near_truth_on_student_t3(t3):
    _, m = t3
    assert abs(m.shape_upper_ - 1 / 3) < 0.1
    assert abs(m.shape_lower_ - 1 / 3) < 0.1  # lower tail fitted on -x, so xi > 0 means heavy too
    # the fitted tail matches the true far quantile within sampling error
    assert abs(m.isf(1e-4) / stats.t(3).isf(1e-4) - 1) < 0.3


def test_normal_scores_finite_and_stable_deep_in_tail(t3):
    x, m = t3
    far = np.array([x.max() * 1e6, x.min() * 1e6, 1e300, -1e300])
    z = m.to_normal(far)
    assert np.all(np.isfinite(z)) and z[0] > 8 and z[1] < -8
    zs = np.linspace(-37, 37, 75)
    np.testing.assert_allclose(m.to_normal(m.from_normal(zs)), zs, atol=1e-8)
    # body normal scores agree with ndtri of the plotting positions
    np.testing.assert_allclose(m.to_normal(np.median(x)), 0.0, atol=0.02)


def test_bounded_and_light_tails():
    rng = np.random.default_rng(1)
    u = rng.uniform(size=5000)  # xi = -1 in both tails: bounded
    m = GPDTailMarginal().fit(u)
    assert m.shape_upper_ < 0 and m.shape_lower_ < 0
    assert m.isf(1e-12) <= 1.1 and np.isfinite(m.to_normal(5.0))
    e = rng.exponential(size=20000)  # xi = 0 upper tail
    me = GPDTailMarginal().fit(e)
    assert abs(me.shape_upper_) < 0.1
    assert abs(me.isf(1e-5) / np.log(1e5) - 1) < 0.15


def test_min_exceedances_guard():
    x = stats.t(3).rvs(400, random_state=np.random.default_rng(2))
    with pytest.warns(RuntimeWarning, match="min_exceedances"):
        m = GPDTailMarginal(tail_fraction=0.02).fit(x)
    assert m.n_exceedances_ == 50
    with pytest.raises(DataError, match="at least 40"):
        GPDTailMarginal().fit(x[:20])
    with pytest.raises(DataError, match="constant"):
        GPDTailMarginal().fit(np.ones(100))
    with pytest.raises(DataError, match="NaN"):
        GPDTailMarginal().fit(np.r_[x, np.nan])
    with pytest.raises(ValueError, match="tail_fraction"):
        GPDTailMarginal(tail_fraction=0.7).fit(x)


def test_sample_and_density(t3):
    _, m = t3
    s = m.sample(200000, seed=3)
    np.testing.assert_array_equal(s, m.sample(200000, seed=3))
    assert abs(np.quantile(s, 0.999) / m.ppf(0.999) - 1) < 0.05
    grid = np.linspace(-200, 200, 400001)
    mass = np.trapezoid(np.exp(m.logpdf(grid)), grid)
    assert abs(mass - (m.cdf(200.0) - m.cdf(-200.0))) < 1e-3


def test_marginal_transform_state_round_trip():
    rng = np.random.default_rng(4)
    X = np.c_[rng.standard_t(3, 3000), rng.normal(size=3000), rng.pareto(2.5, 3000)]
    with pytest.warns(RuntimeWarning, match="lower GPD maximum likelihood failed.*lower tail looks bounded"):
        mt = MarginalTransform().fit(X)  # Lomax lower tail: density rises to the endpoint 0, no MLE
    assert mt.marginals_[2].shape_lower_ < 0 and -0.01 < mt.marginals_[2].isf(1 - 1e-12) <= X[:, 2].min()
    Z = mt.to_normal(X)
    assert Z.shape == X.shape and np.all(np.isfinite(Z))
    np.testing.assert_allclose(mt.from_normal(Z), X, atol=1e-9)
    mt2 = MarginalTransform.from_state(mt.get_config(), mt.state_dict())
    np.testing.assert_array_equal(mt2.to_normal(X), Z)
    with pytest.raises(DataError, match="3"):
        mt.to_normal(X[:, :2])


def test_exponential_tails_fix_the_shape_and_round_trip():
    """On a log scale a Pareto(xi) tail is exponential with scale xi: the fixed-shape fit recovers it."""
    from heavytail_diffusion.priors import MarginalTransform

    rng = np.random.default_rng(5)
    logx = np.log(rng.pareto(2.0, size=(20000, 2)) + 1.0)  # Pareto xi = 0.5 -> exponential(scale 0.5)
    mt = MarginalTransform(exponential_tails=[True, False]).fit(logx)
    m0, m1 = mt.marginals_
    assert m0.shape_upper_ == 0.0 and m0.shape_lower_ == 0.0 and abs(m0.scale_upper_ - 0.5) < 0.05
    assert m1.shape_upper_ != 0.0
    rebuilt = MarginalTransform.from_state(mt.get_config(), mt.state_dict())
    z = rng.standard_normal((100, 2)) * 3
    np.testing.assert_allclose(rebuilt.from_normal(z), mt.from_normal(z))


def test_exponential_tails_at_infinity():
    """xi = 0 tails at x = +-inf give the limits (they gave NaN before the marginals used evt's GPD)."""
    x = np.random.default_rng(0).standard_t(3, size=2000)
    m = GPDTailMarginal(exponential_tails=True).fit(x)
    np.testing.assert_array_equal(m.cdf([-np.inf, np.inf]), [0.0, 1.0])
    np.testing.assert_array_equal(m.logsf([np.inf]), [-np.inf])
    z = m.to_normal([-np.inf, np.inf])
    assert np.all(np.isfinite(z)) and z[0] < -30 and z[1] > 30


def test_clipped_shape_gets_its_own_scale():
    # Pareto data with tail index 0.8 (xi = 1.25): the shape is clipped at max_shape = 1 with a warning and
    # the scale is the maximum-likelihood one at xi = 1 (the nllh there is flat in the scale and no lower
    # than at the free fit's scale), so the tail is less light than with the free fit's scale kept
    from heavytail_diffusion.diagnostics.evt.gpd import fit_gpd, gpd_nllh

    x = np.random.default_rng(0).pareto(0.8, size=20_000)
    with pytest.warns(RuntimeWarning, match="clipped, scale refitted"):
        m = GPDTailMarginal().fit(x)
    assert m.shape_upper_ == 1.0
    u = m.threshold_upper_
    y = x[x > u] - u
    free = fit_gpd(x, threshold=u)
    assert free.shape > 1.1
    nll = lambda s: gpd_nllh(y, 1.0, s)
    s = m.scale_upper_
    assert nll(s) < nll(free.scale) - 1.0
    assert nll(s) <= min(nll(0.99 * s), nll(1.01 * s))
    q = np.quantile(x, 0.999)
    assert abs(m.isf(0.001) - q) < abs(u + free.scale / 1.0 * ((0.001 / 0.05) ** -1.0 - 1) - q)
