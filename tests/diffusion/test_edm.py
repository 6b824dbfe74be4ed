"""Tests of the EDM preconditioning, training noise levels and denoising loss."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from heavytail_diffusion.diffusion import (
    Denoiser,
    EDMPreconditioning,
    MLPDenoiserNet,
    dsm_loss,
    sample_training_sigmas,
)


@pytest.mark.parametrize("sd", [0.5, 1.0, 3.0])
def test_preconditioning_identities(sd):
    p = EDMPreconditioning(sd)
    s = torch.tensor([1e-4, 0.01, 0.3, 1.0, 5.0, 80.0], dtype=torch.float64)
    c_skip, c_out, c_in, c_noise = p.coefficients(s)
    torch.testing.assert_close(c_out**2, s**2 * c_skip)
    torch.testing.assert_close(c_in**2 * (s**2 + sd**2), torch.ones_like(s))
    torch.testing.assert_close(p.loss_weight(s), 1 / c_out**2)
    torch.testing.assert_close(c_noise, torch.log(s) / 4)
    # effective target (x0 - c_skip x_sigma) / c_out has unit variance for data of variance sd^2
    var_target = ((1 - c_skip) ** 2 * sd**2 + c_skip**2 * s**2) / c_out**2
    torch.testing.assert_close(var_target, torch.ones_like(s))
    assert abs(float(c_skip[0]) - 1) < 1e-6 and float(c_out[0]) < 1e-3


def test_denoiser_is_identity_at_zero_noise_and_shrinks_when_untrained():
    torch.manual_seed(0)
    den = Denoiser(MLPDenoiserNet(3, width=16, mults=(1, 2), emb_dim=8), sigma_data=1.0)
    x = torch.randn(5, 3)
    torch.testing.assert_close(den(x, 1e-6), x, atol=1e-5, rtol=0)
    # zero-initialised output layer: D = c_skip x
    torch.testing.assert_close(den(x, 2.0), x / 5.0)
    per_row = den(x, torch.full((5,), 2.0))
    torch.testing.assert_close(per_row, den(x, 2.0))


def test_training_sigmas_clip_and_truncate():
    g = torch.Generator().manual_seed(0)
    s = sample_training_sigmas(200_000, sigma_max=2.3, generator=g)
    assert s.min() >= 0.002 * (1 - 1e-6) and s.max() <= 2.3 * (1 + 1e-6)
    at_max = float((s >= 2.3 * (1 - 1e-6)).float().mean())
    expected = 0.5 * math.erfc((math.log(2.3) + 1.2) / 1.2 / math.sqrt(2))
    assert abs(at_max - expected) < 0.003
    t = sample_training_sigmas(200_000, sigma_max=2.3, mode="truncate", generator=g)
    assert float((t >= 2.3 * (1 - 1e-6)).float().mean()) < 1e-3
    # median of the truncated normal in log space
    a, b = norm.cdf((np.log([0.002, 2.3]) + 1.2) / 1.2)
    assert abs(float(t.log().median()) - (-1.2 + 1.2 * norm.ppf((a + b) / 2))) < 0.02
    with pytest.raises(ValueError, match="sigma_min < sigma_max"):
        sample_training_sigmas(10, sigma_min=1.0, sigma_max=0.5)


def test_dsm_loss_exact_denoiser_matches_formula():
    # Gaussian data N(0, s^2): the optimal denoiser D = s^2 x / (s^2 + sigma^2) has weighted loss
    # lambda * s^2 sigma^2 / (s^2 + sigma^2) = 1 when sigma_data = s.
    s = 1.3

    class Exact:
        precond = EDMPreconditioning(s)

        def __call__(self, x, sigma):
            return s**2 * x / (s**2 + sigma[:, None] ** 2)

    g = torch.Generator().manual_seed(1)
    x0 = s * torch.randn(100_000, 2, generator=g)
    sigma = sample_training_sigmas(100_000, sigma_max=80.0, generator=g)
    loss = dsm_loss(Exact(), x0, sigma, torch.randn(x0.shape, generator=g))
    assert abs(float(loss) - 1.0) < 0.02


def test_bad_sigma_data():
    with pytest.raises(ValueError, match="sigma_data"):
        EDMPreconditioning(0.0)
    with pytest.raises(ValueError, match="sigma_data"):
        EDMPreconditioning(np.nan)
