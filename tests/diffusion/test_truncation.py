"""Tests of the choice of sigma_T by dip tests over random projections."""

import numpy as np
import pytest

from heavytail_diffusion.diffusion import SigmaTSelection, select_sigma_T

KW = {"n_directions": 50, "n_subsample": 2000, "n_noise": 3}


def mixture(sep, n=3000, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[: n // 2, 0] += sep
    return X


def test_more_separated_mixture_needs_more_noise():
    grid = np.geomspace(0.05, 10, 30)
    a = select_sigma_T(mixture(3.0), sigma_grid=grid, seed=0, **KW)
    b = select_sigma_T(mixture(6.0), sigma_grid=grid, seed=0, **KW)
    assert isinstance(a, SigmaTSelection) and a.converged and b.converged
    assert b.sigma_T > a.sigma_T > grid[0]
    # monotone rule: every level from sigma_T on passes, the one below fails
    k = int(np.searchsorted(b.grid, b.sigma_T))
    assert b.passed[k:].all() and not b.passed[k - 1]
    assert b.worst_direction.shape == (30, 3) and b.z.shape == (30, 53)
    np.testing.assert_allclose(np.linalg.norm(b.worst_direction, axis=1), 1.0)
    assert list(b.to_frame().columns) == ["sigma", "worst_z", "retest_z", "passed"]


def test_unimodal_data_gives_smallest_level_and_seed_determinism():
    X = np.random.default_rng(1).standard_t(5, size=(3000, 2))
    r = select_sigma_T(X, seed=4, **KW)
    assert r.sigma_T == r.grid[0]
    assert select_sigma_T(X, seed=4, return_diagnostics=False, **KW) == r.sigma_T
    one_d = select_sigma_T(mixture(6.0, d=1), seed=0, return_diagnostics=False, **KW)
    assert one_d > 0.5


def test_far_rows_do_not_push_the_grid_above_the_bulk():
    # unimodal bulk plus a handful of rows thousands of bulk scales out (a log-t loss on its raw scale):
    # the variance-based grid would start at 0.05 x ~400; the extended one reaches the bulk's scale
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 2))
    X[:5, 0] = [2e4, 5e3, 3e4, 1e4, 8e3]
    r = select_sigma_T(X, seed=0, **KW)
    assert np.sqrt(np.mean(X.var(axis=0))) > 10 * 20  # the variance-based scale
    assert r.grid[0] < 0.06 and r.grid[-1] > 10 * 200 and r.sigma_T < 1.0
    # data without far rows: the documented default grid, unchanged
    Y = rng.standard_t(4, size=(3000, 2))
    g = select_sigma_T(Y, seed=0, **KW).grid
    np.testing.assert_allclose(g, np.geomspace(0.05, 10.0, 40) * np.sqrt(np.mean(Y.var(axis=0))))


def test_an_isolated_false_alarm_is_retested(monkeypatch):
    # a spike of the worst z at the grid's top level, above passing levels: a chance spike (first noise set
    # only) is re-tested with fresh noise and does not set sigma_T; a spike that repeats does
    from heavytail_diffusion.diffusion import truncation

    X = np.random.default_rng(1).standard_t(5, size=(2000, 2))
    grid = np.geomspace(0.05, 10, 12)
    base = select_sigma_T(X, sigma_grid=grid, seed=3, **KW)
    assert base.sigma_T == grid[0] and np.isnan(base.retest_z).all()
    real = truncation._dip_z

    def spiked(repeat):
        seen = []

        def f(PX, PE, s, mu, sd):
            z = real(PX, PE, s, mu, sd)
            if s == grid[-1] and (repeat or not seen):
                seen.append(s)
                z[0] += 10.0
            return z

        return f

    monkeypatch.setattr(truncation, "_dip_z", spiked(repeat=False))
    r = select_sigma_T(X, sigma_grid=grid, seed=3, **KW)
    assert r.worst_z[-1] > 5 and np.isfinite(r.retest_z[-1]) and r.retest_z[-1] < 0
    assert r.passed.all() and r.sigma_T == grid[0] and r.converged
    assert np.isnan(r.retest_z[:-1]).all()
    monkeypatch.setattr(truncation, "_dip_z", spiked(repeat=True))
    with pytest.warns(RuntimeWarning, match="still multimodal"):
        r = select_sigma_T(X, sigma_grid=grid, seed=3, **KW)
    assert r.retest_z[-1] > 5 and not r.passed[-1] and r.sigma_T == grid[-1] and not r.converged


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_grid"):
        select_sigma_T(mixture(3.0), sigma_grid=[-1.0, 1.0])
    X = mixture(3.0)
    X[3, 2] = np.inf
    with pytest.raises(ValueError, match="row 3"):
        select_sigma_T(X)
