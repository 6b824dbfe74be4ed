"""``make_model("auto")`` on held-out real tables (issue 17): is the package's choice within 1.1x of the best
generator's tail-quantile error?

For each bundled real table (those of ``analyses/compare_real.py``: Danish fire losses, liability Loss/ALAE,
S&P 500 returns and range, Fort Collins precipitation) and each of ``--splits`` outer splits (30% of the rows
held out; random, time blocks for the returns): ``truncated`` (the method at package defaults),
``evt-t-copula``, ``empirical-start`` and ``auto`` (package defaults: candidates truncated / evt-t-copula
chosen on its own 2 inner validation splits of the outer training rows, then refitted on them) are fitted on
the outer training rows (seed = split), draw 10,000 rows (seed 1 + split) and are scored on the outer test
rows with :func:`heavytail_diffusion.scorecard.score_split`. The tail error is the mean of the scorecard's
``q99_error`` and ``q999_error`` (|relative error| of the 0.99 / 0.999 quantiles, mean over the tail columns
and both tails of signed columns), the issue's criterion. Fit CPU seconds are this process's (one torch
thread). No model sees the outer test rows.

Usage::

    OMP_NUM_THREADS=1 python analyses/bench_auto.py --datasets danish lossalae --csv /tmp/auto_a.csv
    python analyses/bench_auto.py --report /tmp/auto_a.csv /tmp/auto_b.csv > analyses/results/auto.md
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_method import cpu_seconds as _cpu
from compare_real import datasets

from heavytail_diffusion import scorecard as sc
from heavytail_diffusion.data import as_table
from heavytail_diffusion.models import MODELS as MODELS_REG
from heavytail_diffusion.models import make_model

__all__ = ["main", "run_dataset"]

MODELS = ["truncated", "evt-t-copula", "empirical-start", "auto"]
REAL = ["danish", "lossalae", "sp500", "fort_collins"]
N_SAMPLES = 100_000  # 10,000 (until 2026-12-03) left each model's own 0.999 quantile on 10 draws


def run_dataset(name: str, n_splits: int, log, n_samples: int = N_SAMPLES) -> list[dict]:
    """One row per (split, model): tail error, q99/q999 errors, floors, fit CPU seconds, auto's choice."""
    frame, split, _ref, _desc = datasets()[name]
    table = as_table(frame)
    X, cols = table.values, tuple(table.columns)
    kinds = sc.column_kinds(table.schema, cols)
    tail_idx = sc.tail_columns(cols, kinds)
    discrete = [j for j in tail_idx if kinds[cols[j]] == "integer"]
    splits = sc.make_splits(len(X), n_splits, 0.3, method=split, seed=0)
    rows = []
    for s, (tr, te) in enumerate(splits):
        part = as_table(frame.iloc[tr].reset_index(drop=True), schema=None)
        samples, info = {}, {}
        for model in MODELS:
            c0 = _cpu()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kw = {"progress": False} if "progress" in MODELS_REG[model].param_names() else {}
                m = make_model(model, seed=s, **kw).fit(part)
                samples[model] = m.sample(n_samples, seed=1 + s)
            info[model] = {"fit_cpu_s": _cpu() - c0, "chosen": getattr(m, "chosen_", ""),
                           "reason": getattr(m, "reason_", "")}  # fmt: skip
            log(
                f"[{name} split {s}] {model} fitted ({info[model]['fit_cpu_s']:.0f} CPU-s) {info[model]['reason']}"
            )
        M = sc.score_split(X[te], samples, columns=cols, tail_idx=tail_idx, split=s, seed=s, quick=False,
                           floors=True, joint=False, discrete=discrete)  # fmt: skip
        summ = sc.split_summary(M).set_index("model")
        for model in MODELS:
            r = {"dataset": name, "split": s, "model": model, "n_samples": n_samples, **info[model]}
            for fam in ("q99_error", "q999_error"):
                r[fam], r[fam + "_floor"] = (
                    float(summ.loc[model, fam]),
                    float(summ.loc[model, fam + "_floor"]),
                )
            r["tail_error"] = (r["q99_error"] + r["q999_error"]) / 2
            r["tail_error_floor"] = (r["q99_error_floor"] + r["q999_error_floor"]) / 2
            rows.append(r)
            log(
                f"[{name} split {s}] {model:16s} tail error {r['tail_error']:.3f} (floor {r['tail_error_floor']:.3f})"
            )
    return rows


def report(df: pd.DataFrame) -> str:
    """Per dataset: mean +- sd over splits of each model's tail error, its ratio to the best model's, and
    auto's choices."""
    draws = sorted(set(df["n_samples"])) if "n_samples" in df else [10_000]  # rows written before the column
    out = ["# `auto` on held-out real tables (issue 17)", "",
           (f"Outer splits per table: {df.split.nunique()}; 30% of rows held out; "
            f"{', '.join(f'{int(v):,}' for v in draws)} draws per model. "
            "Tail error = mean of the 0.99 and 0.999 quantile |relative errors| (scorecard `q99_error`, "
            "`q999_error`); floor = the same between two halves of the test rows."), "",
           "| table | model | tail error | q99 | q999 | / best | fit CPU-s | auto chose |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, g in df.groupby("dataset", sort=False):
        mean = g.groupby("model", sort=False)["tail_error"].mean()
        best = float(mean.min())
        for model, h in g.groupby("model", sort=False):
            chose = ", ".join(h["chosen"].fillna("").astype(str)) if model == "auto" else ""
            out.append(f"| {name} | {model} | {h.tail_error.mean():.3f} ± {h.tail_error.std(ddof=1):.3f} | "
                       f"{h.q99_error.mean():.3f} | {h.q999_error.mean():.3f} | {h.tail_error.mean() / best:.2f} | "
                       f"{h.fit_cpu_s.mean():.0f} | {chose} |")  # fmt: skip
        out.append(f"| {name} | (floor) | {g.tail_error_floor.mean():.3f} | | | | | |")
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=REAL)
    p.add_argument("--splits", type=int, default=3)
    p.add_argument("--n-samples", type=int, default=N_SAMPLES, help="rows drawn per model and split")
    p.add_argument("--csv", default="/tmp/auto_rows.csv")
    p.add_argument("--report", nargs="+", metavar="CSV")
    a = p.parse_args(argv)
    if a.report:
        print(report(pd.concat([pd.read_csv(f) for f in a.report], ignore_index=True)))
        return
    torch.set_num_threads(1)
    log = lambda s: print(s, file=sys.stderr, flush=True)
    rows = []
    t0 = time.perf_counter()
    for name in a.datasets:
        rows += run_dataset(name, a.splits, log, a.n_samples)
        pd.DataFrame(rows).to_csv(a.csv, index=False)
    log(f"wall {time.perf_counter() - t0:.0f} s")
    print(report(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
