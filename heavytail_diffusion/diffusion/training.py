"""Training of the EDM denoiser: AdamW + cosine schedule, EMA weights, validation split and early stopping."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..device import resolve_device  # re-exported here (the public name since the first release)
from ..errors import DataError, NumericalError
from ..validation import check_array, check_positive_int, check_probability
from .denoiser import DEFAULT_NET, Denoiser, MLPDenoiserNet
from .edm import SIGMA_MIN, dsm_loss, sample_training_sigmas

__all__ = ["DEFAULT_TRAINING", "resolve_device", "train_denoiser"]

#: Denoiser training defaults, shared by :func:`train_denoiser` and every diffusion model. Measured
#: (``analyses/results/bench_diffusion_cost.md``): with these small MLPs, lr 1e-3 reaches the validation loss
#: of the paper's 1e-4 in far fewer steps, and early stopping ends most fits before 4000 steps.
DEFAULT_TRAINING = {"steps": 4000, "lr": 1e-3, "batch_size": 512, "patience": 8}


def _lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then a cosine decay to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1.0 - decay)


@torch.no_grad()
def _fixed_loss(denoiser, x0, sigma, noise, batch: int = 8192) -> float:
    tot = 0.0
    for i in range(0, x0.shape[0], batch):
        sl = slice(i, i + batch)
        tot += float(dsm_loss(denoiser, x0[sl], sigma[sl], noise[sl])) * x0[sl].shape[0]
    return tot / x0.shape[0]


def train_denoiser(
    X,
    sigma_max: float,
    *,
    sigma_min: float = SIGMA_MIN,
    sigma_data: float | None = None,
    steps: int = DEFAULT_TRAINING["steps"],
    batch_size: int = DEFAULT_TRAINING["batch_size"],
    lr: float = DEFAULT_TRAINING["lr"],
    weight_decay: float = 1e-4,
    warmup: int | None = None,
    ema_decay: float = 0.999,
    P_mean: float = -1.2,
    P_std: float = 1.2,
    sigma_mode: str = "clip",
    val_fraction: float = 0.1,
    max_val_rows: int | None = 20_000,
    eval_every: int = 250,
    n_val_repeats: int = 4,
    patience: int | None = DEFAULT_TRAINING["patience"],
    width: int = DEFAULT_NET["width"],
    mults: Sequence[int] = DEFAULT_NET["mults"],
    emb_dim: int = DEFAULT_NET["emb_dim"],
    groups: int = DEFAULT_NET["groups"],
    noise_df: float | None = None,
    seed: int | None = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> tuple[Denoiser, pd.DataFrame]:
    """Fit an EDM denoiser ``D(x, sigma)`` to the rows of ``X`` for noise levels in [sigma_min, sigma_max].

    Each step draws a minibatch of training rows, noise levels ``sigma`` (log-normal, see
    :func:`~heavytail_diffusion.diffusion.edm.sample_training_sigmas`) and fresh ``eps``, and takes an AdamW
    step on the weighted denoising loss (:func:`~heavytail_diffusion.diffusion.edm.dsm_loss`). An exponential
    moving average (EMA) of the weights is kept; every ``eval_every`` steps the EMA denoiser is scored on a
    FIXED validation set (held-out rows, each repeated ``n_val_repeats`` times with noise levels and ``eps``
    drawn once), and the EMA weights with the lowest validation loss are returned. Training stops early after
    ``patience`` evaluations without improvement (the method's prototype overfitted a 10-D denoiser after about
    4k steps on 10k rows).

    Parameters
    ----------
    X : array-like, shape (n, d)
        Training rows, already preprocessed (standardised or robust-scaled). NaN/inf are a DataError.
    sigma_max : float
        Largest training noise level: ``sigma_T`` for the truncated model, 80 for full EDM.
    sigma_min : float
        Smallest training noise level (:data:`~heavytail_diffusion.diffusion.edm.SIGMA_MIN`, the samplers' last level).
    sigma_data : float, optional
        Data scale for the preconditioning; default the standard deviation of all entries of the training rows.
    steps : int
        Maximum number of optimisation steps.
    batch_size : int
        Rows per step (capped at the number of training rows).
    lr : float
        Peak AdamW learning rate (default 1e-3, :data:`DEFAULT_TRAINING`; the paper used 1e-4 with larger
        networks), with a linear warm-up over ``warmup`` steps (default 5% of ``steps``) then a cosine decay to 0.
    weight_decay : float
        AdamW weight decay.
    ema_decay : float
        EMA decay per step; the effective decay is ``min(ema_decay, (1 + t) / (10 + t))`` so early averages
        are not dominated by the random initialisation.
    P_mean, P_std, sigma_mode : float, float, {"clip", "truncate"}
        Training noise-level distribution (EDM: -1.2, 1.2; clipped to [sigma_min, sigma_max]).
    val_fraction : float
        Fraction of rows held out for validation (at least 1 row is kept on each side).
    max_val_rows : int or None, default 20_000
        Cap on the held-out rows (None: no cap), so that each evaluation costs the same for any n: without
        it a 1e6-row fit would score 4e5 noised rows every ``eval_every`` steps. Only fits on more than
        ``max_val_rows / val_fraction`` rows (2e5 by default) are affected. The validation loss only picks
        the best EMA weights and decides early stopping; capped, it is still an average over
        ``max_val_rows x n_val_repeats`` (8e4) noised rows, and the rows left out of it are used for training.
    eval_every : int
        Steps between validation evaluations (and history rows).
    n_val_repeats : int
        Number of (sigma, eps) draws per validation row in the fixed validation set.
    patience : int or None
        Evaluations without improvement before stopping; None disables early stopping.
    width, mults, emb_dim, groups : network configuration (:class:`~.denoiser.MLPDenoiserNet`).
    noise_df : float, optional
        Student-t training noise with this many degrees of freedom (t-EDM, Pandey et al. 2025): each row's
        noise is ``eps / sqrt(kappa)`` with ``eps ~ N(0, I)`` and ``kappa ~ chi2(nu) / nu`` shared by the
        row's coordinates (a multivariate t); the preconditioning accounts for its variance ``nu / (nu - 2)``.
        None (default): Gaussian noise.
    seed : int or None
        Seed of the split, the initialisation and every random draw; on CPU the result is deterministic.
    device : {"auto", "cpu", "cuda"}
        Where to train ("auto": CUDA when available).
    progress : bool
        Show a tqdm bar (only when stderr is a terminal).

    Returns
    -------
    denoiser : Denoiser
        In eval mode, on ``device``, with the best EMA weights.
    history : DataFrame
        One row per evaluation: ``step``, ``train_loss`` (mean over the steps since the last evaluation),
        ``val_loss`` (EMA weights, fixed validation set), ``lr``. ``history.attrs`` holds ``best_step``,
        ``best_val_loss``, ``stopped_early``, ``sigma_data``, ``n_train``, ``n_val``.

    Raises
    ------
    DataError
        For non-finite or malformed ``X``, or fewer than 2 rows.
    NumericalError
        When the training loss becomes NaN or infinite (the message names the step).
    """
    X = check_array(X, "X", min_rows=2)
    d = X.shape[1]
    sigma_max, sigma_min = float(sigma_max), float(sigma_min)
    _check_options(sigma_min, sigma_max, lr, ema_decay, noise_df)
    steps, batch_size, eval_every, n_val_repeats = (
        check_positive_int(v, k) for v, k in
        [(steps, "steps"), (batch_size, "batch_size"), (eval_every, "eval_every"), (n_val_repeats, "n_val_repeats")]
    )  # fmt: skip
    val_fraction = check_probability(val_fraction, "val_fraction")
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    warmup = max(1, int(0.05 * steps)) if warmup is None else check_positive_int(warmup, "warmup")
    dev = resolve_device(device)

    # The order of the random draws below fixes every result for a seed: keep it.
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    X_val, X_tr = _split_rows(X, rng, val_fraction, max_val_rows)
    if sigma_data is None:
        sigma_data = float(X_tr.std())
        if not sigma_data > 0:
            raise DataError("X has zero variance; a denoiser cannot be fitted to constant data")
    noise = _Noise(gen, rng, noise_df, {"P_mean": P_mean, "P_std": P_std, "sigma_min": sigma_min,
                                        "sigma_max": sigma_max, "mode": sigma_mode})  # fmt: skip
    val_set = noise.fixed_set(X_val, n_val_repeats, dev)
    xt = torch.as_tensor(X_tr, dtype=torch.float32, device=dev)

    net_kw = {"width": width, "mults": mults, "emb_dim": emb_dim, "groups": groups}
    model, ema = _make_networks(d, net_kw, sigma_data, noise_df, int(rng.integers(2**62)), dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, warmup, steps))

    def step_fn(step: int) -> float:
        idx = torch.randint(xt.shape[0], (min(batch_size, xt.shape[0]),), generator=gen).to(dev)
        sigma, eps = noise.draw(idx.shape[0], d, dev)
        loss = dsm_loss(model, xt[idx], sigma, eps)
        if not torch.isfinite(loss):
            raise NumericalError(
                f"denoiser training loss became {loss.item()} at step {step} of {steps}; lower the learning "
                f"rate (lr={lr:g}) or check the scaling of X (sigma_data={sigma_data:.4g}, max |X| = "
                f"{np.abs(X).max():.4g}; preprocess heavy-tailed columns with a robust or signed-log transform)"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        _ema_update(ema, model, min(ema_decay, (1 + step) / (10 + step)))
        return loss.item()

    rows, best_step, best_val, stopped_early = _train_loop(
        step_fn, ema, val_set, steps, eval_every, patience, lambda: sched.get_last_lr()[0], progress
    )
    history = pd.DataFrame(rows)
    history.attrs.update(best_step=best_step, best_val_loss=best_val, stopped_early=stopped_early,
                         sigma_data=sigma_data, n_train=X_tr.shape[0], n_val=X_val.shape[0])  # fmt: skip
    return ema, history


def _make_networks(d: int, net_kw: dict, sigma_data: float, noise_df, torch_seed: int, dev):
    """(trained model, its EMA copy without gradients), the network initialised from ``torch_seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed)
        net = MLPDenoiserNet(d, **net_kw)
    model = Denoiser(net, sigma_data, noise_df=noise_df).to(dev)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return model, ema


def _check_options(sigma_min, sigma_max, lr, ema_decay, noise_df) -> None:
    """ValueError for the numeric options of :func:`train_denoiser` that no shared check covers."""
    if not (0 < sigma_min < sigma_max and math.isfinite(sigma_max)):
        raise ValueError(
            f"need 0 < sigma_min < sigma_max < inf, got sigma_min={sigma_min}, sigma_max={sigma_max}"
        )
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if not 0 <= ema_decay < 1:
        raise ValueError(f"ema_decay must lie in [0, 1), got {ema_decay}")
    if noise_df is not None and not (math.isfinite(noise_df) and noise_df > 2):
        raise ValueError(f"noise_df must be a finite number > 2 (finite noise variance), got {noise_df}")


def _split_rows(X: np.ndarray, rng: np.random.Generator, val_fraction: float, max_val_rows):
    """(validation rows, training rows): a random split with at least one row on each side."""
    n = X.shape[0]
    perm = rng.permutation(n)
    n_val = min(n - 1, max(1, round(val_fraction * n)))
    if max_val_rows is not None:
        n_val = min(n_val, check_positive_int(max_val_rows, "max_val_rows"))
    return X[perm[:n_val]], X[perm[n_val:]]


class _Noise:
    """The training draws: noise levels (log-normal, :func:`sample_training_sigmas`) and noise ``eps``.

    ``eps`` is N(0, I), or with ``noise_df`` a multivariate t per row: ``eps / sqrt(kappa)``,
    ``kappa ~ chi2(nu) / nu`` (t-EDM). The torch generator draws ``eps`` and the levels, the numpy one
    ``kappa``.
    """

    def __init__(self, gen: torch.Generator, rng: np.random.Generator, noise_df, sigma_kw: dict):
        self.gen, self.rng, self.noise_df, self.sigma_kw = gen, rng, noise_df, sigma_kw

    def eps(self, shape) -> torch.Tensor:
        eps = torch.randn(shape, generator=self.gen)
        if self.noise_df is None:
            return eps
        kappa = self.rng.chisquare(self.noise_df, size=(shape[0], 1)) / self.noise_df
        return eps / torch.as_tensor(np.sqrt(kappa), dtype=eps.dtype)

    def draw(self, n: int, d: int, dev) -> tuple[torch.Tensor, torch.Tensor]:
        """(sigma of shape (n,), eps of shape (n, d)) for one minibatch."""
        sigma = sample_training_sigmas(n, generator=self.gen, **self.sigma_kw).to(dev)
        return sigma, self.eps((n, d)).to(dev)

    def fixed_set(self, X_val: np.ndarray, repeats: int, dev) -> tuple[torch.Tensor, ...]:
        """The fixed validation set: each row ``repeats`` times, with levels and ``eps`` drawn once."""
        xv = torch.as_tensor(np.repeat(X_val, repeats, axis=0), dtype=torch.float32)
        sv = sample_training_sigmas(xv.shape[0], generator=self.gen, **self.sigma_kw)
        ev = self.eps(xv.shape)
        return xv.to(dev), sv.to(dev), ev.to(dev)


def _train_loop(step_fn, ema, val_set, steps, eval_every, patience, current_lr, progress):
    """Run ``step_fn(step)`` for steps 1..``steps``, scoring the EMA weights every ``eval_every`` steps.

    Keeps the EMA state with the lowest validation loss (loaded into ``ema`` at the end) and stops after
    ``patience`` evaluations without improvement. Returns (history rows, best step, best loss, stopped early).
    """
    best_val, best_step, best_state = _fixed_loss(ema, *val_set), 0, copy.deepcopy(ema.state_dict())
    rows = [{"step": 0, "train_loss": float("nan"), "val_loss": best_val, "lr": 0.0}]
    bad_evals, stopped_early, run_loss, run_count = 0, False, 0.0, 0
    bar = tqdm(range(1, steps + 1), desc="denoiser", disable=None if progress else True, leave=False)
    for step in bar:
        run_loss += step_fn(step)
        run_count += 1
        if step % eval_every == 0 or step == steps:
            val = _fixed_loss(ema, *val_set)
            if not math.isfinite(val):
                raise NumericalError(f"validation loss became {val} at step {step}; lower the learning rate")
            rows.append({"step": step, "train_loss": run_loss / run_count, "val_loss": val, "lr": current_lr()})
            run_loss, run_count = 0.0, 0
            bar.set_postfix(val=f"{val:.4f}", best=f"{min(val, best_val):.4f}")
            if val < best_val:
                best_val, best_step, bad_evals = val, step, 0
                best_state = copy.deepcopy(ema.state_dict())
            else:
                bad_evals += 1
                if patience is not None and bad_evals >= patience:
                    stopped_early = True
                    break
    bar.close()
    ema.load_state_dict(best_state)
    return rows, best_step, best_val, stopped_early
