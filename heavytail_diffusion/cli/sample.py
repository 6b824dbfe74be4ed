"""``heavytail sample``: draw synthetic rows from a saved model folder."""

from __future__ import annotations

from ._common import add_force_argument, check_output, positive_int, safe_csv_names

NAME = "sample"
HELP = "draw synthetic rows (raw scale, original column names) from a model folder saved by `heavytail fit`"


def add_arguments(p) -> None:
    p.add_argument("model", help="model folder written by `heavytail fit`")
    p.add_argument("-n", type=int, required=True, help="number of rows to draw")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="sampler steps, >= 1 (diffusion models; default: the model's)",
    )
    p.add_argument("--sampler", choices=["heun", "ddpm", "euler"], default=None, help="reverse sampler")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--out",
        required=True,
        help="output file, .csv or .parquet, written chunk by chunk in bounded memory (an existing file needs --force)",
    )
    p.add_argument(
        "--chunk-rows",
        type=positive_int,
        default=100_000,
        help="rows per chunk (and parquet row group); memory grows with it, not with -n (default 100000)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="Dask worker processes drawing chunks in parallel from the model folder (default 1: in process)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="draw the chunks on an existing Dask cluster, e.g. tcp://host:8786 (the model folder must be "
        "readable by its workers at the same path)",
    )
    add_force_argument(p)


def _load(path: str):
    """``load_model(path)``, with the folder named in every error about its content."""
    import warnings

    from ..errors import ModelFileError
    from ..models import load_model

    try:
        with warnings.catch_warnings():  # a folder saved under a deprecated model name: say so
            warnings.simplefilter("always", DeprecationWarning)
            return load_model(path)
    except ModelFileError as exc:
        if path in str(exc):
            raise
        raise ModelFileError(f"{path}: {exc}") from None


def run(args) -> int:
    import warnings

    if args.n < 1:
        raise ValueError(f"-n must be a positive number of rows, got {args.n}")
    out = check_output(args.out, force=args.force, inputs=[args.model], kind="file")
    model = _load(args.model)
    options = {k: v for k, v in (("steps", args.steps), ("sampler", args.sampler)) if v is not None}
    from ..streaming import output_format, write_sample

    fmt = output_format(out)
    names, changed = safe_csv_names(model.columns_) if fmt == "csv" else (list(model.columns_), [])
    if changed:
        warnings.warn(
            f"column name(s) {', '.join(map(repr, changed))} start with a spreadsheet formula character or "
            "hold line breaks; written with a leading ' (or spaces) in the CSV header",
            UserWarning,
            stacklevel=2,
        )
    parallel = args.workers > 1 or args.scheduler is not None
    info = write_sample(
        args.model if parallel else model,  # parallel: every worker loads the folder
        args.n,
        out,  # its folder is created, like `heavytail fit --out`
        seed=args.seed,
        chunk_rows=args.chunk_rows,
        columns=names,
        workers=args.workers,
        scheduler=args.scheduler,
        **options,
    )
    print(
        f"wrote {info['rows']} rows x {info['columns']} columns to {args.out} ({fmt}, {info['chunks']} chunks, "
        f"{info['seconds']:.1f} s; {model.name}, NFE {model.nfe})"
    )
    return 0
