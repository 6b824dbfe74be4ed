"""Calendar blocks for extreme-value analysis: maxima by year, month or season, and observations per year."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..validation import check_positive_int, check_sample

__all__ = [
    "BLOCKS_PER_YEAR",
    "TimeBlockMaxima",
    "annual_maxima",
    "as_time",
    "block_maxima_by_time",
    "gev_period_in_blocks",
    "observation_years",
    "observations_per_year",
]

BLOCKS_PER_YEAR = {"year": 1, "season": 4, "month": 12}
DAYS_PER_YEAR = 365.2425  # mean Gregorian year


def _split_series(x, time, name: str):
    """(values, time) from an array and a time array, or from a pandas Series whose index holds the dates."""
    if time is None:
        if isinstance(x, pd.Series) and isinstance(x.index, pd.DatetimeIndex):
            return x.to_numpy(dtype=np.float64), x.index
        raise DataError(
            f"{name}: no time given; pass time= (dates, datetime64 or integer years, one per observation) "
            "or a pandas Series with a DatetimeIndex"
        )
    return (x.to_numpy(dtype=np.float64) if isinstance(x, pd.Series) else x), time


def as_time(time, name: str = "time"):
    """Validate a time column: datetime64 values (dates, strings that parse as dates) or integer years.

    Parameters
    ----------
    time : array-like, pandas Series or DatetimeIndex, shape (n,)
        Dates (``datetime64``, ``datetime``, ISO strings) or whole-number years such as 1980.
    name : str
        Name used in error messages (the column name).

    Returns
    -------
    kind : {"datetime", "year"}
    values : DatetimeIndex (kind "datetime") or ndarray of int64 years (kind "year")

    Raises
    ------
    DataError
        Missing entries, unparseable strings or numbers that are not whole years.
    """
    if isinstance(time, pd.DatetimeIndex | pd.Series) and pd.api.types.is_datetime64_any_dtype(time):
        t = pd.DatetimeIndex(time)
    else:
        arr = np.asarray(time)
        if arr.ndim != 1:
            raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.timedelta64):
            v = arr.astype(np.float64)
            bad = ~np.isfinite(v) | (v != np.round(v))
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(
                    f"{name}: numeric times must be whole years (e.g. 1980); row {i} holds {arr[i]!r}. "
                    "Give dates instead for monthly or seasonal blocks"
                )
            return "year", v.astype(np.int64)
        try:
            t = pd.DatetimeIndex(pd.to_datetime(arr, errors="raise"))
        except (ValueError, TypeError) as exc:
            raise DataError(f"{name}: cannot read the entries as dates ({exc})") from None
    if t.isna().any():
        i = int(np.argmax(np.asarray(t.isna())))
        raise DataError(f"{name}: row {i} has no date; drop or fill the missing dates first")
    if t.tz is not None:
        t = t.tz_convert(None)
    return "datetime", t


def observation_years(time, name: str = "time") -> float:
    """Length of the observation period in years, counting the last sampling interval.

    For dates, (t_last - t_first + median spacing) / 365.2425 days: daily data from 1900-01-01 to
    1999-12-31 span 100.0 years.  For integer years, max - min + 1.

    Parameters
    ----------
    time : array-like, shape (n,)
        See :func:`as_time`.
    name : str
        Name for messages.

    Returns
    -------
    float
    """
    kind, t = as_time(time, name)
    if kind == "year":
        return float(t.max() - t.min() + 1)
    # days since the first observation; unit-free (pandas 3 parses dates at microsecond resolution)
    ts = np.sort(((t - t.min()) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64))
    step = float(np.median(np.diff(ts))) if ts.size > 1 else 1.0
    span = ts[-1] - ts[0] + step
    if not span > 0:
        raise DataError(f"{name}: all observations share one time; the observation period is empty")
    return float(span / DAYS_PER_YEAR)


def observations_per_year(time, name: str = "time") -> float:
    """n / (observation years): evd's ``npp``; pass it as ``obs_per_block`` to get POT return periods in years.

    With it, ``return_level(gpd_fit, T, obs_per_block=npp)`` is the level exceeded once every T years on
    average: the exceedance rate per year is n_exceedances / years.

    Parameters
    ----------
    time : array_like, pandas Series or DatetimeIndex, shape (n,)
        Date or whole-number year of each observation (see :func:`as_time`).
    name : str, default "time"
        Name used in error messages.

    Returns
    -------
    npp : float
        n / :func:`observation_years` (time), observations per year (> 0).
    """
    t = np.asarray(time) if not isinstance(time, pd.DatetimeIndex | pd.Series) else time
    return float(len(t) / observation_years(time, name))


@dataclass(frozen=True)
class TimeBlockMaxima:
    """Maxima of calendar blocks.

    Attributes
    ----------
    maxima : ndarray, shape (m,)
        The largest value of each non-empty block, in time order.
    labels : list of str
        Block names: ``"1980"``, ``"1980-01"``, ``"1980-DJF"`` (December belongs to the next year's winter).
    index : ndarray of int, shape (m,)
        Position in the input of each block's maximum (first occurrence).
    counts : ndarray of int, shape (m,)
        Observations in each block.
    block : str
        ``"year"``, ``"season"`` or ``"month"``.
    blocks_per_year : int
        1, 4 or 12: GEV return periods in blocks are converted to years with it.
    years : float
        Observation period in years (:func:`observation_years`).
    """

    maxima: np.ndarray
    labels: list
    index: np.ndarray
    counts: np.ndarray
    block: str
    blocks_per_year: int
    years: float

    def to_frame(self) -> pd.DataFrame:
        """One row per block: label, maximum, position of the maximum, observations in the block."""
        return pd.DataFrame(
            {"block": self.labels, "maximum": self.maxima, "index": self.index, "n_obs": self.counts}
        )


def block_maxima_by_time(x, time=None, *, block: str = "year", name: str = "x") -> TimeBlockMaxima:
    """Maxima of ``x`` per calendar year, season or month, from a date or year column.

    Blocks are calendar blocks (not runs of a fixed number of rows), so gaps and leap years are handled: a
    block holds whatever observations fall into it, and empty blocks are absent.  Seasons are meteorological
    (DJF, MAM, JJA, SON), December counting towards the next year's winter.  A block with fewer than half
    the median number of observations per block (a partial first or last year, a gap) is kept and named in
    a ``UserWarning``: its maximum may be biased low.

    Parameters
    ----------
    x : array-like or pandas Series, shape (n,)
        Finite observations.  A Series with a ``DatetimeIndex`` supplies its own dates (``time=None``).
    time : array-like, shape (n,), optional
        Date of each observation (datetime64, ISO strings) or its integer year (``block="year"`` only).
    block : {"year", "season", "month"}
    name : str
        Name of the series in messages.

    Returns
    -------
    TimeBlockMaxima

    Raises
    ------
    DataError
        No time, a time of different length, missing or unparseable dates, integer years with a block finer
        than a year.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = pd.date_range("2000-01-01", "2002-12-31", freq="D")
    >>> x = np.arange(t.size, dtype=float)
    >>> block_maxima_by_time(x, t).maxima.tolist()
    [365.0, 730.0, 1095.0]
    """
    if block not in BLOCKS_PER_YEAR:
        raise ValueError(f"block must be 'year', 'season' or 'month', got {block!r}")
    xv, time = _split_series(x, time, name)
    xv = check_sample(xv, name, min_size=1)
    kind, t = as_time(time, "time")
    if len(t) != xv.size:
        raise DataError(f"time has {len(t)} entries but {name} has {xv.size}; give one time per observation")
    if kind == "year":
        if block != "year":
            raise DataError(
                f"time holds whole years, so only block='year' is possible (got block={block!r}); give dates"
            )
        keys = t
        labels_of = lambda k: str(int(k))
    else:
        year = np.asarray(t.year, dtype=np.int64)
        month = np.asarray(t.month, dtype=np.int64)
        if block == "year":
            keys = year
            labels_of = lambda k: str(int(k))
        elif block == "month":
            keys = year * 12 + (month - 1)
            labels_of = lambda k: f"{int(k) // 12}-{int(k) % 12 + 1:02d}"
        else:
            syear = year + (month == 12)
            sidx = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0])[month - 1]
            keys = syear * 4 + sidx
            names = ("DJF", "MAM", "JJA", "SON")
            labels_of = lambda k: f"{int(k) // 4}-{names[int(k) % 4]}"
    keys = np.asarray(keys, dtype=np.int64)
    # group by key; the first occurrence of each block's maximum in input order
    order = np.lexsort((np.arange(xv.size), -xv, keys))
    k_sorted = keys[order]
    first = np.concatenate([[True], k_sorted[1:] != k_sorted[:-1]])
    starts = np.nonzero(first)[0]
    idx = order[starts]
    counts = np.diff(np.concatenate([starts, [xv.size]]))
    ukeys = k_sorted[starts]
    labels = [labels_of(k) for k in ukeys]
    med = float(np.median(counts))
    short = counts < 0.5 * med
    if short.any():
        listed = ", ".join(f"{lab} ({c})" for lab, c in zip(np.array(labels)[short][:6], counts[short][:6]))
        more = "" if short.sum() <= 6 else f" and {int(short.sum()) - 6} more"
        warnings.warn(
            f"{name}: {int(short.sum())} {block} block(s) hold fewer than half the median {med:g} observations "
            f"per block: {listed}{more}; their maxima may be biased low",
            UserWarning,
            stacklevel=2,
        )
    return TimeBlockMaxima(
        maxima=xv[idx],
        labels=labels,
        index=idx,
        counts=counts,
        block=block,
        blocks_per_year=BLOCKS_PER_YEAR[block],
        years=observation_years(time if kind == "year" else t, "time"),
    )


def gev_period_in_blocks(period_years, blocks_per_year: int):
    """The GEV return period in blocks equivalent to ``period_years`` years.

    The level z exceeded once in T years on average by the annual maximum satisfies P(M_year > z) = 1/T.
    With b i.i.d. blocks per year, P(M_year <= z) = G(z)^b, so the block non-exceedance probability is
    (1 - 1/T)^(1/b) and the block period is T_b = 1 / (1 - (1 - 1/T)^(1/b)) (about b T for large T).
    Seasonal blocks are not identically distributed; use it for them with that caveat.

    Parameters
    ----------
    period_years : float or array_like
        Return period(s) T in years, > 1 (T = 1 gives 1, T < 1 NaN).
    blocks_per_year : int
        b, blocks per year (1, 4 or 12 for year, season, month; see :data:`BLOCKS_PER_YEAR`).

    Returns
    -------
    period_blocks : ndarray or float
        T_b, same shape as ``period_years``; ``period_years`` as a float64 array when b = 1.
    """
    T = np.asarray(period_years, dtype=np.float64)
    b = int(blocks_per_year)
    if b == 1:
        return T
    return 1.0 / -np.expm1(np.log1p(-1.0 / T) / b)


def annual_maxima(values, years, *, min_obs: int = 1) -> pd.DataFrame:
    """Maximum of ``values`` per year (or any integer block label), without a DatetimeIndex.

    Parameters
    ----------
    values : array-like, shape (n,)
        Finite observations.
    years : array-like, shape (n,)
        Block label of each observation (e.g. the ``year`` column).
    min_obs : int
        Years with fewer observations are dropped (e.g. 330 to drop incomplete years of daily data).

    Returns
    -------
    DataFrame with columns ``year``, ``maximum``, ``n_obs``, one row per kept year in increasing order.

    Examples
    --------
    >>> from heavytail_diffusion.diagnostics.time_blocks import annual_maxima
    >>> annual_maxima([1.0, 5.0, 2.0, 0.5, 3.0], [2000, 2000, 2000, 2001, 2001])
       year  maximum  n_obs
    0  2000      5.0      3
    1  2001      3.0      2
    """
    v = check_sample(values, "values", min_size=1)
    y = np.asarray(years)
    if y.shape != v.shape:
        raise DataError(f"years has shape {y.shape} but values has shape {v.shape}")
    min_obs = check_positive_int(min_obs, "min_obs")
    df = pd.DataFrame({"year": y, "v": v}).groupby("year", sort=True)["v"].agg(["max", "size"]).reset_index()
    df.columns = ["year", "maximum", "n_obs"]
    kept = df[df["n_obs"] >= min_obs].reset_index(drop=True)
    if kept.empty:
        raise DataError(f"no year has at least min_obs = {min_obs} observations")
    return kept
