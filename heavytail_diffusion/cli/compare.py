"""``heavytail compare``: fit several generators on the same training rows and rank how well their tails match."""

from __future__ import annotations

import argparse
import sys

from ._common import add_columns_argument, parse_key_values, print_json

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "compare"
HELP = "fit several generators on a train split and rank their tails on held-out rows (report with tables and plots)"

_EPILOG = """\
examples:
  heavytail compare "$(heavytail datasets --path lossalae)" --quick --out /tmp/r
  heavytail compare claims.csv --models truncated,edm,evt-copula --columns Loss,ALAE --out report/
  heavytail compare returns.csv --preprocessing signed-log --param edm:steps=40 --out report/ --json

The data are split with --seed into training and test rows (--test-fraction); every model is fitted on the
same training rows and its samples are scored on the test rows. --quick trains briefly (a smoke test in
about two minutes for a few thousand rows and two columns; not a benchmark). With --preprocessing auto
(the default) strictly positive columns spanning more than two orders of magnitude are modelled on the log
scale, the others robust-scaled.
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
        help="comma-separated generator names (default: every registered one except oracle-start)",
    )
    p.add_argument("--n-samples", type=int, default=None, metavar="N",
                   help="rows drawn from each model (default max(n_test, 10000); 4000 with --quick)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the fits, the samples (default 0)")
    p.add_argument(
        "--test-fraction", type=float, default=0.3, metavar="F", help="share of held-out rows (0.3)"
    )
    p.add_argument("--quick", action="store_true", help="short training and fewer projections (demo, ~2 min)")
    p.add_argument(
        "--preprocessing",
        default="auto",
        help="auto (default: log for positive columns spanning > 2 orders of magnitude, else robust), robust, "
        "standard, log, signed-log, none, 'default' (each model's own); or one per column, comma-separated",
    )
    p.add_argument("--param", action="append", metavar="MODEL:KEY=VALUE",
                   help="hyperparameter for one model, e.g. edm:steps=40 (repeatable)")  # fmt: skip
    p.add_argument(
        "--dropna", action="store_true", help="drop rows with NaN/inf values (reported) instead of failing"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="report folder (metrics.csv, summary.csv, report.md/html, PNGs)",
    )
    p.add_argument("--json", action="store_true", help="print the summary and the metrics as JSON")


def _model_params(items: list[str] | None) -> dict:
    out: dict = {}
    for item in items or []:
        if ":" not in item.split("=", 1)[0]:
            raise ValueError(f"--param expects MODEL:KEY=VALUE, got {item!r}")
        model, kv = item.split(":", 1)
        out.setdefault(model.strip(), {}).update(parse_key_values([kv], "--param"))
    return out


def _preprocessing(text: str):
    parts = [t.strip() for t in text.split(",")]
    if parts == ["auto"]:
        return "auto"
    if parts == ["default"]:
        return None
    return parts[0] if len(parts) == 1 else parts


def run(args) -> int:
    import warnings

    from ..data import load_table
    from ..report import _check_models, compare, write_report

    models = _check_models(args.models) if args.models is not None else None  # fail before loading anything
    table = load_table(args.file, columns=args.columns, dropna=args.dropna)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = compare(
            table,
            models,
            test_fraction=args.test_fraction,
            n_samples=args.n_samples,
            seed=args.seed,
            quick=args.quick,
            preprocessing=_preprocessing(args.preprocessing),
            model_params=_model_params(args.param),
            progress=not args.json and sys.stdout.isatty(),
        )
    path = write_report(result, args.out)
    if args.json:
        S = result.summary.reset_index()
        print_json({
            "report": str(path),
            "info": result.info,
            "summary": S.to_dict(orient="records"),
            "metrics": result.metrics.to_dict(orient="records"),
        })  # fmt: skip
        return 0
    S = result.summary
    show = ["rank", "q99_rel_error", "q999_rel_error", "hill_xi_error", "tail_ks", "msw_slog", "chi_error",
            "memorisation_ratio", "nfe", "fit_seconds", "sample_seconds"]  # fmt: skip
    show = [c for c in show if S[c].notna().any()]
    with __import__("pandas").option_context("display.width", 200, "display.max_columns", 20):
        print(S[show].round(3).to_string())
    failed = S[S.status != "ok"]
    for name, r in failed.iterrows():
        print(f"{name}: {r.status}")
    i = result.info
    print(f"\n{i['n_train']} train / {i['n_test']} test rows (seed {i['seed']}), {i['n_samples']} samples per model; "
          f"rank = mean rank over the tail metrics (1 = best)")  # fmt: skip
    print(f"report: {path}  (also report.md, metrics.csv, summary.csv and PNGs in {args.out})")
    return 0
