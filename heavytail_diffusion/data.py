"""Validated tables from files, DataFrames and arrays, and the bundled real heavy-tailed datasets."""

from __future__ import annotations

import bz2
import difflib
import gzip
import logging
import lzma
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
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


def _check_sep(sep: str) -> str:
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"}
    sep = names.get(sep.lower(), sep) if isinstance(sep, str) else sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in "\"'\n\r":
        raise DataError(f"--sep must be one character (',', ';', 'tab', '|', ...), got {sep!r}")
    return sep


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


def _read_file(
    path: Path, sep: str | None = None, decimal: str | None = None, thousands: str | None = None
) -> tuple[pd.DataFrame, _Origin]:
    _check_reachable(path)
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
    _check_wide_encoding(path)
    sniffed, encoding = _sniff_sep(path, ext)
    sep = _check_sep(sep) if sep is not None else sniffed
    number_format = {k: v for k, v in (("decimal", decimal), ("thousands", thousands)) if v is not None}
    if decimal is not None and decimal == thousands:
        raise DataError(f"--decimal and --thousands must differ, both are {decimal!r}")
    try:
        raw_header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header and no data)") from None
    except EOFError as exc:
        raise DataError(f"{path}: the compressed file is truncated ({exc}); copy or download it again") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse the header ({type(exc).__name__}: {exc})") from None
    names = ["" if pd.isna(v) else str(v).strip() for v in raw_header.iloc[0].tolist()]
    _check_header_not_data(names, path)
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
            float_precision="round_trip",  # exact: pandas < 3 parses the last digit differently by default
            **number_format,
        )
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: not a consistent table with delimiter {sep!r} ({exc})") from None
    except EOFError as exc:  # gzip / lzma: the stream ends before its end-of-stream marker
        raise DataError(f"{path}: the compressed file is truncated ({exc}); copy or download it again") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {exc})") from None
    _check_no_implicit_index(df, names, path)
    df.columns = [str(c).strip() for c in df.columns]
    df = _drop_written_index(df, names, path)
    _report_underflow(path, encoding, sep, names)
    if one_col and len(df):
        n_trailing = _trailing_blank_lines(path, encoding)
        if n_trailing:
            df = df.iloc[: len(df) - n_trailing]
    origin = _Origin(str(path), "text", path, sep=sep, encoding=encoding, keep_blank=one_col)
    return df, origin


def _check_reachable(path: Path) -> None:
    """DataError for a path that cannot be followed: a symbolic link loop, a dangling link, no permission."""
    import errno
    import os

    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(
                f"{path}: is a symbolic link loop (the link points, directly or through others, back to "
                "itself); point it at the data file"
            ) from None
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise DataError(
                f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist"
            ) from None
        if exc.errno == errno.EACCES:
            raise DataError(f"{path}: permission denied; check the file's permissions") from None


def _check_wide_encoding(path: Path) -> None:
    """DataError naming UTF-16/UTF-32 (by byte-order mark or NUL-interleaved ASCII) instead of "binary"."""
    import codecs

    opener = _COMPRESSION.get(path.suffix.lower(), open)
    try:
        with opener(path, "rb") as fh:
            head = fh.read(256)
    except (OSError, EOFError):
        return  # the readers below report it
    boms = [("UTF-32", (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)),
            ("UTF-16", (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))]  # fmt: skip
    found = next((name for name, marks in boms if head.startswith(marks)), None)
    if found is None and len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
            found = "UTF-16"  # little-endian without a byte-order mark
        elif even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
            found = "UTF-16"
    if found:
        raise DataError(
            f"{path}: the file is {found}-encoded text; save it as UTF-8 (Excel: 'CSV UTF-8'; or "
            f"`iconv -f {found} -t UTF-8`) and load it again"
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() != ""


def _check_header_not_data(names: list[str], path: Path) -> None:
    """DataError when every field of the first line is a number: the file has no header line."""
    if names and all(_is_number(n) for n in names):
        example = ",".join(f"x{j}" for j in range(min(len(names), 3))) + ("..." if len(names) > 3 else "")
        raise DataError(
            f"{path}: the first line ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}) holds only "
            f"numbers, so the file has no header line and its first row would become column names; add a "
            f"first line with the column names (e.g. {example}); numeric names such as years need a letter "
            "(y2019)"
        )


def _check_no_implicit_index(df: pd.DataFrame, names: list[str], path: Path) -> None:
    """DataError when the rows have more fields than the header has names.

    pandas then silently takes the first field(s) of every row as row labels and shifts the names onto the
    wrong columns (``loss,alae`` over ``year,loss,alae`` rows: 'loss' would hold the ALAE values).
    """
    if isinstance(df.index, pd.RangeIndex):
        return
    k = df.index.nlevels
    raise DataError(
        f"{path}: the header (line 1) names {len(names)} column(s) but the data rows have {len(names) + k} "
        f"fields (first data row: {', '.join(map(str, (*np.atleast_1d(df.index[0]), *df.iloc[0].tolist())))}); "
        f"every name would land on the wrong column: add the {k} missing name(s) to the header"
    )


def _drop_written_index(df: pd.DataFrame, names: list[str], path: Path) -> pd.DataFrame:
    """Drop a first column with an empty name holding 0..n-1 or 1..n (a row index written by pandas or R)."""
    if len(names) < 2 or names[0] != "" or not len(df):
        return df
    first = pd.to_numeric(df.iloc[:, 0], errors="coerce").to_numpy(dtype=np.float64)
    n = len(first)
    for start in (0, 1):
        if np.array_equal(first, np.arange(start, start + n, dtype=np.float64)):
            _report(
                f"{path}: dropped the first column (no name, values {start}..{start + n - 1}): a row index "
                "written with the data (pandas to_csv(index=True) / R write.csv); save with index=False to "
                "silence this"
            )
            return df.iloc[:, 1:]
    return df


_UNDERFLOW_HINT = r"[eE]-0*[3-9]\d{2}"
_NUMBER = r"(?<![\w.])[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+(?![\w.])"


def _report_underflow(path: Path, encoding: str, sep: str, names: list[str]) -> None:
    """Report numeric literals that float64 cannot hold (``1e-400`` is read as 0, ``1e-310`` loses digits)."""
    import re

    with _open_text(path, encoding) as fh:
        text = fh.read()
    if not re.search(_UNDERFLOW_HINT, text):
        return
    bad = []
    for m in re.finditer(_NUMBER, text):
        token = m.group(0)
        value = abs(float(token))
        mantissa = float(re.split("[eE]", token)[0])
        if mantissa != 0 and value < np.finfo(np.float64).tiny:
            bad.append(m)
    if not bad:
        return
    m = bad[0]
    line_start = text.rfind("\n", 0, m.start()) + 1
    line = text.count("\n", 0, m.start()) + 1
    field = text[line_start : m.start()].count(sep)
    column = f"column {names[field]!r}, " if field < len(names) else ""
    _report(
        f"{path}: {len(bad)} value(s) are smaller in magnitude than float64 can hold exactly (first: "
        f"{m.group(0)!r} in {column}line {line}, read as {float(m.group(0))!r}); rescale the column (other "
        "units) if these values matter"
    )


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


def _as_frame(source, **read_options) -> tuple[pd.DataFrame, _Origin]:
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        return _read_file(path, **read_options)
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


def read_frame(source, sep: str | None = None, decimal: str | None = None, thousands: str | None = None) -> pd.DataFrame:
    """A file read as :func:`load_table` reads it (same delimiter detection and checks), as a raw DataFrame
    with its column names and unconverted values (e.g. a synthetic set to match against a real table)."""
    df, _ = _as_frame(source, sep=sep, decimal=decimal, thousands=thousands)
    return df


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
    skipped: list[str] = []
    kept: list[str] = []
    arrays: list[np.ndarray] = []
    specs: list[ColumnSpec] = []
    extra: dict[str, pd.Series] = {}
    extra_specs: list[ColumnSpec] = []
    skip_notes: list[str] = []
    notes: list[str] = []
    for name in wanted if wanted is not None else available:
        col = df[name]
        vals, first = _to_float(col)
        if first is not None and not pd.api.types.is_datetime64_any_dtype(col):
            local = _localised_numbers(name, col, origin)
            if local is not None and (decimal is not None or thousands is not None):
                raise DataError(
                    f"{label}: column {name!r} holds numbers such as {col.dropna().iloc[0]!r}, which the given "
                    f"--decimal {decimal or '.'!r} / --thousands {thousands!r} do not read; fix those options"
                )
            if local is not None:
                vals, how = local
                first = None
                notes.append(f"read {name!r} with {how}")
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
        spec = infer_column(name, raw, decl.get(name), named=named)
        if spec is not None and spec.coded and len(spec.categories) == 1 and wanted is None:
            skipped.append(name)
            skip_notes.append(f"{name!r} (constant: every value is {spec.categories[0]!r})")
            continue
        if spec is None:  # free text
            if wanted is not None:
                raise DataError(_bad_value_message(name, col, first, origin))
            skipped.append(name)
            skip_notes.append(f"{name!r} (text, e.g. {col.iloc[first]!s:.30})")
            continue
        if not spec.modelled:
            extra[name] = _extra_column(col, spec)
            extra_specs.append(spec)
            continue
        if spec.kind == "categorical" and spec.coded:
            vals = _codes(col, spec)
        kept.append(name)
        arrays.append(vals)
        specs.append(spec)
    if not kept:
        if extra_specs:
            shown = ", ".join(f"{s.name!r} ({s.kind}: {s.note})" for s in extra_specs)
            raise DataError(
                f"{label}: no column to model: {shown} are not modelled. Declare a kind to model one "
                "(schema={'col': 'integer'} / CLI --schema COL=integer)"
            )
        raise DataError(
            f"{label}: no numeric column found (columns: {', '.join(repr(a) for a in available)}); "
            "check the delimiter and the decimal separator (--sep, --decimal, --thousands)"
        )
    if skipped or extra_specs:
        parts = []
        if skipped:
            parts.append(f"skipped {len(skipped)} non-numeric column(s): {', '.join(skip_notes)}")
        if extra_specs:
            parts.append(
                "not modelled: " + ", ".join(f"{s.name!r} ({s.kind}: {s.note})" for s in extra_specs)
            )
        how = "Choose columns explicitly (columns=... / CLI --columns) or declare kinds (--schema) to change this"
        _report(f"{label}: {'; '.join(parts)}; kept {', '.join(repr(k) for k in kept)}. {how}")
    for note in notes:
        _report(f"{label}: {note}")

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
        keep = ~bad.any(axis=1)
        X = X[keep]
        extra = {k: v[keep].reset_index(drop=True) for k, v in extra.items()}
        # re-infer on the kept rows (atoms and categories of the rows that remain)
        specs = [
            s if s.kind == "categorical" else infer_column(s.name, pd.Series(X[:, j]), decl.get(s.name), named=named)
            for j, s in enumerate(specs)
        ]

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
    extra_frame = pd.DataFrame(extra) if extra else None
    return Table(
        np.ascontiguousarray(X), tuple(kept), label, tuple(skipped), n_dropped,
        schema=Schema([*specs, *extra_specs]), extra=extra_frame,
    )  # fmt: skip


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
    """Values (n, d) in the Table representation -> DataFrame with labels and integer dtypes by kind."""
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


def as_table(X, columns=None, schema=None, *, min_rows: int = MIN_ROWS) -> Table:
    """The training table of a model: a :class:`Table` as it is (with ``schema`` declarations applied on
    top of its own), a DataFrame or an array through :func:`load_table`; ``columns`` renames the columns
    (arrays, DataFrames) or must list a Table's columns in order.
    """
    if isinstance(X, Table):
        table = X
        if columns is not None and tuple(map(str, columns)) != table.columns:
            if len(columns) != table.d:
                raise DataError(f"{len(columns)} column names given for {table.d} columns")
            table = Table(table.values, tuple(map(str, columns)), table.source, table.skipped, table.n_dropped,
                          schema=None, extra=table.extra)  # fmt: skip
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
        old = schema[name] if name in schema else None
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
