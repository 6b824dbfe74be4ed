"""Diffusion machinery: the EDM-form VE process, the MLP denoiser, its training, samplers and the choice of sigma_T."""

from .denoiser import DEFAULT_NET, Denoiser, MLPDenoiserNet, SinusoidalEmbedding
from .edm import EDMPreconditioning, dsm_loss, sample_training_sigmas
from .samplers import (
    SAMPLERS,
    ddpm_sampler,
    euler_maruyama_sampler,
    heun_sampler,
    karras_sigmas,
    nfe_for,
    sample,
)
from .training import resolve_device, train_denoiser

__all__ = [
    "DEFAULT_NET",
    "Denoiser",
    "EDMPreconditioning",
    "MLPDenoiserNet",
    "SAMPLERS",
    "SinusoidalEmbedding",
    "ddpm_sampler",
    "dsm_loss",
    "euler_maruyama_sampler",
    "heun_sampler",
    "karras_sigmas",
    "nfe_for",
    "resolve_device",
    "sample",
    "sample_training_sigmas",
    "train_denoiser",
]
