"""Tests for heavytail_diffusion.realdata: atoms, returns, day spans, ties, annual maxima."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.realdata import (
    AtomInflated,
    annual_maxima,
    day_spans,
    grid_step,
    jitter_ties,
    log_returns,
    make_atom_inflated,
    split_atom,
    tie_fraction,
)


def test_split_atom_1d_and_2d():
    p0, rest = split_atom([0.0, 0.0, 0.3, 0.0, 1.2])
    assert p0 == pytest.approx(0.6)
    assert rest.tolist() == [0.3, 1.2]
    X = np.array([[0.0, 0.0], [0.0, 1.0], [2.0, 3.0], [0.0, 0.0]])
    p0, rest = split_atom(X)
    assert p0 == pytest.approx(0.5)
    assert rest.shape == (2, 2) and rest[0].tolist() == [0.0, 1.0]
    p0, rest = split_atom([1e-9, 1.0, 2.0], tol=1e-6)
    assert p0 == pytest.approx(1 / 3) and rest.tolist() == [1.0, 2.0]


def test_split_atom_errors():
    with pytest.raises(DataError, match="x"):
        split_atom([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="tol"):
        split_atom([0.0, 1.0], tol=-1)
    with pytest.raises(DataError, match="dimensions"):
        split_atom(np.zeros((2, 2, 2)))


def test_atom_inflated_closed_form_base():
    rng = np.random.default_rng(0)
    n = 3000
    wet = rng.pareto(3.0, n) + 0.01
    x = np.where(rng.random(n) < 0.7, 0.0, wet)
    m = make_atom_inflated("evt-copula", 0.0, preprocessing="log", seed=1).fit(x)
    assert isinstance(m, AtomInflated)
    assert m.p_atom_ == pytest.approx(np.mean(x == 0))
    assert m.n_atom_ + m.n_rest_ == n
    y = m.sample(20000, seed=2)
    assert y.shape == (20000, 1)
    assert np.mean(y == 0) == pytest.approx(m.p_atom_, abs=0.015)
    assert np.all(y[y != 0] > 0)  # log preprocessing of the wet part keeps amounts positive
    # the wet-day law matches the training wet days in the body
    assert np.median(y[y != 0]) == pytest.approx(np.median(x[x != 0]), rel=0.15)
    # reproducible and seed-dependent
    assert np.array_equal(m.sample(100, seed=5), m.sample(100, seed=5))
    assert not np.array_equal(m.sample(100, seed=5), m.sample(100, seed=6))
    assert m.nfe == 0 and "AtomInflated" in repr(m)
    with pytest.raises(ValueError, match="cannot be saved"):
        m.save("/tmp/never")


def test_atom_inflated_dequantize_rounded_data():
    # rain-like: 70% zeros, amounts recorded to 0.01 with many ties at 0.01 (a GPD lower tail of one value)
    rng = np.random.default_rng(1)
    n = 4000
    amounts = np.maximum(np.round(rng.pareto(4.0, n) * 0.3, 2), 0.01)
    x = np.where(rng.random(n) < 0.7, 0.0, amounts)
    m = make_atom_inflated("evt-copula", 0.0, dequantize=True, preprocessing="log", seed=0).fit(x)
    y = m.sample(5000, seed=1)[:, 0]
    wet = y[y != 0]
    assert np.all(wet > 0.0)
    assert np.unique(wet).size == wet.size  # continuous amounts
    assert np.quantile(wet, 0.9) == pytest.approx(np.quantile(x[x != 0], 0.9), rel=0.2)
    # jitter that would cross the atom is refused
    with pytest.raises(DataError, match="reach the atom"):
        make_atom_inflated("evt-copula", 0.0, dequantize=True).fit(np.r_[np.zeros(10), np.arange(0.2, 40.0)])


def test_atom_inflated_errors():
    with pytest.raises(ValueError, match="unknown model"):
        make_atom_inflated("no-such-model")
    with pytest.raises(ValueError, match="no parameter"):
        make_atom_inflated("evt-copula", bogus=1)
    with pytest.raises(DataError, match="differ from the atom"):
        make_atom_inflated("evt-copula").fit(np.r_[np.zeros(100), np.arange(1.0, 6.0)])
    with pytest.raises(RuntimeError, match="not fitted"):
        make_atom_inflated("evt-copula").sample(5)


def test_log_returns_and_spans():
    p = np.array([100.0, 110.0, 99.0])
    r = log_returns(p)
    assert np.allclose(r, [np.log(1.1), np.log(0.9)])
    P = np.c_[p, 2 * p]
    assert np.allclose(log_returns(P), np.c_[r, r])
    with pytest.raises(DataError, match="> 0"):
        log_returns([1.0, 0.0, 2.0])
    with pytest.raises(DataError, match="> 0"):
        log_returns(np.c_[p, [np.nan, 1.0, 2.0]])
    with pytest.raises(DataError, match="2 rows"):
        log_returns([1.0])
    assert day_spans(["2020-01-01", "2020-01-02", "2020-01-05"]).tolist() == [1, 3]
    with pytest.raises(DataError, match="strictly increasing"):
        day_spans(["2020-01-02", "2020-01-01"])
    with pytest.raises(DataError, match="strictly increasing"):
        day_spans(["2020-01-01", "2020-01-01"])
    assert day_spans(["2020-01-01", "2020-01-01", "2020-01-03"], strict=False).tolist() == [0, 2]
    with pytest.raises(DataError, match="non-decreasing"):
        day_spans(["2020-01-02", "2020-01-01"], strict=False)
    with pytest.raises(DataError, match="unreadable"):
        day_spans(["2020-01-02", "not a date"])


def test_ties():
    x = np.array([1, 1, 2, 2, 2, 5, 9], dtype=float)
    assert tie_fraction(x) == pytest.approx(1 - 4 / 7)
    assert grid_step(x) == 1.0
    j = jitter_ties(x, seed=0)
    assert np.unique(j).size == x.size
    assert np.all(np.abs(j - x) < 0.5) and np.all(j > 0)
    # distinct values keep their order
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(np.floor(j[order] + 0.5)) >= 0)
    assert np.array_equal(jitter_ties(x, seed=3), jitter_ties(x, seed=3))
    with pytest.raises(DataError, match="constant"):
        grid_step([2.0, 2.0])
    with pytest.raises(ValueError, match="width"):
        jitter_ties(x, width=-1)


def test_annual_maxima():
    years = np.repeat([1900, 1901, 1902], [3, 2, 1])
    v = np.array([1.0, 5.0, 2.0, 0.0, 3.0, 9.0])
    am = annual_maxima(v, years)
    assert isinstance(am, pd.DataFrame)
    assert am["year"].tolist() == [1900, 1901, 1902]
    assert am["maximum"].tolist() == [5.0, 3.0, 9.0]
    assert am["n_obs"].tolist() == [3, 2, 1]
    assert annual_maxima(v, years, min_obs=2)["year"].tolist() == [1900, 1901]
    with pytest.raises(DataError, match="shape"):
        annual_maxima(v, years[:-1])
    with pytest.raises(DataError, match="min_obs"):
        annual_maxima(v, years, min_obs=10)
