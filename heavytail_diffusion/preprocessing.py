"""Per-column transforms: the invertible ones applied inside the models (:class:`Preprocessor`, so users pass
raw data and get raw-scale samples), and the data preparations of tail studies (prices to log-returns, ties
of rounded or discrete data).

- **Prices.** Tail studies of markets use log-returns ``r_t = log P_t - log P_{t-1}`` of consecutive *rows*
  (:func:`log_returns`); when rows are not consecutive calendar days (weekends, missing days), a return may
  span several days (:func:`day_spans` measures it).
- **Ties and discreteness.** Counts (word frequencies, deaths) repeat values; the Hill estimator then sees
  zero log-spacings and its curve jumps. Rule: for the power-law exponent use the discrete (zeta) maximum
  likelihood (:func:`heavytail_diffusion.diagnostics.tail_index.powerlaw_fit` with ``discrete=True``); for
  Hill/GPD on discrete data, break ties with :func:`jitter_ties` (uniform noise of one grid step, which keeps
  the order of distinct values) and say so (:func:`tie_fraction`, :func:`grid_step`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError
from .validation import as_generator, check_array, check_sample, column_label

__all__ = ["TRANSFORMS", "Preprocessor", "day_spans", "grid_step", "jitter_ties", "log_returns", "tie_fraction"]

TRANSFORMS = ("robust", "standard", "log", "signed-log", "none")

# 1.3489795 = IQR of N(0, 1): dividing the IQR by it makes the robust scale equal the std for Gaussian data.
_IQR_NORMAL = 1.3489795003921634


class Preprocessor:
    """Column-wise invertible transform ``z = (g(x) - loc) / scale``.

    ``g`` is the identity (``"robust"``, ``"standard"``), ``log`` (``"log"``, strictly positive columns)
    or the signed log ``slog(x) = sign(x) log1p(|x|)`` (``"signed-log"``, two-sided data spanning orders
    of magnitude). ``loc``/``scale`` are the median and IQR/1.349 of ``g(x)`` (robust to the extremes,
    unlike the standard deviation, which heavy tails make erratic) or the mean and standard deviation
    (``"standard"``); ``"none"`` leaves the data as they are.

    Parameters
    ----------
    method : str or sequence of str
        One of ``TRANSFORMS`` for every column, or one per column.

    Attributes
    ----------
    methods_ : tuple of str, one per column
    loc_, scale_ : ndarray of shape (d,)
    """

    def __init__(self, method: str | list[str] | tuple[str, ...] = "robust"):
        self.method = method

    def fit(self, X, columns=None) -> Preprocessor:
        """Choose each column's transform and fit its ``loc`` and ``scale`` on ``g(x)``.

        Robust: loc = median(g), scale = IQR(g) / 1.349 (the mean absolute deviation from the median when
        the IQR is 0); standard: mean and standard deviation of g; ``"none"``: loc = 0, scale = 1.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Finite raw data (a 1-D array is one column); strictly positive in the ``"log"`` columns.
        columns : sequence of str, optional
            Column names, used in error messages only.

        Returns
        -------
        self : Preprocessor
            Fitted (``methods_``, ``loc_``, ``scale_``, ``n_features_in_`` set).

        Raises
        ------
        ValueError
            For an unknown transform or a ``method`` list whose length is not d.
        DataError
            For non-positive values in a ``"log"`` column, or a column with no spread after its transform.
        """
        X = check_array(X, "X", columns=columns)
        d = X.shape[1]
        methods = [self.method] * d if isinstance(self.method, str) else list(self.method)
        if len(methods) != d:
            raise ValueError(f"method lists {len(methods)} transforms but X has {d} columns")
        for j, m in enumerate(methods):
            if m not in TRANSFORMS:
                raise ValueError(
                    f"unknown transform {m!r} for {column_label(columns, j)}; choose from {TRANSFORMS}"
                )
            if m == "log" and np.any(X[:, j] <= 0):
                i = int(np.argmax(X[:, j] <= 0))
                raise DataError(
                    f"{column_label(columns, j)} has non-positive values (first: {X[i, j]:g} at row {i}); "
                    "the 'log' transform needs strictly positive data (use 'signed-log' or 'robust')"
                )
        self.methods_ = tuple(methods)
        G = self._forward_g(X)
        loc, scale = np.zeros(d), np.ones(d)
        for j, m in enumerate(self.methods_):
            g = G[:, j]
            if m == "none":
                continue
            if m == "standard":
                # mean and std of g / max|g|, scaled back: finite for values up to the float64 maximum
                big = np.max(np.abs(g))
                big = big if big > 0 else 1.0
                loc[j], scale[j] = big * np.mean(g / big), big * np.std(g / big)
            else:
                q25, q50, q75 = np.quantile(g, [0.25, 0.5, 0.75])
                loc[j], scale[j] = q50, (q75 - q25) / _IQR_NORMAL
                # more than half the values tied: fall back to the mean absolute deviation
                if not scale[j] > 0:
                    scale[j] = np.mean(np.abs(g - q50))
            if not (np.isfinite(scale[j]) and scale[j] > 0):
                raise DataError(
                    f"{column_label(columns, j)} has no spread after the '{m}' transform (constant?)"
                )
        self.loc_, self.scale_ = loc, scale
        self.n_features_in_ = d
        return self

    def _forward_g(self, X: np.ndarray) -> np.ndarray:
        G = np.array(X, dtype=np.float64, copy=True)
        for j, m in enumerate(self.methods_):
            if m == "log":
                G[:, j] = np.log(X[:, j])
            elif m == "signed-log":
                G[:, j] = np.sign(X[:, j]) * np.log1p(np.abs(X[:, j]))
        return G

    def transform(self, X) -> np.ndarray:
        """Map raw data (n, d) to the model scale."""
        self._check_fitted()
        X = check_array(X, "X", dim=self.n_features_in_)
        for j, m in enumerate(self.methods_):
            if m == "log" and np.any(X[:, j] <= 0):
                raise DataError(f"column {j} has non-positive values but was fitted with the 'log' transform")
        return (self._forward_g(X) - self.loc_) / self.scale_

    def inverse_transform(self, Z) -> np.ndarray:
        """Map model-scale values (n, d) back to the raw data scale (overflow gives inf, checked by callers)."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float64)
        G = Z * self.scale_ + self.loc_
        X = G.copy()
        with np.errstate(over="ignore"):
            for j, m in enumerate(self.methods_):
                if m == "log":
                    X[:, j] = np.exp(G[:, j])
                elif m == "signed-log":
                    X[:, j] = np.sign(G[:, j]) * np.expm1(np.abs(G[:, j]))
        return X

    def fit_transform(self, X, columns=None) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` of the same ``X``.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Raw data, as in :meth:`fit`.
        columns : sequence of str, optional
            Column names, used in error messages only.

        Returns
        -------
        Z : ndarray of float64, shape (n, d)
            (g(X) - loc_) / scale_, column by column.
        """
        return self.fit(X, columns=columns).transform(X)

    def _check_fitted(self) -> None:
        if not hasattr(self, "loc_"):
            raise RuntimeError("Preprocessor is not fitted; call fit(X) first")

    # --- serialisation: JSON-able config + arrays (no pickle) ---
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        self._check_fitted()
        return {"methods": list(self.methods_)}, {"loc": self.loc_, "scale": self.scale_}

    @classmethod
    def from_state(cls, config: dict, arrays: dict) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`get_state`, checking every value's domain.

        Raises
        ------
        ModelFileError
            For an unknown transform name, loc/scale of the wrong length, a non-finite loc, or a scale that
            is not a finite number > 0 (a tampered or corrupt model file).
        """
        from .errors import ModelFileError

        methods = config.get("methods") if isinstance(config, dict) else None
        if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
            raise ModelFileError("preprocessor: 'methods' must be a non-empty list of transform names")
        unknown = sorted({m for m in methods if m not in TRANSFORMS})
        if unknown:
            raise ModelFileError(
                f"preprocessor: unknown transform(s) {unknown}; known: {', '.join(TRANSFORMS)}"
            )
        if "loc" not in arrays or "scale" not in arrays:
            raise ModelFileError("preprocessor: the saved state lacks 'loc' or 'scale'")
        loc = np.asarray(arrays["loc"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        d = len(methods)
        if loc.shape != (d,) or scale.shape != (d,):
            raise ModelFileError(
                f"preprocessor: loc and scale must have {d} values (one per column), got shapes "
                f"{loc.shape} and {scale.shape}"
            )
        if not np.isfinite(loc).all() or not (np.isfinite(scale).all() and (scale > 0).all()):
            j = int(np.argmax(~np.isfinite(loc) | ~(np.isfinite(scale) & (scale > 0))))
            raise ModelFileError(
                f"preprocessor: column {j} has loc {float(loc[j])!r} and scale {float(scale[j])!r}; a finite loc and a "
                "finite scale > 0 are required"
            )
        obj = cls(list(methods))
        obj.methods_ = tuple(methods)
        obj.loc_, obj.scale_ = loc, scale
        obj.n_features_in_ = d
        return obj


# ------------------------------------------------------------------------------------------------------------
# prices and dates
# ------------------------------------------------------------------------------------------------------------
def log_returns(prices) -> np.ndarray:
    """Log-returns ``r_t = log P_t - log P_{t-1}`` of consecutive rows (dimensionless; > 0 is a gain).

    Parameters
    ----------
    prices : array-like, shape (n,) or (n, d)
        Strictly positive, finite prices in row (time) order; n >= 2. Select the rows first (e.g. the
        common period of several assets: rows where every price exists).

    Returns
    -------
    ndarray, shape (n - 1,) or (n - 1, d)

    Notes
    -----
    A return is taken between consecutive *rows*, whatever the calendar gap between them (weekends for
    stocks; missing days in some crypto files). :func:`day_spans` tells how many days each return spans.

    Examples
    --------
    >>> from heavytail_diffusion.preprocessing import log_returns
    >>> log_returns([100.0, 110.0, 99.0]).round(4).tolist()
    [0.0953, -0.1054]
    """
    P = np.asarray(prices, dtype=np.float64)
    if P.ndim not in (1, 2):
        raise DataError(f"prices must be 1-D or 2-D, got {P.ndim} dimensions")
    if P.shape[0] < 2:
        raise DataError(f"prices needs at least 2 rows to form a return, got {P.shape[0]}")
    bad = ~np.isfinite(P) | (P <= 0)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise DataError(
            f"prices must be finite and > 0; {int(bad.sum())} are not (first at row {i}: {P.reshape(P.shape[0], -1)[i]}); "
            "drop rows before a series starts"
        )
    return np.diff(np.log(P), axis=0)


def day_spans(dates, *, strict: bool = True) -> np.ndarray:
    """Calendar days between consecutive rows (length n - 1), e.g. to flag returns spanning a gap.

    Parameters
    ----------
    dates : array-like of length n
        Anything ``pandas.to_datetime`` reads.
    strict : bool, default True
        Require strictly increasing dates; with ``strict=False`` non-decreasing: repeated dates give spans
        of 0 (e.g. the crypto file's source index maps two consecutive rows to the same day around some
        daylight-saving changes).

    Returns
    -------
    ndarray of int, shape (n - 1,)
    """
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    if d.isna().any():
        i = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise DataError(f"dates has {int(d.isna().sum())} unreadable values (first at row {i})")
    spans = np.diff(d.to_numpy().astype("datetime64[D]").astype(np.int64))
    bad = spans < 0 if not strict else spans <= 0
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        what = "strictly increasing" if strict else "non-decreasing"
        raise DataError(
            f"dates must be {what}; row {i + 1} ({d.iloc[i + 1].date()}) vs row {i} ({d.iloc[i].date()})"
        )
    return spans


# ------------------------------------------------------------------------------------------------------------
# ties and discreteness
# ------------------------------------------------------------------------------------------------------------
def tie_fraction(x) -> float:
    """Fraction of observations that repeat an earlier value: 1 - (number of distinct values) / n."""
    v = check_sample(x, "x", min_size=1)
    return 1.0 - np.unique(v).size / v.size


def grid_step(x) -> float:
    """Smallest positive gap between distinct values (1 for counts, 0.01 for values recorded to 0.01)."""
    u = np.unique(check_sample(x, "x", min_size=2))
    if u.size < 2:
        raise DataError("x is constant; it has no grid step")
    return float(np.diff(u).min())


def jitter_ties(x, seed=0, width: float | None = None) -> np.ndarray:
    """Break ties by adding uniform noise on (-width/2, width/2) to every value.

    With ``width`` the data's grid step (:func:`grid_step`, the default: 1 for counts), distinct values
    keep their order (their gaps are >= width), ties become distinct, and the law is the continuous one
    that rounds to the data. This is the usual fix for Hill / GPD estimation on rounded or discrete data; for
    a power-law exponent prefer the discrete MLE (``powerlaw_fit(x, discrete=True)``). Positive data stay
    positive when their minimum exceeds width/2 (true for counts >= 1).

    Parameters
    ----------
    x : array-like, shape (n,)
    seed : int, Generator or None
    width : float, optional
        Noise width (> 0); default the grid step.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    Needs numpy only (no torch): the noise is ``width * (U - 0.5)`` with U from ``numpy.random.Generator``.

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.preprocessing import jitter_ties
    >>> x = [1.0, 1.0, 2.0, 3.0, 3.0]
    >>> j = jitter_ties(x, seed=0)
    >>> np.unique(j).size, bool(np.all(np.abs(j - x) < 0.5))
    (5, True)
    """
    v = check_sample(x, "x", min_size=2)
    w = grid_step(v) if width is None else float(width)
    if not (np.isfinite(w) and w > 0):
        raise ValueError(f"width must be a positive number, got {width!r}")
    rng = as_generator(seed)
    return v + w * (rng.random(v.size) - 0.5)
