"""Reading a table source into a DataFrame: delimited text (delimiter sniffed, compressed files), parquet,
DataFrames and arrays, with the checks that catch malformed files early (:func:`read_frame`).

Used by :func:`heavytail_diffusion.data.load_table`, which validates the columns. Non-fatal changes to the
data are reported as :class:`DataWarning` and logged on the ``heavytail_diffusion.data`` logger.
"""

from __future__ import annotations

import bz2
import difflib
import gzip
import logging
import lzma
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["DataWarning", "read_frame"]

logger = logging.getLogger("heavytail_diffusion.data")  # the loader's logger, whichever module reports

_TEXT_EXTS = {".csv", ".tsv", ".tab", ".txt", ".dat"}
_PARQUET_EXTS = {".parquet", ".pq"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# Strings that mean "missing" in a numeric column (besides the empty string); case-insensitive.
_MISSING = {"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>"}


class DataWarning(UserWarning):
    """Something was skipped or dropped while loading a table (the data are usable, but check this)."""


def _report(msg: str, stacklevel: int = 3) -> None:
    """Report a non-fatal change to the data: as a warning (always shown) and a log record."""
    logger.info(msg)
    warnings.warn(msg, DataWarning, stacklevel=stacklevel)


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
    with its column names and unconverted values (e.g. a synthetic set to match against a real table).

    Parameters
    ----------
    source : str, pathlib.Path, DataFrame, Series, ndarray, list or tuple
        A delimited text file (optionally .gz/.bz2/.xz) or parquet file; or in-memory data: a DataFrame
        (copied, index reset), a Series (one column), a 1-D array (column ``"x"``) or a 2-D array (columns
        ``"x0"``, ``"x1"``, ...).
    sep : str, optional
        Field delimiter of a text file: one character or ``"tab"``, ``"comma"``, ``"semicolon"``, ``"space"``,
        ``"pipe"``; default sniffed from the header (tab for .tsv/.tab).
    decimal, thousands : str, optional
        Decimal mark and thousands separator of a text file, passed to :func:`pandas.read_csv` (they must
        differ). All three options are ignored for parquet and in-memory sources.

    Returns
    -------
    frame : DataFrame
        The raw table, column names as str (stripped for text files).

    Raises
    ------
    DataError
        For a missing, unreadable, empty or malformed file, duplicate column names or an unsupported source.
    """
    df, _ = _as_frame(source, sep=sep, decimal=decimal, thousands=thousands)
    return df


# ----------------------------------------------------------------------------------------------------------
# Column typing
# ----------------------------------------------------------------------------------------------------------
