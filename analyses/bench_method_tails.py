"""The tail calibration of the truncated method, measured (issue 17, phase 2).

Per case and seed (10,000 training rows drawn with the seed; every model seeded with it; 1 torch thread):

* ``method-before``: ``make_model("truncated", tail_calibration=False)`` (the method as it was);
* ``method-after``: the same fitted model with its tail calibration
  (:func:`~heavytail_diffusion.diffusion.tail_calibration.calibrate_model_tails`, exactly what
  ``fit`` does by default: the calibration is the last step of the fit and has its own random stream);
* ``prior alone``: the same model's prior, clean draws (``prior_.sample_clean``): GPD margins + empirical copula;
* ``evt-copula``: the package's ``evt-copula`` generator (GPD margins + t copula);
* ``oracle-start``: fresh true draws + sigma_T noise through the same network (no calibration);
* ``training rows`` and ``reference`` (fresh true draws of the generated size).

Metrics: those of ``analyses/bench_method.py`` (:func:`bench_method.evaluate`) plus ``qm999_med``: the
median over columns and both tails of the marginal 0.001/0.999-quantile |relative error|, and
``n_worse_than_prior``: how many of the 2 d marginal 0.999 errors of a row exceed the prior alone's (same
seed, same sample size) by more than 0.01. Fit costs in CPU seconds of this process.

Usage::

    OMP_NUM_THREADS=1 python analyses/bench_method_tails.py --seeds 0 1 > analyses/results/method_tails.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_method import Context, _table, evaluate, sampling_cost
from bench_method import cpu_seconds as _cpu
from bench_method import marginal_999_errors as _marginal_errors
from diagnose_method_tails import CASES, fit_cached

from heavytail_diffusion.diffusion import sample as reverse_sample
from heavytail_diffusion.diffusion.tail_calibration import calibrate_model_tails
from heavytail_diffusion.models import make_model

__all__ = ["main", "run_case"]

#: the fresh variant, drawn once (10-D, df 2.5, 8 components, a mixture seed not used before)
CASES["fresh10d"] = ("ht", {"dim": 10, "n_components": 8, "df": 2.5, "seed": 417})
N_GEN = 30_000
COLS = ["sigma_T", "qm999_med", "qm999_mean", "qm999", "n_worse_than_prior", "qm99", "qd99", "qd999",
        "w2_slog", "w2_bulk", "alpha", "mem_ratio", "mem_frac01", "fit_cpu_s"]  # fmt: skip
ORDER = ["method-before", "method-after", "prior alone", "evt-t-copula", "oracle-start", "training rows",
         "reference"]  # fmt: skip


def run_case(case: str, seed: int, log) -> list[dict]:
    """Every row of one (case, seed); see the module docstring.

    Parameters
    ----------
    case : str
        Key of ``CASES``.
    seed : int
        Seeds the training rows, the models and the draws.
    log : callable
        Progress lines.

    Returns
    -------
    list of dict, one per row.
    """
    name, bparams = CASES[case]
    from heavytail_diffusion.benchmarks import get_benchmark

    bench = get_benchmark(name, **bparams)
    X = bench.sample(10_000, seed=seed)
    ctx = Context(bench, X, N_GEN, 1_000_000, seed)
    m, info = fit_cached(case, seed)
    c0 = _cpu()
    cal = calibrate_model_tails(m, "transport")
    cal_cpu = _cpu() - c0
    gens: dict[str, tuple[np.ndarray, dict]] = {}
    pre = m.preprocessor_
    gens["method-before"] = (m.sample(N_GEN, seed=seed), {"fit_cpu_s": info["fit_cpu_s"]})
    m.tail_calibration_ = cal
    t = time.perf_counter()
    gens["method-after"] = (m.sample(N_GEN, seed=seed), {"fit_cpu_s": info["fit_cpu_s"] + cal_cpu,
                                                          "sample_s": time.perf_counter() - t})  # fmt: skip
    gens["prior alone"] = (pre.inverse_transform(m.prior_.sample_clean(N_GEN, seed=seed)), {})
    c0 = _cpu()
    evt = make_model("evt-t-copula", seed=seed).fit(X)
    gens["evt-t-copula"] = (evt.sample(N_GEN, seed=seed), {"fit_cpu_s": _cpu() - c0})
    s = float(m.sigma_T_)
    rng = np.random.default_rng([seed, 41])
    Zo = pre.transform(bench.sample(N_GEN, seed=int(rng.integers(2**31))))
    Zo = Zo + s * rng.standard_normal(Zo.shape)
    gens["oracle-start"] = (pre.inverse_transform(reverse_sample(m.denoiser_, Zo, s, steps=m.steps, device="cpu")[0]), {})
    gens["training rows"] = (X, {})
    gens["reference"] = (bench.sample(N_GEN, seed=30_000 + seed), {})
    e_prior = _marginal_errors(gens["prior alone"][0], ctx)
    rows = []
    for model, (G, extra) in gens.items():
        t = time.perf_counter()
        met = evaluate(G, ctx, seed)
        e = _marginal_errors(G, ctx)
        rows.append({"case": case, "seed": seed, "model": model, "sigma_T": s if "method" in model else np.nan,
                     "qm999_med": float(np.median(e)), "n_worse_than_prior": int(np.sum(e > e_prior + 0.01)),
                     "max_excess_over_prior": float(np.max(e - e_prior)), **met, **extra,
                     "refits": info["refits"], "calibration_cpu_s": cal_cpu})  # fmt: skip
        log(f"[{case} s{seed}] {model:14s} qm999 med {rows[-1]['qm999_med']:.3f} max {met['qm999']:.3f} "
            f"qd999 {met['qd999']:.3f} w2slog {met['w2_slog']:.3f} mem {met['mem_frac01']:.3f} "
            f"(eval {time.perf_counter() - t:.0f} s)")  # fmt: skip
    return rows


def _top_bin(case: str, seed: int = 0) -> str:
    """Mean radial displacement sign(x_T)(x_0 - x_T) by bins of |x_T,j|: network before / after the
    calibration vs the exact posterior-mean ODE, from the same prior draws (those cached by
    ``diagnose_method_tails.py``; empty if that has not run)."""
    from diagnose_method_tails import CACHE, net_ode

    saved = CACHE / f"{case}_s{seed}_exact_odes.npz"
    if not saved.exists():
        return ""
    z = np.load(saved)
    m, _ = fit_cached(case, seed)
    xT, ex = z["xT"], z["exact_prior"]
    before = net_ode(m, xT, float(m.sigma_T_))
    after = calibrate_model_tails(m, "transport").transform(before, xT)
    a, sg = np.abs(xT), np.sign(xT)
    edges = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)
    qs = np.quantile(a, edges, axis=0)
    lines = [f"Radial displacement by |x_T| bin, {case} seed {seed} (model space; same {len(xT)} prior draws):", "",
             "| bin | before | after | exact ODE |", "|---|---|---|---|"]  # fmt: skip
    for lo, hi, qlo, qhi in zip(edges[:-1], edges[1:], qs[:-1], qs[1:], strict=True):
        k = (a >= qlo) & (a <= qhi)
        cells = [f"{float((sg * (g - xT))[k].mean()):+.3f}" for g in (before, after, ex)]
        lines.append(f"| {lo}-{hi} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cost(seed: int = 0) -> str:
    """Sampling 1e5 rows at 19 NFE on one core with the ht10d model, its FLOP floor, and peak memory."""
    m, _ = fit_cached("ht10d", seed)
    m.tail_calibration_ = calibrate_model_tails(m, "transport")
    return f"ht10d, seed {seed}, calibrated, 1 torch thread: " + sampling_cost(m)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=["ht10d", "mvt5", "fresh10d"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--csv", default="/tmp/method_tails_rows.csv")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    log = lambda s: print(s, file=sys.stderr, flush=True)
    rows = []
    for case in a.cases:
        for seed in a.seeds:
            rows += run_case(case, seed, log)
            pd.DataFrame(rows).to_csv(a.csv, index=False)
    df = pd.DataFrame(rows)
    df["model"] = pd.Categorical(df["model"], ORDER, ordered=True)
    out = [f"# Tail calibration of the truncated method (issue 17, phase 2); seeds {a.seeds}, {N_GEN} generated rows", ""]
    for case in a.cases:
        sub = df[df["case"] == case].sort_values("model")
        out += [f"## {case} ({CASES[case][0]} {CASES[case][1]})", "", _table(sub, ["model"], COLS), ""]
    out += [_top_bin("ht10d"), _top_bin("mvt5"), _cost(), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
