"""Tests for chi(u), chi-bar(u), Kendall's tau and the tail-dependence table."""

import numpy as np
import pytest
from scipy import stats

from heavytail_diffusion.diagnostics.dependence import (
    chi,
    chi_curve,
    chibar,
    kendall_tau,
    tail_dependence_table,
)
from heavytail_diffusion.errors import DataError


def gaussian_pair(rho, n, seed):
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)
    return z[:, 0], z[:, 1]


def test_comonotone_chi_one():
    x = np.random.default_rng(0).standard_t(3, 5000)
    u = np.array([0.8, 0.9, 0.99])
    np.testing.assert_allclose(chi(x, np.exp(x), u), 1.0, atol=2e-3)
    np.testing.assert_allclose(chibar(x, x**3, u), 1.0, atol=2e-3)


def test_independent_near_zero():
    x, y = gaussian_pair(0.0, 50000, 1)
    assert abs(chi(x, y, 0.95)) < 0.02
    assert abs(chibar(x, y, 0.9)) < 0.05


def test_gaussian_chibar_near_rho_and_chi_decays():
    x, y = gaussian_pair(0.6, 100000, 2)
    # chi-bar(u) -> rho only slowly; compare with the exact Gaussian chi-bar at this u, which lies below rho
    z = stats.norm.ppf(0.99)
    joint = stats.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]]).cdf([-z, -z])
    exact = 2 * np.log(0.01) / np.log(joint) - 1
    assert 0.4 < exact < 0.6
    assert chibar(x, y, 0.99) == pytest.approx(exact, abs=0.06)
    c = chi(x, y, np.array([0.8, 0.99]))
    assert c[1] < c[0]  # asymptotic independence: chi(u) -> 0


def test_student_t_upper_and_lower_symmetric():
    rng = np.random.default_rng(3)
    z = (
        rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 50000)
        / np.sqrt(rng.chisquare(2, 50000) / 2)[:, None]
    )
    up, lo = chi(z[:, 0], z[:, 1], 0.99), chi(z[:, 0], z[:, 1], 0.99, tail="lower")
    # t copula, nu = 2, rho = 0.5: chi = 2 t_3(-sqrt(3 * 0.5 / 1.5)) = 2 t_3(-1)
    true = 2 * stats.t.cdf(-1.0, 3)
    assert up == pytest.approx(true, abs=0.08) and lo == pytest.approx(true, abs=0.08)


def test_chi_curve_table_and_ci():
    x, y = gaussian_pair(0.5, 4000, 4)
    X = np.c_[x, y, np.random.default_rng(5).standard_normal(4000)]
    out = chi_curve(X, columns=["a", "b", "c"])
    assert len(out) == 3 * 20
    assert set(zip(out["column_1"], out["column_2"], strict=True)) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert (out["chi_ci_low"] <= out["chi"]).all() and (out["chi"] <= out["chi_ci_high"]).all()
    assert (out["chibar_ci_low"] <= out["chibar"]).all() and (out["chibar"] <= out["chibar_ci_high"]).all()
    one = chi_curve(X, u=[0.9], pairs=[("a", "c")], columns=["a", "b", "c"])
    assert len(one) == 1 and one["chi"].iloc[0] == pytest.approx(chi(x, X[:, 2], 0.9))
    assert one["n_joint"].iloc[0] == np.sum(
        (stats.rankdata(x) / 4001 > 0.9) & (stats.rankdata(X[:, 2]) / 4001 > 0.9)
    )


def test_kendall_and_table():
    x, y = gaussian_pair(0.7, 3000, 6)
    T = kendall_tau(np.c_[x, y], columns=["a", "b"])
    assert T.loc["a", "a"] == 1.0 and T.loc["a", "b"] == pytest.approx(stats.kendalltau(x, y).statistic)
    assert T.loc["a", "b"] == pytest.approx(2 / np.pi * np.arcsin(0.7), abs=0.03)
    tab = tail_dependence_table(np.c_[x, y], u=0.95)
    assert list(tab.columns)[-1] == "kendall_tau" and len(tab) == 1


def test_bad_input():
    with pytest.raises(DataError, match=r"\(10,\).*\(9,\)"):
        chi(np.arange(10.0), np.arange(9.0), 0.9)
    with pytest.raises(ValueError, match="u must lie"):
        chi(np.arange(10.0), np.arange(10.0), 1.0)
    with pytest.raises(DataError, match="NaN"):
        chibar([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], 0.5)
    with pytest.raises(DataError, match="at least 2 columns"):
        chi_curve(np.ones((10, 1)))
    with pytest.raises(ValueError, match="tail"):
        chi(np.arange(10.0), np.arange(10.0), 0.5, tail="both")
    with pytest.raises(ValueError, match="neither a column name"):
        chi_curve(np.random.default_rng(0).standard_normal((20, 2)), pairs=[("a", "z")], columns=["a", "b"])
    with pytest.raises(DataError, match="0 rows|rows"):
        chi([], [], 0.5)
