"""Tests of the Karras grid and the Heun / DDPM / Euler-Maruyama samplers with an exact Gaussian denoiser."""

import numpy as np
import pytest
import torch

from heavytail_diffusion.diffusion import karras_sigmas, nfe_for, sample
from heavytail_diffusion.errors import NumericalError

M, S = 1.5, 0.7


def exact_denoiser(x, sigma):
    """E[x0 | x0 + sigma eps = x] for x0 ~ N(M, S^2)."""
    return (S**2 * x + sigma**2 * M) / (S**2 + sigma**2)


class Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self, x, sigma):
        self.calls += 1
        return exact_denoiser(x, sigma)


def start(n, sigma_T, seed=0, d=2):
    return np.random.default_rng(seed).normal(M, np.sqrt(S**2 + sigma_T**2), size=(n, d))


def test_karras_grid():
    s = karras_sigmas(10, 2.3, 0.002, rho=7)
    assert s.shape == (11,)
    assert float(s[0]) == 2.3 and abs(float(s[-2]) - 0.002) < 1e-15 and float(s[-1]) == 0
    assert torch.all(s[1:] < s[:-1])
    assert torch.equal(karras_sigmas(1, 3.0), torch.tensor([3.0, 0.0], dtype=torch.float64))
    with pytest.raises(ValueError):
        karras_sigmas(0, 1.0)


@pytest.mark.parametrize(("sampler", "steps", "nfe"), [("heun", 10, 19), ("ddpm", 10, 10), ("euler", 7, 7)])
def test_nfe_counts(sampler, steps, nfe):
    den = Counting()
    _, reported = sample(den, start(100, 2.0), 2.0, steps, sampler, batch_size=1000, seed=0, device="cpu")
    assert reported == nfe == nfe_for(sampler, steps) == den.calls


@pytest.mark.parametrize(
    ("sampler", "steps", "tol_std"),
    [("heun", 20, 0.02), ("ddpm", 100, 0.05), ("euler", 100, 0.05)],
)
@pytest.mark.parametrize("sigma_T", [1.0, 5.0])
def test_samplers_recover_gaussian(sampler, steps, tol_std, sigma_T):
    y, _ = sample(exact_denoiser, start(40_000, sigma_T), sigma_T, steps, sampler, seed=1, device="cpu")
    assert y.shape == (40_000, 2) and np.all(np.isfinite(y))
    assert np.all(np.abs(y.mean(0) - M) < 0.02)
    assert np.all(np.abs(y.std(0) - S) / S < tol_std)


def test_heun_batching_is_exact_and_stochastic_seeds_are_deterministic():
    x = start(1000, 2.0)
    a, _ = sample(exact_denoiser, x, 2.0, 8, "heun", batch_size=1000, device="cpu")
    b, _ = sample(exact_denoiser, x, 2.0, 8, "heun", batch_size=77, device="cpu")
    np.testing.assert_array_equal(a, b)
    for smp in ("ddpm", "euler"):
        c, _ = sample(exact_denoiser, x, 2.0, 8, smp, batch_size=300, seed=5, device="cpu")
        d, _ = sample(exact_denoiser, x, 2.0, 8, smp, batch_size=300, seed=5, device="cpu")
        e, _ = sample(exact_denoiser, x, 2.0, 8, smp, batch_size=300, seed=6, device="cpu")
        np.testing.assert_array_equal(c, d)
        assert not np.array_equal(c, e)


def test_nonfinite_output_raises_and_bad_input():
    def broken(x, sigma):
        return x * float("nan")

    with pytest.raises(NumericalError, match="non-finite"):
        sample(broken, start(10, 1.0), 1.0, 3, "heun", device="cpu")
    with pytest.raises(ValueError, match="sigma_T"):
        sample(exact_denoiser, start(10, 1.0), 0.001, 3, device="cpu")
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(exact_denoiser, start(10, 1.0), 1.0, 3, "rk4", device="cpu")
    with pytest.raises(ValueError, match="x_T"):
        sample(exact_denoiser, np.full((3, 2), np.nan), 1.0, 3, device="cpu")
