"""The one validation layer: every public entry point checks its arrays and arguments here."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .errors import DataError

__all__ = [
    "as_generator",
    "check_array",
    "check_directions",
    "check_positive_int",
    "check_probability",
    "check_sample",
    "column_label",
]


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a numpy Generator from a seed, an existing Generator (returned as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, Integral | np.integer):
        return np.random.default_rng(None if seed is None else int(seed))
    raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")


def column_label(columns, j: int) -> str:
    """A human label for column j: its name when known, else its index.

    Parameters
    ----------
    columns : sequence of str or None
        Column names; None (or fewer names than ``j + 1``) falls back on the index.
    j : int
        Zero-based column index.

    Returns
    -------
    label : str
        ``"column 'name'"`` or ``"column j"``, for error messages.
    """
    if columns is not None and j < len(columns):
        return f"column '{columns[j]}'"
    return f"column {j}"


def check_array(
    X,
    name: str = "X",
    *,
    ndim: int | None = 2,
    min_rows: int = 1,
    dim: int | None = None,
    columns=None,
    allow_constant: bool = True,
    finite: bool = True,
) -> np.ndarray:
    """Validate and convert array-like input to float64.

    Parameters
    ----------
    X : array-like
        Data; a 1-D array is promoted to shape (n, 1) when ``ndim == 2``.
    name : str
        Argument name used in error messages.
    ndim : {1, 2, None}
        Required dimensionality after promotion (None keeps the input's).
    min_rows : int
        Minimum number of rows (observations).
    dim : int, optional
        Required number of columns.
    columns : sequence of str, optional
        Column names used in error messages.
    allow_constant : bool
        If False, a column with a single distinct value is an error.
    finite : bool
        If True, NaN and +-inf are errors (naming the column and the first bad row).

    Returns
    -------
    arr : ndarray of float64
        The data with the requested dimensionality (a new array or a view of ``X``).

    Raises
    ------
    DataError
        On non-numeric, wrongly shaped, too short, non-finite or constant input.

    Examples
    --------
    >>> import numpy as np
    >>> check_array([1, 2, 3]).shape
    (3, 1)
    >>> check_array([[1.0, 2.0]], dim=2).dtype
    dtype('float64')
    >>> check_array([[1.0, np.nan]], "x", columns=["a", "b"])
    Traceback (most recent call last):
    ...
    heavytail_diffusion.errors.DataError: x column 'b' has 1 non-finite values (first: NaN at row 0); ...
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # noqa: BLE001 (ragged lists and the like)
        raise DataError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric, got values of dtype {arr.dtype}") from None
    if np.iscomplexobj(arr):
        raise DataError(f"{name} must be real-valued, got complex numbers")
    arr = np.asarray(arr, dtype=np.float64)
    if ndim == 2 and arr.ndim == 1:
        arr = arr[:, None]
    if ndim == 1 and arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if ndim is not None and arr.ndim != ndim:
        raise DataError(f"{name} must be {ndim}-D, got an array of shape {arr.shape}")
    if arr.ndim == 0:
        raise DataError(f"{name} must be an array, got a scalar")
    n = arr.shape[0]
    if n < min_rows:
        raise DataError(f"{name} has {n} rows; at least {min_rows} are needed")
    if dim is not None and arr.ndim == 2 and arr.shape[1] != dim:
        raise DataError(f"{name} has {arr.shape[1]} columns; the model was fitted on {dim}")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise DataError(f"{name} has no columns")
    a2 = arr if arr.ndim == 2 else arr[:, None]
    if finite:
        bad = ~np.isfinite(a2)
        if bad.any():
            rows, cols = np.nonzero(bad)
            j, i = int(cols[0]), int(rows[np.argmax(cols == cols[0])])
            kind = "NaN" if np.isnan(a2[i, j]) else "infinite"
            raise DataError(
                f"{name} {column_label(columns, j)} has {int(bad[:, j].sum())} non-finite values "
                f"(first: {kind} at row {i}); remove or impute them first"
            )
    if not allow_constant:
        for j in range(a2.shape[1]):
            col = a2[:, j]
            if n > 0 and np.all(col == col[0]):
                raise DataError(f"{name} {column_label(columns, j)} is constant (every value is {col[0]:g})")
    return arr


def check_sample(x, name: str = "x", *, min_size: int = 2) -> np.ndarray:
    """Validate a 1-D sample (finite float64, at least ``min_size`` values).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, 1)
        The sample; a single-column 2-D array is flattened.
    name : str, default "x"
        Argument name used in error messages.
    min_size : int, default 2
        Minimum number of values n.

    Returns
    -------
    x : ndarray of float64, shape (n,)

    Raises
    ------
    DataError
        On non-numeric, multi-column, too short or non-finite input.
    """
    return check_array(x, name, ndim=1, min_rows=min_size)


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int, raising ValueError unless it is an integer >= minimum.

    Parameters
    ----------
    value : int or integral float
        The value to check; booleans are refused, a float is accepted only if it is a whole number.
    name : str
        Argument name used in error messages.
    minimum : int, default 1
        Smallest accepted value.

    Returns
    -------
    value : int
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be an integer >= {minimum}, got the boolean {value!r}")  # noqa: TRY004 (every bad argument value raises ValueError here)
    if not isinstance(value, Integral | np.integer):
        if isinstance(value, Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_probability(value, name: str, *, open_interval: bool = True) -> float:
    """Return ``value`` as float, raising ValueError unless it lies in (0, 1) (or [0, 1]).

    Parameters
    ----------
    value : float
        The probability to check.
    name : str
        Argument name used in error messages.
    open_interval : bool, default True
        Require 0 < value < 1; if False, 0 <= value <= 1.

    Returns
    -------
    value : float
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    ok = (0.0 < v < 1.0) if open_interval else (0.0 <= v <= 1.0)
    if not ok:
        raise ValueError(f"{name} must lie in {'(0, 1)' if open_interval else '[0, 1]'}, got {v}")
    return v


def check_directions(directions, d: int) -> np.ndarray:
    """Directions as a (k, d) array of unit rows; a single (d,) vector is one direction.

    Parameters
    ----------
    directions : array_like, shape (k, d) or (d,)
        Direction vectors, one per row, of any non-zero length.
    d : int
        Required dimension (number of columns).

    Returns
    -------
    U : ndarray of float64, shape (k, d)
        The rows normalised to unit Euclidean length, ``u_i = v_i / ||v_i||``.

    Raises
    ------
    DataError
        For a wrong number of columns, non-finite entries or a zero vector.
    """
    if np.ndim(directions) == 1:
        directions = np.reshape(directions, (1, -1))
    U = check_array(directions, "directions", ndim=2)
    if U.shape[1] != d:
        raise DataError(f"directions has shape {U.shape}; expected (k, {d}) vectors, one per row")
    norms = np.linalg.norm(U, axis=1)
    if np.any(norms == 0):
        raise DataError(f"directions row {int(np.argmin(norms))} is the zero vector")
    return U / norms[:, None]
