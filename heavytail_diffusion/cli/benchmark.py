"""`heavytail benchmark`: list the synthetic benchmarks, write a seeded sample of one to CSV, or run a sweep.

``heavytail benchmark run SWEEP.toml --out DIR`` runs the cells of ``analyses/benchmark_paper.py`` (one per
benchmark and seed) through :func:`heavytail_diffusion.execution.run_tasks`: local Dask workers, or an
existing cluster with ``--scheduler``. The sweep file (TOML or JSON) holds::

    script = "benchmark_paper.py"   # optional, relative to the sweep file; default: the checkout's analyses/
    mode = "quick"                  # base settings: "quick" or "full" (QUICK / FULL of the script)
    [benches]                       # benchmark -> seeds (default: the mode's)
    ht2d = [0]
    ht10d = [0]
    [settings]                      # overrides of the mode's settings, e.g. n_gen = 2000

Finished cells are cached in ``DIR/cache`` so a rerun resumes an interrupted sweep (``--fresh`` recomputes).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import textwrap
from pathlib import Path

from ._common import positive_int

__all__ = ["HELP", "NAME", "add_arguments", "load_sweep", "parse_params", "run"]

NAME = "benchmark"
HELP = "synthetic heavy-tailed benchmarks with ground truth: list them, sample one to CSV, or run a sweep"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-subcommands ``list`` and ``sample NAME -n N --seed S --out FILE.csv [--param key=value ...]``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p_list = sub.add_parser("list", help="table of the benchmarks (dim, tail index, parameters)")
    p_list.add_argument("--json", action="store_true", help="print the table as JSON records")
    p = sub.add_parser("sample", help="draw a seeded sample and write it as CSV with columns x0..x{d-1}")
    p.add_argument("name", help="benchmark name (see `heavytail benchmark list`)")
    p.add_argument("-n", type=int, required=True, help="number of rows")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same sample")
    p.add_argument("--out", required=True, help="output CSV file")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="benchmark parameter, repeatable (e.g. --param dim=50 --param xi=0.3,0.5 --param margin=t)",
    )
    r = sub.add_parser(
        "run",
        help="run a sweep of the paper benchmarks (TOML/JSON file) on local Dask workers or a cluster",
        description=__doc__.split("\n\n", 1)[1].split("Finished")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("config", help="sweep description, .toml or .json")
    r.add_argument(
        "--out", required=True, help="output folder (parts/, results.csv, report.md, figures, cache/)"
    )
    r.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="local worker processes (default: one per core; 1: in process)",
    )
    r.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="existing Dask scheduler, tcp://host:8786"
    )
    r.add_argument(
        "--fresh", action="store_true", help="recompute every cell (drop the cache of an earlier run)"
    )
    parser.set_defaults(_parser=parser)


def _read_config(path: Path) -> dict:
    import json

    if not path.is_file():
        raise FileNotFoundError(f"sweep file {path} does not exist")
    text = path.read_text()
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if path.suffix.lower() != ".toml":
        raise ValueError(f"sweep file {path} must be .toml or .json")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ValueError(
                f"{path}: reading TOML needs Python >= 3.11 or the tomli package; use JSON"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None


def _import_script(path: Path):
    """Import the benchmark script as the module ``benchmark_paper`` (its code is shipped to the workers)."""
    import importlib.util
    import sys

    from ..execution import register_by_value

    if not path.is_file():
        raise FileNotFoundError(
            f"benchmark script {path} does not exist (set script = ... in the sweep file)"
        )
    name = path.stem
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    register_by_value(module)
    for helper in ("bench_method",):  # the script's own imports from analyses/
        if helper in sys.modules:
            register_by_value(sys.modules[helper])
    return module


def load_sweep(path) -> tuple[object, str, dict, list[dict]]:
    """Read a sweep file: the benchmark script module, the mode, its settings with the file's overrides, and
    the tasks (one per benchmark and seed).

    Raises
    ------
    ValueError
        For an unknown key, mode, benchmark or setting (named in the message).
    """
    path = Path(path)
    conf = _read_config(path)
    unknown = sorted(set(conf) - {"script", "mode", "benches", "settings"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; allowed: script, mode, benches, settings")
    if "script" in conf:
        script = (path.parent / conf["script"]).resolve()
    else:
        script = Path(__file__).resolve().parents[2] / "analyses" / "benchmark_paper.py"
    mod = _import_script(script)
    mode = conf.get("mode", "quick")
    if mode not in ("quick", "full"):
        raise ValueError(f"{path}: mode must be 'quick' or 'full', got {mode!r}")
    cfg = dict(mod.QUICK if mode == "quick" else mod.FULL)
    settings = conf.get("settings", {})
    bad = sorted(set(settings) - set(cfg) - {"prior_ablation_every_seed"})
    if bad:
        raise ValueError(f"{path}: unknown setting(s) {bad}; the {mode} settings are {sorted(cfg)}")
    cfg.update(settings)
    if "benches" in conf:
        benches = conf["benches"]
        wrong = sorted(set(benches) - set(mod.BENCHES))
        if wrong:
            raise ValueError(f"{path}: unknown benchmark(s) {wrong}; choose from {sorted(mod.BENCHES)}")
        for key, seeds in benches.items():
            if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)):
                raise ValueError(
                    f"{path}: benches.{key} must be a non-empty list of int seeds, got {seeds!r}"
                )
        cfg["benches"] = {k: list(v) for k, v in benches.items()}
    return mod, mode, cfg, mod.sweep_tasks(cfg)


def _run_sweep(args: argparse.Namespace) -> int:
    import time

    import pandas as pd

    from ..execution import run_tasks

    mod, mode, cfg, tasks = load_sweep(args.config)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder")
    cache = out / "cache"
    if args.fresh and cache.is_dir():
        shutil.rmtree(cache)
    cells = ", ".join(f"{t['bench']} s{t['seed']}" for t in tasks)
    print(f"{len(tasks)} cells ({cells}) -> {out}")
    t0 = time.perf_counter()
    results = run_tasks(
        mod.cell,
        tasks,
        workers=args.workers,
        scheduler=args.scheduler,
        cache_dir=cache,
        desc="benchmark cells",
    )
    wall = time.perf_counter() - t0
    mod.write_parts(tasks, results, out / "parts")
    df = pd.concat([pd.DataFrame(r) for r in results], ignore_index=True)
    df.to_csv(out / "results.csv", index=False)
    for key in dict.fromkeys(df["bench"]):
        mod._nfe_figure(df, key, out / f"nfe_{key}.png")
    md = mod.report(df, cfg, mode, out).replace(f"](results/benchmark_paper/{mode}/", "](")
    (out / "report.md").write_text(md + "\n")
    print(
        f"{len(df)} rows from {len(tasks)} cells in {wall:.0f} s: {out / 'results.csv'}, {out / 'report.md'}"
    )
    return 0


def parse_params(items: list[str]) -> dict:
    """Parse ``key=value`` strings; values are Python literals (int, float, bool, None, tuples "a,b") or text."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param expects key=value, got {item!r}")
        key, value = (s.strip() for s in item.split("=", 1))
        if not key.isidentifier():
            raise ValueError(f"--param key must be a parameter name, got {key!r}")
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            low = value.lower()
            parsed = {"true": True, "false": False, "none": None}.get(low, value)
        out[key] = parsed
    return out


def _print_table(df) -> None:
    width = shutil.get_terminal_size((110, 24)).columns
    name_w = max(4, int(df["name"].str.len().max()))
    head = f"{'name':<{name_w}}  {'dim':>4}  {'tail xi':<12}  description"
    print(head)
    print("-" * min(width, max(len(head), 80)))
    indent = " " * (name_w + 22)
    for rec in df.itertuples(index=False):
        first = f"{rec.name:<{name_w}}  {rec.dim:>4}  {rec.tail_index:<12}  "
        desc = textwrap.wrap(rec.description, max(30, width - len(first))) or [""]
        print(first + desc[0])
        for extra in desc[1:]:
            print(indent + extra)
        for i, line in enumerate(textwrap.wrap(rec.parameters, max(30, width - len(indent) - 8))):
            print(indent + ("params: " if i == 0 else "        ") + line)
    print("\ntail xi: extreme-value index 1/alpha of the upper tails of the marginals (0 = light tail)")


def run(args: argparse.Namespace) -> int:
    """Run ``list`` or ``sample``; returns the exit status."""
    from ..benchmarks import get_benchmark, list_benchmarks

    action = getattr(args, "action", None)
    if action == "run":
        return _run_sweep(args)
    if action == "list":
        df = list_benchmarks()
        if args.json:
            print(df.to_json(orient="records", indent=2))
        else:
            _print_table(df)
        return 0
    if action == "sample":
        if args.n < 1:
            raise ValueError(f"-n must be a positive integer, got {args.n}")
        bench = get_benchmark(args.name, **parse_params(args.param))
        x = bench.sample(args.n, seed=args.seed)
        out = Path(args.out)
        if out.parent and not out.parent.exists():
            raise FileNotFoundError(f"output folder {out.parent} does not exist")
        import pandas as pd

        pd.DataFrame(x, columns=[f"x{j}" for j in range(bench.dim)]).to_csv(
            out, index=False, float_format="%.17g"
        )
        print(f"wrote {args.n} rows x {bench.dim} columns of {bench.name} (seed {args.seed}) to {out}")
        return 0
    args._parser.print_help()
    return 0
