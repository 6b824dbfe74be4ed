"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import json
import math

import numpy as np

__all__ = ["add_columns_argument", "parse_key_values", "print_json", "to_jsonable"]


def add_columns_argument(parser) -> None:
    parser.add_argument(
        "--columns",
        default=None,
        help="comma-separated column names to use (default: every numeric column; others are skipped with a warning)",
    )


def parse_key_values(items: list[str] | None, what: str = "--param") -> dict:
    """Parse ``key=value`` strings; values become int, float, bool or stay strings."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{what} expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return out


def _parse_value(value: str):
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    if "," in value:
        return [_parse_value(v) for v in value.split(",")]
    return value


def to_jsonable(obj):
    """Convert numpy scalars/arrays and non-finite floats (to None) recursively for json.dumps."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def print_json(obj) -> None:
    print(json.dumps(to_jsonable(obj), indent=2, allow_nan=False))
