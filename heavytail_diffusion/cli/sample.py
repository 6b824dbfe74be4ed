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
    p.add_argument("--out", required=True, help="output CSV file (an existing file needs --force)")
    add_force_argument(p)


def _load(path: str):
    """``load_model(path)``, with the folder named in every error about its content."""
    from ..errors import ModelFileError
    from ..models import load_model

    try:
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
    frame = model.sample_frame(args.n, seed=args.seed, **options)
    names, changed = safe_csv_names(frame.columns)
    if changed:
        warnings.warn(
            f"column name(s) {', '.join(map(repr, changed))} start with a spreadsheet formula character or "
            "hold line breaks; written with a leading ' (or spaces) in the CSV header",
            UserWarning,
            stacklevel=2,
        )
        frame.columns = names
    out.parent.mkdir(parents=True, exist_ok=True)  # like `heavytail fit --out`
    frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} rows x {frame.shape[1]} columns to {args.out} ({model.name}, NFE {model.nfe})")
    return 0
