"""End-to-end benchmark of the truncated diffusion method on ht2d / ht10d, and the sigma_T trade-off (issue 4).

What it measures, per benchmark and per seed (the seed draws the training set and seeds every model):

* main: the method (``"truncated"``, default prior, sigma_T = "auto", Heun 10 steps = 19 NFE); the oracle
  start and the Gaussian start at the same sigma_T run through the SAME trained denoiser (starts drawn here:
  ``preprocessor_.transform(true draws) + sigma_T eps`` and ``sigma_T eps``); full EDM (sigma_max 80, one
  trained denoiser) at 20 and 40 Heun steps (39 and 79 NFE); and a "reference" row: fresh benchmark draws of
  the generated size, i.e. the floor of every metric at that sample size.
* sweep: sigma_T in {auto, fixed grid}: the method (EVT-copula prior refitted at each sigma_T) and the oracle
  start, all through ONE shared denoiser trained up to the largest sigma_T of the grid (a denoiser trained on
  [0.002, s_max] is valid at every start level below s_max; only the weight of the training noise levels
  differs), so rows differ only by sigma_T and the start.

Metrics (reference: 1e6 fresh benchmark draws; exact marginal quantiles from ``marginal_quantile``):

* ``w2_slog``: max-sliced W2 in signed-log space slog(x) = sign(x) log1p|x|, against a 5e4-row subset of the
  reference (the floor row uses the same subset).
* ``w2_bulk``: max-sliced W2 in natural space after clipping every coordinate of both samples to the
  reference's [0.01, 0.99] marginal quantiles (the bulk, without the extremes that dominate raw W2).
* ``qm99``/``qm999``: worst |relative error| over marginals AND both tails (q and 1 - q) of the generated
  marginal quantile vs the exact one; ``qm999_mean``: the mean over those.
* ``qd99``/``qd999``: worst-direction relative quantile error (direction searched against a 5e4 reference
  subset with :func:`worst_direction_quantile_error`, 128 random directions + axes + 40 refinements, then the
  error recomputed against the full 1e6 reference along that direction). A max over directions: its floor
  (reference row) is well above 0.
* ``alpha``: Hill tail index alpha = 1/xi, mean over the 2 d marginal tails (upper tail of x_j and of -x_j),
  k = 1% of the generated rows; the truth is alpha = 3 (xi = 1/3) and the reference row gives the
  finite-sample value at the same n and k. ``alpha_min``, ``alpha_max`` over the tails.
* memorisation (raw scale, Euclidean, :func:`~heavytail_diffusion.diagnostics.nearest_distances` to the training rows): ``mem_ratio`` =
  median distance of generated rows to their nearest training row / the same for fresh held-out rows (same
  count); ``mem_frac01`` = fraction of generated rows closer to a training row than the held-out rows' 1%
  distance quantile (0.01 for a generator that does not copy).

Costs: fit times (denoiser, sigma_T selection, prior), sampling seconds (per 1e5 rows and per NFE, scaled from
the measured run), peak RSS, machine load (``os.getloadavg``). Torch uses 1 thread.

Usage::

    python analyses/bench_method.py --quick                  # both benchmarks, 2 seeds, < 15 min
    python analyses/bench_method.py --quick --bench ht2d --seeds 0 1 --no-report   # one part (parallel runs)
    python analyses/bench_method.py --report-only --quick    # merge the part CSVs into the .csv/.md
    python analyses/bench_method.py                          # full mode (see FULL below for the run time)
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diagnostics.distances import max_sliced_wasserstein, nearest_distances
from heavytail_diffusion.diagnostics.quantiles import worst_direction_quantile_error
from heavytail_diffusion.diagnostics.tail_index import hill
from heavytail_diffusion.diffusion import sample as reverse_sample
from heavytail_diffusion.diffusion import train_denoiser
from heavytail_diffusion.models import make_model
from heavytail_diffusion.priors import DEFAULT_PRIOR, make_prior

__all__ = ["evaluate", "main"]

RESULTS = Path(__file__).resolve().parent / "results"
GRIDS = {"ht2d": [0.3, 0.7, 1.24], "ht10d": [0.5, 1.0, 2.3]}
QUICK = {"n_train": 10_000, "n_gen": 10_000, "train_steps": 600, "seeds": [0, 1], "n_ref": 1_000_000}
FULL = {"n_train": 10_000, "n_gen": 50_000, "train_steps": 4000, "seeds": [0, 1, 2], "n_ref": 1_000_000}
# Expected run time of FULL on the loaded 2-core machine: about 25 min per (benchmark, seed) (three denoisers
# of 4000 steps at ~0.08 s/step, ~1,100 NFE x 5e4 rows of sampling), i.e. about 2.5 h sequentially.
N_SUB = 50_000  # reference subset for W2 and the worst-direction search
HELD_SEED_OFFSET = 7_919


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def marginal_999_errors(G: np.ndarray, ctx: Context) -> np.ndarray:
    """|relative error| of the 0.001 and 0.999 marginal quantiles of ``G`` against ``ctx``'s truth, shape (2 d,)."""
    qlo, qhi = ctx.qs[0.999]
    glo, ghi = np.quantile(G, 0.001, axis=0), np.quantile(G, 0.999, axis=0)
    return np.abs(np.concatenate([(glo - qlo) / np.abs(qlo), (ghi - qhi) / np.abs(qhi)]))


def flop_floor(model, n_rows: int) -> tuple[int, float, float]:
    """(network weights, FLOPs of drawing ``n_rows`` rows at the model's NFE, this core's float32 matmul
    FLOP/s): one multiply-add per weight per row per evaluation; the peak from five 2048^2 matmuls."""
    n_par = sum(p.numel() for p in model.denoiser_.net.parameters())
    flops = 2.0 * n_par * n_rows * model.nfe
    a = torch.randn(2048, 2048)
    t = time.perf_counter()
    for _ in range(5):
        a @ a
    return n_par, flops, 5 * 2 * 2048**3 / (time.perf_counter() - t)


def sampling_cost(model, n_rows: int = 100_000) -> str:
    """A sentence: wall seconds of ``model.sample(n_rows)`` after a warm-up, the network's FLOP floor and the
    ratio, and the process's peak RSS (meaningful in a fresh process)."""
    model.sample(1000, seed=0)  # warm-up
    t = time.perf_counter()
    model.sample(n_rows, seed=1)
    dt = time.perf_counter() - t
    n_par, flops, peak = flop_floor(model, n_rows)
    return (f"sampling {n_rows:,} rows at {model.nfe} NFE {dt:.1f} s; network {n_par:,} weights, "
            f"{flops / 1e9:.0f} GFLOP for the draw; this core's float32 matmul peak {peak / 1e9:.0f} GFLOP/s, floor "
            f"{flops / peak:.1f} s, ratio {dt / (flops / peak):.1f}x. Peak RSS of the process: "
            f"{_rss_mb():.0f} MB.")  # fmt: skip


def _finite_rows(Y: np.ndarray) -> tuple[np.ndarray, int]:
    ok = np.isfinite(Y).all(axis=1)
    return Y[ok], int((~ok).sum())


class Context:
    """Reference samples and precomputed quantities of one (benchmark, training set)."""

    def __init__(self, bench, X_train: np.ndarray, n_gen: int, n_ref: int, seed: int):
        self.bench = get_benchmark(bench) if isinstance(bench, str) else bench  # a name or a Benchmark
        self.d = self.bench.dim if hasattr(self.bench, "dim") else X_train.shape[1]
        self.R = self.bench.sample(n_ref, seed=10_000 + seed)
        rng = np.random.default_rng(20_000 + seed)
        self.R_sub = self.R[rng.choice(n_ref, N_SUB, replace=False)]
        self.lo = self.bench.marginal_quantile(0.01)
        self.hi = self.bench.marginal_quantile(0.99)
        self.qs = {lev: (self.bench.marginal_quantile(1 - lev), self.bench.marginal_quantile(lev))
                   for lev in (0.99, 0.999)}  # fmt: skip
        self.X_train = X_train
        held = self.bench.sample(n_gen, seed=HELD_SEED_OFFSET + seed)
        self.d_held = nearest_distances(held, X_train)
        self.med_held = float(np.median(self.d_held))
        self.q01_held = float(np.quantile(self.d_held, 0.01))


def _msw(X: np.ndarray, Y: np.ndarray, seed: int, space: str = "natural") -> float:
    """Max-sliced W2; above 16 dimensions the final ascent stops after 20 iterations (each costs O(n d^2): at
    d = 100 the default 100 took 15 s per call and moved the value by 0.2% over the first 10)."""
    max_iter = 100 if X.shape[1] <= 16 else 20
    return float(max_sliced_wasserstein(X, Y, space=space, seed=seed, max_iter=max_iter))


def evaluate(G: np.ndarray, ctx: Context, seed: int) -> dict:
    """All metrics of one generated sample ``G`` (m, d) against the reference of ``ctx``."""
    out: dict[str, float] = {}
    out["w2_slog"] = _msw(ctx.R_sub, G, seed, space="slog")
    out["w2_bulk"] = _msw(np.clip(ctx.R_sub, ctx.lo, ctx.hi), np.clip(G, ctx.lo, ctx.hi), seed)
    for lev, tag in ((0.99, "99"), (0.999, "999")):
        qlo, qhi = ctx.qs[lev]
        glo, ghi = np.quantile(G, 1 - lev, axis=0), np.quantile(G, lev, axis=0)
        rel = np.abs(np.concatenate([(glo - qlo) / np.abs(qlo), (ghi - qhi) / np.abs(qhi)]))
        out[f"qm{tag}"] = float(rel.max())
        out[f"qm{tag}_mean"] = float(rel.mean())
        wd = worst_direction_quantile_error(ctx.R_sub, G, q=lev, n_directions=128, n_refine=40, seed=seed)
        real = float(np.quantile(ctx.R @ wd.direction, lev))
        out[f"qd{tag}"] = abs(wd.generated - real) / abs(real)
    k = max(10, G.shape[0] // 100)
    alphas = []
    for j in range(G.shape[1]):
        for sgn in (1.0, -1.0):
            xi = hill(sgn * G[:, j], k=k, ci=None).value
            alphas.append(1.0 / xi if xi > 0 else np.inf)
    alphas = np.asarray(alphas)
    out["alpha"] = float(np.mean(alphas))
    out["alpha_min"], out["alpha_max"] = float(alphas.min()), float(alphas.max())
    dg = nearest_distances(G, ctx.X_train)
    out["mem_ratio"] = float(np.median(dg) / ctx.med_held)
    out["mem_frac01"] = float(np.mean(dg < ctx.q01_held))
    return out


def run_one(bench_name: str, seed: int, cfg: dict, log, part: Path | None = None) -> list[dict]:
    """Everything for one benchmark and one seed; returns tidy rows (also written to ``part`` after each row,
    so an interrupted run keeps what it measured)."""
    torch.manual_seed(seed)
    bench = get_benchmark(bench_name)
    n_gen, steps_train = cfg["n_gen"], cfg["train_steps"]
    X = bench.sample(cfg["n_train"], seed=seed)
    t0 = time.perf_counter()
    ctx = Context(bench_name, X, n_gen, cfg["n_ref"], seed)
    log(
        f"[{bench_name} s{seed}] reference {cfg['n_ref']:.0e} + held-out ready in {time.perf_counter() - t0:.1f} s"
    )
    rows: list[dict] = []
    base = {
        "bench": bench_name,
        "seed": seed,
        "n_train": cfg["n_train"],
        "n_gen": n_gen,
        "train_steps": steps_train,
    }

    def record(section, model, rule, sigma_T, nfe, G, sample_s, extra=None):
        G, n_bad = _finite_rows(G)
        t = time.perf_counter()
        met = evaluate(G, ctx, seed)
        rec = dict(base, section=section, model=model, sigma_T_rule=rule, sigma_T=sigma_T, nfe=nfe,
                   sample_s=sample_s, n_nonfinite=n_bad, **met, **(extra or {}))  # fmt: skip
        rows.append(rec)
        if part is not None:
            pd.DataFrame(rows).assign(
                peak_rss_mb=_rss_mb(), load1=os.getloadavg()[0], part_seconds=np.nan
            ).to_csv(part, index=False)
        log(f"[{bench_name} s{seed}] {section:5s} {model:15s} {rule:5s} sT={sigma_T:.3g} nfe={nfe} "
            f"sample {sample_s:.1f}s eval {time.perf_counter() - t:.1f}s | w2slog {met['w2_slog']:.3f} "
            f"qm999 {met['qm999']:.3f} qd999 {met['qd999']:.3f} alpha {met['alpha']:.2f} "
            f"mem {met['mem_ratio']:.2f}/{met['mem_frac01']:.3f} load {os.getloadavg()[0]:.1f}")  # fmt: skip

    # floor: fresh reference draws of the generated size
    record("main", "reference", "-", np.nan, 0, bench.sample(n_gen, seed=30_000 + seed), 0.0)
    # what the n_train training rows themselves show (their own joint-tail sampling error; not a generator)
    record("main", "training rows", "-", np.nan, 0, X, 0.0)

    # the method, sigma_T auto
    common = {"train_steps": steps_train, "progress": False, "seed": seed}
    t = time.perf_counter()
    m = make_model("truncated", **common).fit(X)
    fit_s = time.perf_counter() - t
    s_auto = float(m.sigma_T_)
    Z = m.preprocessor_.transform(X)
    t = time.perf_counter()
    make_prior(DEFAULT_PRIOR).fit(Z, s_auto, seed=seed)
    prior_s = time.perf_counter() - t
    t = time.perf_counter()
    from heavytail_diffusion.diffusion import select_sigma_T

    select_sigma_T(Z, seed=seed)
    select_s = time.perf_counter() - t
    cost = {"fit_total_s": fit_s, "prior_fit_s": prior_s, "select_sigma_T_s": select_s,
                "denoiser_fit_s": fit_s - prior_s - select_s, "train_steps_done": int(m.history_["step"].max()),
                "val_loss": float(m.history_["val_loss"].iloc[-1])}  # fmt: skip
    log(f"[{bench_name} s{seed}] truncated fit {fit_s:.1f}s (prior {prior_s:.2f}s, sigma_T select {select_s:.1f}s)"
        f" sigma_T auto = {s_auto:.3f}")  # fmt: skip
    t = time.perf_counter()
    G = m.sample(n_gen, seed=seed)
    record("main", "method", "auto", s_auto, m.nfe, G, time.perf_counter() - t, cost)

    def through(den, starts, s, steps=10):
        t = time.perf_counter()
        Y, nfe = reverse_sample(den, starts, s, steps=steps, device="cpu")
        with np.errstate(over="ignore", invalid="ignore"):
            G = m.preprocessor_.inverse_transform(Y)
        return G, nfe, time.perf_counter() - t

    rng = np.random.default_rng(40_000 + seed)
    oracle_Z = lambda n, s: (
        m.preprocessor_.transform(bench.sample(n, seed=int(rng.integers(2**31))))
        + s * rng.standard_normal((n, ctx.R.shape[1]))
    )
    G, nfe, ts = through(m.denoiser_, oracle_Z(n_gen, s_auto), s_auto)
    record("main", "oracle-start", "auto", s_auto, nfe, G, ts)
    G, nfe, ts = through(m.denoiser_, s_auto * rng.standard_normal((n_gen, ctx.R.shape[1])), s_auto)
    record("main", "gaussian-start", "auto", s_auto, nfe, G, ts)

    # full EDM, one denoiser, two step counts
    t = time.perf_counter()
    edm = make_model("edm", **common).fit(X)
    edm_fit = time.perf_counter() - t
    for st in (20, 40):
        t = time.perf_counter()
        G = edm.sample(n_gen, seed=seed, steps=st)
        record("main", f"edm-{2 * st - 1}", "-", 80.0, 2 * st - 1, G, time.perf_counter() - t,
               {"fit_total_s": edm_fit, "denoiser_fit_s": edm_fit, "val_loss": float(edm.history_["val_loss"].iloc[-1])})  # fmt: skip

    # sigma_T sweep through one shared denoiser trained up to the largest level
    grid = GRIDS[bench_name]
    s_max = max(grid + [s_auto])
    t = time.perf_counter()
    den, hist = train_denoiser(
        Z, s_max, steps=steps_train, lr=m.lr, batch_size=m.batch_size, seed=seed, progress=False
    )
    sh_fit = time.perf_counter() - t
    log(f"[{bench_name} s{seed}] shared denoiser (sigma_max {s_max:g}) fit {sh_fit:.1f}s")
    for rule, s in [("auto", s_auto)] + [("fixed", v) for v in grid]:
        prior = make_prior(DEFAULT_PRIOR).fit(Z, s, seed=seed)
        G, nfe, ts = through(den, prior.sample(n_gen, seed=seed), s)
        record(
            "sweep",
            "method",
            rule,
            s,
            nfe,
            G,
            ts,
            {"denoiser_fit_s": sh_fit, "val_loss": float(hist["val_loss"].iloc[-1])},
        )
        G, nfe, ts = through(den, oracle_Z(n_gen, s), s)
        record("sweep", "oracle-start", rule, s, nfe, G, ts)
    for r in rows:
        r["peak_rss_mb"] = _rss_mb()
        r["load1"] = os.getloadavg()[0]
    return rows


# ---------------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------------
MAIN_COLS = ["sigma_T", "nfe", "w2_slog", "w2_bulk", "qm99", "qm999", "qm999_mean", "qd99", "qd999", "alpha",
             "mem_ratio", "mem_frac01"]  # fmt: skip
MODEL_ORDER = ["reference", "training rows", "method", "oracle-start", "gaussian-start", "edm-39", "edm-79"]


def _fmt(mean: float, sd: float, n: int) -> str:
    if not np.isfinite(mean):
        return "nan"
    if float(mean).is_integer() and (not np.isfinite(sd) or sd == 0):
        return f"{int(mean)}"
    digits = 2 if abs(mean) >= 10 else 3
    return f"{mean:.{digits}f}" if n < 2 or not np.isfinite(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _table(df: pd.DataFrame, keys: list[str], cols: list[str]) -> str:
    g = df.groupby(keys, sort=False)
    lines = ["| " + " | ".join(keys + ["seeds"] + cols) + " |", "|" + "---|" * (len(keys) + 1 + len(cols))]
    for key, sub in g:
        key = key if isinstance(key, tuple) else (key,)
        cells = [str(k) for k in key] + [str(len(sub))]
        for c in cols:
            v = sub[c].astype(float)
            cells.append(_fmt(v.mean(), v.std(ddof=1) if len(v) > 1 else np.nan, len(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _goals(main: pd.DataFrame) -> str:
    """The issue's goals, checked seed by seed on the main rows (text lines)."""
    lines = ["Goals (issue 4), per seed:", ""]
    for seed, g in main.groupby("seed"):
        r = g.assign(model=g["model"].astype(str)).set_index("model")
        if not {"method", "oracle-start", "edm-79", "reference"} <= set(r.index):
            continue
        m, o, e, ref = r.loc["method"], r.loc["oracle-start"], r.loc["edm-79"], r.loc["reference"]
        for metric, label in (("qm999", "worst-marginal 0.999 error"), ("qm999_mean", "mean marginal 0.999 error"),
                              ("qd999", "worst-direction 0.999 error")):  # fmt: skip
            ok1 = m[metric] <= 1.5 * o[metric]
            ok2 = m[metric] < e[metric]
            lines.append(f"- seed {seed}, {label}: method {m[metric]:.3f} vs 1.5 x oracle {1.5 * o[metric]:.3f} "
                         f"({'met' if ok1 else 'MISSED'}); vs EDM-79 {e[metric]:.3f} ({'met' if ok2 else 'MISSED'})")  # fmt: skip
        da, dt = abs(m["alpha"] - ref["alpha"]), abs(m["alpha"] - 3.0)
        lines.append(f"- seed {seed}, Hill alpha: method {m['alpha']:.2f}, reference at the same n and k "
                     f"{ref['alpha']:.2f} (|diff| {da:.2f}, {'met' if da <= 0.5 else 'MISSED'}), truth 3 "
                     f"(|diff| {dt:.2f})")  # fmt: skip
    return "\n".join(lines)


def report(df: pd.DataFrame, cfg: dict, mode: str, command: str, elapsed: str) -> str:
    df = df.copy()
    df["model"] = pd.Categorical(df["model"], MODEL_ORDER, ordered=True)
    out = [f"# End-to-end benchmark of the method (issue 4) - {mode} mode", ""]
    out += [f"Command: `{command}`", "",
            (f"Machine: {platform.platform()}, torch {torch.__version__}, 1 torch thread per process, "
            f"{os.cpu_count()} cores shared with other jobs; load average (1 min) during the runs: "
            f"{df['load1'].min():.1f}-{df['load1'].max():.1f}. {elapsed}"), "",
            (f"Settings: train n = {cfg['n_train']}, generated n = {cfg['n_gen']} per model, reference "
            f"{cfg['n_ref']:.0e} fresh draws (exact marginal quantiles), denoiser training steps "
            f"{cfg['train_steps']} (quick mode trains 600 steps instead of the default 4000; "
            "its numbers understate what full training gives), Heun sampler, seeds: "
            f"{sorted(df['seed'].unique().tolist())}. Cells are mean ± sd over seeds."), "",
            ("Metric definitions: see the module docstring of `analyses/bench_method.py` (w2_slog: max-sliced W2 "
            "in signed-log space; w2_bulk: max-sliced W2 after clipping every coordinate to the reference's "
            "[0.01, 0.99] quantiles; qm99/qm999: worst |rel. error| over marginals and both tails; qm999_mean: "
            "mean over them; qd: worst-direction rel. error; alpha: Hill alpha = 1/xi at k = 1% of n, mean over "
            "the 2d marginal tails, truth 3; mem_ratio: median NN distance to the training set, generated / "
            "held-out; mem_frac01: fraction of generated rows nearer than the held-out 1% NN distance, 0.01 = "
            "no copying). The `reference` row (fresh true draws of the generated size) is the floor of every "
            "metric. 0.9999 quantiles are not reported (fewer than 1e6 generated rows)."), ""]  # fmt: skip
    for b in [x for x in ("ht2d", "ht10d") if x in set(df["bench"])]:
        sub = df[df["bench"] == b]
        main = sub[sub["section"] == "main"].sort_values("model")
        out += [f"## {b}: main comparison (method and starts share one denoiser; EDM its own)", "",
                _table(main, ["model"], MAIN_COLS), ""]  # fmt: skip
        sw = sub[sub["section"] == "sweep"].copy()
        if len(sw):
            sw["sT"] = np.where(sw["sigma_T_rule"] == "auto", "auto", sw["sigma_T"].map(lambda v: f"{v:g}"))
            sw["sT"] = pd.Categorical(sw["sT"], ["auto"] + [f"{v:g}" for v in GRIDS[b]], ordered=True)
            sw = sw.sort_values(["model", "sT"])
            out += [(f"## {b}: sigma_T trade-off (one shared denoiser trained up to the largest sigma_T; "
                    "auto row: its sigma_T column is the selected value)"), "",
                    _table(sw, ["model", "sT"], MAIN_COLS), ""]  # fmt: skip
        out += _goals(main), ""
        cost = sub[(sub["section"] == "main") & sub["model"].isin(["method", "edm-39", "edm-79", "oracle-start",
                                                                    "gaussian-start"])].copy()  # fmt: skip
        cost["sample_s_per_1e5"] = cost["sample_s"] * 1e5 / cost["n_gen"]
        cost["sample_s_per_1e5_per_nfe"] = cost["sample_s_per_1e5"] / cost["nfe"]
        cost = cost.sort_values("model")
        ccols = ["nfe", "fit_total_s", "denoiser_fit_s", "prior_fit_s", "select_sigma_T_s", "sample_s_per_1e5",
                 "sample_s_per_1e5_per_nfe", "val_loss", "peak_rss_mb", "load1"]  # fmt: skip
        out += [
            (
                f"## {b}: costs (2 shared cores, 1 torch thread; seconds; sampling scaled from {cfg['n_gen']} rows "
                "to 1e5; peak_rss_mb is the process peak so far)"
            ),
            "",
            _table(cost, ["model"], ccols),
            "",
        ]
    return "\n".join(out)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--bench", nargs="+", default=["ht2d", "ht10d"])
    p.add_argument("--seeds", nargs="+", type=int, default=None)
    p.add_argument(
        "--parts", default=None, help="folder of per-(bench, seed) CSVs (default /tmp/bench_method_<mode>)"
    )
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--label", default="", help="extra text for the report title line (e.g. 'partial')")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = dict(QUICK if a.quick else FULL)
    mode = "quick" if a.quick else "full"
    parts = Path(a.parts or f"/tmp/bench_method_{mode}")
    parts.mkdir(parents=True, exist_ok=True)
    log = lambda s: print(s, flush=True)
    time.perf_counter()
    if not a.report_only:
        for b in a.bench:
            for s in a.seeds if a.seeds is not None else cfg["seeds"]:
                t = time.perf_counter()
                rows = run_one(b, s, cfg, log, parts / f"{b}_seed{s}.csv")
                pd.DataFrame(rows).assign(part_seconds=time.perf_counter() - t).to_csv(
                    parts / f"{b}_seed{s}.csv", index=False
                )
                log(f"[{b} s{s}] done in {time.perf_counter() - t:.0f} s")
    if a.no_report:
        return
    files = sorted(glob.glob(str(parts / "*.csv")))
    if not files:
        sys.exit(f"no part CSVs in {parts}")
    new = pd.concat([pd.read_csv(f) for f in files], ignore_index=True).assign(mode=mode)
    csv = RESULTS / "bench_method.csv"
    old = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    if len(old):
        old = old[old["mode"] != mode]
    df = pd.concat([old, new], ignore_index=True)
    df.to_csv(csv, index=False)
    labels = dict(df[["mode", "label"]].drop_duplicates("mode").values) if "label" in df else {}
    labels[mode] = a.label
    df["label"] = df["mode"].map(labels).fillna("")
    df.to_csv(csv, index=False)
    mds = []
    for md_mode in [m for m in ("full", "quick") if m in set(df["mode"])]:
        sub = df[df["mode"] == md_mode]
        mcfg = dict(QUICK if md_mode == "quick" else FULL)
        per_part = sub.groupby(["bench", "seed"])["part_seconds"].first()
        elapsed = (f"Wall time per (benchmark, seed) part: {per_part.min():.0f}-{per_part.max():.0f} s "
                   f"(parts run in up to 2 parallel processes).")  # fmt: skip
        cmd = "python analyses/bench_method.py" + (" --quick" if md_mode == "quick" else "")
        lab = str(sub["label"].iloc[0])
        mds.append(report(sub, mcfg, md_mode + (f" ({lab})" if lab and lab != "nan" else ""), cmd, elapsed))
    md = "\n\n".join(mds)
    (RESULTS / "bench_method.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
