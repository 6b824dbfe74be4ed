"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import typing
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "add_columns_argument",
    "add_force_argument",
    "check_output",
    "current_model_name",
    "model_names",
    "parse_key_values",
    "parse_model_params",
    "positive_int",
    "print_json",
    "safe_csv_names",
    "table_options",
    "to_jsonable",
]


def model_names(names):
    """:func:`~heavytail_diffusion.models.check_model_names` for the command line: deprecated names are
    replaced by their current name with a warning that is always shown (Python hides DeprecationWarning
    outside ``__main__`` by default).

    Parameters
    ----------
    names : str or list of str
        One name, a comma-separated string of names, or a list.

    Returns
    -------
    list of str
        The current names.
    """
    from ..models import check_model_names

    with warnings.catch_warnings():
        warnings.simplefilter("always", DeprecationWarning)
        return check_model_names(names)


def current_model_name(name: str) -> str:
    """The current name of the model ``name``: a deprecated name is replaced, with a warning always shown."""
    from ..models import canonical_model_name

    with warnings.catch_warnings():
        warnings.simplefilter("always", DeprecationWarning)
        return canonical_model_name(name, stacklevel=2)


def add_columns_argument(parser) -> None:
    """``--columns`` and the options of reading a table: ``--sep``, ``--decimal``, ``--thousands``,
    ``--schema COL=KIND[:ARGS]`` (repeatable) and ``--schema-file`` (see :func:`table_options`)."""
    parser.add_argument(
        "--columns",
        default=None,
        help="comma-separated column names to use (default: every column the toolkit can model: numbers, "
        "booleans, categorical text; id and time columns are set aside, free text skipped, each with a note)",
    )
    g = parser.add_argument_group("reading the table")
    g.add_argument("--sep", default=None, help="field delimiter (default: detected from the header; 'tab' for tabs)")
    g.add_argument("--decimal", default=None, help="decimal mark, e.g. ',' (default: '.', decimal commas detected)")
    g.add_argument("--thousands", default=None, help="thousands separator, e.g. ',' or '.' (default: none, detected)")
    g.add_argument(
        "--schema",
        action="append",
        default=None,
        metavar="COL=KIND[:ARGS]",
        help="declare a column's kind: real, positive, nonnegative, bounded, integer, categorical, id, time; "
        "ARGS: lower=, upper=, step=, atoms=a/b, categories=x/y (e.g. loss=bounded:lower=1.2e6, "
        "profits=nonnegative, limit=positive:atoms=1e6); repeatable; other columns are inferred",
    )
    g.add_argument("--schema-file", default=None, metavar="JSON",
                   help="column kinds as JSON ({\"col\": \"kind:args\"} or a model folder's schema)")  # fmt: skip


def table_options(args, schema: dict | None = None) -> dict:
    """Keyword arguments of :func:`heavytail_diffusion.data.load_table` from the parsed reading options;
    ``schema`` adds declarations (the command line's win).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments; ``sep``, ``decimal``, ``thousands``, ``schema`` and ``schema_file``
        (:func:`add_columns_argument`) are read where present, absent ones count as None.
    schema : dict, optional
        Column -> declaration (a kind string or a dict with ``kind``), overridden column by column by
        ``--schema-file`` and ``--schema``.

    Returns
    -------
    options : dict
        ``{"sep", "decimal", "thousands", "schema"}``; ``schema`` is the merged declarations
        (:func:`heavytail_diffusion.schema.parse_schema_items`), or None when there are none.
    """
    from ..schema import parse_schema_items

    decl = dict(schema or {})
    decl.update(parse_schema_items(getattr(args, "schema", None), getattr(args, "schema_file", None)))
    return {
        "sep": getattr(args, "sep", None),
        "decimal": getattr(args, "decimal", None),
        "thousands": getattr(args, "thousands", None),
        "schema": decl or None,
    }


def add_force_argument(parser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --out (never an input file or folder)"
    )


def positive_int(text: str) -> int:
    """argparse ``type=`` for an integer >= 1 (0 or a negative number is a usage error, not "the default")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


#: First characters that make a spreadsheet read a cell as a formula (CSV/formula injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_names(names) -> tuple[list[str], list[str]]:
    """Column names safe to write into a CSV header that a spreadsheet may open.

    A name starting with ``= + - @``, a tab or a carriage return is prefixed with ``'`` (the OWASP advice
    against formula injection); line breaks inside a name become spaces. Names are only ever written as
    text in the header, never used as file names, so path-like names (``../../etc/passwd``) are harmless.

    Returns
    -------
    (names, changed)
        The safe names, and the original names that were changed (for a note to the user).
    """
    out, changed = [], []
    for name in map(str, names):
        safe = " ".join(name.splitlines()) if ("\n" in name or "\r" in name[1:]) else name
        if safe.startswith(_FORMULA_PREFIXES):
            safe = "'" + safe
        if safe != name:
            changed.append(name)
        out.append(safe)
    return out, changed


# ---- outputs ----------------------------------------------------------------------------------------------

_KINDS = ("file", "model", "folder")


def _same_or_inside(path: Path, other: Path) -> bool:
    """True if ``path`` is ``other`` or lies inside it (``other`` a folder), after resolving links."""
    try:
        return path == other or other in path.parents
    except (OSError, RuntimeError):  # pragma: no cover - resolve() on odd file systems
        return False


def _writable_parent(path: Path, what: str) -> None:
    """Raise ValueError unless the nearest existing ancestor of ``path`` is a writable folder."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what} {path}: {parent} is a file, not a folder; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path}: the folder {parent} is not writable; choose another path")


def check_output(path, *, force: bool, inputs=(), kind: str = "file", what: str = "--out") -> Path:
    """Check an output path before any work starts, so that nothing is lost and nothing fails late.

    Parameters
    ----------
    path : str or Path
        The output the command will write.
    force : bool
        Whether an existing output may be replaced (CLI ``--force``).
    inputs : sequence of str or Path
        Files and folders the command reads; the output may never be one of them, lie inside one of them
        or (for folders) contain one, whatever ``force`` says.
    kind : {"file", "model", "folder"}
        ``"file"``: a file to write. ``"model"``: a model folder (replaced as a whole; only an empty folder or
        an existing model folder may be replaced). ``"folder"``: an output folder whose files are overwritten.
    what : str
        The argument's name in messages (default ``--out``).

    Returns
    -------
    Path
        ``path`` as given (not resolved).

    Raises
    ------
    ValueError
        If the output is an input, exists (without ``force``), has the wrong type, or cannot be written.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    out = Path(path).expanduser()
    target = out.resolve()
    for inp in inputs:
        src = Path(inp).expanduser().resolve()
        clash = _same_or_inside(target, src) or (kind != "file" and _same_or_inside(src, target))
        if clash:
            raise ValueError(f"{what} {out} would overwrite the input {inp}; write the output somewhere else")
    if kind == "file":
        if out.is_dir():
            raise ValueError(f"{what} {out} is a folder; give the name of the file to write")
        if out.exists() and not force:
            raise ValueError(
                f"{what} {out} already exists; pass --force to overwrite it or choose another name"
            )
    else:
        if out.exists() and not out.is_dir():
            raise ValueError(f"{what} {out} exists and is a file, not a folder; choose another path")
        if out.is_dir() and any(out.iterdir()):
            is_model = (out / "model.json").is_file()
            if kind == "model" and not is_model:
                raise ValueError(
                    f"{what} {out} is a non-empty folder that is not a model folder; refusing to replace it "
                    "(even with --force): choose a new or empty folder"
                )
            if not force:
                label = "a model folder" if is_model else "a non-empty folder"
                raise ValueError(
                    f"{what} {out} already exists ({label}); pass --force to replace it or choose another path"
                )
    _writable_parent(out, what)
    return out


# ---- model hyperparameters ------------------------------------------------------------------------------


def _init_parameters(cls) -> dict[str, tuple[object, object]]:
    """name -> (annotation, default) over the ``__init__`` signatures of ``cls`` and its bases."""
    out: dict[str, tuple[object, object]] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # noqa: BLE001 (an unresolvable annotation: fall back to the raw ones)
            hints = {}
        for name, p in inspect.signature(init).parameters.items():
            if name in ("self", "args", "kwargs") or name in out:
                continue
            ann = hints.get(name, p.annotation)
            out[name] = (ann, p.default)
    return out


def _type_words(ann) -> str:
    """A user-facing description of an annotation: 'an integer', 'true or false', ..."""
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             dict: "a JSON object such as {\"key\": 1}", type(None): "none"}  # fmt: skip
    origin = typing.get_origin(ann)
    if origin in (list, tuple):
        (item, *_rest) = typing.get_args(ann) or (str,)
        return f"a comma-separated list of {_type_words(item).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return words[dict]
    args = typing.get_args(ann)
    if args:
        return " or ".join(_type_words(a) for a in args)
    return words.get(ann, "a value")


def _convert(text: str, ann, name: str, what: str):
    """Convert the CLI text ``text`` to the annotated type ``ann`` or raise ValueError naming ``name``."""
    low = text.strip().lower()
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if args and origin not in (list, tuple, dict):  # a union: the first alternative that accepts the text
        if type(None) in args and low in ("none", "null"):
            return None
        alts = [a for a in args if a is not type(None)]
        if len(alts) == 1:
            return _convert(text, alts[0], name, what)
        # a comma means a list; otherwise scalars first, a free string last
        alts.sort(key=lambda a: (typing.get_origin(a) not in (list, tuple)) == ("," in text) or a is str)
        for alt in alts:
            try:
                return _convert(text, alt, name, what)
            except ValueError:
                continue
        raise ValueError(f"{what} {name} expects {_type_words(ann)}, got {text!r}")
    if ann is bool:
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"{what} {name} expects true or false, got {text!r}")
    if ann is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{what} {name} expects an integer, got {text!r}") from None
    if ann is float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{what} {name} expects a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"{what} {name} expects a finite number, got {text!r}")
        return value
    if ann is str:
        return text
    if origin in (list, tuple):
        item = (args or (str,))[0]
        return [_convert(t.strip(), item, name, what) for t in text.split(",")]
    if ann is dict or origin is dict:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise ValueError(f'{what} {name} expects a JSON object such as {{"key": 1}}, got {text!r}')
        return value
    raise ValueError(f"{what} {name} cannot be set from the command line (it takes a Python object)")


def parse_model_params(items: list[str] | None, cls, what: str = "--param") -> dict:
    """Parse ``key=value`` strings into hyperparameters of the model class ``cls``, typed per parameter.

    Each value is converted to the type its ``__init__`` annotation declares (``int``, ``float``, ``bool``
    as true/false, ``str``, ``X | None`` with ``none``, comma-separated lists, JSON objects for dicts);
    parameters without an annotation take the type of their default.

    Parameters
    ----------
    items : list of str or None
        ``key=value`` strings; dashes in a key become underscores. None or [] gives {}.
    cls : type
        The model class whose ``__init__`` parameters (its own and its bases') are accepted.
    what : str, default "--param"
        The option's name in error messages.

    Returns
    -------
    params : dict
        Parameter name -> converted value (a later item for the same key wins); a parameter with neither an
        annotation nor a non-None default is parsed as in :func:`parse_key_values`.

    Raises
    ------
    ValueError
        For an item without ``=``, an unknown parameter (listing the known ones), or a value of the wrong
        type (naming the parameter and the type it expects).
    """
    params = _init_parameters(cls)
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{what} expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in params:
            name = getattr(cls, "name", cls.__name__)
            raise ValueError(
                f"model {name!r} has no parameter(s) [{key!r}]; its parameters are {sorted(params)}"
            )
        ann, default = params[key]
        if ann is inspect.Parameter.empty:
            ann = type(default) if default not in (None, inspect.Parameter.empty) else None
        out[key] = _parse_value(value.strip()) if ann is None else _convert(value.strip(), ann, key, what)
    return out


def parse_key_values(items: list[str] | None, what: str = "--param") -> dict:
    """Parse ``key=value`` strings; values become int, float, bool or stay strings.

    Parameters
    ----------
    items : list of str or None
        ``key=value`` strings; dashes in a key become underscores. None or [] gives {}.
    what : str, default "--param"
        The option's name in the error message for an item without ``=``.

    Returns
    -------
    params : dict
        Key -> value: ``true``/``false`` (any case) a bool, ``none``/``null`` None, then int, then float
        (``nan`` and ``inf`` included), a value with commas a list of such values, else the string.

    Raises
    ------
    ValueError
        For an item without ``=``.
    """
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
