"""``heavytail fit``: fit a generator to a data file and save it as a model folder."""

from __future__ import annotations

import argparse
import math

from ._common import (
    add_columns_argument,
    add_force_argument,
    check_output,
    current_model_name,
    parse_model_params,
    table_options,
)

NAME = "fit"
HELP = "fit a generator (default: truncated diffusion) to a CSV/TSV/parquet file and save it to a folder"


def add_arguments(p) -> None:
    p.add_argument("file", help="data file (CSV, TSV or parquet)")
    add_columns_argument(p)
    p.add_argument("--model", default="truncated", help="generator name (see `heavytail fit --list-models`)")
    p.add_argument(
        "--list-models", action=_ListModels, help="list the generators and their parameters, then exit"
    )
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
    p.add_argument("--out", required=True, help="output model folder (an existing one needs --force)")
    add_force_argument(p)


class _ListModels(argparse.Action):
    """``--list-models``: print every registered generator with its parameters and exit (like --version)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..models import MODELS, list_models

        for rec in list_models().itertuples(index=False):
            print(f"{rec.name:<16} {rec.description}")
            print(f"{'':<16}   parameters: {', '.join(MODELS[rec.name].param_names())}")
        parser.exit(0)


def _model_class(name: str):
    """The registered generator class ``name`` (ValueError listing the names otherwise)."""
    from ..models import MODELS, canonical_model_name, list_models

    name = canonical_model_name(name)
    if name not in MODELS:
        names = list(list_models()["name"])
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(names)} (see --list-models)")
    return MODELS[name]


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
    from ..persistence import folder_lock

    args.model = current_model_name(args.model)  # a deprecated name: its current one, with a warning
    params = parse_model_params(args.param, _model_class(args.model))
    params["seed"] = args.seed
    if args.sigma_T is not None:
        params["sigma_T"] = _sigma_T(args.sigma_T)
    if args.prior is not None:
        params["prior"] = args.prior
    if args.preprocessing is not None:
        pre = args.preprocessing.split(",")
        params["preprocessing"] = pre[0] if len(pre) == 1 else pre
    out = check_output(args.out, force=args.force, inputs=[args.file], kind="model")
    table = load_table(args.file, columns=args.columns, dropna=args.dropna, **table_options(args))
    print("columns (kind, support; --schema COL=KIND to change):")
    for line in str(table.schema).splitlines():
        print(f"  {line}")
    model = make_model(args.model, **params)
    with folder_lock(out):  # a second fit to the same folder fails now, not after its whole fit
        model.fit(table)
        model.save(out)
    extra = f", chose {model.chosen_!r}" if hasattr(model, "chosen_") else ""
    extra += f", sigma_T = {model.sigma_T_:.4g}" if hasattr(model, "sigma_T_") else ""
    print(
        f"fitted {args.model!r} on {table.n} rows x {table.d} columns ({', '.join(table.columns)}) "
        f"in {model.fit_seconds_:.1f} s{extra}; saved to {args.out}"
    )
    return 0
