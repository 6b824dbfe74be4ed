"""``heavytail sample``: draw synthetic rows from a saved model folder."""

from __future__ import annotations

NAME = "sample"
HELP = "draw synthetic rows (raw scale, original column names) from a model folder saved by `heavytail fit`"


def add_arguments(p) -> None:
    p.add_argument("model", help="model folder written by `heavytail fit`")
    p.add_argument("-n", type=int, required=True, help="number of rows to draw")
    p.add_argument(
        "--steps", type=int, default=None, help="sampler steps (diffusion models; default: the model's)"
    )
    p.add_argument("--sampler", choices=["heun", "ddpm", "euler"], default=None, help="reverse sampler")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output CSV file")


def run(args) -> int:
    from pathlib import Path

    from ..models import load_model

    if args.n < 1:
        raise ValueError(f"-n must be a positive number of rows, got {args.n}")
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the name of the CSV file to write")
    model = load_model(args.model)
    options = {k: v for k, v in (("steps", args.steps), ("sampler", args.sampler)) if v is not None}
    frame = model.sample_frame(args.n, seed=args.seed, **options)
    out.parent.mkdir(parents=True, exist_ok=True)  # like `heavytail fit --out`
    frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} rows x {frame.shape[1]} columns to {args.out} ({model.name}, NFE {model.nfe})")
    return 0
