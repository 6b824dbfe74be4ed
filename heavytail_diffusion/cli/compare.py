"""``heavytail compare``: fit several generators on repeated train/test splits and rank how well their tails match."""

from __future__ import annotations

import argparse
import sys

from ._common import (
    add_columns_argument,
    add_force_argument,
    check_output,
    model_names,
    parse_model_params,
    print_json,
    table_options,
)

__all__ = ["HELP", "NAME", "add_arguments", "print_scorecard", "run"]

NAME = "compare"
HELP = "fit several generators on repeated train/test splits and rank their tails on held-out rows (scorecard report)"

_EPILOG = """\
examples:
  heavytail compare "$(heavytail datasets --path lossalae)" --quick --out /tmp/r
  heavytail compare claims.csv --models truncated,edm,evt-t-copula --columns Loss,ALAE --out report/
  heavytail compare returns.csv --split time --splits 5 --models truncated,sdv-ctgan --out report/ --json

Each of --splits splits (default 5; --split random or time-ordered blocks) holds out --test-fraction of the
rows; every model is fitted on the training rows and its samples are scored on the test rows. Every metric is
reported as mean +- sd over splits beside its noise floor (two halves of the test rows scored against each
other); models whose split-by-split ranks differ by no more than the split-to-split noise are reported as
tied. --quick trains briefly (a smoke test, not a benchmark). Peers (sdv-gaussian-copula, sdv-ctgan,
sdv-tvae, forest-diffusion) are available when installed: pip install 'heavytail-diffusion[peers]'.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``heavytail compare``."""
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _EPILOG
    p.add_argument("file", help="data file (CSV, TSV or parquet)")
    add_columns_argument(p)
    p.add_argument(
        "--models",
        default=None,
        help="comma-separated generator names (default: every registered one except oracle-start and the peers)",
    )
    p.add_argument("--n-samples", type=int, default=None, metavar="N",
                   help="rows drawn from each model per split (default max(n_test, 10000); 4000 with --quick)")  # fmt: skip
    p.add_argument("--splits", type=int, default=5, metavar="S", help="number of train/test splits (5)")
    p.add_argument("--split", choices=["random", "time"], default="random",
                   help="random splits, or contiguous blocks in row (time) order held out (default random)")  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the splits, the fits, the samples (default 0)"
    )
    p.add_argument(
        "--test-fraction", type=float, default=0.3, metavar="F", help="share of held-out rows (0.3)"
    )
    p.add_argument("--quick", action="store_true", help="short training and fewer projections (demo)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="processes for the fits (default one per core; 1 = in this process)")  # fmt: skip
    p.add_argument(
        "--preprocessing",
        default=None,
        help="given to every model when set (robust, standard, log, signed-log, none, auto; or one per column); "
        "default: each model chooses from the column schema",
    )
    p.add_argument("--param", action="append", metavar="MODEL:KEY=VALUE",
                   help="hyperparameter for one model, e.g. edm:steps=40 (repeatable)")  # fmt: skip
    p.add_argument(
        "--dropna", action="store_true", help="drop rows with NaN/inf values (reported) instead of failing"
    )
    p.add_argument("--out", required=True, metavar="DIR",
                   help="report folder (summary.csv, per_split.csv, metrics.csv, report.md/html, PNGs)")  # fmt: skip
    add_force_argument(p)
    p.add_argument("--json", action="store_true", help="print the summary, verdict and metrics as JSON")


def _model_params(items: list[str] | None, names: list[str] | None) -> dict:
    import warnings

    from ..models import MODELS, canonical_model_name

    out: dict = {}
    for item in items or []:
        if ":" not in item.split("=", 1)[0]:
            raise ValueError(f"--param expects MODEL:KEY=VALUE, got {item!r}")
        model, kv = item.split(":", 1)
        with warnings.catch_warnings():  # --models already warned about a deprecated name
            warnings.simplefilter("ignore", DeprecationWarning)
            model = canonical_model_name(model.strip())
        if model not in MODELS:
            raise ValueError(f"--param names unknown model {model!r}")
        out.setdefault(model, {}).update(parse_model_params([kv], MODELS[model], "--param"))
    return out


def _preprocessing(text: str | None):
    if text is None:
        return None
    parts = [t.strip() for t in text.split(",")]
    return parts[0] if len(parts) == 1 else parts


def print_scorecard(result, path) -> None:
    """The CLI's plain-text scorecard: small-data warnings, the table, footnotes, the verdict.

    Parameters
    ----------
    result : ComparisonResult
        The comparison to print (:func:`heavytail_diffusion.report.compare`).
    path : pathlib.Path or None
        Path of the written ``report.html``, printed last; None prints no report line.

    Returns
    -------
    None
        Everything goes to stdout (the verdict without its markdown ``**``).
    """
    import pandas as pd

    from ..report import scorecard_table

    for w in result.warnings:
        print(f"warning: {w}")
    card, notes = scorecard_table(result)
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_colwidth", 40):
        print(card.to_string(index=False))
    for n in notes:
        print(n)
    print()
    print(result.verdict.replace("**", ""))
    if path is not None:
        print(f"\nreport: {path}  (also report.md, summary.csv, per_split.csv, metrics.csv and PNGs)")


def run(args) -> int:
    import warnings

    from ..data import load_table
    from ..report import compare, write_report

    models = model_names(args.models) if args.models is not None else None  # fail before loading anything
    params = _model_params(args.param, models)
    out = check_output(args.out, force=args.force, inputs=[args.file], kind="folder")
    table = load_table(args.file, columns=args.columns, dropna=args.dropna, **table_options(args))
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = compare(
            table,
            models,
            n_splits=args.splits,
            split=args.split,
            test_fraction=args.test_fraction,
            n_samples=args.n_samples,
            seed=args.seed,
            quick=args.quick,
            preprocessing=_preprocessing(args.preprocessing),
            model_params=params,
            progress=not args.json and sys.stdout.isatty(),
            workers=args.workers,
        )
    path = write_report(result, out)
    if args.json:
        S = result.summary.reset_index()
        print_json({
            "report": str(path), "info": result.info, "verdict": result.verdict, "warnings": result.warnings,
            "summary": S.to_dict(orient="records"), "metrics": result.metrics.to_dict(orient="records"),
        })  # fmt: skip
        return 0
    print_scorecard(result, path)
    return 0
