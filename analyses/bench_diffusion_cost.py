"""Cost of the diffusion machinery on 2 CPU threads: denoiser training speed, sampling time, sigma_T selection.

Measures, for several MLP widths (hidden widths ``width * (2, 4, 4, 2)``, the paper's layout):
- training throughput (steps/s at batch 512 on 10k x 10 rows, ``ht10d``) and the implied time of the default
  8000-step budget;
- sampling time for 1e5 rows with Heun at 10 steps (19 NFE), batch 16384;
then the validation loss reached by the default width at two learning rates (the paper's 1e-4 and 1e-3) with
the default schedule, and the time of ``select_sigma_T`` on 10k x 10.

Goals (issue 4): fit 10k x 10 within 10 minutes in total (denoiser + prior + sigma_T); sample 1e5 rows at
19 NFE within 20 s. The default network (``DEFAULT_NET``: width 32, mults (2, 4, 4, 2)) was chosen from this
table: the paper's width 256 is far too slow on CPU for both goals, and on the shared 2-core machine (load about
8 when measured) only width 32 came near the sampling goal. Pass ``--lr-check`` to also compare learning rates.

Run: ``python analyses/bench_diffusion_cost.py`` (about 8 minutes on a loaded machine); output in
``analyses/results/bench_diffusion_cost.md``. The machine is shared, so times are upper bounds.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diffusion import (
    Denoiser,
    MLPDenoiserNet,
    dsm_loss,
    sample,
    sample_training_sigmas,
    select_sigma_T,
    train_denoiser,
)

torch.set_num_threads(2)
SIGMA_T, D, N = 2.3, 10, 10_000
WIDTHS = [256, 128, 64, 32]
LR_CHECK = "--lr-check" in sys.argv  # optional: 2 x 3000 training steps (slow on a shared machine)
MULTS = (2, 4, 4, 2)


def train_speed(width: int, X: np.ndarray, n_steps: int = 60, batch: int = 512) -> float:
    torch.manual_seed(0)
    den = Denoiser(MLPDenoiserNet(D, width=width, mults=MULTS), float(X.std()))
    opt = torch.optim.AdamW(den.parameters(), lr=1e-4, weight_decay=1e-4)
    xt = torch.as_tensor(X, dtype=torch.float32)
    g = torch.Generator().manual_seed(0)
    for i in range(n_steps + 5):
        if i == 5:
            t0 = time.perf_counter()
        idx = torch.randint(N, (batch,), generator=g)
        sig = sample_training_sigmas(batch, sigma_max=SIGMA_T, generator=g)
        loss = dsm_loss(den, xt[idx], sig, torch.randn(batch, D, generator=g))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return n_steps / (time.perf_counter() - t0)


def sample_time(width: int, n: int) -> float:
    torch.manual_seed(0)
    den = Denoiser(MLPDenoiserNet(D, width=width, mults=MULTS), 1.0).eval()
    x = SIGMA_T * np.random.default_rng(0).standard_normal((n, D))
    t0 = time.perf_counter()
    sample(den, x, SIGMA_T, 10, "heun", batch_size=16384, device="cpu")
    return time.perf_counter() - t0


def main() -> None:
    X = get_benchmark("ht10d").sample(N, seed=0)
    lines = ["# Diffusion cost on 2 CPU threads (shared machine; times are upper bounds)", ""]
    lines += [
        (
            f"torch {torch.__version__}, threads {torch.get_num_threads()}, data ht10d {N} x {D}, "
            f"sigma_max = {SIGMA_T}, mults {MULTS}, load average {os.getloadavg()[0]:.1f}"
        ),
        "",
    ]
    lines += [
        "| width | params | train steps/s (batch 512) | 8000 steps (s) | sample 1e5 rows, Heun 19 NFE (s) |",
        "|---|---|---|---|---|",
    ]
    for w in WIDTHS:
        params = sum(p.numel() for p in MLPDenoiserNet(D, width=w, mults=MULTS).parameters())
        sps = train_speed(w, X, n_steps=10 if w >= 128 else 40)
        n_s = {256: 5_000, 128: 20_000}.get(w, 100_000)
        ts = sample_time(w, n_s) * 100_000 / n_s
        note = f" (from {n_s:.0e} rows)" if n_s < 100_000 else ""
        lines.append(f"| {w} | {params:,} | {sps:.1f} | {8000 / sps:.0f} | {ts:.1f}{note} |")
        print(lines[-1], flush=True)

    lines += [
        "",
        "Validation loss (EMA, fixed set) of the default width after 3000 steps, default schedule:",
        "",
        "| lr | best val loss | at step | fit time (s) |",
        "|---|---|---|---|",
    ]
    for lr in (1e-4, 1e-3) if LR_CHECK else ():
        t0 = time.perf_counter()
        _, hist = train_denoiser(
            X, SIGMA_T, steps=3000, lr=lr, eval_every=250, patience=None, seed=0, device="cpu", progress=False
        )
        el = time.perf_counter() - t0
        lines.append(f"| {lr:g} | {hist.attrs['best_val_loss']:.4f} | {hist.attrs['best_step']} | {el:.0f} |")
        print(lines[-1], flush=True)

    t0 = time.perf_counter()
    sel = select_sigma_T(X, seed=0)
    lines += [
        "",
        (
            f"select_sigma_T on ht10d 10k x 10 (defaults): sigma_T = {sel.sigma_T:.3f} in "
            f"{time.perf_counter() - t0:.1f} s"
        ),
    ]
    print("\n".join(lines))
    with open("analyses/results/bench_diffusion_cost.md", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
