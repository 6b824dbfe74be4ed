"""Ground-truth checks of the synthetic benchmarks: seeding, tail indices, densities, quantiles, CLI."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from heavytail_diffusion.benchmarks import (
    _REGISTRY,
    Benchmark,
    get_benchmark,
    list_benchmarks,
    register_benchmark,
)
from heavytail_diffusion.cli import main

ALL = ["ht", "ht2d", "ht10d", "gmm2d", "mvt", "copula-pareto", "funnel"]


def hill(x: np.ndarray, k: int) -> float:
    """Hill estimator of xi from the k largest values of a positive sample."""
    top = np.sort(x)[-(k + 1) :]
    return float(np.mean(np.log(top[1:]) - np.log(top[0])))


def sinh_grid(extent: float, n: int, a: float = 0.5) -> np.ndarray:
    """A symmetric grid, spacing ~ a * dt near 0 and growing like |x| far out (covers [-extent, extent])."""
    t = np.linspace(-np.arcsinh(extent / a), np.arcsinh(extent / a), n)
    return a * np.sinh(t)


def grid_integral(bench: Benchmark, gx: np.ndarray, gy: np.ndarray) -> float:
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    p = np.exp(bench.log_prob(np.column_stack([X.ravel(), Y.ravel()]))).reshape(X.shape)
    return float(np.trapezoid(np.trapezoid(p, gy, axis=1), gx))


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_sample_and_shape(name):
    b = get_benchmark(name)
    x1, x2, x3 = b.sample(500, seed=7), b.sample(500, seed=7), b.sample(500, seed=8)
    assert x1.shape == (500, b.dim) and np.all(np.isfinite(x1))
    np.testing.assert_array_equal(x1, x2)
    assert not np.allclose(x1, x3)
    np.testing.assert_array_equal(b.sample(50, seed=np.random.default_rng(3)), b.sample(50, seed=3))
    assert b.tail_index.shape == (b.dim,) and b.lower_tail_index.shape == (b.dim,)
    assert b.name == name


def test_construction_seed_changes_the_mixture():
    a, b = get_benchmark("ht2d", seed=0), get_benchmark("ht2d", seed=1)
    assert not np.allclose(a.locs, b.locs)
    np.testing.assert_array_equal(a.locs, get_benchmark("ht", dim=2, seed=0).locs)


def test_hill_of_student_t3_is_one_third():
    b = get_benchmark("mvt", dim=1, df=3)
    x = b.sample(1_000_000, seed=0)[:, 0]
    xi = hill(np.abs(x), k=2000)
    assert b.tail_index[0] == pytest.approx(1 / 3)
    assert abs(xi - 1 / 3) < 0.03, xi  # sd of the Hill estimate ~ xi / sqrt(k) = 0.0075


def test_hill_of_ht2d_marginal_upper_tail():
    b = get_benchmark("ht2d")
    x = b.sample(400_000, seed=1)
    for j in range(2):
        xi = hill(x[:, j][x[:, j] > 0], k=1000)
        assert abs(xi - b.tail_index[j]) < 0.06, (j, xi)


@pytest.mark.parametrize(
    ("name", "params", "gx", "gy", "tol"),
    [
        ("ht2d", {}, sinh_grid(1e4, 800), sinh_grid(1e4, 800), 2e-3),
        ("gmm2d", {}, np.linspace(-6, 6, 481), np.linspace(-6, 6, 481), 1e-3),
        ("mvt", {"rho": 0.7}, sinh_grid(1e4, 1500), sinh_grid(1e4, 1500), 2e-3),
        (
            "copula-pareto",
            {"margin": "t", "xi": (0.5, 1 / 3)},
            sinh_grid(1e5, 1000),
            sinh_grid(1e5, 1000),
            3e-3,
        ),
        (
            "funnel",
            {"dim": 2, "n_nuisance": 0},
            np.linspace(-25, 25, 1001),
            sinh_grid(1e5, 1500, a=1e-3),
            5e-3,
        ),
    ],
)
def test_log_prob_integrates_to_one(name, params, gx, gy, tol):
    assert grid_integral(get_benchmark(name, **params), gx, gy) == pytest.approx(1.0, abs=tol)


def test_copula_pareto_log_prob_integrates_to_one_in_log_coordinates():
    # Pareto margins live on [1, inf) and the copula density is unbounded at the corner x = (1, 1) when
    # rho > 0: midpoint rule in s = log x = 50 w^3, w in (0, 1), which also absorbs the corner singularity.
    b = get_benchmark("copula-pareto", rho=0.6, xi=(0.5, 0.25))
    n = 1000
    w = (np.arange(n) + 0.5) / n
    s, ds = 50.0 * w**3, 150.0 * w**2 / n
    S, T = np.meshgrid(s, s, indexing="ij")
    p = np.exp(b.log_prob(np.exp(np.column_stack([S.ravel(), T.ravel()])))).reshape(S.shape)
    total = float(np.sum(p * np.exp(S + T) * np.outer(ds, ds)))
    assert total == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.isneginf(b.log_prob([[0.5, 2.0], [2.0, 0.99]])))


def test_log_prob_agrees_with_scipy_for_mvt_and_gaussian_margins():
    b = get_benchmark("mvt", dim=3, df=4, rho=0.3, scale=2.0)
    x = b.sample(20, seed=0)
    ref = stats.multivariate_t(loc=np.zeros(3), shape=b.scale_trils[0] @ b.scale_trils[0].T, df=4)
    np.testing.assert_allclose(b.log_prob(x), ref.logpdf(x), rtol=1e-10)
    # Gaussian copula with t margins and rho = 0 is the product of the t margins.
    c = get_benchmark("copula-pareto", rho=0.0, margin="t", df=3)
    y = c.sample(20, seed=1)
    np.testing.assert_allclose(c.log_prob(y), stats.t.logpdf(y, 3).sum(axis=1), rtol=1e-10)


QS = np.array([0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])


@pytest.mark.parametrize(
    ("name", "params"),
    [("ht2d", {}), ("ht", {"dim": 5}), ("gmm2d", {}), ("mvt", {"dim": 3}), ("copula-pareto", {}),
     ("copula-pareto", {"margin": "t", "dim": 3}), ("funnel", {"dim": 4, "n_nuisance": 1})],
)  # fmt: skip
def test_marginal_quantile_matches_sample(name, params):
    b = get_benchmark(name, **params)
    q = b.marginal_quantile(QS)
    assert q.shape == (len(QS), b.dim) and b.marginal_quantile(0.9).shape == (b.dim,)
    assert np.all(np.diff(q, axis=0) > 0)
    x = b.sample(200_000, seed=11)
    # Compare in probability: the empirical CDF at the true quantile has sd sqrt(q(1-q)/n) <= 0.0012.
    ecdf = (x[None, :, :] <= q[:, None, :]).mean(axis=1)
    np.testing.assert_allclose(ecdf, np.broadcast_to(QS[:, None], ecdf.shape), atol=0.005)


def test_marginal_quantile_deep_tail_and_monte_carlo_fallback():
    b = get_benchmark("mvt", dim=1, df=3, scale=2.0)
    np.testing.assert_allclose(
        b.marginal_quantile([0.999, 0.9999])[:, 0], 2 * stats.t.ppf([0.999, 0.9999], 3)
    )
    h = get_benchmark("ht2d")
    q = h.marginal_quantile([0.001, 0.9999])
    for j in range(2):
        assert h.marginal_cdf(q[0, j], j) == pytest.approx(0.001, rel=1e-8)
        assert h.marginal_sf(q[1, j], j) == pytest.approx(1e-4, rel=1e-8)
    h.quantile_mc_size = 200_000
    mc = h.marginal_quantile_mc(QS)
    assert h._mc_sorted.shape == (200_000, 2)
    np.testing.assert_allclose(mc, h.marginal_quantile(QS), atol=0.05)


def test_standardised_ht_has_mean_zero_and_unit_overall_std():
    b = get_benchmark("ht10d")
    np.testing.assert_allclose(b.mean(), 0.0, atol=1e-12)
    assert np.trace(b.covariance()) / b.dim == pytest.approx(1.0)
    x = b.sample(200_000, seed=5)
    # df = 3: the variance is finite but the fourth moment is not, so sample moments converge slowly.
    assert np.abs(x.mean(axis=0)).max() < 0.02
    assert np.sqrt(x.var(axis=0).mean()) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("dim", [50, 100])
def test_high_dimensional_ht(dim):
    b = get_benchmark("ht", dim=dim)
    assert b.dim == dim and b.locs.shape == (20, dim)
    x = b.sample(2000, seed=0)
    assert x.shape == (2000, dim) and np.all(np.isfinite(x))
    assert np.all(np.isfinite(b.log_prob(x[:100])))
    np.testing.assert_allclose(b.tail_index, 1 / 3)


def test_tail_indices_are_declared():
    assert np.all(get_benchmark("gmm2d").tail_index == 0)
    c = get_benchmark("copula-pareto", dim=3, xi=(0.2, 0.3, 0.5))
    np.testing.assert_allclose(c.tail_index, [0.2, 0.3, 0.5])
    np.testing.assert_allclose(c.lower_tail_index, -1.0)
    f = get_benchmark("funnel", dim=6, n_nuisance=2, nuisance_df=2.0)
    np.testing.assert_allclose(f.tail_index, [0, 0, 0, 0, 0.5, 0.5])


def test_list_benchmarks_table():
    df = list_benchmarks()
    assert isinstance(df, pd.DataFrame)
    assert set(ALL) <= set(df["name"])
    assert {"name", "dim", "tail_index", "description", "parameters"} <= set(df.columns)
    assert df.set_index("name").loc["ht10d", "dim"] == 10


def test_bad_names_and_params_are_clear_errors():
    with pytest.raises(ValueError, match="unknown benchmark 'nope'.*ht2d"):
        get_benchmark("nope")
    with pytest.raises(ValueError, match="unknown parameter.*'bogus'.*accepted: dim"):
        get_benchmark("mvt", bogus=1)
    with pytest.raises(ValueError, match="rho must lie in"):
        get_benchmark("mvt", dim=3, rho=-0.9)
    with pytest.raises(ValueError, match="df must be a positive"):
        get_benchmark("ht2d", df=-1)
    with pytest.raises(ValueError, match="standardize=True needs df > 2"):
        get_benchmark("ht2d", df=2)
    with pytest.raises(ValueError, match="margin must be"):
        get_benchmark("copula-pareto", margin="gumbel")
    with pytest.raises(ValueError, match="n must be"):
        get_benchmark("mvt").sample(0)
    with pytest.raises(ValueError, match="x must have 2 columns"):
        get_benchmark("mvt").log_prob(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"q must lie in \(0, 1\)"):
        get_benchmark("mvt").marginal_quantile([0.5, 1.0])


def test_register_benchmark_and_duplicate_name():
    @register_benchmark("_test-normal")
    def _normal(dim: int = 2) -> Benchmark:
        """Standard normal (test only)."""
        return get_benchmark("mvt", dim=dim, df=np.inf, rho=0.0)

    try:
        b = get_benchmark("_test-normal", dim=3)
        assert b.dim == 3 and b.name == "_test-normal" and np.all(b.tail_index == 0)
        with pytest.raises(ValueError, match="already registered"):
            register_benchmark("_test-normal")(_normal)
    finally:
        _REGISTRY.pop("_test-normal", None)


def test_cli_sample_and_list(tmp_path, capsys):
    out = tmp_path / "s.csv"
    rc = main(["benchmark", "sample", "copula-pareto", "-n", "300", "--seed", "4", "--out", str(out),
               "--param", "dim=3", "--param", "margin=t", "--param", "xi=0.5,0.3,0.25"])  # fmt: skip
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["x0", "x1", "x2"] and len(df) == 300
    ref = get_benchmark("copula-pareto", dim=3, margin="t", xi=(0.5, 0.3, 0.25)).sample(300, seed=4)
    np.testing.assert_allclose(df.to_numpy(), ref, rtol=1e-12)  # pandas < 3 parses the last digit differently
    assert main(["benchmark", "list"]) == 0
    assert "ht10d" in capsys.readouterr().out
    assert main(["benchmark", "sample", "nope", "-n", "3", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'nope'" in err and "ht2d" in err and len(err.strip().splitlines()) == 1
    assert main(["benchmark", "sample", "mvt", "-n", "3", "--out", str(out), "--param", "dim"]) == 2
    assert "key=value" in capsys.readouterr().err
