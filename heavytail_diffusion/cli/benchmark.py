"""`heavytail benchmark`: list the synthetic benchmarks or write a seeded sample of one to CSV."""

from __future__ import annotations

import argparse
import ast
import shutil
import textwrap
from pathlib import Path

__all__ = ["HELP", "NAME", "add_arguments", "parse_params", "run"]

NAME = "benchmark"
HELP = "synthetic heavy-tailed benchmarks with ground truth: list them, or sample one to CSV"


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
    parser.set_defaults(_parser=parser)


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
