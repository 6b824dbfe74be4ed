"""Scaling beyond one core and one block of memory (issue 15): sweeps on Dask, streamed sampling, large-n fits.

Sections (each writes ``analyses/results/bench_scale/<section>.json``; ``report`` rebuilds the generated
block of ``analyses/results/bench_scale.md`` from the JSON files):

* ``sweep``: the quick sweep of ``analyses/benchmark_paper.py`` through ``heavytail benchmark run`` with
  ``--workers 1`` (in process), ``--workers 2`` (embedded LocalCluster) and ``--scheduler ADDRESS`` (a
  LocalCluster of 2 workers started beforehand in a separate process, the code path of a remote cluster):
  wall time, CPU time of every process involved, and whether the numbers are identical (every metric column
  of ``results.csv``, and against the committed serial run ``results/benchmark_paper/quick/results.csv``).
* ``sample``: a 10-D model (``truncated`` on ``ht10d``, 10k rows, the quick settings) sampled in memory
  (``model.sample``) and streamed to parquet serially, then ``--n`` rows streamed to parquet by
  ``heavytail sample --workers W``: wall time, peak RSS of the whole process tree, rows per second per core.
* ``fit``: ``truncated`` fitted on ``--n-large`` and ``--n-small`` rows of ``ht10d`` (same settings, same
  seed): fit time, peak RSS, the cost of the sigma_T selection and of the copy check (and the dip-test level
  with three other selection seeds: its subsampling spread), and tail metrics of 1e5 generated rows against
  1e6 fresh true draws (``bench_method.evaluate``).

Every run is a child process, polled with psutil every 0.2 s: peak RSS is the largest sum of the resident
sizes of the process tree seen, CPU time the sum of user + system time over the tree's processes.

Usage::

    OMP_NUM_THREADS=1 python analyses/bench_scale.py sweep
    OMP_NUM_THREADS=1 python analyses/bench_scale.py sample --n 10000000 --workers 2
    OMP_NUM_THREADS=1 python analyses/bench_scale.py fit --n-large 1000000 --n-small 100000
    python analyses/bench_scale.py report
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "results" / "bench_scale"
MD = HERE / "results" / "bench_scale.md"
BEGIN, END = "<!-- BEGIN GENERATED: bench_scale.py -->", "<!-- END GENERATED: bench_scale.py -->"
PY = sys.executable
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
TIMING_COLS = {"fit_s", "sample_s", "part_seconds", "peak_rss_mb", "load1"}


def measure(cmd: list[str], *, cwd=ROOT, extra_tree: psutil.Process | None = None, poll: float = 0.2) -> dict:
    """Run ``cmd``; wall time, peak RSS (sum over its process tree) and CPU time of the tree (plus, when
    given, the CPU time spent meanwhile by the process tree of ``extra_tree``: an external cluster)."""

    def tree(root: psutil.Process) -> list[psutil.Process]:
        try:
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_of(procs, seen: dict) -> None:
        for p in procs:
            try:
                t = p.cpu_times()
                seen[p.pid] = t.user + t.system  # children are polled themselves (no double count)
            except psutil.NoSuchProcess:
                pass

    extra_before: dict = {}
    if extra_tree is not None:
        cpu_of(tree(extra_tree), extra_before)
    t0 = time.perf_counter()
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed below, after the poll loop)
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=log, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    peak, seen, loads = 0, {}, []
    while proc.poll() is None:
        procs = tree(root)
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, rss)
        cpu_of(procs, seen)
        loads.append(os.getloadavg()[0])
        time.sleep(poll)
    wall = time.perf_counter() - t0
    log.seek(0)
    text = log.read()
    log.close()
    extra_cpu = 0.0
    if extra_tree is not None:
        extra_after: dict = {}
        cpu_of(tree(extra_tree), extra_after)
        extra_cpu = sum(v - extra_before.get(k, 0.0) for k, v in extra_after.items())
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
    return {
        "wall_s": wall,
        "cpu_s": sum(seen.values()) + extra_cpu,
        "peak_rss_mb": peak / 2**20,
        "load1_mean": float(np.mean(loads)) if loads else float("nan"),
        "output_tail": text[-1500:],
    }


def _save(section: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = dict(data, machine=platform.platform(), cores=os.cpu_count(), when=time.strftime("%Y-%m-%d %H:%M"))
    (OUT / f"{section}.json").write_text(json.dumps(data, indent=2, default=float) + "\n")
    print(json.dumps({k: v for k, v in data.items() if k != "runs"}, indent=2, default=float)[:3000])


# ------------------------------------------------------------------------------------------------- sweep
CLUSTER = """
import os, sys, time
from distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
print(cluster.scheduler_address, flush=True)
while True:
    time.sleep(1)
"""


KEY = ["bench", "seed", "section", "model", "sampler", "sigma_T_rule", "nfe"]


def _metrics_equal(a: pd.DataFrame, b: pd.DataFrame) -> tuple[bool, float]:
    """Every non-timing column equal (NaN = NaN), rows matched by benchmark / section / model / sampler / NFE;
    and the largest absolute difference of the numeric ones."""
    a = a.sort_values(KEY, kind="stable").reset_index(drop=True)
    b = b.sort_values(KEY, kind="stable").reset_index(drop=True)
    cols = [c for c in a.columns if c not in TIMING_COLS]
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False, float("inf")
    x, y = a[cols], b[cols]
    same = bool(((x == y) | (x.isna() & y.isna())).all().all())
    num = [c for c in cols if pd.api.types.is_numeric_dtype(x[c])]
    diff = float(np.nanmax(np.abs(x[num].to_numpy(float) - y[num].to_numpy(float)))) if num else 0.0
    return same, diff


def sweep(args) -> None:
    config = str(HERE / "sweeps" / "quick.toml")
    runs, frames = {}, {}
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_sweep_"))
    base = [PY, "-m", "heavytail_diffusion", "benchmark", "run", config, "--fresh"]
    for label, extra in (
        ("1 worker (in process)", ["--workers", "1"]),
        ("2 local workers", ["--workers", "2"]),
    ):
        out = tmp / label.split()[0]
        print(f"sweep: {label} ...", flush=True)
        runs[label] = measure([*base, "--out", str(out), *extra])
        frames[label] = pd.read_csv(out / "results.csv", float_precision="round_trip")
        (OUT / "sweep.partial.json").write_text(json.dumps(runs, indent=2, default=float))
    print("sweep: separately started LocalCluster (2 workers), passed by address ...", flush=True)
    cluster = subprocess.Popen([PY, "-c", CLUSTER], env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        address = cluster.stdout.readline().strip()
        out = tmp / "ext"
        label = "LocalCluster by address (2 workers)"
        runs[label] = measure(
            [*base, "--out", str(out), "--scheduler", address], extra_tree=psutil.Process(cluster.pid)
        )
        frames[label] = pd.read_csv(out / "results.csv", float_precision="round_trip")
    finally:
        for p in psutil.Process(cluster.pid).children(recursive=True):
            p.terminate()
        cluster.terminate()
        cluster.wait()
    committed = HERE / "results" / "benchmark_paper" / "quick" / "results.csv"
    ref_label = "1 worker (in process)"
    ref = frames[ref_label]
    checks = {}
    for label, df in frames.items():
        checks[label] = dict(zip(("identical_to_serial", "max_abs_diff_to_serial"), _metrics_equal(ref, df)))
    if committed.exists():
        old = pd.read_csv(committed, float_precision="round_trip")
        old = old[[c for c in ref.columns if c in old.columns]]
        same, diff = _metrics_equal(ref[old.columns], old)
        checks["committed benchmark_paper quick run"] = {
            "identical_to_serial": same,
            "max_abs_diff_to_serial": diff,
        }
    _save("sweep", {"config": "analyses/sweeps/quick.toml", "rows": len(ref), "runs": runs, "checks": checks})


# ------------------------------------------------------------------------------------------------- sample
FIT_10D = """
import sys, torch
torch.set_num_threads(1)
from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.models import make_model
X = get_benchmark("ht10d").sample(10_000, seed=0)
make_model("truncated", train_steps=300, progress=False, seed=0).fit(X).save(sys.argv[1])
"""
IN_MEMORY = """
import sys, time, torch
torch.set_num_threads(1)
from heavytail_diffusion.models import load_model
m = load_model(sys.argv[1]); n, steps = int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter(); G = m.sample(n, seed=0, steps=steps); print("sample_seconds", time.perf_counter() - t, G.shape)
"""
CHECK_PARQUET = """
import sys, numpy as np, pyarrow.parquet as pq, torch
torch.set_num_threads(1)
from heavytail_diffusion.models import load_model
m = load_model(sys.argv[1]); path, n, chunk, steps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
f = pq.ParquetFile(path)
last = f.metadata.num_row_groups - 1
ok = [np.array_equal(f.read_row_group(i).to_pandas().to_numpy(),
                     next(m.sample_chunks(n, 0, chunk_rows=chunk, chunks=[i], steps=steps))) for i in (0, last)]
print("rows", f.metadata.num_rows, "row_groups", f.metadata.num_row_groups, "first_last_chunks_equal", all(ok))
"""


def sample(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_sample_"))
    model = tmp / "model"
    print("sample: fitting the 10-D model ...", flush=True)
    fit = measure([PY, "-c", FIT_10D, str(model)])
    runs = {}
    n_small = args.n_compare
    print(f"sample: {n_small} rows in memory ...", flush=True)
    runs["in memory, model.sample (1 core)"] = dict(
        measure([PY, "-c", IN_MEMORY, str(model), str(n_small), str(args.steps)]), rows=n_small, cores=1
    )
    cli = [
        PY,
        "-m",
        "heavytail_diffusion",
        "sample",
        str(model),
        "--seed",
        "0",
        "--chunk-rows",
        str(args.chunk_rows),
        "--steps",
        str(args.steps),
    ]
    print(f"sample: {n_small} rows streamed to parquet, 1 process ...", flush=True)
    runs["streamed to parquet, 1 process"] = dict(
        measure([*cli, "-n", str(n_small), "--out", str(tmp / "small.parquet")]), rows=n_small, cores=1
    )
    print(f"sample: {args.n} rows streamed to parquet, {args.workers} workers ...", flush=True)
    big = tmp / "rows.parquet"
    label = (
        f"streamed to parquet, {args.workers} Dask workers"
        if args.workers > 1
        else "streamed to parquet, 1 process, large n"
    )
    runs[label] = dict(
        measure([*cli, "-n", str(args.n), "--out", str(big), "--workers", str(args.workers)]),
        rows=args.n,
        cores=args.workers,
    )
    check = measure(
        [PY, "-c", CHECK_PARQUET, str(model), str(big), str(args.n), str(args.chunk_rows), str(args.steps)]
    )
    file_mb = big.stat().st_size / 2**20
    for r in runs.values():
        r["rows_per_s_per_core"] = r["rows"] / r["wall_s"] / r["cores"]
        r["rows_per_cpu_s"] = r["rows"] / r["cpu_s"]
    big.unlink()
    _save(f"sample_w{args.workers}", {"model": f"truncated on ht10d, 10k rows, 300 training steps, Heun {args.steps} levels "
                              f"({2 * args.steps - 1} NFE)",
                     "chunk_rows": args.chunk_rows, "fit": fit, "runs": runs, "parquet_mb": file_mb,
                     "check": check["output_tail"].strip().splitlines()[-1]})  # fmt: skip


# ------------------------------------------------------------------------------------------------- fit
FIT_N = """
import json, sys, time, torch
torch.set_num_threads(1)
import numpy as np
from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.models import make_model
n, steps, folder, sT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sT = sT if sT == "auto" else float(sT)
t = time.perf_counter(); X = get_benchmark("ht10d").sample(n, seed=0); t_data = time.perf_counter() - t
m = make_model("truncated", train_steps=steps, progress=False, seed=0, sigma_T=sT)
t = time.perf_counter(); m.fit(X); fit_s = time.perf_counter() - t
m.save(folder)
from heavytail_diffusion.diffusion import select_sigma_T
Z = m.preprocessor_.transform(X)
t = time.perf_counter(); sig = [float(select_sigma_T(Z, seed=s).sigma_T) for s in (1, 2, 3)]
sel_s = (time.perf_counter() - t) / 3
t = time.perf_counter(); cf = m._copy_check(Z)[0]; copy_s = time.perf_counter() - t
print(json.dumps({"n": n, "data_s": t_data, "fit_s": fit_s, "sigma_T": m.sigma_T_, "dip_other_seeds": sig,
                  "select_sigma_T_s": sel_s, "copy_check_s": copy_s,
                  "sigma_T_dip": None if m.sigma_T_selection_ is None else float(m.sigma_T_selection_.sigma_T),
                  "copy_fraction": m.copy_fraction_,
                  "best_step": int(m.history_.attrs["best_step"]), "n_val": int(m.history_.attrs["n_val"])}))
"""
EVAL = """
import json, sys, time, torch
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[4])
import numpy as np
from bench_method import Context, evaluate
from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.models import load_model
folder, n_train, n_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bench = get_benchmark("ht10d")
X = bench.sample(n_train, seed=0)
ctx = Context(bench, X, n_gen, 1_000_000, 0)
m = load_model(folder)
t = time.perf_counter(); G = m.sample(n_gen, seed=1); s = time.perf_counter() - t
met = evaluate(G, ctx, 0)
print(json.dumps(dict(met, sample_s=s)))
"""


def fit(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_fit_"))
    runs = {}
    for n in (args.n_small, args.n_large):
        folder = tmp / f"m{n}"
        print(f"fit: n = {n} ...", flush=True)
        r = measure([PY, "-c", FIT_N, str(n), str(args.train_steps), str(folder), args.sigma_T])
        r.update(json.loads(r.pop("output_tail").strip().splitlines()[-1]))
        r["model_folder_mb"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
        print(f"fit: evaluating the n = {n} model ...", flush=True)
        e = measure([PY, "-c", EVAL, str(folder), str(n), str(args.n_gen), str(HERE)])
        r["eval"] = json.loads(e["output_tail"].strip().splitlines()[-1])
        r["eval_peak_rss_mb"] = e["peak_rss_mb"]
        runs[f"n = {n}"] = r
    section = "fit" if args.sigma_T == "auto" else f"fit_sigmaT_{args.sigma_T}"
    _save(section, {"bench": "ht10d", "train_steps": args.train_steps, "n_gen": args.n_gen, "n_ref": 1_000_000,
                    "sigma_T": args.sigma_T, "runs": runs})  # fmt: skip


FLOOR = """
import json, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[3])
from bench_method import Context, evaluate
from heavytail_diffusion.benchmarks import get_benchmark
n_train, n_gen = int(sys.argv[1]), int(sys.argv[2])
bench = get_benchmark("ht10d")
ctx = Context(bench, bench.sample(n_train, seed=0), n_gen, 1_000_000, 0)
print(json.dumps(evaluate(bench.sample(n_gen, seed=30_000), ctx, 0)))
"""


def floor(args) -> None:
    """The metrics of fresh true draws of the generated size: the floor of the fit section's table."""
    r = measure([PY, "-c", FLOOR, str(args.n_train), str(args.n_gen), str(HERE)])
    _save("floor", {"bench": "ht10d", "n_gen": args.n_gen, "n_train": args.n_train,
                    "eval": json.loads(r["output_tail"].strip().splitlines()[-1])})  # fmt: skip


# ------------------------------------------------------------------------------------------------- report
def _load(section: str) -> dict | None:
    path = OUT / f"{section}.json"
    return json.loads(path.read_text()) if path.exists() else None


def report(args) -> None:
    o = [
        "Generated by `python analyses/bench_scale.py report` from `analyses/results/bench_scale/*.json`.",
        "",
    ]
    sw = _load("sweep")
    if sw:
        o += [f"### Quick sweep of `analyses/benchmark_paper.py` ({sw['rows']} result rows, 2 cells) - {sw['when']}",
              "", "| run | wall s | CPU s (all processes) | peak RSS MB (tree) | mean load | identical to serial |",
              "|---|---:|---:|---:|---:|---|"]  # fmt: skip
        for label, r in sw["runs"].items():
            c = sw["checks"][label]
            o.append(f"| {label} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['load1_mean']:.1f} | {c['identical_to_serial']} (max diff {c['max_abs_diff_to_serial']:.3g}) |")  # fmt: skip
        if "committed benchmark_paper quick run" in sw["checks"]:
            c = sw["checks"]["committed benchmark_paper quick run"]
            o += ["", (f"Against the committed serial-process run (`results/benchmark_paper/quick/results.csv`): "
                  f"identical {c['identical_to_serial']}, max abs diff {c['max_abs_diff_to_serial']:.3g} "
                  "(timing and memory columns excluded).")]  # fmt: skip
        o.append("")
    for path in sorted(OUT.glob("sample*.json")):
        sa = json.loads(path.read_text())
        o += [f"### Sampling a 10-D model - {sa['when']}", "", (f"Model: {sa['model']}; chunks of "
              f"{sa['chunk_rows']} rows. Check of the parquet file: `{sa['check']}`; file size "
              f"{sa['parquet_mb']:.0f} MB."), "",
              "| run | rows | wall s | CPU s | peak RSS MB (tree) | rows/s/core | rows per CPU-s | mean load |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for label, r in sa["runs"].items():
            o.append(f"| {label} | {r['rows']:.0e} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['rows_per_s_per_core']:.0f} | {r['rows_per_cpu_s']:.0f} | {r['load1_mean']:.1f} |")  # fmt: skip
        o.append("")
    for path in sorted(OUT.glob("fit*.json")):
        fi = json.loads(path.read_text())
        o += [f"### Fit of `truncated` on {fi['bench']} at two sizes, sigma_T {fi.get('sigma_T', 'auto')} - {fi['when']}",
              "",
              (f"Same settings and seed ({fi['train_steps']} denoiser steps); metrics of {fi['n_gen']:.0e} generated "
              f"rows against {fi['n_ref']:.0e} fresh true draws (definitions: `analyses/benchmark_paper.py`)."), "",
              ("| n | fit s | peak RSS MB | model folder MB | sigma_T (dip) | dip, 3 other seeds | copies | qm99 | "
               "qm999 | qd99 | qd999 | alpha | w2_slog | w2_bulk | mem_ratio |"), "|---|" + "---:|" * 14]  # fmt: skip
        for r in fi["runs"].values():
            e = r["eval"]
            dip = "-" if r["sigma_T_dip"] is None else f"{r['sigma_T_dip']:.3g}"
            o.append(f"| {r['n']:.0e} | {r['fit_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['model_folder_mb']:.0f} | "
                     f"{r['sigma_T']:.3g} ({dip}) | "
                     f"{', '.join(f'{v:.2f}' for v in r['dip_other_seeds'])} | {r['copy_fraction']:.3f} | {e['qm99']:.3f} | "
                     f"{e['qm999']:.3f} | {e['qd99']:.3f} | {e['qd999']:.3f} | {e['alpha']:.2f} | {e['w2_slog']:.3f} | "
                     f"{e['w2_bulk']:.3f} | {e['mem_ratio']:.2f} |")  # fmt: skip
        fl = _load("floor")
        if fl:
            e = fl["eval"]
            o.append(f"| floor: {fl['n_gen']:.0e} fresh true draws | | | | | | | {e['qm99']:.3f} | {e['qm999']:.3f} | "
                     f"{e['qd99']:.3f} | {e['qd999']:.3f} | {e['alpha']:.2f} | {e['w2_slog']:.3f} | {e['w2_bulk']:.3f} | "
                     f"{e['mem_ratio']:.2f} |")  # fmt: skip
        o.append("")
    block = "\n".join(o)
    text = (
        MD.read_text()
        if MD.exists()
        else "## Scaling: Dask sweeps, streamed sampling, large-n fits (issue 15)\n"
    )
    gen = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + gen + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + gen + "\n"
    MD.write_text(text)
    print(block)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="section", required=True)
    sub.add_parser("sweep")
    s = sub.add_parser("sample")
    s.add_argument("--n", type=int, default=10_000_000)
    s.add_argument("--n-compare", type=int, default=200_000, help="rows of the in-memory / serial comparison")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--chunk-rows", type=int, default=100_000)
    s.add_argument(
        "--steps", type=int, default=10, help="Heun levels for every run (10: the default, 19 NFE)"
    )
    f = sub.add_parser("fit")
    f.add_argument("--n-large", type=int, default=1_000_000)
    f.add_argument("--n-small", type=int, default=100_000)
    f.add_argument("--train-steps", type=int, default=2000)
    f.add_argument("--n-gen", type=int, default=100_000)
    f.add_argument("--sigma-T", default="auto", help="'auto' or a fixed truncation level for both fits")
    fl = sub.add_parser("floor")
    fl.add_argument("--n-train", type=int, default=100_000)
    fl.add_argument("--n-gen", type=int, default=100_000)
    sub.add_parser("report")
    a = p.parse_args(argv)
    {"sweep": sweep, "sample": sample, "fit": fit, "floor": floor, "report": report}[a.section](a)


if __name__ == "__main__":
    main()
