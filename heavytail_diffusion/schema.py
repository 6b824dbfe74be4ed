"""Column schema of a real table: what values each column may take, inferred conservatively and overridable.

Real claim, rainfall and market files are not clean continuous samples: they hold exact zeros, reporting
floors, capped values, counts, categories, ids and dates. The schema gives each column one *kind* and the
support that goes with it; every generator (through :class:`~heavytail_diffusion.encoding.SchemaEncoder`)
returns rows inside that support, and the tail fits see the continuous part only.

==============  =====================================================================================
kind            support of one value
==============  =====================================================================================
real            the real line (two-sided)
positive        x > 0
nonnegative     x >= 0, with an atom (point mass) at 0 and a continuous part on x > 0
bounded         declared ``lower`` and/or ``upper`` limits (e.g. a reporting threshold, a policy limit);
                values equal to a limit are atoms there, the rest lies strictly between
integer         integers (counts), >= 0 when the data are (``lower`` may be declared, e.g. 1)
categorical     one of the data's categories (strings, booleans, or a few numeric codes)
id              unique per row: not modelled
time            dates, years, months: not modelled; the time axis of the EVT workflow
==============  =====================================================================================

Every numeric kind may carry ``atoms``: values with a point mass (exact zeros, a cap at a policy limit, a
value recorded in many rows). Continuous kinds may carry ``step``: the grid of rounded data (0.01 inch of
rain); samples are rounded back to it.

Inference rules (:func:`infer_column`; a lower bound only from a point mass at the minimum)
--------------------------------------------------------------------------------------------------
1. dates (datetime dtype, or text that parses as dates) -> ``time``; an integer column named like a time
   unit (year, month, day, day_of_year, week, quarter, hour, ...) -> ``time``.
2. booleans, and text with at most ``max_categories`` (20) distinct values -> ``categorical``; text with a
   distinct value in every row -> ``id``; other text is not a column the toolkit can model (skipped).
3. integers, distinct in every row, named like an id (id, key, policy, number, ...) or forming a
   consecutive run (row numbers) -> ``id``. Rules 1-3 need two or more columns (a one-column file is data).
4. integers with at most ``max_integer_codes`` (5) distinct values -> ``categorical`` (codes, flags).
5. other integers -> ``integer`` (``lower = 0`` when no value is negative). Atoms of counts are only
   *spikes*: a value in more than ``atom_share`` of the rows and more than 3 times as frequent as each
   neighbouring integer (structural zeros, heaps); the dequantisation reproduces the other frequencies.
6. continuous: all values > 0 -> ``positive``; >= 0 with zeros -> ``nonnegative`` (atom at 0, whatever its
   share); otherwise ``real``.
7. atoms: any value repeated in more than ``atom_share`` (5%) of the rows becomes an atom; when that value
   is the column's maximum it is a cap (a policy limit) and becomes the upper limit too; when it is the
   minimum of a ``real``/``positive`` column it is a floor (a deductible, a reporting threshold): the kind
   becomes ``bounded`` with that lower limit. A minimum repeated in 1-5% of the rows (and 10 times as often
   as any other value) is only pointed out in the column's note (declare it).
8. step: when the remaining values repeat heavily (more than half the rows tie) and all lie on a grid, the
   grid step is recorded (rounded data).
Declared settings always win; inference only fills in what was not declared.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "KINDS",
    "MODELLED_KINDS",
    "ColumnSpec",
    "Schema",
    "infer_column",
    "infer_schema",
    "parse_schema_items",
    "schema_declarations_jsonable",
]

KINDS = ("real", "positive", "nonnegative", "bounded", "integer", "categorical", "id", "time")
#: kinds that generators model (``id`` and ``time`` columns are carried along, not modelled)
MODELLED_KINDS = ("real", "positive", "nonnegative", "bounded", "integer", "categorical")

#: a value repeated in more than this share of rows becomes an atom
ATOM_SHARE = 0.05
#: text columns with at most this many distinct values are categorical
MAX_CATEGORIES = 20
#: integer columns with at most this many distinct values are categorical codes
MAX_INTEGER_CODES = 5

_TIME_NAMES = re.compile(
    r"^(year|yr|yyyy|month|mon|mm|day|dd|dow|doy|day_?of_?(year|week|month)|week|quarter|qtr|hour|minute|"
    r"second|season|period|date|time|timestamp|datetime)s?$",
    re.IGNORECASE,
)
_ID_NAMES = re.compile(r"(^|_|\b)(id|ids|key|uuid|guid|index|idx|no|nr|num|number|policy|claim_?no|row)($|_|\b)",
                       re.IGNORECASE)  # fmt: skip
_KEYS = ("kind", "lower", "upper", "atoms", "step", "categories")


@dataclass(frozen=True)
class ColumnSpec:
    """The kind and support of one column.

    Attributes
    ----------
    name : str
    kind : str
        One of :data:`KINDS`.
    lower, upper : float or None
        Support limits. ``positive``/``nonnegative`` imply ``lower = 0``; ``bounded`` needs at least one;
        ``integer`` gets ``lower = 0`` when the data have no negative value.
    atoms : tuple of float
        Values with a point mass, in increasing order (``nonnegative`` always has 0).
    step : float or None
        Grid of rounded continuous data (samples are rounded to ``origin + k * step``).
    origin : float or None
        A grid point (the smallest non-atom value seen), with ``step``.
    categories : tuple
        ``categorical``: the levels, in the order of their codes. Text/boolean levels are stored in
        :attr:`~heavytail_diffusion.data.Table.values` as codes 0..K-1; numeric levels as themselves.
    declared : tuple of str
        The settings the user declared (the others were inferred).
    note : str
        Why the kind was inferred (for the summary line).
    """

    name: str
    kind: str
    lower: float | None = None
    upper: float | None = None
    atoms: tuple[float, ...] = ()
    step: float | None = None
    origin: float | None = None
    categories: tuple = ()
    declared: tuple[str, ...] = field(default=(), compare=False)
    note: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"column {self.name!r}: unknown kind {self.kind!r}; choose from {', '.join(KINDS)}")
        for key in ("lower", "upper", "step", "origin"):
            v = getattr(self, key)
            if v is not None and not (isinstance(v, int | float | np.floating | np.integer) and math.isfinite(v)):
                raise DataError(f"column {self.name!r}: {key} must be a finite number, got {v!r}")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise DataError(f"column {self.name!r}: lower {self.lower:g} must be below upper {self.upper:g}")
        if self.kind == "bounded" and self.lower is None and self.upper is None:
            raise DataError(f"column {self.name!r}: kind 'bounded' needs lower=... and/or upper=...")
        if self.step is not None and not self.step > 0:
            raise DataError(f"column {self.name!r}: step must be > 0, got {self.step!r}")
        for a in self.atoms:
            if not math.isfinite(a):
                raise DataError(f"column {self.name!r}: atoms must be finite numbers, got {a!r}")
            if (self.lower is not None and a < self.lower) or (self.upper is not None and a > self.upper):
                raise DataError(f"column {self.name!r}: atom {a:g} lies outside [{self.lower}, {self.upper}]")
        if self.kind == "positive" and any(a <= 0 for a in self.atoms):
            raise DataError(f"column {self.name!r}: a positive column cannot have an atom at {min(self.atoms):g}")
        if self.kind == "categorical" and len(self.categories) < 1 and "categories" in self.declared:
            raise DataError(f"column {self.name!r}: categorical needs at least one category")

    # ---- what the kind means ------------------------------------------------------------------------
    @property
    def modelled(self) -> bool:
        """Whether generators model this column (not ``id``/``time``)."""
        return self.kind in MODELLED_KINDS

    @property
    def continuous(self) -> bool:
        """Whether the column has a continuous (or dequantised integer) part."""
        return self.kind in ("real", "positive", "nonnegative", "bounded", "integer")

    @property
    def coded(self) -> bool:
        """Categorical with non-numeric levels (stored as codes 0..K-1)."""
        return self.kind == "categorical" and not all(_is_number(c) for c in self.categories)

    def support_bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` of the support, -inf/inf where open-ended (positive/nonnegative: lo = 0)."""
        lo = self.lower if self.lower is not None else (0.0 if self.kind in ("positive", "nonnegative") else -math.inf)
        hi = self.upper if self.upper is not None else math.inf
        return float(lo), float(hi)

    def describe(self) -> str:
        """One line: name, kind, support and atoms, and why."""
        bits = [self.kind]
        lo, hi = self.support_bounds()
        if (self.kind in ("bounded", "integer") or self.upper is not None) and (math.isfinite(lo) or math.isfinite(hi)):
            bits.append(f"[{_g(lo)}, {_g(hi)}]")
        if self.atoms:
            bits.append("atoms " + ", ".join(_g(a) for a in self.atoms))
        if self.step:
            bits.append(f"step {_g(self.step)}")
        if self.kind == "categorical":
            shown = ", ".join(map(str, self.categories[:6])) + (", ..." if len(self.categories) > 6 else "")
            bits.append(f"{len(self.categories)} levels ({shown})")
        if self.kind in ("id", "time"):
            bits.append("not modelled")
        line = f"{self.name}: " + ", ".join(bits)
        return line + (f"  [{self.note}]" if self.note else "")

    # ---- JSON -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["atoms"] = [float(a) for a in self.atoms]
        d["categories"] = [c.item() if isinstance(c, np.generic) else c for c in self.categories]
        d["declared"] = list(self.declared)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnSpec:
        unknown = sorted(set(d) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise DataError(f"schema entry {d.get('name')!r}: unknown field(s) {unknown}")
        d = dict(d)
        d["atoms"] = tuple(float(a) for a in d.get("atoms", ()))
        d["categories"] = tuple(d.get("categories", ()))
        d["declared"] = tuple(d.get("declared", ()))
        return cls(**d)


class Schema:
    """An ordered collection of :class:`ColumnSpec`, one per column (modelled and not).

    ``schema[name]`` gives a column's spec; ``schema.modelled`` the modelled ones in order; ``str(schema)``
    one line per column.
    """

    def __init__(self, specs: Iterable[ColumnSpec]):
        self.specs = tuple(specs)
        names = [s.name for s in self.specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DataError(f"schema lists column(s) {dup} twice")

    def __iter__(self):
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, name: str) -> ColumnSpec:
        for s in self.specs:
            if s.name == name:
                return s
        raise KeyError(name)

    def __contains__(self, name) -> bool:
        return any(s.name == name for s in self.specs)

    def __eq__(self, other) -> bool:
        return isinstance(other, Schema) and self.specs == other.specs

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @property
    def modelled(self) -> tuple[ColumnSpec, ...]:
        return tuple(s for s in self.specs if s.modelled)

    @property
    def kinds(self) -> dict[str, str]:
        return {s.name: s.kind for s in self.specs}

    def select(self, names: Sequence[str]) -> Schema:
        """The specs of ``names``, in that order."""
        return Schema(self[n] for n in names)

    def __str__(self) -> str:
        return "\n".join(s.describe() for s in self.specs)

    def __repr__(self) -> str:
        return f"Schema({', '.join(f'{s.name}={s.kind}' for s in self.specs)})"

    def to_dict(self) -> dict:
        return {"columns": [s.to_dict() for s in self.specs]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: Mapping) -> Schema:
        if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
            raise DataError("a saved schema must be a JSON object with a 'columns' list")
        return cls(ColumnSpec.from_dict(c) for c in d["columns"])

    @classmethod
    def all_real(cls, names: Sequence[str]) -> Schema:
        """Every column ``real`` (the schema of models saved before schemas existed)."""
        return cls(ColumnSpec(str(n), "real") for n in names)


# ------------------------------------------------------------------------------------------------------------
# Declarations: "KIND[:key=value,...]" strings, dicts, ColumnSpec objects
# ------------------------------------------------------------------------------------------------------------
def _parse_number(text: str, what: str, col: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DataError(f"schema for column {col!r}: {what} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise DataError(f"schema for column {col!r}: {what} must be finite, got {text!r}")
    return v


def _declaration(col: str, decl) -> dict:
    """Normalise one declaration to a dict of declared ColumnSpec fields (``kind`` always present)."""
    if isinstance(decl, ColumnSpec):
        return {k: getattr(decl, k) for k in _KEYS if k == "kind" or k in decl.declared or getattr(decl, k)}
    if isinstance(decl, str):
        kind, _, args = decl.strip().partition(":")
        out: dict = {"kind": kind.strip().lower()}
        for item in filter(None, (a.strip() for a in args.split(","))):
            key, eq, value = item.partition("=")
            key = key.strip().lower()
            if not eq:
                raise DataError(f"schema for column {col!r}: expected key=value in {item!r} (e.g. bounded:lower=0)")
            if key in ("lower", "upper", "step"):
                out[key] = _parse_number(value.strip(), key, col)
            elif key == "atoms":
                out["atoms"] = tuple(_parse_number(v, "atoms", col) for v in value.split("/") if v.strip())
            elif key == "categories":
                out["categories"] = tuple(v.strip() for v in value.split("/") if v.strip())
            else:
                raise DataError(
                    f"schema for column {col!r}: unknown setting {key!r}; use lower, upper, atoms, step, categories"
                )
        decl = out
    if not isinstance(decl, Mapping) or "kind" not in decl:
        raise DataError(
            f"schema for column {col!r} must be a kind string such as 'bounded:lower=0', a dict with 'kind', "
            f"or a ColumnSpec; got {decl!r}"
        )
    unknown = sorted(set(decl) - set(_KEYS))
    if unknown:
        raise DataError(f"schema for column {col!r}: unknown setting(s) {unknown}; use {', '.join(_KEYS)}")
    out = dict(decl)
    out["kind"] = str(out["kind"]).strip().lower()
    if out["kind"] not in KINDS:
        raise DataError(f"schema for column {col!r}: unknown kind {out['kind']!r}; choose from {', '.join(KINDS)}")
    if "atoms" in out:
        out["atoms"] = tuple(sorted(float(a) for a in np.atleast_1d(out["atoms"])))
    return out


def parse_schema_items(items: Sequence[str] | None = None, file=None) -> dict[str, dict]:
    """Parse the CLI's ``--schema COL=KIND[:ARGS]`` items and ``--schema-file`` JSON into declarations.

    ``ARGS`` are comma-separated ``key=value`` pairs: ``lower``, ``upper``, ``step`` (numbers), ``atoms``
    and ``categories`` (several values separated by ``/``). Examples: ``loss=bounded:lower=1.2e6``,
    ``profits=nonnegative``, ``limit=positive:atoms=1e6``, ``claims=integer:lower=1``, ``year=time``.
    The JSON file maps column names to such strings or to objects (``{"kind": "bounded", "lower": 0}``), or is a
    schema saved with a model (``{"columns": [...]}``). Items given on the command line win over the file.

    Parameters
    ----------
    items : sequence of str, optional
        ``COL=KIND[:ARGS]`` strings (``--schema``); a later item for the same column wins.
    file : str or path-like, optional
        Path of the ``--schema-file`` JSON.

    Returns
    -------
    declarations : dict of str to dict
        Column -> declared ColumnSpec fields: ``kind`` (a lower-case name of :data:`KINDS`) always, ``atoms``
        a sorted tuple of floats; from an item ``lower``/``upper``/``step`` are finite floats and
        ``categories`` a tuple of str, from the file other values are kept as given. {} when neither is given.

    Raises
    ------
    DataError
        For an unreadable or invalid file, an item without ``=`` or a column name, or a malformed declaration.
    """
    out: dict[str, dict] = {}
    if file is not None:
        try:
            with open(file, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise DataError(f"--schema-file {file}: cannot read it ({exc.strerror or exc})") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"--schema-file {file}: not valid JSON ({exc})") from None
        if isinstance(data, Mapping) and isinstance(data.get("columns"), list):
            data = {c["name"]: {k: v for k, v in c.items() if k in _KEYS} for c in data["columns"]}
        if not isinstance(data, Mapping):
            raise DataError(f"--schema-file {file}: expected a JSON object mapping column names to kinds")
        for col, decl in data.items():
            out[str(col)] = _declaration(str(col), decl)
    for item in items or []:
        col, eq, decl = item.partition("=")
        if not eq or not col.strip():
            raise DataError(f"--schema expects COL=KIND[:ARGS] (e.g. profits=nonnegative), got {item!r}")
        out[col.strip()] = _declaration(col.strip(), decl)
    return out


def normalise_declarations(schema) -> dict[str, dict]:
    """``schema=`` as users give it (dict col -> kind string / dict / ColumnSpec, a Schema, or None)."""
    if schema is None:
        return {}
    if isinstance(schema, Schema):
        return {s.name: _declaration(s.name, s) for s in schema}
    if isinstance(schema, Mapping):
        return {str(c): _declaration(str(c), d) for c, d in schema.items()}
    raise DataError(f"schema must be a dict (column -> kind), a Schema or None, got {type(schema).__name__}")


def schema_declarations_jsonable(schema) -> dict | None:
    """``schema=`` declarations as plain JSON (to save a model's hyperparameters)."""
    if schema is None:
        return None
    out = {}
    for col, d in normalise_declarations(schema).items():
        out[col] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
    return out


# ------------------------------------------------------------------------------------------------------------
# Inference
# ------------------------------------------------------------------------------------------------------------
def _is_number(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)


def _g(v: float) -> str:
    return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.6g}"


def _looks_like_dates(col: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    sample = col.dropna().astype(str).head(50)
    if not len(sample) or not sample.str.contains(r"\d").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.8)


def _grid_step(u: np.ndarray) -> float | None:
    """The common grid step of sorted distinct values ``u`` (None when they are not on a grid)."""
    if u.size < 3:
        return None
    gaps = np.diff(u)
    step = float(gaps.min())
    if not step > 0:
        return None
    # snap the step to a round decimal (0.01 recorded as 0.009999999 by float arithmetic)
    mag = 10.0 ** math.floor(math.log10(step))
    step = round(step / mag, 6) * mag
    k = (u - u[0]) / step
    if np.max(np.abs(k - np.round(k))) > 1e-6 * max(1.0, float(np.max(np.abs(k)))) + 1e-6:
        return None
    return step


def infer_column(
    name: str,
    col: pd.Series,
    declared: Mapping | None = None,
    *,
    atom_share: float = ATOM_SHARE,
    max_categories: int = MAX_CATEGORIES,
    max_integer_codes: int = MAX_INTEGER_CODES,
    named: bool = True,
) -> ColumnSpec | None:
    """Infer the :class:`ColumnSpec` of one raw column, keeping every ``declared`` setting.

    Parameters
    ----------
    name : str
    col : pandas.Series
        The raw column (numbers, text, booleans or dates); missing values are ignored.
    declared : dict, optional
        Declared settings (``kind`` and any of lower, upper, atoms, step, categories), e.g. from
        :func:`parse_schema_items`.
    atom_share : float
        A value repeated in more than this share of the rows is an atom (default 0.05).
    max_categories, max_integer_codes : int
        Most distinct text values of a categorical column (20), and integer codes (5).
    named : bool
        Whether the column name is meaningful (False for arrays: names x0, x1, ... say nothing, so no
        id/time inference from names or sequences).

    Returns
    -------
    ColumnSpec, or None for free text that the toolkit cannot model (many distinct strings).
    """
    dec = dict(declared or {})
    present = col.dropna()
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    spec, kind, note = _infer_non_numeric(name, col, present, numeric, dec, max_categories, named)
    if spec is not _UNDECIDED:
        return spec
    if not numeric:
        raise DataError(
            f"column {name!r} holds text, which cannot be a {kind!r} column (declare it categorical, or drop it)"
        )
    x = present.to_numpy(dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return ColumnSpec(name, kind or "real", declared=tuple(dec))
    is_int = bool(np.all(x == np.round(x)))
    bounds_dec = dec
    if kind is None:
        spec, kind, note = _infer_numeric_kind(name, x, is_int, named, max_integer_codes)
        if spec is not _UNDECIDED:
            return spec
        kind, bounds_dec, note = _floor(x, kind, dec, atom_share, note)
    lower, upper, atoms_t, note = _bounds_and_atoms(name, x, kind, bounds_dec, atom_share, note)
    spec = ColumnSpec(name, kind, lower=lower, upper=upper, atoms=atoms_t, declared=tuple(dec),
                      note=note or ("declared" if dec else ""))  # fmt: skip
    _check_support(spec, x, is_int)
    # step of rounded continuous data
    step = dec.get("step")
    rest = x[~np.isin(x, atoms_t)]
    if step is None and kind not in ("integer",) and rest.size >= 20:
        u = np.unique(rest)
        if 1.0 - u.size / rest.size > 0.5:
            step = _grid_step(u)
    origin = float(rest.min()) if step is not None and rest.size else None
    return replace(spec, step=step, origin=origin)


#: "no spec yet" (None is a result of :func:`infer_column`: free text)
_UNDECIDED = object()


def _infer_non_numeric(name, col, present, numeric, dec, max_categories, named):
    """Rules 1-2 and declared id/time/categorical kinds: ``(spec, kind, note)``, spec ``_UNDECIDED`` when the
    column is left to the numeric rules (``kind``: the declared one, or None)."""
    kind = dec.get("kind")
    note = ""
    if kind in ("id", "time"):
        return ColumnSpec(name, kind, declared=tuple(dec), note="declared"), kind, note
    if kind is None:
        if _looks_like_dates(col):
            return ColumnSpec(name, "time", note="dates"), kind, note
        if pd.api.types.is_bool_dtype(col) or (not numeric and present.isin([True, False]).all() and len(present)):
            kind, note = "categorical", "booleans"
        elif not numeric:
            nu = present.astype(str).nunique()
            if named and nu == len(present) and len(present) > max_categories:
                return ColumnSpec(name, "id", note="a distinct text value in every row"), kind, note
            if nu > max_categories:
                return None, kind, note
            kind, note = "categorical", f"text with {nu} distinct values"
    if kind == "categorical":
        cats = dec.get("categories")
        if cats is None:
            if numeric:
                cats = tuple(float(v) for v in np.sort(present.unique()))
            else:
                cats = tuple(sorted(present.unique(), key=lambda v: (str(type(v)), v)))
                cats = tuple(c.item() if isinstance(c, np.generic) else c for c in cats)
        spec = ColumnSpec(name, "categorical", categories=tuple(cats), declared=tuple(dec),
                          note=note or ("declared" if dec else f"{len(cats)} integer codes"))  # fmt: skip
        return spec, kind, note
    return _UNDECIDED, kind, note


def _infer_numeric_kind(name: str, x: np.ndarray, is_int: bool, named: bool, max_integer_codes: int):
    """Rules 3-6 for an undeclared numeric column: ``(spec, kind, note)``, spec ``_UNDECIDED`` unless the
    column is a time axis, an id or integer codes."""
    nu = np.unique(x).size
    if named and is_int:
        if _TIME_NAMES.match(name.strip()):
            return ColumnSpec(name, "time", note="integers named like a time unit"), None, ""
        if nu == x.size and x.size >= 20:
            consecutive = (x.max() - x.min() + 1) == x.size  # row numbers, 1..n in any order
            if _ID_NAMES.search(name) or consecutive:
                why = "named like an id" if _ID_NAMES.search(name) else "consecutive: row numbers"
                return ColumnSpec(name, "id", note=f"distinct integers in every row ({why})"), None, ""
    if is_int and nu <= max_integer_codes:
        cats = tuple(float(v) for v in np.unique(x))
        return ColumnSpec(name, "categorical", categories=cats, note=f"{nu} integer codes"), None, ""
    if is_int:
        return _UNDECIDED, "integer", "integer values"
    if x.min() > 0:
        return _UNDECIDED, "positive", "all values > 0"
    if x.min() == 0:
        return _UNDECIDED, "nonnegative", "values >= 0 with zeros"
    return _UNDECIDED, "real", ""


def _join_note(note: str, more: str) -> str:
    """A column's inference note with ``more`` appended ("; "-separated)."""
    return f"{note}; {more}" if note else more


#: a repeated minimum below the atom share but in more than this share of the rows (and more than 10 times as
#: frequent as any other value) gets a hint in the column's note: a floor the user may want to declare
FLOOR_HINT_SHARE = 0.01


def _floor(x: np.ndarray, kind: str, dec: dict, atom_share: float, note: str) -> tuple[str, dict, str]:
    """Rule 7's floor: ``(kind, declarations for the bounds, note)``.

    A continuous (``real``/``positive``) column whose minimum repeats in more than ``atom_share`` of the rows,
    with no declared lower bound or atoms, has a floor (a deductible, a reporting threshold): it becomes
    ``bounded`` with ``lower`` = that minimum, which is then an atom (the mirror of a cap). A minimum repeated
    in more than ``FLOOR_HINT_SHARE`` of the rows and 10 times as often as any other value only gets a hint.
    """
    if kind not in ("real", "positive") or "lower" in dec or "atoms" in dec or x.size < 20:
        return kind, dec, note
    lo = float(x.min())
    n_lo = int(np.sum(x == lo))
    share = n_lo / x.size
    if share > atom_share and n_lo > 1:
        note = _join_note(note, f"floored: the minimum {lo:g} repeats in {share:.1%} of rows")
        return "bounded", {**dec, "lower": lo}, note
    if share > FLOOR_HINT_SHARE:
        _, counts = np.unique(x[x > lo], return_counts=True)
        if counts.size and n_lo > 10 * counts.max():
            note = _join_note(
                note, f"the minimum {lo:g} repeats in {share:.1%} of rows: if it is a floor, declare bounded:lower={lo:g}"
            )
    return kind, dec, note


def _bounds_and_atoms(name: str, x: np.ndarray, kind: str, dec: dict, atom_share: float, note: str):
    """Rule 7 and the declared bounds: ``(lower, upper, atoms, note)`` (atoms a sorted tuple)."""
    lower, upper = dec.get("lower"), dec.get("upper")
    if kind == "integer" and lower is None and x.min() >= 0:
        lower = 0.0
    if kind in ("positive", "nonnegative") and lower is not None:
        raise DataError(f"column {name!r}: kind {kind!r} has lower bound 0; use 'bounded:lower=...' for another")
    # atoms: declared, or values repeated in more than atom_share of the rows; values at a declared bound
    if "atoms" in dec:
        atoms = set(dec["atoms"])
    else:
        vals, counts = np.unique(x, return_counts=True)
        frequent = counts > max(atom_share * x.size, 1)
        if kind == "integer":  # only spikes: a count whose frequency dwarfs its neighbours' (heaps, zero inflation)
            share = dict(zip(vals, counts, strict=True))
            frequent &= np.array([c > 3 * max(share.get(v - 1, 0), share.get(v + 1, 0)) for v, c in zip(vals, counts, strict=True)])
        atoms = {float(v) for v in vals[frequent]}
    if kind == "nonnegative":
        atoms.add(0.0)
    # a cap: the maximum is an atom (a policy limit) -> an upper limit, evidenced by the point mass there
    # (the minimum of a real/positive column becomes a lower limit in _floor, before this, as a "bounded" kind)
    if upper is None and "atoms" not in dec and kind in ("real", "positive", "nonnegative", "bounded") and atoms and max(atoms) == x.max():
        upper = float(x.max())
        note = _join_note(note, f"capped: the maximum {upper:g} repeats in {np.mean(x == upper):.1%} of rows")
    for b in (lower, upper):
        if b is not None and kind != "integer" and np.any(x == b):
            atoms.add(float(b))
    return lower, upper, tuple(sorted(atoms)), note


def _check_support(spec: ColumnSpec, x: np.ndarray, is_int: bool) -> None:
    """The data must lie in the declared/implied support (and be integers for an integer column)."""
    name, kind = spec.name, spec.kind
    lo, hi = spec.support_bounds()
    strict_lo = kind == "positive"
    bad = (x < lo) | (x > hi) | ((x == lo) & strict_lo)
    if bad.any():
        v = x[np.argmax(bad)]
        raise DataError(
            f"column {name!r}: value {v:g} lies outside the support of kind {kind!r} ([{_g(lo)}, {_g(hi)}]); "
            f"{int(bad.sum())} of {x.size} values do. Fix the declaration (--schema {name}=...) or the data"
        )
    if kind == "integer" and not is_int:
        raise DataError(f"column {name!r}: declared integer but holds non-integer values (e.g. {x[x != np.round(x)][0]:g})")


def infer_schema(
    frame,
    schema=None,
    *,
    atom_share: float = ATOM_SHARE,
    max_categories: int = MAX_CATEGORIES,
    named: bool = True,
) -> Schema:
    """Infer the schema of every column of ``frame`` (a DataFrame or an array), keeping declared settings.

    Parameters
    ----------
    frame : DataFrame or array of shape (n, d)
    schema : dict, Schema or None
        Declarations per column (see :func:`parse_schema_items`); columns not named are inferred.
    atom_share, max_categories : see :func:`infer_column`.
    named : bool
        False for arrays (no id/time inference from names).

    Returns
    -------
    Schema (free-text columns that cannot be modelled are left out; :func:`infer_column` returns None).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"loss": np.r_[np.zeros(10), np.arange(1.0, 31.0) ** 1.5], "year": np.arange(1980, 2020)})
    >>> print(infer_schema(df))
    loss: nonnegative, atoms 0  [values >= 0 with zeros]
    year: time, not modelled  [integers named like a time unit]
    """
    if not isinstance(frame, pd.DataFrame):
        arr = np.asarray(frame)
        arr = arr[:, None] if arr.ndim == 1 else arr
        frame = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
        named = False
    decl = normalise_declarations(schema)
    unknown = sorted(set(decl) - {str(c) for c in frame.columns})
    if unknown:
        raise DataError(f"schema names column(s) {unknown} that the data do not have (columns: {list(frame.columns)})")
    specs = []
    for c in frame.columns:
        spec = infer_column(str(c), frame[c], decl.get(str(c)), atom_share=atom_share,
                            max_categories=max_categories, named=named)  # fmt: skip
        if spec is not None:
            specs.append(spec)
    return Schema(specs)
