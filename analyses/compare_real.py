"""Tail scorecard of our generators and the optional peers on bundled real tables and two benchmarks.

Each dataset is compared with :func:`heavytail_diffusion.report.compare` on 5 splits (random, except the
S&P 500 returns: time-ordered blocks), every model at small settings (stated below and in each report), and
the scorecard, the verdict and the figures are written to ``analyses/results/compare_real/<dataset>/``; the
index ``analyses/results/compare_real/README.md`` gathers the scorecards and verdicts.

Small settings (a CPU budget of about 20 CPU-minutes for everything, not the models' standard budgets):
``truncated`` and ``edm`` ``quick=True`` with 300 denoiser steps; ``flow`` 100 steps; ``evt-t-copula`` closed
form; SDV GaussianCopula (defaults), CTGAN 30 epochs, TVAE 50 epochs; ForestDiffusion ``n_t=10``,
``duplicate_K=10``, ``n_estimators=50``. Large tables are subsampled (seeded) as stated per dataset.
Peers are used only when installed (``pip install 'heavytail-diffusion[peers]'``).

Usage::

    python analyses/compare_real.py [--datasets danish,lossalae,...] [--workers 2] [--splits 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.data import load_dataset
from heavytail_diffusion.peers import available_peers
from heavytail_diffusion.report import compare, scorecard_table, write_report

OUT = Path(__file__).resolve().parent / "results" / "compare_real"
OURS = ["truncated", "edm", "flow", "evt-t-copula"]
PARAMS = {
    "truncated": {"train_steps": 300},
    "edm": {"train_steps": 300},
    "flow": {"flow_steps": 100},
    "sdv-ctgan": {"epochs": 30},
    "sdv-tvae": {"epochs": 50},
    "forest-diffusion": {"n_t": 10, "duplicate_K": 10, "n_estimators": 50},
}
MAX_ROWS = 1500


def _subsample(df: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    if len(df) <= n:
        return df.reset_index(drop=True)
    idx = np.sort(np.random.default_rng(seed).choice(len(df), n, replace=False))
    return df.iloc[idx].reset_index(drop=True)


def datasets() -> dict:
    """name -> (frame, split method, reference or None, oracle or None, description)."""
    out = {}
    d = load_dataset("danish")[["loss_mdkk"]]
    out["danish"] = (_subsample(d, MAX_ROWS), "random", None,
                     f"Danish fire losses (MDKK), {MAX_ROWS} of {len(d)} claims (seeded subsample)")  # fmt: skip
    la = load_dataset("lossalae")[["Loss", "ALAE"]]
    out["lossalae"] = (la, "random", None, f"liability claims Loss and ALAE (USD), all {len(la)} rows")
    sp = load_dataset("sp500")
    sp = sp.assign(log_range=np.log(sp["high"] / sp["low"]))[["log_return", "log_range"]].dropna()
    sp = sp[sp.log_range > 0].tail(2000).reset_index(drop=True)
    out["sp500"] = (sp, "time", None, ("S&P 500 daily log-return and log(high/low) range, the last 2000 trading "
                    "days to 2018; time-ordered splits (5 contiguous test blocks)"))  # fmt: skip
    fc = load_dataset("fort_collins")[["prec_in"]]
    out["fort_collins"] = (_subsample(fc, MAX_ROWS), "random", None,
                           (f"Fort Collins daily precipitation (in), {MAX_ROWS} of {len(fc)} days (seeded "
                           "subsample; most days are dry: an atom at 0)"))  # fmt: skip
    for name in ("ht2d", "gmm2d", "zi-claims"):
        b = get_benchmark(name)
        X = b.sample(MAX_ROWS, seed=0)
        ref = b.sample(20_000, seed=1000)
        # zi-claims: named columns; region stays as its numeric codes 0/1/2 (inferred categorical, the same
        # coding as the reference rows), building/contents/profits nonnegative with an atom at 0, liability
        # capped at 5 (an atom at the cap), claimants integer
        cols = list(getattr(b, "columns", None) or [f"x{j}" for j in range(X.shape[1])])
        frame = pd.DataFrame(X, columns=cols)
        decl = getattr(b, "schema", None) or {}
        kinds = (" (kinds " + ", ".join(f"{c}: {k if isinstance(k, str) else k['kind']}" for c, k in decl.items())
                 + ")") if decl else ""  # fmt: skip
        out[name] = (frame, "random", ref, (f"benchmark {name}{kinds}: {MAX_ROWS} rows; metrics against 20,000 "
                     "fresh rows of the true law (floors: two halves of them)"))  # fmt: skip
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=None, help="comma-separated subset")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--splits", type=int, default=5)
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    peers = available_peers()
    models = OURS + peers
    all_ds = datasets()
    names = args.datasets.split(",") if args.datasets else list(all_ds)
    OUT.mkdir(parents=True, exist_ok=True)
    index = ["# Tail scorecards on real tables and benchmarks", "",
             (f"Command: `python analyses/compare_real.py` ({args.splits} splits, {args.workers} worker processes, "
             f"{platform.machine()} CPU shared with other jobs). Models: {', '.join(models)}."), "",
             ("Small settings (not the models' standard budgets): truncated and edm quick with 300 denoiser steps; "
             "flow 100 steps; evt-t-copula closed form; SDV GaussianCopula with SDV defaults (values clipped to the "
             "training range), CTGAN 30 epochs, TVAE 50 epochs; ForestDiffusion n_t = 10, duplicate_K = 10, "
             "n_estimators = 50. Peers installed with `.venv/bin/pip install sdv forestdiffusion torch==2.13.0` "
             f"(peers found: {', '.join(peers) or 'none'})."), ""]  # fmt: skip
    if "sdv-gaussian-copula" not in peers:
        index += ["SDV is not installed here, so its synthesizers are missing from these tables.", ""]
    if "forest-diffusion" not in peers:
        index += ["ForestDiffusion is not installed here, so it is missing from these tables.", ""]
    header = list(index)
    t_all = time.time()
    for name in names:
        frame, split, ref, desc = all_ds[name]
        index, start = [], 0
        t0 = time.time()
        print(f"== {name}: {desc}", flush=True)
        res = compare(frame, models, n_splits=args.splits, split=split, quick=True, n_samples=5000,
                      model_params={k: v for k, v in PARAMS.items() if k in models}, reference=ref,
                      oracle=None, seed=0, progress=False, workers=args.workers)  # fmt: skip
        out = OUT / name
        write_report(res, out, max_pairs=1)
        (out / "report.html").unlink(missing_ok=True)  # duplicates report.md + PNGs
        (out / "metrics.csv").unlink(missing_ok=True)  # large; regenerated by the script
        wall = time.time() - t0
        card, notes = scorecard_table(res)
        cpu = sum(res.per_split.get("fit_seconds", pd.Series(dtype=float)).fillna(0))
        index += [f"## {name}", "", (f"{desc}. {res.info['n_splits']} {split} splits, {res.info['n_train']} training / "
                  f"{res.info['n_test']} test rows; {res.info['n_samples']} rows drawn per model and split. Wall "
                  f"time {wall:.0f} s (fits: {cpu:.0f} CPU-s in all). Report: [{name}/report.md]({name}/report.md)."), ""]  # fmt: skip
        if res.warnings:
            index += [f"- warning: {w}" for w in res.warnings] + [""]
        index += [_md(card), ""]
        index += notes + ["", "**Verdict.** " + res.verdict, ""]
        print(res.verdict, flush=True)
        (out / "section.md").write_text("\n".join(index[start:]) + "\n", encoding="utf-8")
        _write_index(header, list(all_ds))
    print(f"total wall time {(time.time() - t_all) / 60:.1f} min", flush=True)
    return 0


def _write_index(header: list[str], order: list[str]) -> None:
    """README.md: the header, the hand-written overview ``summary.md`` (if any), then every dataset's
    ``section.md`` that exists, in ``order`` (a run of a subset keeps the sections of the others)."""
    parts = list(header)
    if (OUT / "summary.md").exists():
        parts += [(OUT / "summary.md").read_text(encoding="utf-8").rstrip("\n"), ""]
    for name in order:
        sec = OUT / name / "section.md"
        if sec.exists():
            parts += [sec.read_text(encoding="utf-8").rstrip("\n"), ""]
    (OUT / "README.md").write_text("\n".join(parts) + "\n", encoding="utf-8")


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
