"""Reproduce and extend the paper's benchmarks (issue 6): quality versus cost on ht2d, ht10d, gmm2d and the HT
construction at d = 50 and 100, with ablations.

For every (benchmark, seed) "part" the seed draws the training set (n_train rows) and seeds every model, and
every generated sample is scored against fresh draws of the TRUE law (:func:`bench_method.evaluate`):

* ``models``: the method (``"truncated"``: EVT-copula prior, sigma_T "auto", Heun 10 levels = 19 NFE) and,
  through the SAME trained denoiser, the oracle start (fresh true rows + sigma_T noise), the Gaussian start
  N(0, sigma_T^2 I) and the empirical start (training rows + sigma_T noise); full EDM from sigma = 80 (Heun 40
  levels, 79 NFE); t-EDM (Student-t noise, nu = 5, 79 NFE); the flow baseline (GPD-tailed margins + spline
  flow on clean rows, 1 pass); the EVT-copula baseline (Student-t copula, no diffusion); and a
  ``reference`` row: fresh benchmark draws of the generated size, i.e. the floor of every metric.
* ``nfe``: quality versus cost: the method with Heun 3, 5, 10, 20 levels (5, 9, 19, 39 NFE) and DDPM
  ancestral 10, 20, 40 steps (10, 20, 40 NFE), both from the same prior and denoiser, against EDM with Heun
  5, 10, 20, 40 levels (9, 19, 39, 79 NFE) from one EDM denoiser.
* ``sigma_T``: the automatic sigma_T against half and double it: the method (prior refitted at each level)
  and the oracle start, through ONE denoiser trained up to 2 x auto, with memorisation next to quality.
* ``prior`` (the ``prior_ablation`` benchmarks: first seed, or every seed for ``prior_ablation_every_seed``;
  for d > 10 the three EVT copulas only, every seed): every prior family through the method's
  denoiser at the automatic sigma_T: EVT copulas (empirical / Gaussian / t), the EVT-marginal flow, the
  paper's Student-t-base flow with df 3 or learned df, a Gaussian-base flow, the Student-t flow fitted on
  ONE fixed noised copy instead of fresh noise per minibatch, training rows + noise, N(0, sigma_T^2 I).

Metrics (see ``analyses/bench_method.py``): ``w2_slog`` (max-sliced W2 in signed-log space), ``w2_bulk``
(after clipping to the reference's [0.01, 0.99] marginal quantiles), ``w2_raw`` (natural space, the paper's
metric; dominated by a few extremes at df = 3), ``energy`` (energy distance), ``qm99``/``qm999`` (worst
relative marginal quantile error over columns and both tails, exact quantiles), ``qd99``/``qd999``
(worst-direction), ``alpha`` (Hill, k = 1% of the rows; the ``reference`` row gives its finite-sample value),
``mem_ratio``/``mem_frac01`` (nearest-training-row distances against held-out rows'), ``nfe``, ``fit_s``,
``sample_s``. 0.9999 quantiles are not reported: at the generated sizes used here (<= 2e4) their floor alone
is 0.1-0.3, and 1e6 samples at 79 NFE do not fit the CPU budget.

Usage::

    python analyses/benchmark_paper.py --quick     # ht2d + ht10d, 1 seed, small budgets: 2.5 min on 2 cores
    python analyses/benchmark_paper.py             # full: all benchmarks and seeds, 104 CPU-min (55-60 min, 2 jobs)
    python analyses/benchmark_paper.py --report-only [--quick]   # rebuild tables/figures from the part CSVs

Both write ``analyses/results/benchmark_paper/<mode>/`` (``parts/*.csv``, ``results.csv``, ``report.md``,
``nfe_<bench>.png``) and refresh the generated block of ``analyses/RESULTS.md`` (the full mode's when it
exists). Parts are tasks of :func:`heavytail_diffusion.execution.run_tasks`: ``--jobs`` local Dask worker
processes (default 2; 1 runs them in this process), or an existing cluster with ``--scheduler tcp://host:port``;
one torch thread each. Finished parts are cached in ``<mode>/cache/``, so an interrupted run resumes (delete
the folder to recompute). ``heavytail benchmark run CONFIG`` runs the same cells from a TOML/JSON sweep file.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_method import Context, _finite_rows, _fmt, _msw, _rss_mb, _table, evaluate

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diagnostics.distances import energy_distance
from heavytail_diffusion.diffusion import nfe_for, train_denoiser
from heavytail_diffusion.diffusion import sample as reverse_sample
from heavytail_diffusion.execution import run_tasks
from heavytail_diffusion.models import make_model
from heavytail_diffusion.priors import make_prior

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "benchmark_paper"
RESULTS_MD = HERE / "RESULTS.md"
BEGIN, END = "<!-- BEGIN GENERATED: benchmark_paper.py -->", "<!-- END GENERATED: benchmark_paper.py -->"

#: benchmark key -> (registry name, parameters)
BENCHES = {
    "ht2d": ("ht2d", {}),
    "ht10d": ("ht10d", {}),
    "gmm2d": ("gmm2d", {}),
    "ht50d": ("ht", {"dim": 50}),
    "ht100d": ("ht", {"dim": 100}),
}
QUICK = {
    "benches": {"ht2d": [0], "ht10d": [0]},
    "prior_ablation": ["ht2d"],
    "n_train": 5_000,
    "n_gen": 5_000,
    "n_ref": {"low": 200_000, "high": 100_000},
    "train_steps": 300,
    "flow_steps": 100,
}
FULL = {  # d = 50 and 100: one seed each (an evaluation row costs ~30 s at d = 100 on one core)
    "benches": {"ht100d": [0], "ht50d": [0], "ht10d": [0, 1, 2], "ht2d": [0, 1, 2], "gmm2d": [0, 1, 2]},
    "prior_ablation": ["ht2d", "ht10d"],
    "prior_ablation_every_seed": ["ht10d"],  # the joint-tail question (empirical copula vs smooth priors)
    "n_train": 10_000,
    "n_gen": 20_000,
    "n_ref": {"low": 1_000_000, "high": 200_000},  # d <= 10 / d >= 50 (memory and evaluation time)
    "train_steps": 2_000,
    "flow_steps": 500,
}
HEUN_LEVELS = (3, 5, 10, 20)  # NFE 5, 9, 19, 39
DDPM_STEPS = (10, 20, 40)
EDM_LEVELS = (5, 10, 20, 40)  # NFE 9, 19, 39, 79
PRIORS = {  # label -> (registry name, parameters; "FS" is replaced by the flow steps)
    "evt-copula (default)": ("evt-copula", {}),
    "evt-gaussian-copula": ("evt-gaussian-copula", {}),
    "evt-t-copula": ("evt-t-copula", {}),
    "flow-evt": ("flow-evt", {"steps": "FS"}),
    "flow-t df 3": ("flow-t", {"steps": "FS"}),
    "flow-t learned df": ("flow-t", {"steps": "FS", "df": None}),
    "flow gaussian base": ("flow-t", {"steps": "FS", "base": "normal"}),
    "flow-t df 3, fixed noise": ("flow-t", {"steps": "FS", "fresh_noise": False}),
    "empirical (rows + noise)": ("empirical", {}),
    "gaussian": ("gaussian", {}),
}


def _bench(key: str):
    name, params = BENCHES[key]
    b = get_benchmark(name, **params)
    b.key = key
    return b


def _extra_metrics(G: np.ndarray, ctx: Context, seed: int) -> dict:
    return {
        "w2_raw": _msw(ctx.R_sub, G, seed),
        "energy": float(energy_distance(ctx.R_sub, G, seed=seed)),
    }


def cell(task: dict) -> list[dict]:
    """One sweep cell as a pure function (for :func:`heavytail_diffusion.execution.run_tasks`): every section
    of ``run_part`` for ``task = {"bench": key, "seed": seed, "cfg": settings}``, with the part's wall time
    (``part_seconds``), the process's peak RSS so far and the load average on every row. Everything random
    is seeded by the task, so the rows do not depend on where or after what the cell runs."""
    t = time.perf_counter()
    rows = run_part(task["bench"], int(task["seed"]), task["cfg"])
    extra = {"peak_rss_mb": _rss_mb(), "load1": os.getloadavg()[0], "part_seconds": time.perf_counter() - t}
    return [dict(r, **extra) for r in rows]


def run_part(key: str, seed: int, cfg: dict, log=None, part: Path | None = None) -> list[dict]:
    """Every section for one benchmark and one seed; tidy rows, rewritten to ``part`` after each row (when
    given); ``log(str)`` gets one line per row (default: none)."""
    log = log or (lambda _msg: None)
    torch.manual_seed(seed)
    bench = _bench(key)
    d = bench.dim
    n_gen, steps_train, fs = cfg["n_gen"], cfg["train_steps"], cfg["flow_steps"]
    n_ref = cfg["n_ref"]["low" if d <= 10 else "high"]
    X = bench.sample(cfg["n_train"], seed=seed)
    t0 = time.perf_counter()
    ctx = Context(bench, X, n_gen, n_ref, seed)
    log(f"[{key} s{seed}] reference {n_ref:.0e} + held-out ready in {time.perf_counter() - t0:.1f} s")
    rows: list[dict] = []
    base = {"bench": key, "dim": d, "seed": seed, "n_train": cfg["n_train"], "n_gen": n_gen,
            "n_ref": n_ref, "train_steps": steps_train}  # fmt: skip

    def record(section, model, G, *, nfe, sample_s, sigma_T=np.nan, rule="-", sampler="heun", **extra):
        G, n_bad = _finite_rows(G)
        t = time.perf_counter()
        met = {**evaluate(G, ctx, seed), **_extra_metrics(G, ctx, seed)}
        rows.append(dict(base, section=section, model=model, sampler=sampler, sigma_T_rule=rule,
                         sigma_T=sigma_T, nfe=nfe, sample_s=sample_s, n_nonfinite=n_bad, **met, **extra))  # fmt: skip
        if part is not None:
            pd.DataFrame(rows).assign(peak_rss_mb=_rss_mb(), load1=os.getloadavg()[0]).to_csv(
                part, index=False
            )
        log(f"[{key} s{seed}] {section:7s} {model:26s} {sampler:4s} sT={sigma_T:.3g} nfe={nfe:<3d} "
            f"sample {sample_s:5.1f}s eval {time.perf_counter() - t:4.1f}s | w2slog {met['w2_slog']:.3f} "
            f"qm999 {met['qm999']:.3f} qd999 {met['qd999']:.3f} alpha {met['alpha']:.2f} "
            f"mem {met['mem_ratio']:.2f}/{met['mem_frac01']:.3f}")  # fmt: skip

    def timed(fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        return out, time.perf_counter() - t

    record("models", "reference", bench.sample(n_gen, seed=30_000 + seed), nfe=0, sample_s=0.0)
    # the training rows scored like a generator: their own sampling error in the tails (a copy has mem 1)
    record("models", "training rows", X, nfe=0, sample_s=0.0)

    # ---- the method; its denoiser also serves the oracle / Gaussian / empirical starts and the ablations
    common = {"train_steps": steps_train, "progress": False, "seed": seed}
    m, fit_s = timed(lambda: make_model("truncated", **common).fit(X))
    s = float(m.sigma_T_)
    s_dip = float(m.sigma_T_selection_.sigma_T)
    Z = m.preprocessor_.transform(X)
    log(f"[{key} s{seed}] truncated fit {fit_s:.1f}s, sigma_T auto {s:.3f} (dip-test level {s_dip:.3f})")
    G, ts = timed(lambda: m.sample(n_gen, seed=seed))
    record("models", "truncated (method)", G, nfe=m.nfe, sample_s=ts, sigma_T=s, rule="auto",
           fit_s=fit_s, sigma_T_dip=s_dip)  # fmt: skip

    rng = np.random.default_rng(40_000 + seed)

    def through(den, starts, level, steps=10, sampler="heun"):
        t = time.perf_counter()
        Y, nfe = reverse_sample(den, starts, level, steps=steps, sampler=sampler,
                                seed=int(rng.integers(2**31)), device="cpu")  # fmt: skip
        with np.errstate(over="ignore", invalid="ignore"):
            G = m.preprocessor_.inverse_transform(Y)
        return G, nfe, time.perf_counter() - t

    def oracle(n, level):
        clean = m.preprocessor_.transform(bench.sample(n, seed=int(rng.integers(2**31))))
        return clean + level * rng.standard_normal((n, d))

    for name, starts in (
        ("oracle-start", lambda: oracle(n_gen, s)),
        ("gaussian-start", lambda: s * rng.standard_normal((n_gen, d))),
        ("empirical-start", lambda: make_prior("empirical").fit(Z, s, seed=seed).sample(n_gen, seed=seed)),
    ):
        G, nfe, ts = through(m.denoiser_, starts(), s)
        record("models", name, G, nfe=nfe, sample_s=ts, sigma_T=s, rule="auto")

    # ---- full-diffusion baselines and the no-diffusion ones
    edm, edm_fit = timed(lambda: make_model("edm", **common).fit(X))
    tedm, tedm_fit = timed(lambda: make_model("t-edm", nu=5.0, **common).fit(X))
    G, ts = timed(lambda: tedm.sample(n_gen, seed=seed, steps=40))
    record("models", "t-edm (nu 5)", G, nfe=nfe_for("heun", 40), sample_s=ts, sigma_T=80.0, fit_s=tedm_fit)
    flow, flow_fit = timed(lambda: make_model("flow", flow_steps=fs, progress=False, seed=seed).fit(X))
    G, ts = timed(lambda: flow.sample(n_gen, seed=seed))
    record("models", "flow", G, nfe=1, sample_s=ts, fit_s=flow_fit)
    evtc, evtc_fit = timed(lambda: make_model("evt-t-copula", seed=seed).fit(X))
    G, ts = timed(lambda: evtc.sample(n_gen, seed=seed))
    record("models", "evt-t-copula", G, nfe=0, sample_s=ts, fit_s=evtc_fit)

    # ---- quality versus cost
    for lv in EDM_LEVELS:
        G, ts = timed(edm.sample, n_gen, seed=seed, steps=lv)
        sec = "models" if lv == EDM_LEVELS[-1] else "nfe"
        record(sec, "edm", G, nfe=nfe_for("heun", lv), sample_s=ts, sigma_T=80.0, fit_s=edm_fit)
    for lv in HEUN_LEVELS:
        if lv == 10:
            continue  # the models section's row
        G, ts = timed(m.sample, n_gen, seed=seed, steps=lv)
        record("nfe", "truncated (method)", G, nfe=nfe_for("heun", lv), sample_s=ts, sigma_T=s, rule="auto")
    for st in DDPM_STEPS:
        G, ts = timed(m.sample, n_gen, seed=seed, steps=st, sampler="ddpm")
        record("nfe", "truncated (method)", G, nfe=nfe_for("ddpm", st), sample_s=ts, sigma_T=s, rule="auto",
               sampler="ddpm")  # fmt: skip

    # ---- sigma_T: auto vs half vs double, through one denoiser trained up to 2 x auto
    den2, sh_fit = timed(lambda: train_denoiser(Z, 2 * s, steps=steps_train, lr=m.lr, batch_size=m.batch_size,
                                                seed=seed, progress=False)[0])  # fmt: skip
    log(f"[{key} s{seed}] shared denoiser (sigma_max {2 * s:.3g}) fit {sh_fit:.1f}s")
    for rule, level in (("half", s / 2), ("auto", s), ("double", 2 * s)):
        prior = make_prior("evt-copula").fit(Z, level, seed=seed)
        G, nfe, ts = through(den2, prior.sample(n_gen, seed=seed), level)
        record("sigma_T", "truncated (method)", G, nfe=nfe, sample_s=ts, sigma_T=level, rule=rule)
        G, nfe, ts = through(den2, oracle(n_gen, level), level)
        record("sigma_T", "oracle-start", G, nfe=nfe, sample_s=ts, sigma_T=level, rule=rule)

    # ---- prior families, through the method's denoiser
    full_ablation = key in cfg["prior_ablation"] and (
        seed == min(cfg["benches"][key]) or key in cfg.get("prior_ablation_every_seed", ())
    )
    if full_ablation or d > 10:  # in high dimension: the three copulas only (is the empirical one a copy?)
        for label, (name, params) in PRIORS.items():
            if not full_ablation and not name.startswith("evt"):
                continue
            params = {k: (fs if v == "FS" else v) for k, v in params.items()}
            if name.startswith("flow"):
                params["progress"] = False
            prior, pfit = timed(make_prior(name, **params).fit, Z, s, seed=seed)
            G, nfe, ts = through(m.denoiser_, prior.sample(n_gen, seed=seed), s)
            record("prior", label, G, nfe=nfe, sample_s=ts, sigma_T=s, rule="auto", fit_s=pfit)
    return rows


def sweep_tasks(cfg: dict, benches=None, seeds=None) -> list[dict]:
    """The sweep's cells: one task per (benchmark, seed) of ``cfg["benches"]`` (optionally a subset of the
    benchmarks, or other seeds), each carrying the settings ``cfg``."""
    return [{"bench": k, "seed": int(s), "cfg": cfg} for k, ss in cfg["benches"].items()
            if not benches or k in benches for s in (seeds if seeds is not None else ss)]  # fmt: skip


def write_parts(tasks: list[dict], results: list[list[dict]], parts: Path) -> None:
    """One ``<bench>_seed<seed>.csv`` per finished cell in ``parts``."""
    parts.mkdir(parents=True, exist_ok=True)
    for task, rows in zip(tasks, results):
        pd.DataFrame(rows).to_csv(parts / f"{task['bench']}_seed{task['seed']}.csv", index=False)


# ---------------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------------
MODEL_ORDER = ["reference", "training rows", "truncated (method)", "oracle-start", "gaussian-start", "empirical-start", "edm",
               "t-edm (nu 5)", "flow", "evt-t-copula"]  # fmt: skip
COLS = ["sigma_T", "nfe", "w2_slog", "w2_bulk", "w2_raw", "energy_x1e3", "qm99", "qm999", "qd99", "qd999", "alpha",
        "mem_ratio", "mem_frac01", "fit_s", "sample_s"]  # fmt: skip


def _nfe_figure(df: pd.DataFrame, key: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    sub = df[(df["bench"] == key) & (df["section"].isin(["models", "nfe"]))]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    for ax, metric, label in zip(axes, ["qm999", "qd999", "w2_slog"],
                                 ["worst marginal 0.999-quantile rel. error", "worst-direction 0.999 rel. error",
                                  "max-sliced W2, signed-log space"]):  # fmt: skip
        lines = [("truncated (method)", "heun", "method, Heun", "C0", "o-"),
                 ("truncated (method)", "ddpm", "method, DDPM", "C0", "s--"),
                 ("edm", "heun", "EDM (sigma_max 80), Heun", "C3", "o-")]  # fmt: skip
        for model, sampler, name, color, style in lines:
            s = sub[(sub["model"] == model) & (sub["sampler"] == sampler)]
            g = s.groupby("nfe")[metric].agg(["mean", "std"]).reset_index().sort_values("nfe")
            if len(g):
                ax.errorbar(g["nfe"], g["mean"], yerr=g["std"].fillna(0), fmt=style, color=color, label=name,
                            capsize=3, ms=4)  # fmt: skip
        for model, color, marker in (("oracle-start", "C2", "*"), ("gaussian-start", "C7", "x")):
            v = sub[sub["model"] == model][metric]
            if len(v):
                ax.plot([19], [v.mean()], marker, color=color, ms=9, label=f"{model} (19 NFE)")
        ref = sub[sub["model"] == "reference"][metric]
        if len(ref):
            ax.axhline(ref.mean(), color="k", lw=0.8, ls=":", label="floor (fresh true draws)")
        tr = sub[sub["model"] == "training rows"][metric]
        if len(tr):
            ax.axhline(tr.mean(), color="C1", lw=0.8, ls="--", label="the training rows themselves")
        ax.set_xscale("log")
        ax.set_xticks([5, 10, 20, 40, 80])
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("NFE (network evaluations per sample)")
        ax.set_title(label, fontsize=9)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"{key}: quality versus cost (mean ± sd over seeds)", fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _headline(df: pd.DataFrame) -> list[str]:
    out = []
    for key in ("ht10d", "ht2d", "ht50d", "ht100d"):
        sub = df[(df["bench"] == key) & (df["section"] == "models")]
        meth, edm = (
            sub[sub["model"] == "truncated (method)"],
            sub[(sub["model"] == "edm") & (sub["nfe"] >= 79)],
        )
        if not (len(meth) and len(edm)):
            continue
        seeds = sorted(meth["seed"].unique().tolist())
        cells = []
        for metric in ("qm999", "qd999", "w2_slog", "w2_bulk"):
            a, b = meth[metric], edm[metric]
            wins = int(sum(meth.set_index("seed")[metric] < edm.set_index("seed")[metric]))
            cells.append(f"{metric} {_fmt(a.mean(), a.std(), len(a))} vs {_fmt(b.mean(), b.std(), len(b))} "
                         f"(method better on {wins}/{len(seeds)} seeds)")  # fmt: skip
        out.append(f"- **{key}**, method at {int(meth['nfe'].iloc[0])} NFE vs EDM at 79 NFE, seeds {seeds}: "
                   + "; ".join(cells) + ".")  # fmt: skip
    return out


def report(df: pd.DataFrame, cfg: dict, mode: str, outdir: Path) -> str:
    df = df.assign(energy_x1e3=1e3 * df["energy"])
    cmd = "python analyses/benchmark_paper.py" + (" --quick" if mode == "quick" else "")
    per_part = df.groupby(["bench", "seed"])["part_seconds"].first()
    o = [f"## Paper benchmarks - {mode} mode", "",
         (f"Produced by `{cmd}` (then `--report-only` to rebuild). Machine: {platform.platform()}, torch "
         f"{torch.__version__}, 1 torch thread per process, {os.cpu_count()} cores, parts in parallel processes; "
         f"wall time per (benchmark, seed) part {per_part.min():.0f}-{per_part.max():.0f} s, "
         f"{per_part.sum() / 60:.1f} CPU-min in all."), "",
         (f"Settings: train n = {cfg['n_train']}, generated n = {cfg['n_gen']} per row, reference "
         f"{cfg['n_ref']['low']:.0e} fresh true draws for d <= 10 and {cfg['n_ref']['high']:.0e} for d >= 50 "
         f"(exact marginal quantiles), {cfg['train_steps']} denoiser training steps for every diffusion "
         f"model (the package default is 4000 with early stopping), {cfg['flow_steps']} flow steps. "
         "Cells are mean ± sd over seeds (column `seeds`). Metric definitions: module docstring of "
         "`analyses/benchmark_paper.py`. The `reference` row is the floor: fresh true draws of the same size."),
         ""]  # fmt: skip
    o += ["### Headline: the method (<= 25 NFE) against full EDM (79 NFE)", ""] + _headline(df) + [""]
    models = df[df["section"] == "models"].copy()
    models["model"] = pd.Categorical(models["model"], MODEL_ORDER, ordered=True)
    for key in [k for k in BENCHES if k in set(df["bench"])]:
        sub = models[models["bench"] == key].sort_values("model")
        d = int(sub["dim"].iloc[0])
        dip = df[(df["bench"] == key) & df["sigma_T_dip"].notna()]["sigma_T_dip"]
        o += [f"### {key} (d = {d}): every generator", "",
              f"Dip-test sigma_T per seed: {', '.join(f'{v:.3g}' for v in dip)} (the model floors it at 0.5).", "",
              _table(sub, ["model"], COLS), "",
              f"![{key} quality versus NFE](results/benchmark_paper/{mode}/nfe_{key}.png)", ""]  # fmt: skip
    nfe = df[df["section"].isin(["models", "nfe"]) & df["model"].isin(["truncated (method)", "edm"])]
    o += ["### Quality versus cost (NFE)", "",
          _table(nfe.sort_values(["bench", "model", "sampler", "nfe"]), ["bench", "model", "sampler", "nfe"],
                 ["qm99", "qm999", "qd999", "w2_slog", "w2_bulk", "alpha", "sample_s"]), ""]  # fmt: skip
    sig = df[df["section"] == "sigma_T"]
    if len(sig):
        o += ["### Ablation: sigma_T (automatic vs half vs double; one denoiser trained up to 2 x auto)", "",
              _table(sig, ["bench", "sigma_T_rule", "model"],
                     ["sigma_T", "w2_slog", "w2_bulk", "qm999", "qd999", "alpha", "mem_ratio", "mem_frac01"]),
              ""]  # fmt: skip
    pri = df[df["section"] == "prior"]
    if len(pri):
        o += ["### Ablation: prior family at the automatic sigma_T (same denoiser, Heun 19 NFE)", "",
              _table(pri, ["bench", "model"],
                     ["sigma_T", "w2_slog", "w2_bulk", "qm99", "qm999", "qd999", "alpha", "mem_frac01", "fit_s"]),
              ""]  # fmt: skip
    return "\n".join(o)


def _write_results_md(block: str) -> None:
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    gen = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + gen + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + gen + "\n"
    RESULTS_MD.write_text(text)


def build_report(mode: str) -> None:
    cfg = QUICK if mode == "quick" else FULL
    outdir = OUT / mode
    files = sorted(glob.glob(str(outdir / "parts" / "*.csv")))
    if not files:
        sys.exit(f"no part CSVs in {outdir / 'parts'}: run the benchmark first")
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    df.to_csv(outdir / "results.csv", index=False)
    for key in set(df["bench"]):
        _nfe_figure(df, key, outdir / f"nfe_{key}.png")
    md = report(df, cfg, mode, outdir)
    (outdir / "report.md").write_text(md.replace("](results/benchmark_paper/" + mode + "/", "](") + "\n")
    if mode == "full" or not (OUT / "full" / "results.csv").exists():
        _write_results_md(md)
    print(md)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small budgets, ht2d + ht10d, one seed (< 5 min)")
    p.add_argument("--bench", nargs="+", choices=list(BENCHES), help="subset of the mode's benchmarks")
    p.add_argument("--seeds", nargs="+", type=int, help="override the mode's seeds")
    p.add_argument("--jobs", type=int, default=2, help="local Dask worker processes (1: in this process)")
    p.add_argument("--scheduler", help="run the parts on an existing Dask cluster (tcp://host:8786)")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--part", nargs=2, metavar=("BENCH", "SEED"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    mode = "quick" if a.quick else "full"
    cfg = QUICK if a.quick else FULL
    parts = OUT / mode / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    if a.part:
        key, seed = a.part[0], int(a.part[1])
        path = parts / f"{key}_seed{seed}.csv"
        t = time.perf_counter()
        rows = run_part(key, seed, cfg, lambda s: print(s, flush=True), path)
        pd.DataFrame(rows).assign(peak_rss_mb=_rss_mb(), load1=os.getloadavg()[0],
                                  part_seconds=time.perf_counter() - t).to_csv(path, index=False)  # fmt: skip
        print(f"[{key} s{seed}] done in {time.perf_counter() - t:.0f} s", flush=True)
        return
    if not a.report_only:
        t0 = time.perf_counter()
        tasks = sweep_tasks(cfg, a.bench, a.seeds)
        results = run_tasks(cell, tasks, workers=a.jobs, scheduler=a.scheduler, cache_dir=OUT / mode / "cache",
                            desc="benchmark parts")  # fmt: skip
        write_parts(tasks, results, parts)
        print(f"all parts done in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    build_report(mode)


if __name__ == "__main__":
    main()
