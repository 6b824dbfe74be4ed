"""Issue 17's full table: the method against its prior, the oracle start, EDM-79, the EVT t copula and the
training rows, per case and seed, at package defaults.

Per (case, seed): 10,000 training rows drawn with the seed; every model seeded with it; one torch thread;
``N_GEN`` generated rows per model scored against 1e6 true draws (:func:`bench_method.evaluate`).

Rows:

* ``method (spectral prior)``: ``make_model("truncated", prior="evt-spectral-copula")`` fitted from scratch
  (fit CPU seconds include sigma_T choice, prior, denoiser, copy check and its refits), with the package's
  default tail calibration (rank coupling since it was measured here; rows of runs before it have none);
* ``method (no tail coupling)``: the same fitted model sampled with ``tail_calibration_ = None`` (the
  sampler's output as it is; the same rows as the earlier runs' ``method (spectral prior)``);
* ``method (evt-copula prior)``: the same fitted denoiser and sigma_T with the empirical-copula prior
  (``evt-copula``) refitted in its place (the prior's fit takes its own seed and the denoiser's random stream
  does not depend on it, so this is the model the fit with ``prior="evt-copula"`` gives when the copy check
  does not refit);
* ``prior alone (spectral)`` / ``prior alone (evt-copula)``: the priors' clean draws;
* ``oracle-start``: fresh true draws + sigma_T noise through the same network;
* ``edm-79``: ``make_model("edm")`` (sigma_max 80) sampled with 40 Heun levels (79 NFE);
* ``evt-t-copula``: GPD margins + Student-t copula, no denoiser;
* ``training rows``, ``reference`` (fresh true draws of the generated size: the noise floor).

Columns: those of :func:`bench_method.evaluate` plus ``qm999_med`` (median over columns and both tails of the
marginal 0.001/0.999 |relative error|), ``n_worse_than_prior`` (how many of the 2 d marginal 0.999 errors
exceed the row's own prior alone's by more than 0.01), ``fit_cpu_s``, ``sample_s`` (wall seconds for the
``N_GEN`` rows, one thread), ``refits``.

Usage::

    OMP_NUM_THREADS=1 python analyses/bench_method_full.py --cases ht2d ht10d --seeds 0 1 2 --csv rows_a.csv
    python analyses/bench_method_full.py --report rows_a.csv rows_b.csv > analyses/results/method_full.md
"""

from __future__ import annotations

import argparse
import copy
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

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diffusion import sample as reverse_sample
from heavytail_diffusion.models import make_model
from heavytail_diffusion.priors import make_prior

__all__ = ["CASES", "main", "run_case"]

CASES = {
    "ht2d": ("ht2d", {}),
    "ht10d": ("ht10d", {}),
    # the fresh variant, drawn once (10-D, df 2.5, 8 components, a mixture seed not used before)
    "fresh10d": ("ht", {"dim": 10, "n_components": 8, "df": 2.5, "seed": 417}),
    "mvt5": ("mvt", {"dim": 5, "df": 2.5, "rho": 0.5}),
    "ht50d": ("ht", {"dim": 50}),
}
N_TRAIN = 10_000
N_GEN = 100_000
N_REF = 1_000_000
ORDER = ["method (spectral prior)", "method (no tail coupling)", "method (evt-copula prior)", "prior alone (spectral)",
         "prior alone (evt-copula)", "oracle-start", "edm-79", "evt-t-copula", "training rows", "reference"]  # fmt: skip
COLS = ["sigma_T", "qm999_med", "qm999", "n_worse_than_prior", "qm99", "qd99", "qd999", "alpha", "w2_slog",
        "w2_bulk", "mem_ratio", "mem_frac01", "fit_cpu_s", "sample_s", "refits"]  # fmt: skip


def _timed_sample(model, n: int, seed: int, **kw) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    G = model.sample(n, seed=seed, **kw)
    return G, time.perf_counter() - t


def run_case(case: str, seed: int, log, n_gen: int = N_GEN, method_only: bool = False) -> list[dict]:
    """Every row of one (case, seed); see the module docstring. Returns one dict per row.

    ``method_only``: only the method's own rows (method, no coupling, prior alone, oracle start, training
    rows, reference), not the models whose rows do not depend on the method (EDM-79, evt-t-copula) or the
    previous default prior's."""
    name, bparams = CASES[case]
    bench = get_benchmark(name, **bparams)
    X = bench.sample(N_TRAIN, seed=seed)
    t0 = time.perf_counter()
    ctx = Context(bench, X, n_gen, N_REF, seed)
    log(f"[{case} s{seed}] reference ready ({time.perf_counter() - t0:.0f} s)")
    gens: dict[str, tuple[np.ndarray, dict]] = {}

    c0 = _cpu()
    m = make_model("truncated", prior="evt-spectral-copula", seed=seed, progress=False).fit(X)
    info = {"fit_cpu_s": _cpu() - c0, "refits": m.refits_,
            "sigma_T": float(m.sigma_T_), "copy_fraction": float(m.copy_fraction_), "distance_ratio": float(m.distance_ratio_)}  # fmt: skip
    log(f"[{case} s{seed}] method fitted: {info}")
    G, ts = _timed_sample(m, n_gen, seed)
    gens["method (spectral prior)"] = (G, {**info, "sample_s": ts})
    m_raw = copy.copy(m)
    m_raw.tail_calibration_ = None
    G, ts = _timed_sample(m_raw, n_gen, seed)
    gens["method (no tail coupling)"] = (G, {**info, "fit_cpu_s": np.nan, "sample_s": ts})
    pre = m.preprocessor_
    Z = pre.transform(X)
    gens["prior alone (spectral)"] = (pre.inverse_transform(m.prior_.sample_clean(n_gen, seed=seed)), {})
    if not method_only:
        m_emp = copy.copy(m_raw)  # shares the denoiser; only the prior differs
        c0 = _cpu()
        m_emp.prior_ = make_prior("evt-copula").fit(Z, m.sigma_T_, seed=seed)
        emp_prior_cpu = _cpu() - c0
        G, ts = _timed_sample(m_emp, n_gen, seed)
        gens["method (evt-copula prior)"] = (G, {**info, "fit_cpu_s": np.nan, "prior_cpu_s": emp_prior_cpu,
                                                 "sample_s": ts})  # fmt: skip
        gens["prior alone (evt-copula)"] = (
            pre.inverse_transform(m_emp.prior_.sample_clean(n_gen, seed=seed)),
            {},
        )
    s = float(m.sigma_T_)
    rng = np.random.default_rng([seed, 41])
    Zo = pre.transform(bench.sample(n_gen, seed=int(rng.integers(2**31))))
    Zo = Zo + s * rng.standard_normal(Zo.shape)
    gens["oracle-start"] = (
        pre.inverse_transform(reverse_sample(m.denoiser_, Zo, s, steps=m.steps, device="cpu")[0]),
        {},
    )

    if not method_only:
        c0 = _cpu()
        edm = make_model("edm", seed=seed, progress=False).fit(X)
        edm_cpu = _cpu() - c0
        G, ts = _timed_sample(edm, n_gen, seed, steps=40)
        gens["edm-79"] = (G, {"fit_cpu_s": edm_cpu, "sample_s": ts})
        log(f"[{case} s{seed}] edm fitted ({edm_cpu:.0f} CPU-s), sampled ({ts:.0f} s)")
        c0 = _cpu()
        evt = make_model("evt-t-copula", seed=seed).fit(X)
        evt_cpu = _cpu() - c0
        G, ts = _timed_sample(evt, n_gen, seed)
        gens["evt-t-copula"] = (G, {"fit_cpu_s": evt_cpu, "sample_s": ts})
    gens["training rows"] = (X, {})
    gens["reference"] = (bench.sample(n_gen, seed=30_000 + seed), {})

    priors = {
        "method (spectral prior)": "prior alone (spectral)",
        "method (no tail coupling)": "prior alone (spectral)",
        "method (evt-copula prior)": "prior alone (evt-copula)",
    }
    errs = {k: _marginal_errors(G, ctx) for k, (G, _) in gens.items()}
    rows = []
    for model, (G, extra) in gens.items():
        t = time.perf_counter()
        met = evaluate(G, ctx, seed)
        e = errs[model]
        row = {"case": case, "seed": seed, "model": model, "qm999_med": float(np.median(e)), **met, **extra}
        if priors.get(model) in errs:
            e_prior = errs[priors[model]]
            row["n_worse_than_prior"] = int(np.sum(e > e_prior + 0.01))
            row["max_excess_over_prior"] = float(np.max(e - e_prior))
            row["ratio_to_oracle_qm999"] = met["qm999"] / max(float(errs["oracle-start"].max()), 1e-12)
        rows.append(row)
        log(f"[{case} s{seed}] {model:26s} qm999 med {row['qm999_med']:.3f} max {met['qm999']:.3f} "
            f"qd999 {met['qd999']:.3f} w2slog {met['w2_slog']:.3f} mem {met['mem_frac01']:.3f} "
            f"(eval {time.perf_counter() - t:.0f} s)")  # fmt: skip
    return rows


def _cost(seed: int = 0) -> str:
    """Fit 10,000 x 10 (ht10d) at package defaults with the spectral prior, sampling 1e5 rows at 19 NFE on one
    core, the network's FLOP floor, and peak memory (run in a fresh process for the RSS to mean the fit's)."""
    X = get_benchmark("ht10d").sample(N_TRAIN, seed=seed)
    c0 = _cpu()
    m = make_model("truncated", prior="evt-spectral-copula", seed=seed, progress=False).fit(X)
    fit_cpu = _cpu() - c0
    return (f"Cost (ht10d, seed {seed}, 10,000 x 10, package defaults with the spectral prior, 1 torch thread): "
            f"fit {fit_cpu:.1f} CPU-s (sigma_T {m.sigma_T_:g}, copy share {m.copy_fraction_:.3f}); "
            + sampling_cost(m))


def report(df: pd.DataFrame) -> str:
    """Markdown tables (mean +- sd over seeds) per case."""
    df = df.copy()
    df["model"] = pd.Categorical(df["model"], ORDER, ordered=True)
    seeds = sorted(int(s) for s in df["seed"].unique())
    out = [
        f"# Issue 17 full table: seeds {seeds}, {N_TRAIN} training rows, {N_GEN} generated rows, {N_REF} true draws",
        "",
    ]
    for case in [c for c in CASES if c in set(df["case"])]:
        sub = df[df["case"] == case].sort_values("model")
        cols = [c for c in COLS if c in sub.columns]
        out += [f"## {case} ({CASES[case][0]} {CASES[case][1]})", "", _table(sub, ["model"], cols), ""]
    return "\n".join(out)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=list(CASES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--n-gen", type=int, default=N_GEN)
    p.add_argument("--csv", default="/tmp/method_full_rows.csv")
    p.add_argument("--report", nargs="+", metavar="CSV", help="only print the tables of these row files")
    p.add_argument("--cost", action="store_true", help="only print the cost line")
    p.add_argument("--method-only", action="store_true", help="only the rows that depend on the method's fit")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.report:
        print(report(pd.concat([pd.read_csv(f) for f in a.report], ignore_index=True)))
        return
    if a.cost:
        print(_cost())
        return
    log = lambda s: print(s, file=sys.stderr, flush=True)
    rows = []
    for case in a.cases:
        for seed in a.seeds:
            rows += run_case(case, seed, log, n_gen=a.n_gen, method_only=a.method_only)
            pd.DataFrame(rows).to_csv(a.csv, index=False)
    print(report(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
