"""``heavytail fit``: fit a generator to a data file and save it as a model folder."""

from __future__ import annotations

import math

from ._common import add_columns_argument, parse_key_values

NAME = "fit"
HELP = "fit a generator (default: truncated diffusion) to a CSV/TSV/parquet file and save it to a folder"


def add_arguments(p) -> None:
    p.add_argument("file", help="data file (CSV, TSV or parquet)")
    add_columns_argument(p)
    p.add_argument("--model", default="truncated", help="generator name (see `heavytail fit --list-models`)")
    p.add_argument(
        "--sigma-T", dest="sigma_T", default=None, help="truncation level: 'auto' (default) or a number"
    )
    p.add_argument(
        "--prior", default=None, help="prior at sigma_T for diffusion models (e.g. evt-copula, flow-evt)"
    )
    p.add_argument(
        "--preprocessing",
        default=None,
        help="robust (default), standard, log, signed-log or none; or one per column",
    )
    p.add_argument(
        "--dropna", action="store_true", help="drop rows with NaN/inf values (reported) instead of failing"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="extra model hyperparameter (repeatable)"
    )
    p.add_argument("--out", required=True, help="output model folder")


def _sigma_T(text: str) -> str | float:
    """``--sigma-T``: 'auto' or a finite number > 0 (the model checks the lower bound, 0.002)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--sigma-T must be 'auto' or a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"--sigma-T must be 'auto' or a finite positive number, got {text!r}")
    return value


def run(args) -> int:
    from ..data import load_table
    from ..models import make_model

    table = load_table(args.file, columns=args.columns, dropna=args.dropna)
    params = parse_key_values(args.param)
    params["seed"] = args.seed
    if args.sigma_T is not None:
        params["sigma_T"] = _sigma_T(args.sigma_T)
    if args.prior is not None:
        params["prior"] = args.prior
    if args.preprocessing is not None:
        pre = args.preprocessing.split(",")
        params["preprocessing"] = pre[0] if len(pre) == 1 else pre
    model = make_model(args.model, **params).fit(table)
    model.save(args.out)
    extra = f", sigma_T = {model.sigma_T_:.4g}" if hasattr(model, "sigma_T_") else ""
    print(
        f"fitted {args.model!r} on {table.n} rows x {table.d} columns ({', '.join(table.columns)}) "
        f"in {model.fit_seconds_:.1f} s{extra}; saved to {args.out}"
    )
    return 0
