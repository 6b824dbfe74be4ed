"""Validated tables from files, DataFrames and arrays, and the bundled real heavy-tailed datasets."""

from __future__ import annotations

import bz2
import difflib
import gzip
import logging
import lzma
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "MIN_ROWS",
    "DataWarning",
    "Table",
    "dataset_path",
    "list_datasets",
    "load_dataset",
    "load_table",
]

logger = logging.getLogger(__name__)

#: Fewest rows :func:`load_table` accepts by default: tail estimators are meaningless below this.
MIN_ROWS = 20

_TEXT_EXTS = {".csv", ".tsv", ".tab", ".txt", ".dat"}
_PARQUET_EXTS = {".parquet", ".pq"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# Strings that mean "missing" in a numeric column (besides the empty string); case-insensitive.
_MISSING = {"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>"}


class DataWarning(UserWarning):
    """Something was skipped or dropped while loading a table (the data are usable, but check this)."""


def _report(msg: str) -> None:
    """Report a non-fatal change to the data: as a warning (always shown) and a log record."""
    logger.info(msg)
    warnings.warn(msg, DataWarning, stacklevel=3)


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
    """

    values: np.ndarray
    columns: tuple[str, ...]
    source: str
    skipped: tuple[str, ...] = field(default=())
    n_dropped: int = 0

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

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (a copy) with the column names."""
        return pd.DataFrame(self.values.copy(), columns=list(self.columns))

    def __repr__(self) -> str:
        cols = ", ".join(self.columns[:6]) + (", ..." if self.d > 6 else "")
        return f"Table(n={self.n}, d={self.d}, columns=({cols}), source={self.source!r})"


# ----------------------------------------------------------------------------------------------------------
# Row locations as a user sees them
# ----------------------------------------------------------------------------------------------------------


class _Origin:
    """Where a table came from, and how to describe row i (0-based position) of it to a user.

    Rows are always counted from 1 = first data row. For text files the physical line number is added
    (the header is line 1; quoted fields spanning lines and blank lines are accounted for).
    """

    def __init__(
        self,
        label: str,
        kind: str,
        path: Path | None = None,
        sep: str = ",",
        index=None,
        encoding: str = "utf-8-sig",
        keep_blank: bool = False,
    ):
        self.label, self.kind, self.path, self.sep, self.index = label, kind, path, sep, index
        self.encoding, self.keep_blank = encoding, keep_blank
        self._lines: list[int] | None = None

    def _line_numbers(self) -> list[int]:
        """File line (1-based) on which each data record starts, computed only when an error needs it."""
        if self._lines is None:
            import csv

            lines: list[int] = []
            with _open_text(self.path, self.encoding) as fh:
                reader = csv.reader(fh, delimiter=self.sep)
                start = 1
                header_seen = False
                for rec in reader:
                    blank = not rec or (len(rec) == 1 and not rec[0].strip())
                    if not blank or (self.keep_blank and header_seen):
                        if header_seen:
                            lines.append(start)
                        header_seen = True
                    start = reader.line_num + 1
            self._lines = lines
        return self._lines

    def row(self, i: int) -> str:
        """Describe row i (0-based position in the loaded data) the way the user sees it."""
        if self.kind == "text":
            try:
                line = self._line_numbers()[i]
                return f"row {i + 1} of the data (line {line} of the file)"
            except (IndexError, OSError, UnicodeDecodeError):  # pragma: no cover - defensive
                return f"row {i + 1} of the data"
        if self.kind == "DataFrame" and self.index is not None:
            return f"row {i + 1} of the data (index label {self.index[i]!r})"
        if self.kind == "ndarray":
            return f"row {i + 1} of the data (array index {i})"
        return f"row {i + 1} of the data"


def _open_text(path: Path, encoding: str = "utf-8-sig"):
    opener = _COMPRESSION.get(path.suffix.lower())
    if opener is not None:
        return opener(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


# ----------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------


def _file_kind(path: Path) -> tuple[str, str | None]:
    """('text'|'parquet', compression suffix or None) from the file name, or DataError."""
    suffixes = [s.lower() for s in path.suffixes]
    comp = suffixes[-1] if suffixes and suffixes[-1] in _COMPRESSION else None
    ext = (suffixes[-2] if len(suffixes) >= 2 else "") if comp else (suffixes[-1] if suffixes else "")
    if ext in _TEXT_EXTS:
        return "text", comp
    if ext in _PARQUET_EXTS and comp is None:
        return "parquet", None
    supported = ", ".join(sorted(_TEXT_EXTS | _PARQUET_EXTS))
    hint = " (save the sheet as CSV first)" if ext in {".xls", ".xlsx", ".ods"} else ""
    raise DataError(
        f"{path}: unsupported file type {''.join(path.suffixes) or '(no extension)'}{hint}; "
        f"supported: {supported}, text files optionally compressed as .gz/.bz2/.xz"
    )


def _split_header(line: str, sep: str) -> list[str]:
    import csv

    return next(csv.reader([line], delimiter=sep), [])


def _sniff_sep(path: Path, ext: str) -> tuple[str, str]:
    """Delimiter of a text table (tab for .tsv/.tab, else the most frequent of , ; tab in the header)
    and the encoding that reads it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with _open_text(path, encoding) as fh:
                header = ""
                for line in fh:
                    if line.strip():
                        header = line
                        break
            break
        except UnicodeDecodeError:
            continue
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: cannot read the file ({exc})") from None
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise DataError(f"{path}: not a text file (cannot decode it as UTF-8 or Windows-1252)")
    if "\x00" in header:
        raise DataError(f"{path}: looks like a binary file, not a delimited text table")
    if encoding != "utf-8-sig":
        _report(f"{path}: not valid UTF-8; read it as Windows-1252 (check non-ASCII column names)")
    if ext in {".tsv", ".tab"}:
        return "\t", encoding
    counts = {sep: len(_split_header(header, sep)) - 1 for sep in (",", ";", "\t")}
    sep = max(counts, key=lambda s: (counts[s], s == ","))
    return (sep if counts[sep] > 0 else ","), encoding


def _read_file(path: Path) -> tuple[pd.DataFrame, _Origin]:
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise DataError(f"{path}: file not found{hint}")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a data file")
    kind, comp = _file_kind(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc})") from None
    if size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    if kind == "parquet":
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError, ImportError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise DataError(f"{path}: cannot read as parquet ({type(exc).__name__}: {exc})") from None
        _check_duplicates(list(map(str, df.columns)), str(path))
        return df, _Origin(str(path), "parquet", path)

    ext = Path(path.stem).suffix.lower() if comp else path.suffix.lower()
    sep, encoding = _sniff_sep(path, ext)
    try:
        raw_header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header and no data)") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse the header ({type(exc).__name__}: {exc})") from None
    names = ["" if pd.isna(v) else str(v).strip() for v in raw_header.iloc[0].tolist()]
    _check_duplicates(names, str(path))
    # In a one-column file an empty value is an empty line: keep those as missing values (never drop
    # them silently); in wider files blank lines carry no data and are skipped.
    one_col = len(names) == 1
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            encoding=encoding,
            na_values=sorted(_MISSING - {""}),
            keep_default_na=True,
            skipinitialspace=True,
            skip_blank_lines=not one_col,
        )
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: not a consistent table with delimiter {sep!r} ({exc})") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if one_col and len(df):
        n_trailing = _trailing_blank_lines(path, encoding)
        if n_trailing:
            df = df.iloc[: len(df) - n_trailing]
    origin = _Origin(str(path), "text", path, sep=sep, encoding=encoding, keep_blank=one_col)
    return df, origin


def _trailing_blank_lines(path: Path, encoding: str) -> int:
    """Number of blank lines at the end of a text file (after the last line with content)."""
    with _open_text(path, encoding) as fh:
        lines = fh.read().splitlines()
    k = 0
    while k < len(lines) and not lines[len(lines) - 1 - k].strip():
        k += 1
    return k


def _check_duplicates(names: Sequence[str], label: str) -> None:
    seen: dict[str, int] = {}
    for j, nm in enumerate(names):
        if nm in seen:
            raise DataError(
                f"{label}: duplicate column name {nm!r} (columns {seen[nm] + 1} and {j + 1}); "
                "rename one so every column can be selected unambiguously"
            )
        seen[nm] = j


def _as_frame(source) -> tuple[pd.DataFrame, _Origin]:
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        return _read_file(path)
    if isinstance(source, pd.Series):
        source = source.to_frame(name=str(source.name) if source.name is not None else "x")
    if isinstance(source, pd.DataFrame):
        names = [str(c) for c in source.columns]
        _check_duplicates(names, "DataFrame")
        df = source.copy()
        df.columns = names
        return df.reset_index(drop=True), _Origin("DataFrame", "DataFrame", index=source.index)
    if isinstance(source, (np.ndarray, list, tuple)):
        arr = np.asarray(source)
        if arr.ndim == 1:
            df = pd.DataFrame({"x": arr})
        elif arr.ndim == 2:
            df = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
        else:
            raise DataError(f"ndarray source must be 1-D or 2-D, got shape {arr.shape}")
        return df, _Origin("ndarray", "ndarray")
    raise DataError(
        f"load_table: source must be a file path (str or Path), a pandas DataFrame or a numpy array, "
        f"got {type(source).__name__}"
    )


# ----------------------------------------------------------------------------------------------------------
# Column typing
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


def load_table(source, columns=None, dropna: bool = False, *, min_rows: int = MIN_ROWS) -> Table:
    """Load and validate a numeric table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or numpy.ndarray
        A delimited text file (``.csv``, ``.txt``, ``.dat``: delimiter ``,``, ``;`` or tab detected from the
        header; ``.tsv``/``.tab``: tab; optionally ``.gz``/``.bz2``/``.xz`` compressed), a parquet file
        (``.parquet``/``.pq``), a DataFrame, or a 1-D (one column ``"x"``) or 2-D array (columns ``x0, x1, ...``).
    columns : list of str or str, optional
        Columns to keep, in this order; a string is split on commas (``"Loss,ALAE"``). When omitted, every
        numeric column is kept and non-numeric ones (dates, text) are skipped with a :class:`DataWarning`
        naming them. A requested column that is not numeric is an error.
    dropna : bool
        If True, rows with a NaN, an empty cell or +-inf in any kept column are dropped and their number is
        reported as a :class:`DataWarning`; otherwise such values are an error.
    min_rows : int
        Fewest rows accepted (default 20).

    Returns
    -------
    Table
        ``values`` float64 of shape (n, d), all finite, no constant column; integer and boolean columns
        become float64.

    Raises
    ------
    DataError
        With the file, column and first offending row in the message, for: a missing file or a directory,
        an unsupported or unreadable file, an empty file (0 bytes or a header only), duplicate column names,
        an unknown column (close matches suggested), a requested non-numeric column, no numeric column at
        all, NaN/inf values (without ``dropna``), fewer than ``min_rows`` rows, a constant column.

    Notes
    -----
    Rows in messages are counted from 1 = first data row; for text files the file line is given too
    (the header is line 1). Missing markers: empty cell, NA, N/A, NaN, null, None, #N/A (any case).
    """
    df, origin = _as_frame(source)
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
    skipped: list[str] = []
    kept: list[str] = []
    arrays: list[np.ndarray] = []
    if wanted is not None:
        for name in wanted:
            if name not in available:
                raise _unknown_column(name, available, label)
        for name in wanted:
            vals, first = _to_float(df[name])
            if first is not None:
                if pd.api.types.is_datetime64_any_dtype(df[name]):
                    raise DataError(f"{label}: column {name!r} holds dates/times, not numbers")
                raise DataError(_bad_value_message(name, df[name], first, origin))
            kept.append(name)
            arrays.append(vals)
    else:
        skip_notes = []
        for name in available:
            col = df[name]
            vals, first = _to_float(col)
            if first is None:
                kept.append(name)
                arrays.append(vals)
                continue
            n_ok = int(np.isfinite(vals).sum()) + int(np.isinf(vals).sum())
            n_present = int(col.notna().sum())
            kind = _describe_nonnumeric(col)
            if kind == "text" and n_present and n_ok / n_present >= 0.5:
                # mostly numbers with a few stray strings: a data error, not a text column to skip
                raise DataError(
                    _bad_value_message(name, col, first, origin)
                    + f"; {n_present - n_ok} of {n_present} values in this column are not numbers"
                )
            skipped.append(name)
            skip_notes.append(f"{name!r} ({kind}, e.g. {col.iloc[first]!s:.30})")
        if not kept:
            raise DataError(
                f"{label}: no numeric column found (columns: {', '.join(repr(a) for a in available)}); "
                "check the delimiter and the decimal separator"
            )
        if skipped:
            _report(
                f"{label}: skipped {len(skipped)} non-numeric column(s): {', '.join(skip_notes)}; "
                f"kept {', '.join(repr(k) for k in kept)}. Choose columns explicitly (columns=... / CLI --columns) to silence this"
            )

    X = np.column_stack(arrays).astype(np.float64, copy=False)
    n_dropped = 0
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        i = int(rows[0])
        j = int(np.flatnonzero(bad[i])[0])
        kind = "missing value (empty/NaN)" if np.isnan(X[i, j]) else f"{X[i, j]:+} value"
        per_col = ", ".join(
            f"{kept[c]!r}: {int(bad[:, c].sum())}" for c in range(X.shape[1]) if bad[:, c].any()
        )
        if not dropna:
            raise DataError(
                f"{label}: column {kept[j]!r} has a {kind} in {origin.row(i)}; "
                f"{len(rows)} of {X.shape[0]} rows have NaN/inf values (per column: {per_col}). "
                "Clean the data, choose other columns, or pass dropna=True (CLI: --dropna) to drop those rows"
            )
        n_dropped = len(rows)
        _report(
            f"{label}: dropped {n_dropped} of {X.shape[0]} rows with NaN/inf values "
            f"(per column: {per_col}; first: {origin.row(i)}); {X.shape[0] - n_dropped} rows remain"
        )
        X = X[~bad.any(axis=1)]

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
    return Table(np.ascontiguousarray(X), tuple(kept), label, tuple(skipped), n_dropped)


# ----------------------------------------------------------------------------------------------------------
# Bundled datasets
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dataset:
    file: str
    description: str
    tail: str
    dates: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


_CSN = "Clauset, Shalizi & Newman (2009) Table 6.1, power law pdf exponent"
_DATASETS: dict[str, _Dataset] = {
    "danish": _Dataset(
        "danish_fire_1980_1990.csv",
        "Danish fire insurance losses 1980-1990, millions of DKK (Copenhagen Re)",
        "GPD xi ~ 0.5 above 10 MDKK (McNeil 1997); evd::fpot(u=10): xi 0.497, scale 6.975, 109 exceedances",
        dates=("date",),
        aliases=("danish_fire", "danish_fire_1980_1990"),
    ),
    "lossalae": _Dataset(
        "lossalae.csv",
        "General liability claims: indemnity Loss and ALAE expense, USD (Frees & Valdez 1998)",
        "",
        aliases=("loss_alae",),
    ),
    "sp500": _Dataset(
        "sp500_daily_1999_2018.csv",
        "S&P 500 index daily OHLC, volume and log-return, 1999-2018",
        "",
        dates=("date",),
        aliases=("sp500_daily", "sp500_daily_1999_2018", "s&p500"),
    ),
    "fort_collins": _Dataset(
        "fort_collins_precip_1900_1999.csv",
        "Daily precipitation, inches, one gauge in Fort Collins CO, 1900-1999",
        "GPD above 0.395 in (Katz, Parlange & Naveau 2002; extRemes)",
        aliases=("fort", "fort_collins_precip", "fort_collins_precip_1900_1999"),
    ),
    "crypto": _Dataset(
        "crypto_daily_2010_2018.csv",
        "Daily closing prices in USD of BTC, ETH, LTC, XRP, 2010-2018 (empty before a coin's first day)",
        "",
        dates=("date",),
        aliases=("crypto_daily", "crypto_daily_2010_2018"),
    ),
    "csn_words": _Dataset(
        "csn2009/words.csv",
        "Frequency of each distinct word in Moby Dick (CSN 2009)",
        f"alpha 1.95(2), xmin 7 ({_CSN})",
        aliases=("words",),
    ),
    "csn_cities": _Dataset(
        "csn2009/cities.csv",
        "Populations of US cities, 2000 census (CSN 2009)",
        f"alpha 2.37(8), xmin 52.46 thousand ({_CSN})",
        aliases=("cities",),
    ),
    "csn_terrorism": _Dataset(
        "csn2009/terrorism.csv",
        "Deaths in terrorist attacks worldwide 1968-2006 (CSN 2009)",
        f"alpha 2.4(2), xmin 12 ({_CSN})",
        aliases=("terrorism",),
    ),
    "csn_flares": _Dataset(
        "csn2009/flares.csv",
        "Peak gamma-ray intensity of solar flares 1980-1989 (CSN 2009)",
        f"alpha 1.79(2), xmin 323 ({_CSN})",
        aliases=("flares",),
    ),
    "csn_blackouts": _Dataset(
        "csn2009/blackouts.csv",
        "Customers affected by US electrical blackouts 1984-2002 (CSN 2009)",
        f"alpha 2.3(3), xmin 230 thousand ({_CSN})",
        aliases=("blackouts",),
    ),
}


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


_ALIASES = {_norm(a): key for key, ds in _DATASETS.items() for a in (key, *ds.aliases)}


def _resolve(name) -> str:
    if not isinstance(name, str) or _norm(name) not in _ALIASES:
        valid = ", ".join(_DATASETS)
        near = difflib.get_close_matches(_norm(str(name)), list(_ALIASES), n=2)
        hint = f" Did you mean {', '.join(repr(_ALIASES[n]) for n in near)}?" if near else ""
        raise DataError(f"unknown dataset {name!r}.{hint} Bundled datasets: {valid}")
    return _ALIASES[_norm(name)]


def _data_dir() -> Path:
    """Folder holding the bundled files: inside the installed package, else the checkout's data/."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_bundled_data", here.parent / "data"):
        if (cand / _DATASETS["danish"].file).is_file():
            return cand
    raise DataError(
        f"bundled data not found (looked in {here / '_bundled_data'} and {here.parent / 'data'}); "
        "reinstall the package with `pip install .` or run from a checkout"
    )


def dataset_path(name: str) -> Path:
    """Path of the file behind bundled dataset ``name`` (to pass to :func:`load_table` or the CLI)."""
    return _data_dir() / _DATASETS[_resolve(name)].file


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame, every column as in the file, date columns parsed.

    Parameters
    ----------
    name : str
        One of ``list_datasets().name`` (case-insensitive; file stems such as ``"danish_fire"`` also work).

    Returns
    -------
    pandas.DataFrame
        Missing values (e.g. crypto prices before a coin existed, the first S&P log-return) stay NaN;
        use :func:`load_table` with ``dropna=True`` for a validated numeric table.
    """
    key = _resolve(name)
    ds = _DATASETS[key]
    df = pd.read_csv(dataset_path(key), parse_dates=list(ds.dates) or False)
    return df


@lru_cache(maxsize=1)
def _shapes() -> dict[str, tuple[int, int]]:
    return {k: load_dataset(k).shape for k in _DATASETS}


def list_datasets() -> pd.DataFrame:
    """The bundled datasets: name, file (path relative to the data folder), rows, columns, description and
    a published tail figure (empty where none is stated in the provenance file).

    Rows and columns are counted from the files. See ``data/README.md`` for units, origin and licences.
    """
    shapes = _shapes()
    return pd.DataFrame(
        [
            {
                "name": k,
                "file": ds.file,
                "rows": shapes[k][0],
                "columns": shapes[k][1],
                "description": ds.description,
                "published_tail": ds.tail,
            }
            for k, ds in _DATASETS.items()
        ]
    )
