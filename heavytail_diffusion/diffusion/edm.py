"""The variance-exploding process in EDM form: preconditioning, training noise levels, denoising loss.

The forward (noising) process is ``x_sigma = x_0 + sigma * eps`` with ``eps ~ N(0, I)`` and the noise level
``sigma >= 0`` in the units of the (preprocessed) data. A denoiser ``D(x, sigma)`` estimates
``E[x_0 | x_sigma = x]``; by Tweedie's formula the score of the noised density is
``grad log p_sigma(x) = (D(x, sigma) - x) / sigma^2``, which is all the samplers need.

Following Karras et al. (2022, table 1, "EDM" column) the network ``F`` is wrapped as

    D(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, c_noise(sigma))

    c_skip = s_d^2 / (sigma^2 + s_d^2)         c_out = sigma s_d / sqrt(sigma^2 + s_d^2)
    c_in   = 1 / sqrt(sigma^2 + s_d^2)          c_noise = log(sigma) / 4

with ``s_d = sigma_data`` the standard deviation of the data, so that the network's input and its regression
target both have unit variance at every noise level. The loss weight ``lambda(sigma) = 1 / c_out^2`` makes the
effective loss of ``F`` unit-scaled as well.

References
----------
T. Karras, M. Aittala, T. Aila, S. Laine. Elucidating the design space of diffusion-based generative models.
NeurIPS 2022 (arXiv:2206.00364).
"""

from __future__ import annotations

import math
from typing import Literal

import torch

#: Smallest noise level of training and of every reverse sampler (Karras et al. 2022); the last sampler
#: step goes from SIGMA_MIN to 0 with one denoiser call.
SIGMA_MIN = 0.002

__all__ = ["EDMPreconditioning", "dsm_loss", "sample_training_sigmas"]


class EDMPreconditioning:
    """The EDM coefficients ``c_skip, c_out, c_in, c_noise`` and loss weight for data of scale ``sigma_data``.

    Parameters
    ----------
    sigma_data : float
        Standard deviation of the (preprocessed) training data, > 0. EDM uses 0.5 for images in [-1, 1];
        for standardised tabular data it is about 1.

    Notes
    -----
    Identities (tested): ``c_skip -> 1`` and ``c_out -> 0`` as ``sigma -> 0``, so ``D(x, 0) = x``;
    ``c_out^2 = sigma^2 c_skip``; ``Var[c_in x_sigma] = 1`` for data of variance ``sigma_data^2``; and the
    effective regression target of ``F``, ``(x_0 - c_skip x_sigma) / c_out``, has unit variance.
    ``loss_weight = 1 / c_out^2``.
    """

    def __init__(self, sigma_data: float, noise_df: float | None = None):
        sigma_data = float(sigma_data)
        if not (math.isfinite(sigma_data) and sigma_data > 0):
            raise ValueError(f"sigma_data must be a finite number > 0, got {sigma_data}")
        if noise_df is not None and not (math.isfinite(noise_df) and noise_df > 2):
            raise ValueError(f"noise_df (Student-t noise) must be a finite number > 2, got {noise_df}")
        self.sigma_data = sigma_data
        self.noise_df = None if noise_df is None else float(noise_df)
        # Variance of one coordinate of the noise: 1 (Gaussian) or nu / (nu - 2) (Student-t, t-EDM).
        self._k = 1.0 if noise_df is None else self.noise_df / (self.noise_df - 2.0)

    def __repr__(self) -> str:
        extra = "" if self.noise_df is None else f", noise_df={self.noise_df:g}"
        return f"EDMPreconditioning(sigma_data={self.sigma_data:g}{extra})"

    # With Student-t noise (t-EDM, Pandey et al. 2025) the noise variance is k sigma^2 with k = nu / (nu - 2);
    # the coefficients below are the EDM ones with sigma^2 replaced by k sigma^2 (k = 1 for Gaussian noise).
    def c_skip(self, sigma: torch.Tensor) -> torch.Tensor:
        sd2 = self.sigma_data**2
        return sd2 / (self._k * sigma**2 + sd2)

    def c_out(self, sigma: torch.Tensor) -> torch.Tensor:
        sd = self.sigma_data
        return math.sqrt(self._k) * sigma * sd / torch.sqrt(self._k * sigma**2 + sd**2)

    def c_in(self, sigma: torch.Tensor) -> torch.Tensor:
        return 1.0 / torch.sqrt(self._k * sigma**2 + self.sigma_data**2)

    def c_noise(self, sigma: torch.Tensor) -> torch.Tensor:
        return torch.log(sigma) / 4.0

    def loss_weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """``lambda(sigma) = 1 / c_out^2 = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2``."""
        sd = self.sigma_data
        return (self._k * sigma**2 + sd**2) / (self._k * (sigma * sd) ** 2)

    def coefficients(
        self, sigma: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(c_skip, c_out, c_in, c_noise)`` at ``sigma`` (a tensor of any shape)."""
        return self.c_skip(sigma), self.c_out(sigma), self.c_in(sigma), self.c_noise(sigma)


def sample_training_sigmas(
    n: int,
    *,
    P_mean: float = -1.2,
    P_std: float = 1.2,
    sigma_min: float = SIGMA_MIN,
    sigma_max: float = 80.0,
    mode: Literal["clip", "truncate"] = "clip",
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Draw ``n`` training noise levels: ``log sigma ~ N(P_mean, P_std^2)`` restricted to [sigma_min, sigma_max].

    Parameters
    ----------
    n : int
        Number of levels.
    P_mean, P_std : float
        Mean and standard deviation of ``log sigma`` (EDM defaults -1.2 and 1.2).
    sigma_min, sigma_max : float
        Range of noise levels. The truncated model uses ``sigma_max = sigma_T``: it never trains above the
        level its sampler starts from.
    mode : {"clip", "truncate"}
        ``"clip"`` (default, as in the method's code): draws outside the range are set to the nearest end, so
        ``sigma_max`` itself receives the mass ``P(log sigma > log sigma_max)`` (about 4.5% for
        ``sigma_max = 2.3``), which is where the truncated sampler starts. ``"truncate"`` draws from the
        log-normal conditioned on the range (inverse-CDF sampling), with no atoms.
    generator : torch.Generator, optional
        Source of randomness (CPU generator); the result is moved to ``device``.

    Returns
    -------
    Tensor of shape (n,), float32.
    """
    if not (0 < sigma_min < sigma_max):
        raise ValueError(f"need 0 < sigma_min < sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if P_std <= 0:
        raise ValueError(f"P_std must be > 0, got {P_std}")
    lo, hi = math.log(sigma_min), math.log(sigma_max)
    if mode == "clip":
        z = torch.randn(n, generator=generator, dtype=torch.float64)
        log_sigma = (P_mean + P_std * z).clamp(lo, hi)
    elif mode == "truncate":
        a = torch.special.ndtr(torch.tensor((lo - P_mean) / P_std, dtype=torch.float64))
        b = torch.special.ndtr(torch.tensor((hi - P_mean) / P_std, dtype=torch.float64))
        u = a + (b - a) * torch.rand(n, generator=generator, dtype=torch.float64)
        log_sigma = (P_mean + P_std * torch.special.ndtri(u)).clamp(lo, hi)
    else:
        raise ValueError(f"mode must be 'clip' or 'truncate', got {mode!r}")
    return log_sigma.exp().to(device=device, dtype=torch.float32)


def dsm_loss(
    denoiser,
    x0: torch.Tensor,
    sigma: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """Denoising score-matching loss ``mean_i lambda(sigma_i) |D(x0_i + sigma_i eps_i, sigma_i) - x0_i|^2 / d``.

    Parameters
    ----------
    denoiser : Denoiser
        Callable ``D(x, sigma)`` with a ``precond`` attribute (:class:`EDMPreconditioning`) for the weight.
    x0 : Tensor, shape (B, d)
        Clean rows.
    sigma : Tensor, shape (B,)
        Noise level of each row.
    noise : Tensor, shape (B, d)
        Standard normal draws ``eps``.

    Returns
    -------
    Scalar tensor: the weighted squared error averaged over rows and coordinates (so its scale does not depend
    on d; with the EDM weight a perfect-shape but untrained ``F = 0`` gives about 1).
    """
    x_noisy = x0 + sigma[:, None] * noise
    weight = denoiser.precond.loss_weight(sigma)
    err = (denoiser(x_noisy, sigma) - x0) ** 2
    return (weight * err.mean(dim=1)).mean()
