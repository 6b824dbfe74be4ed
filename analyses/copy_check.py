"""Does the truncated model's fit-time copy check act where it should? (HT-100D copies at sigma_T = 0.5.)

Fits the default ``truncated`` model (2000 denoiser steps, as in ``benchmark_paper.py``'s full mode) on 10,000
rows of the HT construction at d = 100 and d = 10 and prints the final sigma_T, the copy check's share of
near-copies and the fit time. Expected from ``analyses/results/benchmark_paper``: at d = 100 the automatic
level (0.5, the floor) copies and is doubled; at d = 10 it is kept.

Usage: ``python analyses/copy_check.py`` (about 2.5 min on one core); output in ``results/copy_check.txt``.
"""

import time
import warnings

import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.models import make_model


def main() -> None:
    torch.set_num_threads(1)
    for d in (100, 10):
        X = get_benchmark("ht", dim=d).sample(10000, seed=0)
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = make_model("truncated", train_steps=2000, progress=False, seed=0).fit(X)
        said = [str(w.message) for w in caught if "training row" in str(w.message)]
        print(f"d = {d}: dip-test level {m.sigma_T_selection_.sigma_T:.3f}, final sigma_T {m.sigma_T_:.3g}, "
              f"near-copies {m.copy_fraction_:.2%}, fit {time.perf_counter() - t:.0f} s, "
              f"copy warning: {said[0] if said else 'none'}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
