"""Tests for the two-sample distances: exact small cases, POT / scipy / brute-force cross-checks, bad input."""

import numpy as np
import ot
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from heavytail_diffusion.diagnostics.distances import (
    ccdf_area,
    energy_distance,
    ks_distances,
    max_sliced_wasserstein,
    mmd,
    nearest_distances,
    noise_floor,
    sliced_wasserstein,
    slog,
    tail_ks,
    wasserstein_1d,
)
from heavytail_diffusion.errors import DataError


def brute_energy(X, Y):
    return 2 * cdist(X, Y).mean() - cdist(X, X).mean() - cdist(Y, Y).mean()


def test_slog_odd_and_identity_near_zero():
    x = np.array([-1e6, -2.0, 0.0, 1e-8, 3.0])
    np.testing.assert_allclose(slog(x), np.sign(x) * np.log1p(np.abs(x)))
    np.testing.assert_allclose(slog(-x), -slog(x))


def test_w2_point_masses_and_shift():
    assert wasserstein_1d([0.0], [3.0]) == pytest.approx(3.0)
    assert wasserstein_1d([0.0, 0.0], [3.0], p=1) == pytest.approx(3.0)
    x = np.arange(10.0)
    assert wasserstein_1d(x, x + 1.5) == pytest.approx(1.5)


def test_w2_gaussians_shift_about_one():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(20000), rng.standard_normal(15000) + 1
    assert wasserstein_1d(x, y) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("n,m,p", [(50, 50, 2), (37, 91, 2), (200, 13, 1), (64, 40, 3)])
def test_1d_exact_equals_pot(n, m, p):
    rng = np.random.default_rng(n + m)
    x, y = rng.standard_t(3, n), rng.standard_t(2, m) + 0.5
    ref = ot.wasserstein_1d(x, y, p=p) ** (1 / p)
    assert wasserstein_1d(x, y, p=p) == pytest.approx(ref, rel=1e-10)
    assert sliced_wasserstein(x, y, p=p) == pytest.approx(ref, rel=1e-10)
    assert max_sliced_wasserstein(x, y, p=p) == pytest.approx(ref, rel=1e-10)


def test_sliced_equals_pot_with_same_directions():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((300, 4)), rng.standard_t(3, (170, 4))
    U = rng.standard_normal((40, 4))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    ref = ot.sliced_wasserstein_distance(X, Y, projections=U.T)
    assert sliced_wasserstein(X, Y, directions=U) == pytest.approx(ref, rel=1e-10)


def test_identical_samples_give_zero():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 3))
    assert sliced_wasserstein(X, X) == pytest.approx(0.0, abs=1e-12)
    assert max_sliced_wasserstein(X, X[::-1]) == pytest.approx(0.0, abs=1e-12)
    assert energy_distance(X, X[::-1]) == pytest.approx(0.0, abs=1e-12)


def test_max_sliced_finds_shifted_axis_and_dominates():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 5))
    Y = rng.standard_normal((2500, 5))
    Y[:, 2] += 2.0
    value, u = max_sliced_wasserstein(X, Y, return_direction=True, seed=4)
    assert abs(u[2]) > 0.99 and np.linalg.norm(u) == pytest.approx(1.0)
    assert value == pytest.approx(2.0, abs=0.1)
    assert sliced_wasserstein(X, Y) <= value
    # deterministic given the seed
    assert max_sliced_wasserstein(X, Y, seed=4) == value


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_sliced_at_least_pot(seed):
    rng = np.random.default_rng(10 + seed)
    X = rng.standard_t(3, (400, 6))
    Y = rng.standard_normal((300, 6)) @ rng.standard_normal((6, 6))
    pot = ot.max_sliced_wasserstein_distance(X, Y, n_projections=2000, seed=seed)
    ours = max_sliced_wasserstein(X, Y, seed=seed)
    assert ours >= pot * (1 - 1e-9)


def test_max_sliced_slog_space():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_t(2, (500, 3)), rng.standard_t(2, (500, 3)) * 3
    assert max_sliced_wasserstein(X, Y, space="slog") == pytest.approx(
        max_sliced_wasserstein(slog(X), slog(Y))
    )
    assert max_sliced_wasserstein(X, Y, space="slog") < max_sliced_wasserstein(X, Y)


def test_energy_1d_equals_scipy_squared():
    rng = np.random.default_rng(6)
    x, y = rng.standard_t(3, 700), rng.standard_normal(333)
    assert energy_distance(x, y) == pytest.approx(stats.energy_distance(x, y) ** 2, rel=1e-10)
    assert energy_distance(x, y) == pytest.approx(brute_energy(x[:, None], y[:, None]), rel=1e-10)


@pytest.mark.parametrize("d", [2, 5])
def test_energy_matches_brute_force(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((400, d))
    Y = rng.standard_normal((300, d)) * 1.5 + 0.3
    exact = brute_energy(X, Y)
    assert energy_distance(X, Y, n_projections=2000, seed=1) == pytest.approx(exact, rel=0.03)


def test_mmd_imq():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((400, 2))
    same = mmd(X, rng.standard_normal((400, 2)))
    diff = mmd(X, rng.standard_t(2, (400, 2)) * 2)
    assert abs(same) < 0.01 < diff
    # brute force with a fixed bandwidth
    Y = rng.standard_normal((50, 2)) + 1
    Xs = X[:60]
    c = 1.3

    def k(A, B):
        return 1 / np.sqrt(1 + cdist(A, B, "sqeuclidean") / c**2)

    n, m = len(Xs), len(Y)
    ref = (k(Xs, Xs).sum() - n) / (n * (n - 1)) + (k(Y, Y).sum() - m) / (m * (m - 1)) - 2 * k(Xs, Y).mean()
    assert mmd(Xs, Y, bandwidth=c, block=7) == pytest.approx(ref, rel=1e-9)


def test_ks_and_tail_ks():
    rng = np.random.default_rng(8)
    X = rng.standard_t(3, (4000, 2))
    Y = np.c_[rng.standard_t(3, 4000), rng.standard_normal(4000)]
    ks = ks_distances(X, Y, columns=["a", "b"])
    assert list(ks["column"]) == ["a", "b"] and ks["statistic"].iloc[0] < 0.05
    tk = tail_ks(X, Y, q=0.95, columns=["a", "b"])
    assert tk["n_real"].tolist() == [200, 200]
    assert tk["pvalue"].iloc[1] < 1e-3 < tk["pvalue"].iloc[0]
    low = tail_ks(X, Y, q=0.95, tail="lower")
    assert (low["threshold"] < 0).all()


def test_tail_ks_no_generated_exceedance_is_nan():
    x = np.arange(100.0)
    out = tail_ks(x, np.zeros(50) + 1.0, q=0.9)
    assert out["n_generated"].iloc[0] == 0 and np.isnan(out["statistic"].iloc[0])


def test_ccdf_area_sign_and_zero():
    rng = np.random.default_rng(9)
    x = rng.pareto(2.0, 20000) + 1
    heavy = rng.pareto(1.2, 20000) + 1
    light = rng.pareto(4.0, 20000) + 1
    assert ccdf_area(x, x)["area"].iloc[0] == 0
    h, lo = ccdf_area(x, heavy).iloc[0], ccdf_area(x, light).iloc[0]
    assert h["signed_area"] > 0 and lo["signed_area"] < 0 and h["area"] > 0
    with pytest.raises(DataError, match="positive threshold"):
        ccdf_area(-x, x, q_min=0.9)


def test_ccdf_area_exact_small():
    # S_x = 1/2 on [1, 2); S_y = 1 on [1, 2), so area = log 2 * |log 1 - log(1/2)| on [log 1, log 2)
    out = ccdf_area([1.0, 2.0], [2.0, 3.0], q_min=0.01)
    t0 = np.quantile([1.0, 2.0], 0.01)
    expected = (np.log(2) - np.log(t0)) * np.log(2)
    assert out["area"].iloc[0] == pytest.approx(expected)
    assert out["signed_area"].iloc[0] == pytest.approx(expected)


def test_noise_floor_array_and_sampler():
    rng = np.random.default_rng(11)
    ref = rng.standard_normal((2000, 2))
    m, s = noise_floor(sliced_wasserstein, ref, n=500, n_repeats=4, seed=1, n_projections=20)
    assert 0 < m < 0.2 and s >= 0
    assert noise_floor(sliced_wasserstein, ref, n=500, n_repeats=4, seed=1, n_projections=20) == (m, s)

    def sampler(n, seed):
        return np.random.default_rng(seed).standard_normal((n, 2))

    m2, _ = noise_floor(max_sliced_wasserstein, sampler, n=500, n_repeats=3)
    assert 0 < m2 < 0.3
    with pytest.raises(DataError, match="at least 4002"):
        noise_floor(sliced_wasserstein, ref, n=2001)


@pytest.mark.parametrize(
    "fn", [sliced_wasserstein, max_sliced_wasserstein, energy_distance, mmd, ks_distances, tail_ks, ccdf_area]
)
def test_bad_input(fn):
    X = np.ones((10, 2))
    with pytest.raises(DataError, match=r"\(10, 2\).*\(10, 3\)"):
        fn(X, np.ones((10, 3)))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN at row 3"):
        fn(bad, X)
    with pytest.raises(DataError, match="0 rows"):
        fn(np.empty((0, 2)), X)


def test_bad_arguments():
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError, match="space"):
        sliced_wasserstein(X, X, space="log")
    with pytest.raises(ValueError, match="p must"):
        max_sliced_wasserstein(X, X, p=0.5)
    with pytest.raises(ValueError, match="q must lie"):
        tail_ks(X, X, q=1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        mmd(X, X, bandwidth=-1.0)
    with pytest.raises(DataError, match="zero vector"):
        sliced_wasserstein(X, X, directions=[[0.0, 0.0]])


@pytest.mark.parametrize("d", [3, 40])  # k-d tree and chunked brute force
def test_nearest_distances_equal_brute_force(d):
    rng = np.random.default_rng(d)
    R, X = rng.standard_t(3, (300, d)), rng.standard_t(3, (70, d))
    D = cdist(X, R)
    np.testing.assert_allclose(nearest_distances(X, R, chunk=16), D.min(axis=1), rtol=1e-9, atol=1e-9)
    DR = cdist(R[:50], R)
    DR[np.arange(50), np.arange(50)] = np.inf
    np.testing.assert_allclose(
        nearest_distances(R[:50], R, exclude_self=True), DR.min(axis=1), rtol=1e-9, atol=1e-9
    )
    with pytest.raises(ValueError, match="columns"):
        nearest_distances(X[:, :2], R)
