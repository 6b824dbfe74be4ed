"""Tests for VaR, expected shortfall, Weissman extrapolation and generated-vs-real quantile errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from heavytail_diffusion.diagnostics.quantiles import (
    expected_shortfall,
    quantile_errors,
    value_at_risk,
    weissman_quantile,
    worst_direction_quantile_error,
)
from heavytail_diffusion.errors import DataError


def test_var_and_es_exact_small():
    x = np.arange(1.0, 101.0)  # 1..100
    assert value_at_risk(x, 0.99) == pytest.approx(np.quantile(x, 0.99))
    assert expected_shortfall(x, 0.99) == pytest.approx(100.0)  # top 1 of 100
    assert expected_shortfall(x, 0.95) == pytest.approx(np.mean([96, 97, 98, 99, 100]))
    # fractional: n (1 - level) = 2.5 -> (100 + 99 + 0.5 * 98) / 2.5
    assert expected_shortfall(x, 0.975) == pytest.approx((100 + 99 + 0.5 * 98) / 2.5)


def test_lower_tail_is_loss_convention():
    rng = np.random.default_rng(0)
    r = rng.standard_t(4, 5000)
    assert value_at_risk(r, 0.99, tail="lower") == pytest.approx(-np.quantile(r, 0.01))
    assert value_at_risk(r, 0.99, tail="lower") > 0
    assert expected_shortfall(r, 0.99, tail="lower") >= value_at_risk(r, 0.99, tail="lower") - 1e-9


def test_var_es_per_column_and_normal_values():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200000, 2))
    v = value_at_risk(X, 0.975)
    es = expected_shortfall(X, 0.975)
    assert v.shape == (2,)
    np.testing.assert_allclose(v, 1.95996, atol=0.03)
    np.testing.assert_allclose(es, 2.33780, atol=0.03)  # phi(z) / 0.025


def test_weissman_pareto():
    rng = np.random.default_rng(2)
    x = rng.pareto(2.0, 50000) + 1  # Pareto(alpha = 2, x_m = 1): Q(q) = (1 - q)^(-1/2)
    est = weissman_quantile(x, [0.9999, 0.99999])
    np.testing.assert_allclose(est, [100.0, 316.23], rtol=0.15)
    # given xi and k, the formula is exact
    top = np.sort(x)[::-1]
    assert weissman_quantile(x, 0.999, k=100, xi=0.5) == pytest.approx(top[100] * (100 / 50) ** 0.5)


def test_weissman_errors():
    with pytest.raises(DataError, match="positive"):
        weissman_quantile(-np.arange(1.0, 100.0), 0.999)
    with pytest.raises(ValueError, match="k must"):
        weissman_quantile(np.arange(1.0, 11.0), 0.99, k=10)
    with pytest.raises(ValueError, match="q must lie"):
        weissman_quantile(np.arange(1.0, 11.0), 1.0)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 3)), elements=st.floats(-1e6, 1e6)))
def test_quantile_errors_zero_for_identical(X):
    out = quantile_errors(X, X.copy(), directions=np.ones(X.shape[1]))
    assert (out["abs_error"] == 0).all() and (out["rel_error"] == 0).all()
    assert not out.isna().any().any()


def test_quantile_errors_table_and_support():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 2))
    Y = X * np.array([1.0, 2.0])
    out = quantile_errors(X, Y, qs=(0.9, 0.999, 0.9999), directions=[[1.0, 0.0]], columns=["a", "b"])
    assert list(out["target"].unique()) == ["a", "b", "direction 0"]
    assert len(out) == 9
    b = out[out["target"] == "b"]
    np.testing.assert_allclose(b["rel_error"], 1.0)
    np.testing.assert_allclose(out[out["target"] == "direction 0"]["rel_error"], 0.0)
    sup = out.set_index(["target", "q"])["supported"]
    assert sup[("a", 0.999)] and not sup[("a", 0.9999)]  # 2000 * 1e-4 < 1


def test_quantile_errors_bad_input():
    X = np.ones((10, 2))
    with pytest.raises(DataError, match=r"\(10, 2\).*\(5, 3\)"):
        quantile_errors(X, np.ones((5, 3)))
    with pytest.raises(ValueError, match="qs must lie"):
        quantile_errors(X, X, qs=(0.5, 1.0))
    bad = X.copy()
    bad[2, 0] = np.inf
    with pytest.raises(DataError, match="infinite at row 2"):
        quantile_errors(X, bad)
    with pytest.raises(DataError, match="0 rows"):
        quantile_errors(np.empty((0, 2)), X)
    with pytest.raises(DataError, match="zero vector"):
        quantile_errors(X, X, directions=[0.0, 0.0])
    with pytest.raises(ValueError, match="level"):
        value_at_risk(X, 1.5)


def test_worst_direction_finds_inflated_axis():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((5000, 4))
    Y = rng.standard_normal((5000, 4))
    Y[:, 1] *= 1.5
    res = worst_direction_quantile_error(X, Y, q=0.99, seed=0)
    assert abs(res.direction[1]) > 0.95
    assert res.rel_error == pytest.approx(0.5, abs=0.15)
    assert res.supported
    again = worst_direction_quantile_error(X, Y, q=0.99, seed=0)
    np.testing.assert_array_equal(res.direction, again.direction)
