"""Priors at sigma_T alone against the true noised law p_T: marginal quantile errors, Hill index, fit time.

For each benchmark (ht2d at sigma_T = 1.24, ht10d at sigma_T = 2.3) and each training seed, every prior
family is fitted on n = 10,000 fresh clean rows and sampled; the reference is >= 1e6 fresh benchmark draws
plus sigma_T * N(0, I) (one reference per benchmark, its own seed). Printed per family (mean and
[min, max] over training seeds):

* q0.99, q0.999 errors: |q_prior / q_ref - 1| of each marginal's upper quantile and of its lower quantile
  (q0.01, q0.001, as magnitudes); "max" is the worst of the 2d tails, "mean" their average;
* Hill alpha: 1 / Hill xi of the upper tails with k = 0.1% of the sample, averaged over marginals, against
  the same estimator on the reference (the noise biases both the same way);
* fit seconds on this machine (2 shared CPU cores, torch.set_num_threads(1)).

Usage: python analyses/bench_priors.py [--quick] [--out analyses/results/bench_priors.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diagnostics.tail_index import hill
from heavytail_diffusion.priors import make_prior

FAMILIES = [
    "evt-copula",
    "evt-gaussian-copula",
    "evt-t-copula",
    "flow-evt",
    "flow-t",
    "empirical",
    "gaussian",
]
SETTINGS = [("ht2d", 1.24), ("ht10d", 2.3)]
N_TRAIN, N_REF = 10_000, 1_000_000
HILL_FRACTION = 0.001


def quantile_errors(sample: np.ndarray, ref_q: dict) -> dict:
    """Worst and mean relative errors over the 2d tails at two levels (upper q and lower 1 - q)."""
    out = {}
    for level in (0.99, 0.999):
        qs = np.quantile(sample, [level, 1 - level], axis=0)
        err = np.abs(qs / ref_q[level] - 1.0)
        out[level] = (float(err.max()), float(err.mean()))
    return out


def hill_alpha(sample: np.ndarray) -> float:
    k = max(10, int(HILL_FRACTION * sample.shape[0]))
    return float(np.mean([1.0 / hill(sample[:, j], k=k, ci=None).value for j in range(sample.shape[1])]))


def flow_params(family: str, dim: int, quick: bool) -> dict:
    if not family.startswith("flow"):
        return {}
    steps = (300 if quick else 500) if dim <= 2 else (200 if quick else 400)
    return {"steps": steps, "progress": False}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer seeds and flow steps")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    ap.add_argument("--families", default=",".join(FAMILIES))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    families = args.families.split(",")
    seeds = [1, 2] if args.quick else [1, 2, 3]
    flow_seeds = seeds[:1] if args.quick else seeds[:2]
    lines = [
        "# Priors at sigma_T against the true noised law p_T",
        "",
        f"`python analyses/bench_priors.py{' --quick' if args.quick else ''}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, torch threads 1), "
        f"{time.strftime('%Y-%m-%d %H:%M')}. Train n = {N_TRAIN}; reference {N_REF:.0e} fresh draws + noise; "
        f"prior samples {N_REF:.0e} (flows {N_REF // 2:.0e}). Errors |q_prior/q_ref - 1| over all 2d tails "
        f"(upper q and lower 1 - q of every marginal): worst (max) and average (mean); mean over training seeds, "
        f"[min, max] in brackets. Hill alpha with k = {HILL_FRACTION:.1%} of the sample, mean over marginals. "
        "Seeds: training sets 1..3 (flows: the first " + str(len(flow_seeds)) + ").",
        "",
    ]
    t_all = time.perf_counter()
    for bench_name, sigma_T in SETTINGS:
        bench = get_benchmark(bench_name)
        ref = bench.sample(N_REF, seed=12345)
        ref = ref + sigma_T * np.random.default_rng(54321).standard_normal(ref.shape)
        ref_q = {lv: np.quantile(ref, [lv, 1 - lv], axis=0) for lv in (0.99, 0.999)}
        ref_alpha = hill_alpha(ref)
        # reference-vs-reference floor: a second independent reference of the prior-sample size
        ref2 = bench.sample(N_REF, seed=999) + sigma_T * np.random.default_rng(998).standard_normal(ref.shape)
        floor = quantile_errors(ref2, ref_q)
        del ref2
        lines += [
            f"## {bench_name} (d = {bench.dim}), sigma_T = {sigma_T}",
            "",
            (
                f"Reference Hill alpha {ref_alpha:.2f}; floor (second 1e6 reference vs the first): q0.99 max "
                f"{floor[0.99][0]:.3f} / mean {floor[0.99][1]:.3f}, q0.999 max {floor[0.999][0]:.3f} / mean "
                f"{floor[0.999][1]:.3f}."
            ),
            "",
            "| prior | q0.99 max | q0.99 mean | q0.999 max | q0.999 mean | Hill alpha | fit s | seeds |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for fam in families:
            rows = []
            for seed in flow_seeds if fam.startswith("flow") else seeds:
                X = bench.sample(N_TRAIN, seed=seed)
                prior = make_prior(fam, **flow_params(fam, bench.dim, args.quick))
                t0 = time.perf_counter()
                prior.fit(X, sigma_T, seed=seed)
                fit_s = time.perf_counter() - t0
                n_s = N_REF // 2 if fam.startswith("flow") else N_REF
                s = prior.sample(n_s, seed=100 + seed)
                e = quantile_errors(s, ref_q)
                rows.append([e[0.99][0], e[0.99][1], e[0.999][0], e[0.999][1], hill_alpha(s), fit_s])
                print(
                    f"{bench_name} {fam} seed {seed}: " + " ".join(f"{v:.3f}" for v in rows[-1]),
                    file=sys.stderr,
                    flush=True,
                )
            r = np.array(rows)

            def cell(j, fmt="{:.3f}", r=r):
                if len(r) == 1:
                    return fmt.format(r[0, j])
                return (
                    f"{fmt.format(r[:, j].mean())} [{fmt.format(r[:, j].min())}, {fmt.format(r[:, j].max())}]"
                )

            lines.append(
                f"| {fam} | {cell(0)} | {cell(1)} | {cell(2)} | {cell(3)} | {cell(4, '{:.2f}')} | "
                f"{cell(5, '{:.1f}')} | {len(r)} |"
            )
        lines.append("")
    lines.append(f"Total runtime {time.perf_counter() - t_all:.0f} s.")
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
