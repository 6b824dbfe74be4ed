"""The evt package after the split: old names, the shared primitives, the fit objects' return levels."""

import numpy as np
import pytest
from scipy import stats

from heavytail_diffusion.diagnostics import evt
from heavytail_diffusion.diagnostics.evt import (
    fit_gev,
    fit_gpd,
    gpd_isf,
    gpd_isf_log,
    gpd_logpdf,
    gpd_logsf,
    gpd_moment_start,
    gpd_sf,
    return_level,
)
from heavytail_diffusion.diagnostics.evt.optimise import newton_minimize, profile_interval

# every name the single-module evt.py offered (its dir() before the split, dunder names left out)
OLD_NAMES = [
    "DataError",
    "GEVFit",
    "GPDFit",
    "MIN_EXCEEDANCES",
    "MIN_MAXIMA",
    "NumericalError",
    "Real",
    "ReturnLevel",
    "ThresholdChoice",
    "_SMALL",
    "_box_armijo",
    "_check_scale",
    "_cov_from_hessian",
    "_e_w",
    "_expm1_over",
    "_expm1_over_deriv",
    "_expm1_over_deriv2",
    "_f_w",
    "_feasible_starts",
    "_gev_derivs",
    "_gev_derivs_log",
    "_gev_mle",
    "_gev_profile_ci",
    "_gev_rl_lp",
    "_gev_start",
    "_gpd_cum_hazard",
    "_gpd_grad_hess",
    "_gpd_profile",
    "_gpd_rl_setup",
    "_gpd_rl_value",
    "_log1p_over",
    "_newton_minimize",
    "_profile_ci",
    "_profile_terms",
    "_profile_value",
    "_solve_profile",
    "_threshold_excesses",
    "_unit",
    "annotations",
    "asdict",
    "block_maxima",
    "check_sample",
    "dataclass",
    "fit_gev",
    "fit_gpd",
    "gev_nllh",
    "gpd_cdf",
    "gpd_isf",
    "gpd_logpdf",
    "gpd_nllh",
    "gpd_ppf",
    "gpd_sf",
    "math",
    "mean_residual_life",
    "np",
    "parameter_stability",
    "return_level",
    "select_threshold",
]


@pytest.mark.parametrize("name", OLD_NAMES)
def test_every_old_name_still_resolves(name):
    assert hasattr(evt, name)


def test_old_argument_order_of_grad_hess_is_kept():
    y = stats.genpareto.rvs(0.3, scale=2.0, size=300, random_state=np.random.default_rng(0))
    g_old, h_old = evt._gpd_grad_hess(y, 2.0, 0.3)  # (y, scale, shape)
    g_new, h_new = evt.gpd_nllh_derivs(y, 0.3, 2.0)  # (y, shape, scale)
    np.testing.assert_array_equal(g_old, g_new)
    np.testing.assert_array_equal(h_old, h_new)


@pytest.mark.parametrize("xi", [-0.4, 0.0, 1e-9, 0.5, 2.0])
def test_log_scale_gpd_functions(xi):
    y = np.array([0.0, 0.1, 1.0, 10.0, 1e3]) if xi >= 0 else np.array([0.0, 0.1, 1.0, 4.0])
    ls = gpd_logsf(y, xi, 2.0)
    np.testing.assert_allclose(np.exp(ls), gpd_sf(y, xi, 2.0), rtol=1e-14)
    np.testing.assert_allclose(gpd_isf_log(ls[1:], xi, 2.0), y[1:], rtol=1e-12)
    np.testing.assert_allclose(gpd_logpdf(y, xi, 2.0), stats.genpareto.logpdf(y, xi, scale=2.0), rtol=1e-12)
    # the limits at y = +inf and p = 0
    assert gpd_logsf(np.inf, xi, 2.0) == -np.inf
    assert gpd_logpdf(np.inf, xi, 2.0) == -np.inf
    assert gpd_isf_log(-np.inf, xi, 2.0) == (2.0 / -xi if xi < 0 else np.inf)
    # far beyond the float range of p, the log form stays finite
    assert np.isfinite(gpd_isf_log(-1000.0, xi, 2.0)) or xi > 0.5  # p = e^-1000, far below 1e-308
    np.testing.assert_allclose(gpd_isf_log(np.log(1e-3), xi, 2.0), gpd_isf(1e-3, xi, 2.0), rtol=1e-14)


def test_moment_start():
    y = np.random.default_rng(1).exponential(3.0, size=2000)
    m, v = y.mean(), y.var()
    xi, sigma = gpd_moment_start(y)
    assert xi == pytest.approx(0.5 * (1 - m * m / v), rel=1e-14)
    assert sigma == pytest.approx(m * (1 - xi), rel=1e-14)
    xi1, _ = gpd_moment_start(y, ddof=1)
    assert xi1 == pytest.approx(0.5 * (1 - m * m / y.var(ddof=1)), rel=1e-14)
    assert gpd_moment_start(y, shape_bounds=(0.2, 0.45))[0] == 0.2
    u = np.random.default_rng(2).random(200)  # a bounded tail: moment xi < 0
    xi_b, sigma_b = gpd_moment_start(u, cover_max=True)
    assert xi_b < 0 and sigma_b / -xi_b >= u.max()
    assert gpd_moment_start(np.full(20, 2.0)) == (0.0, 2.0)


def test_fit_objects_compute_their_own_return_levels():
    x = np.random.default_rng(0).pareto(3.0, size=3000)
    f = fit_gpd(x, 0.5)
    assert f.return_level(1000, data=x, method="profile") == return_level(f, 1000, data=x, method="profile")
    z = stats.genextreme.rvs(-0.1, loc=5, scale=1, size=60, random_state=np.random.default_rng(3))
    g = fit_gev(z)
    assert g.return_level(50, method="both", data=z).equals(return_level(g, 50, method="both", data=z))
    with pytest.raises(TypeError, match="GPDFit or GEVFit"):
        return_level(object(), 10)
    with pytest.raises(ValueError, match="method must be"):
        return_level(object(), 10, method="bogus")
    with pytest.raises(ValueError, match="GPD fits only"):
        g.return_level(10, obs_per_block=365)


def test_profile_interval_of_a_quadratic_profile_is_the_wald_interval():
    lo, hi = profile_interval(lambda r: 0.5 * ((r - 3.0) / 2.0) ** 2, 0.0, 3.0, 2.0, 0.9)
    z = stats.norm.ppf(0.95)
    assert lo == pytest.approx(3.0 - 2.0 * z, rel=1e-9) and hi == pytest.approx(3.0 + 2.0 * z, rel=1e-9)
    # bounded below: the lower end stops at the limit; unbounded above: +inf
    lo, hi = profile_interval(lambda r: 0.0 if r > 1.0 else np.inf, 0.0, 2.0, 1.0, 0.95, lower_limit=1.0)
    assert lo == pytest.approx(1.0) and hi == np.inf


def test_newton_minimize_respects_a_lower_bound():
    def derivs(p):
        return float((p[0] + 1.0) ** 2), np.array([2.0 * (p[0] + 1.0)]), np.array([[2.0]])

    p, f, _ = newton_minimize(lambda p: derivs(p)[0], derivs, [3.0], [1.0], lower=[0.0])
    assert p[0] == 0.0 and f == 1.0
