"""Tests of the MLP denoiser and its training (tiny data, few steps)."""

import numpy as np
import pytest
import torch

from heavytail_diffusion.diffusion import Denoiser, MLPDenoiserNet, train_denoiser
from heavytail_diffusion.errors import DataError, NumericalError

SMALL = {"width": 16, "mults": (1, 2), "emb_dim": 16}


def two_blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.5, 0.0], [1.5, 0.5]])
    return centres[rng.integers(2, size=n)] + 0.3 * rng.standard_normal((n, 2))


@pytest.mark.parametrize("d", [1, 7, 300])
def test_net_shapes(d):
    net = MLPDenoiserNet(d, width=16, mults=(2, 1), emb_dim=8)
    den = Denoiser(net, sigma_data=1.0)
    out = den(torch.randn(4, d), torch.rand(4) + 0.01)
    assert out.shape == (4, d) and torch.all(torch.isfinite(out))


def test_shared_noise_level_path_equals_the_group_norm_module():
    torch.manual_seed(0)
    net = MLPDenoiserNet(5)
    for p in net.parameters():  # a trained-like net: no zero output layer, non-trivial norm affines
        torch.nn.init.normal_(p, std=0.5)
    x, c = 3.0 * torch.randn(2000, 5), torch.tensor([0.37])
    with torch.no_grad():
        fast = net(x, c)  # one shared level, no autograd: the folded-centring path
    slow = net(x, c.expand(2000))  # one level per row: the module path
    torch.testing.assert_close(fast, slow.detach(), rtol=1e-4, atol=1e-4 * float(slow.abs().max()))
    block = net.blocks[1]
    h = torch.randn(300, 64)
    emb = net.embed(c)
    with torch.no_grad():
        ref = block.norm(block.linear(h) + block.emb(emb))
        torch.testing.assert_close(block._shared_level_norm(h, emb), ref, rtol=1e-4, atol=1e-5)


def test_net_rejects_bad_groups():
    with pytest.raises(ValueError, match="groups"):
        MLPDenoiserNet(2, width=12, mults=(1,), groups=8)


def test_training_reduces_val_loss_and_is_deterministic():
    X = two_blobs(600)
    kw = {
        "steps": 200,
        "lr": 1e-3,
        "batch_size": 128,
        "eval_every": 50,
        "patience": None,
        "seed": 3,
        "device": "cpu",
        "progress": False,
    }
    den, hist = train_denoiser(X, 2.0, **kw, **SMALL)
    assert list(hist.columns[:3]) == ["step", "train_loss", "val_loss"]
    assert hist["val_loss"].iloc[-1] < 0.8 * hist["val_loss"].iloc[0]
    assert hist.attrs["best_val_loss"] == hist["val_loss"].min()
    x = torch.as_tensor(X[:50], dtype=torch.float32)
    with torch.no_grad():
        out = den(x + 0.5 * torch.randn(50, 2), 0.5)
    assert torch.all(torch.isfinite(out))
    den2, hist2 = train_denoiser(X, 2.0, **kw, **SMALL)
    np.testing.assert_array_equal(hist["val_loss"].to_numpy(), hist2["val_loss"].to_numpy())
    for p, q in zip(den.parameters(), den2.parameters()):
        assert torch.equal(p, q)


def test_early_stopping_keeps_best():
    X = two_blobs(60)
    _, hist = train_denoiser(
        X,
        2.0,
        steps=2000,
        batch_size=32,
        lr=1e-2,
        eval_every=10,
        patience=2,
        seed=0,
        device="cpu",
        progress=False,
        **SMALL,
    )
    assert hist.attrs["stopped_early"] and hist["step"].iloc[-1] < 2000
    assert hist.attrs["best_val_loss"] == hist["val_loss"].min()


def test_nan_data_and_nan_loss():
    X = two_blobs(100)
    X[7, 1] = np.nan
    with pytest.raises(DataError, match="row 7"):
        train_denoiser(X, 2.0, steps=5, progress=False, **SMALL)
    with pytest.raises(NumericalError, match=r"at step \d+"):
        train_denoiser(
            two_blobs(100) * 1e30,
            2.0,
            sigma_data=1.0,
            steps=50,
            lr=1e30,
            device="cpu",
            progress=False,
            **SMALL,
        )
