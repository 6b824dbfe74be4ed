"""A point mass plus a base generator (zero inflation): :class:`AtomInflated`, :func:`split_atom`.

Deprecated as a generator: the column schema (:mod:`heavytail_diffusion.schema`) gives every column its atoms
(exact zeros of a ``nonnegative`` column are inferred; others are declared, e.g. ``"positive:atoms=1e6"``)
and every registered generator honours them, jointly with the other columns
(:class:`~heavytail_diffusion.encoding.SchemaEncoder`); rounded data get ``step=`` instead of the jitter of
``dequantize=True``. :func:`split_atom` stays (the atom share and the rest of a sample, for tail fits).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd

from ..errors import DataError
from ..preprocessing import grid_step, jitter_ties
from ..validation import as_generator, check_array, check_positive_int
from .base import GenerativeModel
from .registry import MODELS, canonical_model_name, make_model

__all__ = ["AtomInflated", "make_atom_inflated", "split_atom"]


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

    .. deprecated::
        The column schema does this for every generator, jointly with the other columns and with saving:
        ``make_model(base, schema={"rain": "nonnegative"}).fit(table)`` (exact zeros of a column are inferred
        as its atom; declare others, e.g. ``"positive:atoms=1e6"``, and a grid with ``step=0.01`` instead
        of ``dequantize=True``). See :mod:`heavytail_diffusion.schema`. Building one warns
        (DeprecationWarning).

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
        _warn_deprecated(stacklevel=3)
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
        """Estimate p0 and fit the base generator on the non-atom rows of ``X`` (shape (n, d) or (n,)).

        Parameters
        ----------
        X : array-like, shape (n, d) or (n,)
            Training rows on the raw scale.
        columns : sequence of str, optional
            Column names.

        Returns
        -------
        self : AtomInflated
        """
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
        """Draw ``n`` rows: Binomial(n, p0) atom rows and the rest from the base generator, in random order.

        Parameters
        ----------
        n : int
        seed : int, Generator or None
        **options
            Passed to the base generator's ``sample``.

        Returns
        -------
        ndarray, shape (n, d)
        """
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
    days as an atom and wet-day amounts on the log scale. Deprecated (DeprecationWarning): the column schema
    does it for every generator (see :class:`AtomInflated`).

    Parameters
    ----------
    base_model_name : str
        A registered generator (:func:`~heavytail_diffusion.models.make_model`) for the non-atom rows.
    atom, tol, dequantize, seed
        As :class:`AtomInflated`.
    **params
        Hyperparameters of the base generator.

    Returns
    -------
    AtomInflated
    """
    base_model_name = canonical_model_name(base_model_name, stacklevel=2)
    if base_model_name not in MODELS:
        raise ValueError(f"unknown model {base_model_name!r}; choose from {', '.join(sorted(MODELS))}")
    allowed = set(MODELS[base_model_name].param_names())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"model {base_model_name!r} has no parameter(s) {unknown}; its parameters are {sorted(allowed)}"
        )
    _warn_deprecated(stacklevel=3)
    with warnings.catch_warnings():  # warned once, above
        warnings.simplefilter("ignore", DeprecationWarning)
        return AtomInflated(
            base=base_model_name, atom=atom, tol=tol, base_params=params, dequantize=dequantize, seed=seed
        )


def _warn_deprecated(stacklevel: int) -> None:
    warnings.warn(
        "AtomInflated / make_atom_inflated are deprecated: the column schema gives every generator its atoms "
        "(exact zeros are inferred; declare others with schema={'col': 'positive:atoms=1e6'}, a grid with "
        "'real:step=0.01'); use make_model(name, schema=...) (see heavytail_diffusion.schema)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
