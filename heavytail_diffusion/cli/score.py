"""``heavytail score``: the tail scorecard for synthetic files made by any tool, against the real data."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_columns_argument, add_force_argument, check_output, print_json, table_options

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "score"
HELP = "score synthetic CSV/parquet files (from any generator) against the real data on tail metrics"

_EPILOG = """\
examples:
  heavytail score claims.csv ctgan.csv tvae.csv --names ctgan,tvae --out score/
  heavytail score claims.csv synth.parquet --columns Loss,ALAE --json

Columns are matched by name: a synthetic file that lacks a real column, has a column the real data do not
have, or renames one is an error naming it (use --columns to score a subset). Each of --splits repeats
scores a random half of the real rows against a random half of each synthetic file; every metric is shown
as mean +- sd over repeats beside its noise floor (two halves of the real rows), and generators whose
difference is within that noise are reported as tied. Python: heavytail_diffusion.scoring.score_samples.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``heavytail score``."""
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _EPILOG
    p.add_argument("real", help="real data file (CSV, TSV or parquet)")
    p.add_argument("synthetic", nargs="+", help="synthetic data file(s), same column names as the real data")
    p.add_argument(
        "--names", default=None, help="comma-separated names of the synthetic files (default: file stems)"
    )
    add_columns_argument(p)
    p.add_argument("--splits", type=int, default=5, metavar="S", help="repeats (default 5)")
    p.add_argument("--reference-fraction", type=float, default=0.5, metavar="F",
                   help="share of the real rows in each repeat's reference (default 0.5)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the repeats (default 0)")
    p.add_argument("--quick", action="store_true", help="fewer bootstrap resamples and projections")
    p.add_argument(
        "--dropna", action="store_true", help="drop real rows with NaN/inf values instead of failing"
    )
    p.add_argument("--out", default=None, metavar="DIR", help="report folder (optional)")
    add_force_argument(p)
    p.add_argument("--json", action="store_true", help="print the summary, verdict and metrics as JSON")


def _names(args) -> list[str]:
    files = args.synthetic
    if args.names is None:
        names = [Path(f).name.split(".")[0] for f in files]
        if len(set(names)) != len(names):
            names = [Path(f).name for f in files]
    else:
        names = [n.strip() for n in args.names.split(",")]
        if len(names) != len(files):
            raise ValueError(f"--names lists {len(names)} name(s) for {len(files)} synthetic file(s)")
    if len(set(names)) != len(names):
        raise ValueError(f"synthetic files need distinct names, got {names}; pass --names")
    return names


def run(args) -> int:
    import warnings

    from ..report import write_report
    from ..scoring import score_samples
    from .compare import print_scorecard

    names = _names(args)
    for f in [args.real, *args.synthetic]:
        if not Path(f).exists():
            raise ValueError(f"{f}: file not found")
    out = None
    if args.out is not None:
        out = check_output(args.out, force=args.force, inputs=[args.real, *args.synthetic], kind="folder")
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = score_samples(args.real, dict(zip(names, args.synthetic, strict=True)), columns=args.columns,
                               n_splits=args.splits, reference_fraction=args.reference_fraction, seed=args.seed,
                               quick=args.quick, dropna=args.dropna, read_options=table_options(args))  # fmt: skip
    path = write_report(result, out) if out is not None else None
    if args.json:
        S = result.summary.reset_index()
        print_json({
            "report": None if path is None else str(path), "info": result.info, "verdict": result.verdict,
            "warnings": result.warnings, "summary": S.to_dict(orient="records"),
            "metrics": result.metrics.to_dict(orient="records"),
        })  # fmt: skip
        return 0
    print_scorecard(result, path)
    return 0
