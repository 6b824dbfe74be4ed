"""GPU against CPU for the method (issue 15): fit and sampling time, and agreement for the same seed.

Fits ``truncated`` on ``ht10d`` (``--n`` rows, ``--train-steps`` denoiser steps) once on the CPU (all cores
unless ``--cpu-threads``) and once on CUDA, with the same seed, then samples ``--n-sample`` rows with each
(Heun 10 levels, 19 NFE) and prints, as a markdown table: fit and sample wall times, rows per second, the
speed-ups, and how close the two devices' results are (max |difference| of the samples in units of the
column standard deviation, for the CPU-fitted model sampled on both devices and for the two fits; the
validation losses). Needs a CUDA device; exits with a message otherwise.

Usage::

    python analyses/bench_gpu.py                      # 10k rows, 2000 steps, 1e6 samples
    python analyses/bench_gpu.py --n 100000 --n-sample 10000000 --json gpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.models import make_model


def _timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000, help="training rows (ht10d)")
    p.add_argument("--train-steps", type=int, default=2000)
    p.add_argument("--n-sample", type=int, default=1_000_000)
    p.add_argument("--cpu-threads", type=int, default=None, help="torch threads on the CPU (default: all)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    a = p.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("bench_gpu: no CUDA device here; run it on a machine with a GPU")
    if a.cpu_threads:
        torch.set_num_threads(a.cpu_threads)
    X = get_benchmark("ht10d").sample(a.n, seed=0)
    scale = X.std(axis=0)
    common = {"train_steps": a.train_steps, "progress": False, "seed": 0, "patience": None}
    res: dict = {"gpu": torch.cuda.get_device_name(0), "cpu": platform.processor() or platform.machine(),
                 "cpu_threads": torch.get_num_threads(), "torch": torch.__version__, "n_train": a.n,
                 "train_steps": a.train_steps, "n_sample": a.n_sample}  # fmt: skip
    _timed(lambda: torch.zeros(1, device="cuda"))  # CUDA context outside the timings
    cpu, res["fit_cpu_s"] = _timed(lambda: make_model("truncated", device="cpu", **common).fit(X))
    gpu, res["fit_gpu_s"] = _timed(lambda: make_model("truncated", device="cuda", **common).fit(X))
    gpu.sample(1000, seed=9)  # warm-up (kernels, allocator)
    _, res["sample_gpu_s"] = _timed(lambda: gpu.sample(a.n_sample, seed=1))
    n_cpu = min(a.n_sample, 200_000)  # the CPU rate from fewer rows (it is linear in n)
    res["n_sample_cpu"] = n_cpu
    _, res["sample_cpu_s"] = _timed(lambda: cpu.sample(n_cpu, seed=1))
    res["rows_per_s_cpu"] = n_cpu / res["sample_cpu_s"]
    res["rows_per_s_gpu"] = a.n_sample / res["sample_gpu_s"]
    res["fit_speedup"] = res["fit_cpu_s"] / res["fit_gpu_s"]
    res["sample_speedup"] = res["rows_per_s_gpu"] / res["rows_per_s_cpu"]
    # agreement: the CPU-fitted model sampled on both devices (same start rows, same seed) ...
    m = 20_000
    a_cpu = cpu.sample(m, seed=2)
    cpu.device = "cuda"
    a_gpu = cpu.sample(m, seed=2)
    cpu.device = "cpu"
    res["same_model_max_abs_diff_sd"] = float(np.max(np.abs(a_gpu - a_cpu) / scale))
    # ... and the two fits (float32 arithmetic on two devices drifts apart over the training steps)
    b_gpu = gpu.sample(m, seed=2)
    res["two_fits_max_abs_diff_sd"] = float(np.max(np.abs(b_gpu - a_cpu) / scale))
    res["two_fits_q999_rel_diff"] = float(
        np.max(np.abs(np.quantile(b_gpu, 0.999, 0) / np.quantile(a_cpu, 0.999, 0) - 1))
    )
    res["val_loss_cpu"] = float(cpu.history_["val_loss"].min())
    res["val_loss_gpu"] = float(gpu.history_["val_loss"].min())
    res["sigma_T_cpu"], res["sigma_T_gpu"] = float(cpu.sigma_T_), float(gpu.sigma_T_)
    rows = [
        ("device", f"CPU ({res['cpu_threads']} threads)", res["gpu"]),
        ("fit s", f"{res['fit_cpu_s']:.1f}", f"{res['fit_gpu_s']:.1f}"),
        ("sample rows/s (19 NFE)", f"{res['rows_per_s_cpu']:.0f}", f"{res['rows_per_s_gpu']:.0f}"),
        ("best validation loss", f"{res['val_loss_cpu']:.5f}", f"{res['val_loss_gpu']:.5f}"),
        ("sigma_T", f"{res['sigma_T_cpu']:.4g}", f"{res['sigma_T_gpu']:.4g}"),
    ]
    print(f"ht10d, n = {a.n}, {a.train_steps} denoiser steps, torch {torch.__version__}\n")
    print("| | CPU | GPU |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    print(f"\nspeed-up: fit x{res['fit_speedup']:.1f}, sampling x{res['sample_speedup']:.1f}")
    print(f"same model sampled on both devices: max |diff| {res['same_model_max_abs_diff_sd']:.2e} sd")
    print(f"CPU fit vs GPU fit: max |diff| {res['two_fits_max_abs_diff_sd']:.2e} sd, "
          f"0.999-quantiles within {res['two_fits_q999_rel_diff']:.2%}")  # fmt: skip
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)


if __name__ == "__main__":
    main()
