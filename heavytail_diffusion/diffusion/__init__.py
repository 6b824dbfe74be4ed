"""Diffusion machinery: the EDM-form VE process, the MLP denoiser, its training, samplers and the choice of sigma_T."""

from .denoiser import DEFAULT_NET, Denoiser, MLPDenoiserNet, SinusoidalEmbedding
from .edm import SIGMA_MIN, EDMPreconditioning, dsm_loss, sample_training_sigmas
from .samplers import (
    SAMPLERS,
    ddpm_sampler,
    euler_maruyama_sampler,
    heun_sampler,
    karras_sigmas,
    nfe_for,
    sample,
)
from .training import DEFAULT_TRAINING, resolve_device, train_denoiser
from .truncation import SigmaTSelection, dip_null, select_sigma_T

__all__ = [
    "DEFAULT_NET",
    "DEFAULT_TRAINING",
    "SAMPLERS",
    "SIGMA_MIN",
    "Denoiser",
    "EDMPreconditioning",
    "MLPDenoiserNet",
    "SigmaTSelection",
    "SinusoidalEmbedding",
    "ddpm_sampler",
    "dip_null",
    "dsm_loss",
    "euler_maruyama_sampler",
    "heun_sampler",
    "karras_sigmas",
    "nfe_for",
    "resolve_device",
    "sample",
    "sample_training_sigmas",
    "select_sigma_T",
    "train_denoiser",
]
