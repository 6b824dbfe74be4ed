"""Validated tables from files, DataFrames and arrays (:func:`load_table`, :class:`Table`).

Files are read by :mod:`heavytail_diffusion.readers`; the bundled real heavy-tailed datasets live in
:mod:`heavytail_diffusion.datasets`. Both are re-exported here (``DataWarning``, ``read_frame``,
``load_dataset``, ``dataset_path``, ``list_datasets``).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .datasets import dataset_path, list_datasets, load_dataset
from .errors import DataError
from .readers import (
    _MISSING,
    DataWarning,
    _as_frame,
    _check_duplicates,
    _Origin,
    _report,
    read_frame,
)
from .schema import ColumnSpec, Schema, infer_column, normalise_declarations

__all__ = [
    "MIN_ROWS",
    "DataWarning",
    "Table",
    "as_table",
    "dataset_path",
    "frame_from_values",
    "list_datasets",
    "load_dataset",
    "load_table",
    "read_frame",
]

logger = logging.getLogger(__name__)

#: Fewest rows :func:`load_table` accepts by default: tail estimators are meaningless below this.
MIN_ROWS = 20


@dataclass(frozen=True, eq=False)
class Table:
    """A validated numeric table.

    Attributes
    ----------
    values : ndarray of float64, shape (n, d)
        The data, every entry finite; no column is constant; ``n >= 20`` unless asked otherwise.
    columns : tuple of str, length d
        Column names, in the order of ``values``' columns.
    source : str
        Where the data came from: a file path, ``"DataFrame"`` or ``"ndarray"``.
    skipped : tuple of str
        Non-numeric columns that were left out because ``columns`` was not given (reported as a warning).
    n_dropped : int
        Rows dropped for NaN/inf values (only with ``dropna=True``; reported as a warning).
    schema : Schema or None
        The kind and support of every column of ``values`` (:mod:`heavytail_diffusion.schema`), then of the
        ``extra`` columns. Categorical columns with text or boolean levels hold codes 0..K-1 in ``values``
        (the labels are ``schema[name].categories``). None for tables built by hand (models infer it).
    extra : DataFrame or None
        The ``id`` and ``time`` columns, not modelled, row-aligned with ``values`` (dates parsed; the time
        axis of the EVT workflow).
    """

    values: np.ndarray
    columns: tuple[str, ...]
    source: str
    skipped: tuple[str, ...] = field(default=())
    n_dropped: int = 0
    schema: Schema | None = None
    extra: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.values, np.ndarray)
            or self.values.ndim != 2
            or self.values.dtype != np.float64
        ):
            raise TypeError("Table.values must be a 2-D float64 ndarray")
        if len(self.columns) != self.values.shape[1]:
            raise ValueError(f"Table has {self.values.shape[1]} value columns but {len(self.columns)} names")

    @property
    def n(self) -> int:
        """Number of rows (observations)."""
        return int(self.values.shape[0])

    @property
    def d(self) -> int:
        """Number of columns (dimensions)."""
        return int(self.values.shape[1])

    def to_frame(self, labels: bool = False) -> pd.DataFrame:
        """The table as a DataFrame (a copy) with the column names.

        With ``labels=True`` categorical codes become their labels, integer columns integers, and the
        ``extra`` (id/time) columns are appended.
        """
        if not labels or self.schema is None:
            return pd.DataFrame(self.values.copy(), columns=list(self.columns))
        df = frame_from_values(self.values, self.schema.select(self.columns))
        if self.extra is not None:
            df = pd.concat([df, self.extra.reset_index(drop=True)], axis=1)
        return df

    def __repr__(self) -> str:
        cols = ", ".join(self.columns[:6]) + (", ..." if self.d > 6 else "")
        return f"Table(n={self.n}, d={self.d}, columns=({cols}), source={self.source!r})"


# ----------------------------------------------------------------------------------------------------------
# Row locations as a user sees them
# ----------------------------------------------------------------------------------------------------------


def _to_float(col: pd.Series) -> tuple[np.ndarray, int | None]:
    """Convert a column to float64. Returns (values, position of the first unconvertible value or None).

    Empty strings and the usual missing markers (NA, NaN, null, ...) become NaN; "inf" becomes inf.
    """
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        if pd.api.types.is_complex_dtype(col):
            return np.full(len(col), np.nan), 0
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan), None
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        return np.full(len(col), np.nan), 0 if len(col) else None
    s = col.astype("string").str.strip()
    missing = s.isna() | s.str.lower().isin(_MISSING)
    s = s.mask(missing)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & ~missing
    first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else None
    return num.to_numpy(dtype=np.float64, na_value=np.nan), first


def _describe_nonnumeric(col: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(col):
        return "date/time"
    sample = col.dropna().astype(str).head(20)
    if len(sample):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() >= 0.8:
            return "date/time"
    return "text"


def _bad_value_message(name: str, col: pd.Series, first: int, origin: _Origin) -> str:
    value = col.iloc[first]
    hint = " (this looks like a date/time column)" if _describe_nonnumeric(col) == "date/time" else ""
    if isinstance(value, str) and value.strip().replace(",", "", 1).lstrip("-+").isdigit() and "," in value:
        hint = " (a decimal comma or thousands separator? write numbers like 1234.5)"
    return (
        f"{origin.label}: column {name!r} is not numeric: value {value!r} in {origin.row(first)} "
        f"cannot be read as a number{hint}"
    )


# ----------------------------------------------------------------------------------------------------------
# load_table
# ----------------------------------------------------------------------------------------------------------


def _parse_columns(columns) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        cols = [c.strip() for c in columns.split(",")]
    elif isinstance(columns, (Sequence, np.ndarray, pd.Index)):
        cols = [str(c).strip() for c in columns]
    else:
        raise DataError(f"columns must be a list of names or a comma-separated string, got {columns!r}")
    if not cols or any(c == "" for c in cols):
        raise DataError(f"columns {columns!r} contains an empty name")
    _check_duplicates(cols, "columns argument")
    return cols


def _unknown_column(name: str, available: list[str], label: str) -> DataError:
    near = difflib.get_close_matches(name, available, n=3, cutoff=0.6)
    near += [a for a in available if a.lower() == name.lower() and a not in near]
    hint = f" (did you mean {' or '.join(repr(c) for c in near)}?)" if near else ""
    shown = ", ".join(repr(a) for a in available[:30]) + (" ..." if len(available) > 30 else "")
    return DataError(f"{label}: no column named {name!r}{hint}. Available columns: {shown}")


def load_table(
    source,
    columns=None,
    dropna: bool = False,
    *,
    min_rows: int = MIN_ROWS,
    schema=None,
    sep: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> Table:
    """Load and validate a table, with the kind of every column (:mod:`heavytail_diffusion.schema`).

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or numpy.ndarray
        A delimited text file (``.csv``, ``.txt``, ``.dat``: delimiter ``,``, ``;`` or tab detected from the
        header; ``.tsv``/``.tab``: tab; optionally ``.gz``/``.bz2``/``.xz`` compressed), a parquet file
        (``.parquet``/``.pq``), a DataFrame, or a 1-D (one column ``"x"``) or 2-D array (columns ``x0, x1, ...``).
    columns : list of str or str, optional
        Columns to keep, in this order; a string is split on commas (``"Loss,ALAE"``). When omitted, every
        column the toolkit can model is kept: numbers, booleans and text with few distinct values
        (categorical); free text is skipped, and ``id``/``time`` columns go to ``Table.extra``, each with a
        :class:`DataWarning` naming them and why. A requested free-text column is an error.
    dropna : bool
        If True, rows with a NaN, an empty cell or +-inf in any kept column are dropped and their number is
        reported as a :class:`DataWarning`; otherwise such values are an error.
    min_rows : int
        Fewest rows accepted (default 20).
    schema : dict, Schema or None
        Declared kinds, e.g. ``{"profits": "nonnegative", "loss": "bounded:lower=1.2e6", "year": "time"}``
        (see :func:`heavytail_diffusion.schema.parse_schema_items`); other columns are inferred.
    sep, decimal, thousands : str, optional
        Field delimiter, decimal mark and thousands separator of a text file. By default the delimiter is
        detected, and a column written with a decimal comma (``1,5`` in a ``;`` file; ``1.234,5``) or
        thousands separators (``"1,234,567"``) is read as numbers with a note; an ambiguous one is an error
        naming these options.

    Returns
    -------
    Table
        ``values`` float64 of shape (n, d), all finite, no constant column; integer and boolean columns
        become float64, categorical text becomes codes; ``schema`` and ``extra`` as in :class:`Table`.

    Raises
    ------
    DataError
        With the file, column and first offending row in the message, for: a missing file or a directory,
        an unsupported or unreadable file, an empty file (0 bytes or a header only), duplicate column names,
        an unknown column (close matches suggested), a requested free-text column, no column to model,
        NaN/inf values (without ``dropna``), fewer than ``min_rows`` rows, a constant column, a value outside
        a declared support, an ambiguous decimal/thousands separator.

    Notes
    -----
    Rows in messages are counted from 1 = first data row; for text files the file line is given too
    (the header is line 1). Missing markers: empty cell, NA, N/A, NaN, null, None, #N/A (any case).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from heavytail_diffusion.data import load_table
    >>> frame = pd.DataFrame({"loss": [1.5 * i**2 + 1 for i in range(30)], "region": ["north", "south"] * 15})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     frame.to_csv(Path(folder) / "claims.csv", index=False)
    ...     table = load_table(Path(folder) / "claims.csv")
    >>> table.columns, table.values.shape
    (('loss', 'region'), (30, 2))
    >>> table.schema["loss"].kind, table.schema["region"].kind
    ('positive', 'categorical')
    """
    df, origin = _as_frame(source, sep=sep, decimal=decimal, thousands=thousands)
    label = origin.label
    available = [str(c) for c in df.columns]
    if df.shape[1] == 0:
        raise DataError(f"{label}: no columns found")
    if df.shape[0] == 0:
        what = "has a header but no data rows" if origin.kind == "text" else "has no rows"
        raise DataError(f"{label}: {what}")

    if isinstance(columns, str) and columns.strip() in available:
        columns = [columns.strip()]  # a single name that itself contains a comma
    wanted = _parse_columns(columns)
    decl = normalise_declarations(schema)
    for name in [*(wanted or []), *decl]:
        if name not in available:
            raise _unknown_column(name, available, label)
    # names of arrays (x0, x1, ...) say nothing; a one-column file is data, never an id or a time axis
    named = origin.kind != "ndarray" and len(wanted if wanted is not None else available) > 1
    cols = _Columns()
    for name in wanted if wanted is not None else available:
        cols.add(name, df[name], origin, decl, named=named, requested=wanted is not None,
                 decimal=decimal, thousands=thousands)  # fmt: skip
    cols.report(label, available)

    X = np.column_stack(cols.arrays).astype(np.float64, copy=False)
    X, extra, specs, n_dropped = _drop_nonfinite(X, cols, origin, dropna, decl, named)
    _check_rows(X, cols.kept, label, min_rows, n_dropped)
    extra_frame = pd.DataFrame(extra) if extra else None
    return Table(
        np.ascontiguousarray(X), tuple(cols.kept), label, tuple(cols.skipped), n_dropped,
        schema=Schema([*specs, *cols.extra_specs]), extra=extra_frame,
    )  # fmt: skip


def _column_values(name: str, col: pd.Series, origin: _Origin, decl: dict, decimal, thousands):
    """A column's float values, the first row that is not a number (None when all are) and the series the
    schema is inferred from; localised numbers (decimal comma, thousands separators) are read with a note;
    a column of numbers with a few stray strings is an error."""
    note = None
    vals, first = _to_float(col)
    if first is not None and not pd.api.types.is_datetime64_any_dtype(col):
        local = _localised_numbers(name, col, origin)
        if local is not None and (decimal is not None or thousands is not None):
            raise DataError(
                f"{origin.label}: column {name!r} holds numbers such as {col.dropna().iloc[0]!r}, which the given "
                f"--decimal {decimal or '.'!r} / --thousands {thousands!r} do not read; fix those options"
            )
        if local is not None:
            vals, how = local
            first = None
            note = f"read {name!r} with {how}"
    numeric = first is None
    raw = pd.Series(vals, name=name) if numeric else col
    if not numeric and _describe_nonnumeric(col) == "text" and name not in decl:
        n_present = int(col.notna().sum())
        n_ok = int(np.isfinite(vals).sum()) + int(np.isinf(vals).sum())
        if n_present and n_ok / n_present >= 0.5:
            # mostly numbers with a few stray strings: a data error, not a text column to skip
            raise DataError(
                _bad_value_message(name, col, first, origin)
                + f"; {n_present - n_ok} of {n_present} values in this column are not numbers"
            )
    return vals, first, raw, note


class _Columns:
    """The columns of :func:`load_table` sorted into modelled, skipped and extra (id/time) ones."""

    def __init__(self):
        self.kept: list[str] = []
        self.arrays: list[np.ndarray] = []
        self.specs: list[ColumnSpec] = []
        self.extra: dict[str, pd.Series] = {}
        self.extra_specs: list[ColumnSpec] = []
        self.skipped: list[str] = []
        self.skip_notes: list[str] = []
        self.notes: list[str] = []

    def add(self, name, col, origin, decl, *, named, requested, decimal, thousands) -> None:
        vals, first, raw, note = _column_values(name, col, origin, decl, decimal, thousands)
        if note is not None:
            self.notes.append(note)
        spec = infer_column(name, raw, decl.get(name), named=named)
        if spec is not None and spec.coded and len(spec.categories) == 1 and not requested:
            self.skipped.append(name)
            self.skip_notes.append(f"{name!r} (constant: every value is {spec.categories[0]!r})")
            return
        if spec is None:  # free text
            if requested:
                raise DataError(_bad_value_message(name, col, first, origin))
            self.skipped.append(name)
            self.skip_notes.append(f"{name!r} (text, e.g. {col.iloc[first]!s:.30})")
            return
        if not spec.modelled:
            self.extra[name] = _extra_column(col, spec)
            self.extra_specs.append(spec)
            return
        if spec.kind == "categorical" and spec.coded:
            vals = _codes(col, spec)
        self.kept.append(name)
        self.arrays.append(vals)
        self.specs.append(spec)

    def report(self, label: str, available: list[str]) -> None:
        """Fail when no column is left to model; report the skipped and extra columns and the notes."""
        if not self.kept:
            if self.extra_specs:
                shown = ", ".join(f"{s.name!r} ({s.kind}: {s.note})" for s in self.extra_specs)
                raise DataError(
                    f"{label}: no column to model: {shown} are not modelled. Declare a kind to model one "
                    "(schema={'col': 'integer'} / CLI --schema COL=integer)"
                )
            raise DataError(
                f"{label}: no numeric column found (columns: {', '.join(repr(a) for a in available)}); "
                "check the delimiter and the decimal separator (--sep, --decimal, --thousands)"
            )
        if self.skipped or self.extra_specs:
            parts = []
            if self.skipped:
                parts.append(f"skipped {len(self.skipped)} non-numeric column(s): {', '.join(self.skip_notes)}")
            if self.extra_specs:
                parts.append(
                    "not modelled: " + ", ".join(f"{s.name!r} ({s.kind}: {s.note})" for s in self.extra_specs)
                )
            how = "Choose columns explicitly (columns=... / CLI --columns) or declare kinds (--schema) to change this"
            _report(f"{label}: {'; '.join(parts)}; kept {', '.join(repr(k) for k in self.kept)}. {how}", 4)
        for note in self.notes:
            _report(f"{label}: {note}", 4)  # 4: the warning points at the caller of load_table


def _drop_nonfinite(X: np.ndarray, cols: _Columns, origin: _Origin, dropna: bool, decl: dict, named: bool):
    """Rows with NaN/inf: an error naming the first one, or (``dropna``) dropped with a note and the schema
    re-inferred on the rows that remain. Returns ``(X, extra, specs, n_dropped)``."""
    label, kept, extra, specs = origin.label, cols.kept, cols.extra, cols.specs
    bad = ~np.isfinite(X)
    if not bad.any():
        return X, extra, specs, 0
    rows = np.flatnonzero(bad.any(axis=1))
    i = int(rows[0])
    j = int(np.flatnonzero(bad[i])[0])
    kind = "missing value (empty/NaN)" if np.isnan(X[i, j]) else f"{X[i, j]:+} value"
    per_col = ", ".join(f"{kept[c]!r}: {int(bad[:, c].sum())}" for c in range(X.shape[1]) if bad[:, c].any())
    if not dropna:
        raise DataError(
            f"{label}: column {kept[j]!r} has a {kind} in {origin.row(i)}; "
            f"{len(rows)} of {X.shape[0]} rows have NaN/inf values (per column: {per_col}). "
            "Clean the data, choose other columns, or pass dropna=True (CLI: --dropna) to drop those rows"
        )
    n_dropped = len(rows)
    _report(
        f"{label}: dropped {n_dropped} of {X.shape[0]} rows with NaN/inf values "
        f"(per column: {per_col}; first: {origin.row(i)}); {X.shape[0] - n_dropped} rows remain",
        4,
    )
    keep = ~bad.any(axis=1)
    X = X[keep]
    extra = {k: v[keep].reset_index(drop=True) for k, v in extra.items()}
    # re-infer on the kept rows (atoms and categories of the rows that remain)
    specs = [
        s if s.kind == "categorical" else infer_column(s.name, pd.Series(X[:, j]), decl.get(s.name), named=named)
        for j, s in enumerate(specs)
    ]
    return X, extra, specs, n_dropped


def _check_rows(X: np.ndarray, kept: list[str], label: str, min_rows: int, n_dropped: int) -> None:
    """At least ``min_rows`` rows and no constant column."""
    if X.shape[0] < min_rows:
        after = f" after dropping {n_dropped} rows with NaN/inf values" if n_dropped else ""
        raise DataError(
            f"{label}: only {X.shape[0]} rows{after}; at least {min_rows} are needed for tail estimation"
        )
    for j in range(X.shape[1]):
        if np.all(X[:, j] == X[0, j]):
            raise DataError(
                f"{label}: column {kept[j]!r} is constant (all {X.shape[0]} values are {X[0, j]:g}); "
                "drop it (columns=...) since it carries no information"
            )


def _codes(col: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """Codes 0..K-1 of a text/boolean categorical column (NaN where missing)."""
    index = {c: i for i, c in enumerate(spec.categories)}
    index.update({str(c): i for i, c in enumerate(spec.categories)})
    out = np.full(len(col), np.nan)
    for r, v in enumerate(col.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        key = v.item() if isinstance(v, np.generic) else v
        code = index.get(key, index.get(str(key).strip()))
        if code is None:
            raise DataError(f"column {spec.name!r}: value {v!r} is not one of its declared categories {spec.categories}")
        out[r] = code
    return out


def _extra_column(col: pd.Series, spec: ColumnSpec) -> pd.Series:
    """An id/time column as carried in Table.extra (dates parsed)."""
    if spec.kind == "time" and not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_datetime64_any_dtype(col):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(col, errors="coerce", format="mixed")
        if parsed.notna().sum() >= 0.8 * col.notna().sum():
            return parsed.reset_index(drop=True)
    return col.reset_index(drop=True)


_DECIMAL_COMMA = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+(?:[eE][+-]?\d+)?"
_THOUSANDS_COMMA = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


def _localised_numbers(name: str, col: pd.Series, origin: _Origin) -> tuple[np.ndarray, str] | None:
    """Read a text column written with a decimal comma or thousands separators, or None if it is not one.

    ``1,5`` and ``1.234,5`` are decimal commas; ``1,234,567`` and ``1,234.5`` are thousands separators;
    ``1,234`` alone is ambiguous: a decimal comma in a ``;``-separated file (the European convention),
    thousands in a ``,``-separated one (quoted), an error otherwise.
    """
    s = col.dropna().astype(str).str.strip()
    s = s[~s.str.lower().isin(_MISSING)]
    if s.empty or not s.str.contains(",").any():
        return None
    dec = s.str.fullmatch(_DECIMAL_COMMA) | s.str.fullmatch(r"[+-]?\d+(?:\.\d+)?")
    thou = s.str.fullmatch(_THOUSANDS_COMMA) | s.str.fullmatch(r"[+-]?\d+(?:\.\d+)?")
    if dec.mean() < 0.95 and thou.mean() < 0.95:
        return None
    with_comma = s[s.str.contains(",")]
    ambiguous = with_comma.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+").all()
    if dec.mean() >= 0.95 and not (thou.mean() >= 0.95 and ambiguous):
        mode = "decimal"
    elif thou.mean() >= 0.95 and not (dec.mean() >= 0.95 and ambiguous):
        mode = "thousands"
    elif origin.sep == ";":
        mode = "decimal"
    elif origin.sep == ",":
        mode = "thousands"
    else:
        raise DataError(
            f"{origin.label}: column {name!r} holds numbers such as {with_comma.iloc[0]!r} that could use a "
            "decimal comma or a thousands separator; say which with --decimal , or --thousands , "
            "(Python: load_table(..., decimal=',') / thousands=',')"
        )
    text = col.astype("string").str.strip()
    text = text.mask(text.str.lower().isin(_MISSING))
    if mode == "decimal":
        conv = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        how = "a decimal comma (pass --decimal , to say so, or --decimal . to refuse)"
    else:
        conv = text.str.replace(",", "", regex=False)
        how = "',' as thousands separator (pass --thousands , to say so)"
    vals = pd.to_numeric(conv, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(vals[text.notna().to_numpy()]).any():
        return None
    return vals, how


def frame_from_values(values: np.ndarray, schema: Schema) -> pd.DataFrame:
    """Values (n, d) in the Table representation -> DataFrame with labels and integer dtypes by kind.

    Parameters
    ----------
    values : array_like, shape (n, d)
        Rows in the :class:`Table` representation (coded categorical columns hold codes 0..K-1).
    schema : Schema
        One spec per column, in the order of ``values``' columns (e.g. ``table.schema.select(table.columns)``;
        extra id/time specs must not be included).

    Returns
    -------
    frame : DataFrame, shape (n, d)
        Columns named by the specs: a coded categorical column as its labels (object dtype), an integer
        column, or a categorical one with whole values, as int64 when every |value| < 2**63, any other as
        float64.
    """
    values = np.asarray(values, dtype=np.float64)
    cols = {}
    for j, spec in enumerate(schema):
        v = values[:, j]
        if spec.kind == "categorical" and spec.coded:
            labels = np.asarray(spec.categories, dtype=object)
            cols[spec.name] = pd.Series(labels[v.astype(np.int64)], dtype=object)
        elif (spec.kind == "integer" or (spec.kind == "categorical" and np.all(v == np.round(v)))) and np.all(
            np.abs(v) < 2.0**63
        ):  # integers as int64 (counts beyond its range, drawn from a heavy tail, stay float)
            cols[spec.name] = pd.Series(v.astype(np.int64))
        else:
            cols[spec.name] = pd.Series(v)
    return pd.DataFrame(cols)


def as_table(X, columns=None, schema=None, *, min_rows: int = MIN_ROWS) -> Table:
    """The training table of a model: a :class:`Table` as it is (with ``schema`` declarations applied on
    top of its own), a DataFrame or an array through :func:`load_table`; ``columns`` renames the columns
    (arrays, DataFrames) or must list a Table's columns in order.

    Parameters
    ----------
    X : Table, DataFrame or array_like, shape (n, d)
        The data; a numeric array (1-D is one column; text or object dtypes are refused, pass a DataFrame).
    columns : sequence of str, optional
        d column names. For a Table, names that differ from its own rename it; its schema (declared kinds,
        coded text categories) follows the renamed columns.
    schema : dict, Schema or None
        Column declarations (:func:`load_table`); for a Table they are applied on top of its own schema.
    min_rows : int, default MIN_ROWS (20)
        Fewest rows accepted (:func:`load_table`); not checked for a Table.

    Returns
    -------
    table : Table
        With a schema for every column (inferred where neither the Table nor ``schema`` gives one); source
        ``"ndarray"`` for an array.

    Raises
    ------
    DataError
        For a wrong number of column names, a non-numeric or non-2-D array, or what :func:`load_table` refuses.
    """
    if isinstance(X, Table):
        table = X
        if columns is not None and tuple(map(str, columns)) != table.columns:
            if len(columns) != table.d:
                raise DataError(f"{len(columns)} column names given for {table.d} columns")
            rename = dict(zip(table.columns, map(str, columns)))
            renamed = None if table.schema is None else Schema(
                dataclasses.replace(spec, name=rename.get(spec.name, spec.name)) for spec in table.schema
            )  # the declared and inferred kinds (coded categories included) follow their columns
            table = Table(table.values, tuple(rename.values()), table.source, table.skipped, table.n_dropped,
                          schema=renamed, extra=table.extra)  # fmt: skip
        if table.schema is None:
            table = _with_schema(table, Schema([]))
        return _with_schema(table, table.schema, decl=normalise_declarations(schema)) if schema else table
    if isinstance(X, pd.DataFrame):
        frame = X
        if columns is not None:
            if len(columns) != X.shape[1]:
                raise DataError(f"{len(columns)} column names given for {X.shape[1]} columns")
            frame = X.set_axis([str(c) for c in columns], axis=1)
        return load_table(frame, schema=schema, min_rows=min_rows)
    arr = np.asarray(X)
    if arr.dtype == object or arr.dtype.kind in "US":
        raise DataError(f"X must be numeric, got an array of dtype {arr.dtype} (pass a DataFrame for text columns)")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"X must be 2-D (n rows, d columns), got shape {arr.shape}")
    if columns is not None:
        if len(columns) != arr.shape[1]:
            raise DataError(f"{len(columns)} column names given for {arr.shape[1]} columns")
        frame = pd.DataFrame(arr, columns=[str(c) for c in columns])
        table = load_table(frame, schema=schema, min_rows=min_rows)
        return Table(table.values, table.columns, "ndarray", table.skipped, table.n_dropped, table.schema, table.extra)
    return load_table(arr, schema=schema, min_rows=min_rows)


def _with_schema(table: Table, schema: Schema, decl: dict | None = None) -> Table:
    """``table`` with the specs of ``schema`` where present, inferred for the other columns, and the
    declarations ``decl`` applied (re-inferred from the values). The value columns of a Table are data by
    construction: they are never inferred as id/time."""
    named = False
    decl = decl or {}
    extra_names = set(table.extra.columns) if table.extra is not None else set()
    for name, d in decl.items():
        if name in extra_names and d["kind"] not in ("id", "time"):
            raise DataError(
                f"column {name!r} was loaded as {schema[name].kind if name in schema else 'id/time'} and is not in "
                "the table's values; declare its kind when loading (load_table(..., schema=...) / CLI --schema)"
            )
        if name not in table.columns and name not in extra_names:
            raise DataError(f"schema names column {name!r}, which the table does not have ({', '.join(table.columns)})")
    specs = []
    for j, name in enumerate(table.columns):
        old = schema[name] if name in schema else None  # noqa: SIM401 (Schema has no .get)
        if name in decl:
            if old is not None and old.coded:
                if decl[name]["kind"] != "categorical":
                    raise DataError(
                        f"column {name!r} holds text categories {old.categories[:4]}; it cannot be declared "
                        f"{decl[name]['kind']!r}"
                    )
                specs.append(old)
                continue
            if decl[name]["kind"] in ("id", "time"):
                raise DataError(f"column {name!r}: declare id/time columns when loading the table")
            specs.append(infer_column(name, pd.Series(table.values[:, j]), decl[name], named=named))
        else:
            specs.append(old or infer_column(name, pd.Series(table.values[:, j]), None, named=named))
    extra_specs = [s for s in schema if s.name in extra_names]
    return Table(table.values, table.columns, table.source, table.skipped, table.n_dropped,
                 schema=Schema([*specs, *extra_specs]), extra=table.extra)  # fmt: skip
