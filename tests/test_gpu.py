"""GPU path: fit and sample on CUDA against the CPU for the same seed (skipped without CUDA)."""

import numpy as np
import pytest
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.device import resolve_device
from heavytail_diffusion.models import make_model
from heavytail_diffusion.priors import make_prior

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def data():
    return get_benchmark("ht2d").sample(3000, seed=11)


def _fit(X, device, **kw):
    params = {"quick": True, "train_steps": 40, "progress": False, "seed": 0, "device": device, **kw}
    return make_model("truncated", **params).fit(X)


def test_auto_means_cuda():
    assert resolve_device("auto").type == "cuda"
    assert resolve_device(None).type == "cuda"


def test_sampling_on_gpu_matches_cpu(data):
    model = _fit(data, "cpu")
    scale = data.std(axis=0)
    for sampler in ("heun", "ddpm"):  # DDPM's noise comes from a CPU generator: the same on both devices
        cpu = model.sample(2000, seed=3, sampler=sampler)
        model.device = "cuda"
        gpu = model.sample(2000, seed=3, sampler=sampler)
        model.device = "cpu"
        assert np.all(np.isfinite(gpu))
        np.testing.assert_allclose(gpu / scale, cpu / scale, rtol=0, atol=1e-3)


def test_fit_on_gpu_matches_cpu(data):
    cpu, gpu = _fit(data, "cpu"), _fit(data, "cuda")
    assert next(gpu.denoiser_.parameters()).device.type == "cuda"
    assert gpu.sigma_T_ == cpu.sigma_T_  # chosen in numpy: identical
    np.testing.assert_allclose(gpu.history_["val_loss"], cpu.history_["val_loss"], rtol=1e-3)
    scale = data.std(axis=0)
    g, c = gpu.sample(2000, seed=5), cpu.sample(2000, seed=5)
    np.testing.assert_allclose(g / scale, c / scale, rtol=0, atol=2e-2)


def test_flow_prior_fits_the_same_on_gpu(data):
    Z = (data - np.median(data, axis=0)) / data.std(axis=0)
    kw = {"steps": 30, "progress": False}
    cpu = make_prior("flow-evt", device="cpu", **kw).fit(Z, 0.0, seed=0)
    gpu = make_prior("flow-evt", device="cuda", **kw).fit(Z, 0.0, seed=0)  # init on CPU, same minibatches
    assert next(gpu.net_.parameters()).device.type == "cuda"
    pts = Z[:500]
    np.testing.assert_allclose(gpu.log_prob_clean(pts), cpu.log_prob_clean(pts), rtol=1e-3, atol=1e-3)
    assert np.all(np.isfinite(gpu.sample(1000, seed=1)))
