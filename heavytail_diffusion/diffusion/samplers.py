"""Reverse samplers of the VE process from any start level sigma_T: Heun PF-ODE, DDPM ancestral, Euler-Maruyama.

All samplers walk a Karras grid ``sigma_0 = sigma_T > sigma_1 > ... > sigma_{K-1} = sigma_min > sigma_K = 0``
(K = ``steps``) and use only the denoiser ``D(x, sigma)``. The last move, from ``sigma_min`` (0.002) to 0,
is the deterministic denoise ``x <- D(x, sigma_min)`` for every sampler (for Heun it is exactly its Euler
step to 0), so outputs are clean rows, not rows at level sigma_min.

Network evaluations (NFE) per row: Heun ``2 K - 1`` (no correction on the last step), DDPM and Euler-Maruyama
``K``. :func:`nfe_for` gives them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import NumericalError
from ..validation import check_array, check_positive_int
from .edm import SIGMA_MIN
from .training import resolve_device

__all__ = [
    "SAMPLERS",
    "ddpm_sampler",
    "euler_maruyama_sampler",
    "heun_sampler",
    "karras_sigmas",
    "nfe_for",
    "sample",
]

DenoiserFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def karras_sigmas(n_steps: int, sigma_max: float, sigma_min: float = SIGMA_MIN, rho: float = 7.0) -> torch.Tensor:
    """Karras et al. (2022, eq. 5) noise levels, with a final 0 appended.

    ``sigma_i = (sigma_max^(1/rho) + i / (K - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho`` for
    ``i = 0..K-1`` (K = ``n_steps``), then ``sigma_K = 0``. Larger ``rho`` concentrates steps near sigma_min.

    Parameters
    ----------
    n_steps : int
        K >= 1, the number of levels before the final 0.
    sigma_max : float
        The first level (the start: sigma_T for the truncated model, 80 for full EDM).
    sigma_min : float, default SIGMA_MIN (0.002)
        The last non-zero level.
    rho : float, default 7
        Spacing exponent (7 in EDM).

    Returns
    -------
    Tensor of shape (n_steps + 1,), float64, strictly decreasing from sigma_max to 0. With ``n_steps = 1`` it
    is ``[sigma_max, 0]``.
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    sigma_max, sigma_min, rho = float(sigma_max), float(sigma_min), float(rho)
    if not (0 < sigma_min <= sigma_max and math.isfinite(sigma_max)):
        raise ValueError(
            f"need 0 < sigma_min <= sigma_max < inf, got sigma_min={sigma_min}, sigma_max={sigma_max}"
        )
    if not rho > 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    if n_steps == 1:
        return torch.tensor([sigma_max, 0.0], dtype=torch.float64)
    t = torch.linspace(0, 1, n_steps, dtype=torch.float64)
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    sig = (a + t * (b - a)) ** rho
    sig[0], sig[-1] = sigma_max, sigma_min
    return torch.cat([sig, torch.zeros(1, dtype=torch.float64)])


def _level(sigma: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return sigma.to(dtype=x.dtype, device=x.device)


@torch.no_grad()
def heun_sampler(denoiser: DenoiserFn, x_T: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Deterministic 2nd-order (Heun) integration of the probability-flow ODE (Karras et al. 2022, alg. 1).

    ODE: ``dx/dsigma = (x - D(x, sigma)) / sigma``. Each step takes an Euler step to ``sigma_{i+1}`` and, unless
    ``sigma_{i+1} = 0``, averages its slope with the slope at the Euler prediction. NFE = ``2 K - 1``.

    Parameters
    ----------
    denoiser : callable ``D(x, sigma)``
    x_T : Tensor (B, d)
        Start rows at level ``sigmas[0]``.
    sigmas : Tensor (K + 1,)
        Decreasing levels ending in 0 (e.g. :func:`karras_sigmas`).

    Returns
    -------
    Tensor (B, d)
        The rows at level 0 (the end of the ODE).
    """
    x = x_T
    for s, s_next in itertools.pairwise(sigmas):
        s, s_next = _level(s, x), _level(s_next, x)
        d = (x - denoiser(x, s)) / s
        x_euler = x + (s_next - s) * d
        if s_next > 0:
            d2 = (x_euler - denoiser(x_euler, s_next)) / s_next
            x = x + (s_next - s) * 0.5 * (d + d2)
        else:
            x = x_euler
    return x


@torch.no_grad()
def ddpm_sampler(
    denoiser: DenoiserFn, x_T: torch.Tensor, sigmas: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Ancestral (DDPM-type) sampling on the VE schedule, with ``x_0`` predicted by the denoiser.

    For the VE process ``x_{i} = x_{i+1} + sqrt(sigma_i^2 - sigma_{i+1}^2) z``, the posterior
    ``q(x_{i+1} | x_i, x_0)`` is Gaussian with

        mean = (sigma_{i+1}^2 / sigma_i^2) x_i + (1 - sigma_{i+1}^2 / sigma_i^2) x_0,
        var  = sigma_{i+1}^2 (sigma_i^2 - sigma_{i+1}^2) / sigma_i^2,

    and each step draws from it with ``x_0 <- D(x_i, sigma_i)`` (Ho et al. 2020 in VE form). The last step
    (to 0) has zero variance: ``x <- D(x, sigma_min)``. NFE = K.

    Parameters
    ----------
    denoiser : callable ``D(x, sigma)``
    x_T : Tensor (B, d)
        Start rows at level ``sigmas[0]``.
    sigmas : Tensor (K + 1,)
        Decreasing levels ending in 0.
    generator : torch.Generator, optional
        Source of the Gaussian draws ``z`` (the result is deterministic given it).

    Returns
    -------
    Tensor (B, d)
        The rows at level 0.
    """
    x = x_T
    for s, s_next in itertools.pairwise(sigmas):
        s, s_next = _level(s, x), _level(s_next, x)
        x0 = denoiser(x, s)
        r = (s_next / s) ** 2
        x = r * x + (1 - r) * x0
        if s_next > 0:
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            x = x + torch.sqrt(s_next**2 * (1 - r)) * z
    return x


@torch.no_grad()
def euler_maruyama_sampler(
    denoiser: DenoiserFn, x_T: torch.Tensor, sigmas: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Euler-Maruyama discretisation of the reverse-time SDE of the VE process (Song et al. 2021).

    With ``sigma`` as the time variable the reverse SDE is ``dx = -d(sigma^2) score(x, sigma) + sqrt(-d(sigma^2))
    dW`` (``d(sigma^2) < 0`` going down), ``score = (D(x, sigma) - x) / sigma^2``. One step from ``sigma_i`` to
    ``sigma_{i+1}``, with ``delta = sigma_i^2 - sigma_{i+1}^2 > 0``:

        x <- x + delta score(x, sigma_i) + sqrt(delta) z.

    The last step (to 0) is the noise-free ``x <- D(x, sigma_min)``. NFE = K.

    Parameters
    ----------
    denoiser : callable ``D(x, sigma)``
    x_T : Tensor (B, d)
        Start rows at level ``sigmas[0]``.
    sigmas : Tensor (K + 1,)
        Decreasing levels ending in 0.
    generator : torch.Generator, optional
        Source of the Gaussian increments ``z``.

    Returns
    -------
    Tensor (B, d)
        The rows at level 0.
    """
    x = x_T
    for s, s_next in itertools.pairwise(sigmas):
        s, s_next = _level(s, x), _level(s_next, x)
        x0 = denoiser(x, s)
        if s_next > 0:
            delta = s**2 - s_next**2
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            x = x + delta * (x0 - x) / s**2 + torch.sqrt(delta) * z
        else:
            x = x0
    return x


SAMPLERS = {"heun": heun_sampler, "ddpm": ddpm_sampler, "euler": euler_maruyama_sampler}


def nfe_for(sampler: str, steps: int) -> int:
    """Network evaluations per row: Heun ``2 steps - 1``; DDPM and Euler-Maruyama ``steps``.

    Parameters
    ----------
    sampler : {"heun", "ddpm", "euler"}
    steps : int
        Number of levels K before the final 0.

    Returns
    -------
    int
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
    steps = check_positive_int(steps, "steps")
    return 2 * steps - 1 if sampler == "heun" else steps


def sample(
    denoiser: DenoiserFn,
    x_T,
    sigma_T: float,
    steps: int = 10,
    sampler: Literal["heun", "ddpm", "euler"] = "heun",
    *,
    rho: float = 7.0,
    sigma_min: float = SIGMA_MIN,
    batch_size: int = 16384,
    seed: int | np.random.Generator | torch.Generator | None = None,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Map start rows ``x_T`` (draws at level sigma_T) to clean rows with a reverse sampler.

    Parameters
    ----------
    denoiser : nn.Module or callable ``D(x, sigma)``
        Moved to ``device`` when it is an ``nn.Module``.
    x_T : array-like (n, d)
        Start rows at level ``sigma_T`` (e.g. prior draws, or ``sigma_max * N(0, I)`` for full EDM).
    sigma_T : float
        Start level (> sigma_min); any value, not only the EDM ``sigma_max = 80``.
    steps : int
        Number K of Karras levels from sigma_T down to sigma_min (then one last move to 0).
    sampler : {"heun", "ddpm", "euler"}
        Heun PF-ODE (deterministic, NFE ``2K - 1``), DDPM ancestral or Euler-Maruyama (stochastic, NFE K).
    rho : float
        Karras grid exponent.
    sigma_min : float
        Last non-zero level.
    batch_size : int
        Rows per batch: memory stays bounded for any n. Heun's output does not depend on it; the stochastic
        samplers draw their noise batch by batch from one generator, so their output does.
    seed : int, Generator or None
        Seeds the stochastic samplers (ignored by Heun).
    device : {"auto", "cpu", "cuda"}
    progress : bool
        tqdm bar over batches (only on a terminal).

    Returns
    -------
    samples : ndarray (n, d), float64
    nfe : int
        Network evaluations per row.

    Raises
    ------
    NumericalError
        When a batch contains NaN or infinite values (never returned silently).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
    x_np = check_array(x_T, "x_T")
    sigma_T = float(sigma_T)
    if not (sigma_T > sigma_min and math.isfinite(sigma_T)):
        raise ValueError(f"sigma_T must be finite and > sigma_min = {sigma_min}, got {sigma_T}")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    dev = resolve_device(device)
    if isinstance(denoiser, torch.nn.Module):
        denoiser = denoiser.to(dev).eval()
    if isinstance(seed, torch.Generator):
        gen = seed
    else:
        seed_int = None if seed is None else int(np.random.default_rng(seed).integers(2**62))
        gen = torch.Generator()
        gen.manual_seed(seed_int) if seed_int is not None else gen.seed()
    sigmas = karras_sigmas(steps, sigma_T, sigma_min, rho)
    fn = SAMPLERS[sampler]
    out = np.empty_like(x_np)
    n = x_np.shape[0]
    starts = range(0, n, batch_size)
    with torch.inference_mode():
        for i in tqdm(starts, desc=f"sampling ({sampler})", disable=None if progress else True, leave=False):
            xb = torch.as_tensor(x_np[i : i + batch_size], dtype=torch.float32, device=dev)
            yb = fn(denoiser, xb, sigmas) if sampler == "heun" else fn(denoiser, xb, sigmas, gen)
            yb = yb.double().cpu().numpy()
            if not np.all(np.isfinite(yb)):
                bad = int((~np.isfinite(yb)).any(axis=1).sum())
                raise NumericalError(
                    f"the {sampler} sampler produced non-finite values in {bad} of rows {i}..{i + len(yb) - 1} "
                    f"(sigma_T={sigma_T:g}, steps={steps}); check the start rows' scale and the denoiser"
                )
            out[i : i + batch_size] = yb
    return out, nfe_for(sampler, steps)
