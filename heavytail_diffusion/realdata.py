"""Real-data handling for tail studies: point masses (zero inflation), prices to returns, ties, annual maxima.

Real heavy-tailed tables are rarely the clean continuous samples that extreme-value theory assumes:

- **Atoms.** Daily rainfall is 0 on most days; claim files hold many exact zeros. A continuous generator (or a
  ``log`` preprocessing) cannot represent a point mass, and a GPD/Hill fit should not see it. The rule used
  here: model ``P(X = atom)`` separately (its empirical frequency) and model the non-atom values with any
  generator or tail fit (:func:`split_atom`, :class:`AtomInflated`, :func:`make_atom_inflated`).
- **Prices.** Tail studies of markets use log-returns ``r_t = log P_t - log P_{t-1}`` of consecutive *rows*
  (:func:`log_returns`); when rows are not consecutive calendar days (weekends, missing days), a return may
  span several days (:func:`day_spans` measures it).
- **Ties and discreteness.** Counts (word frequencies, deaths) repeat values; the Hill estimator then sees
  zero log-spacings and its curve jumps. Rule: for the power-law exponent use the discrete (zeta) maximum
  likelihood (:func:`heavytail_diffusion.diagnostics.tail_index.powerlaw_fit` with ``discrete=True``); for
  Hill/GPD on discrete data, break ties with :func:`jitter_ties` (uniform noise of one grid step, which keeps
  the order of distinct values) and say so.
- **Block maxima by year** without a DatetimeIndex: :func:`annual_maxima` takes a column of years.

Date columns are not numeric; :func:`heavytail_diffusion.data.load_table` skips them with a warning.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from .errors import DataError
from .models import GenerativeModel, make_model
from .validation import as_generator, check_array, check_positive_int, check_sample

__all__ = [
    "AtomInflated",
    "annual_maxima",
    "day_spans",
    "grid_step",
    "jitter_ties",
    "log_returns",
    "make_atom_inflated",
    "split_atom",
    "tie_fraction",
]


# ------------------------------------------------------------------------------------------------------------
# atoms (zero inflation)
# ------------------------------------------------------------------------------------------------------------
def _atom_rows(X: np.ndarray, atom: float, tol: float) -> np.ndarray:
    return np.all(np.abs(X - atom) <= tol, axis=1)


def split_atom(x, atom: float = 0.0, *, tol: float = 0.0) -> tuple[float, np.ndarray]:
    """Split a sample into its point mass at ``atom`` and the remaining values.

    For a mixture ``X ~ p0 delta_atom + (1 - p0) F`` with F continuous, ``p0`` is estimated by the fraction of
    observations equal to ``atom`` (within ``tol``), and F by the empirical law of the others. For a 2-D
    array a row is an atom when *every* entry equals ``atom`` (e.g. a dry day at all gauges).

    Parameters
    ----------
    x : array-like, shape (n,) or (n, d)
        Finite observations.
    atom : float
        Location of the point mass (default 0, e.g. dry days, zero claims).
    tol : float
        Values with ``|x - atom| <= tol`` count as the atom (>= 0; default exact equality).

    Returns
    -------
    p_atom : float
        Fraction of atom observations (rows), in [0, 1].
    rest : ndarray, shape (n - n_atom,) or (n - n_atom, d)
        The non-atom observations, in their original order.

    Examples
    --------
    >>> p0, wet = split_atom([0.0, 0.0, 0.3, 0.0, 1.2])
    >>> p0, wet.tolist()
    (0.6, [0.3, 1.2])
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise DataError(f"x must be 1-D or 2-D, got {arr.ndim} dimensions")
    X = check_array(arr if arr.ndim == 2 else arr[:, None], "x", min_rows=1, allow_constant=True)
    if not np.isfinite(atom):
        raise ValueError(f"atom must be finite, got {atom!r}")
    if not (tol >= 0):
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    mask = _atom_rows(X, float(atom), float(tol))
    rest = X[~mask]
    return float(mask.mean()), (rest if arr.ndim == 2 else rest[:, 0])


class AtomInflated(GenerativeModel):
    """A point mass at ``atom`` with probability ``p_atom_`` plus a base generator of the other rows.

    Model: ``X = atom`` (every column) with probability p0, otherwise ``X ~ G`` where G is the registered
    generator ``base`` fitted on the non-atom rows only. p0 is the training frequency of atom rows
    (:func:`split_atom`). Sampling draws the number of atom rows ~ Binomial(n, p0), the rest from G, and
    shuffles them. This is the zero-inflated ("hurdle") model of daily rainfall: P(wet day) and the law of
    wet-day amounts are separate, so a ``log`` preprocessing or a GPD never sees the zeros.

    Build it with :func:`make_atom_inflated`. It is not in the model registry and cannot be saved
    (save the base model, ``model.base_model_``, and ``p_atom_`` instead).

    Parameters
    ----------
    base : str
        Name of a registered generator (``heavytail_diffusion.models.make_model``) for the non-atom rows.
    atom : float
        Location of the point mass.
    tol : float
        Tolerance for calling a value the atom.
    base_params : dict, optional
        Hyperparameters of the base generator (e.g. ``{"quick": True, "preprocessing": "log"}``).
    dequantize : bool
        Break ties in the non-atom training values before fitting: each column gets uniform noise of one grid
        step (:func:`jitter_ties`), so values recorded to 0.01 in become a continuous law that rounds to them.
        Needed when the base generator fits GPD tails (a tail made of one repeated value has no excesses).
    seed : int
        Seeds the jitter and the base generator's fit (unless ``base_params`` holds its own seed).

    Attributes
    ----------
    p_atom_ : float
        Fitted probability of the atom.
    base_model_ : GenerativeModel
        The fitted base generator.
    n_atom_, n_rest_ : int
        Training rows at / off the atom.
    """

    saveable: ClassVar[bool] = False
    name: ClassVar[str] = "atom-inflated"

    def __init__(
        self,
        base: str = "truncated",
        atom: float = 0.0,
        tol: float = 0.0,
        base_params: dict | None = None,
        dequantize: bool = False,
        seed: int | None = 0,
    ):
        self.base = base
        self.atom = atom
        self.tol = tol
        self.base_params = base_params
        self.dequantize = dequantize
        self.seed = seed
        self.preprocessing = "none"

    @classmethod
    def param_names(cls) -> list[str]:
        return ["base", "atom", "tol", "base_params", "dequantize", "seed"]

    def fit(self, X, columns=None) -> AtomInflated:
        """Estimate p0 and fit the base generator on the non-atom rows of ``X`` (shape (n, d) or (n,))."""
        if isinstance(X, pd.DataFrame):
            columns = columns or [str(c) for c in X.columns]
            X = X.to_numpy()
        arr = np.asarray(getattr(X, "values", X), dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        X = check_array(arr, "X", min_rows=2, columns=columns, allow_constant=True)
        mask = _atom_rows(X, float(self.atom), float(self.tol))
        rest = X[~mask]
        if rest.shape[0] < 20:
            raise DataError(
                f"only {rest.shape[0]} of {X.shape[0]} rows differ from the atom {self.atom:g}; the base "
                "generator needs at least 20"
            )
        if self.dequantize:
            rest = self._dequantize(rest)
        params = dict(self.base_params or {})
        params.setdefault("seed", self.seed)
        self.base_model_ = make_model(self.base, **params).fit(rest, columns=columns)
        self.columns_ = self.base_model_.columns_
        self.n_features_in_ = X.shape[1]
        self.n_atom_, self.n_rest_ = int(mask.sum()), int(rest.shape[0])
        self.p_atom_ = self.n_atom_ / X.shape[0]
        self.fit_seconds_ = self.base_model_.fit_seconds_
        self.preprocessor_ = self.base_model_.preprocessor_  # marks the model as fitted
        return self

    def _dequantize(self, rest: np.ndarray) -> np.ndarray:
        rng = as_generator(self.seed)
        out = rest.copy()
        for j in range(rest.shape[1]):
            col = rest[:, j]
            if np.unique(col).size < 2:
                continue
            w = grid_step(col)
            if np.any(np.abs(col - self.atom) <= w / 2):
                raise DataError(
                    f"column {j}: jittering by +-{w / 2:g} (its grid step / 2) would reach the atom {self.atom:g}; "
                    "use dequantize=False"
                )
            out[:, j] = jitter_ties(col, seed=rng, width=w)
        return out

    def sample(self, n: int, seed: int | np.random.Generator | None = None, **options) -> np.ndarray:
        """Draw ``n`` rows: Binomial(n, p0) atom rows and the rest from the base generator, in random order."""
        self._check_fitted()
        n = check_positive_int(n, "n")
        rng = as_generator(seed)
        n_atom = int(rng.binomial(n, self.p_atom_))
        out = np.full((n, self.n_features_in_), float(self.atom))
        if n_atom < n:
            out[n_atom:] = self.base_model_.sample(n - n_atom, seed=rng, **options)
        rng.shuffle(out, axis=0)
        self.sample_seconds_ = getattr(self.base_model_, "sample_seconds_", float("nan"))
        return out

    @property
    def nfe(self) -> int:
        return self.base_model_.nfe if hasattr(self, "base_model_") else 0

    def save(self, path) -> None:
        raise ValueError(
            "an AtomInflated model cannot be saved as one folder; save model.base_model_ and keep model.p_atom_"
        )


def make_atom_inflated(base_model_name: str, atom: float = 0.0, *, tol: float = 0.0, dequantize: bool = False,
                       seed: int | None = 0,
                       **params) -> AtomInflated:  # fmt: skip
    """Build an :class:`AtomInflated` generator: a point mass at ``atom`` plus ``make_model(base_model_name,
    **params)`` for the other rows.

    Example: ``make_atom_inflated("truncated", 0.0, quick=True, preprocessing="log").fit(rain)`` models dry
    days as an atom and wet-day amounts on the log scale.
    """
    from .models import MODELS, _ensure_registered

    _ensure_registered()
    if base_model_name not in MODELS:
        raise ValueError(f"unknown model {base_model_name!r}; choose from {', '.join(sorted(MODELS))}")
    allowed = set(MODELS[base_model_name].param_names())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"model {base_model_name!r} has no parameter(s) {unknown}; its parameters are {sorted(allowed)}"
        )
    return AtomInflated(
        base=base_model_name, atom=atom, tol=tol, base_params=params, dequantize=dequantize, seed=seed
    )


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

    ``dates`` is anything ``pandas.to_datetime`` reads. It must be strictly increasing, or with
    ``strict=False`` non-decreasing: repeated dates give spans of 0 (e.g. the crypto file's source index
    maps two consecutive rows to the same day around some daylight-saving changes).
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
    """
    v = check_sample(x, "x", min_size=2)
    w = grid_step(v) if width is None else float(width)
    if not (np.isfinite(w) and w > 0):
        raise ValueError(f"width must be a positive number, got {width!r}")
    rng = as_generator(seed)
    return v + w * (rng.random(v.size) - 0.5)


# ------------------------------------------------------------------------------------------------------------
# block maxima by year
# ------------------------------------------------------------------------------------------------------------
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
