"""One interface for every generator: ``fit(X) -> self``, ``sample(n, seed)``, ``nfe``, ``save``, ``load_model``.

The method of the package, :class:`TruncatedDiffusion` (registered as ``"truncated"``), and every baseline
(see :mod:`heavytail_diffusion.baselines`) derive from :class:`GenerativeModel`, which owns what they share:
input validation at the edge, the invertible preprocessing (raw data in, raw-scale samples out), timing,
the finiteness check of samples, and saving to a safe model folder (:mod:`heavytail_diffusion.persistence`).
Users swap generators by name with :func:`make_model`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .data import Table
from .errors import DataError, ModelFileError, NumericalError
from .persistence import flatten_state, load_folder, save_folder, unflatten_state
from .preprocessing import Preprocessor
from .validation import as_generator, check_array, check_positive_int

__all__ = ["GenerativeModel", "register_model", "make_model", "list_models", "load_model", "MODELS"]

MODELS: dict[str, type[GenerativeModel]] = {}

#: Fewest training rows any generator accepts.
MIN_TRAIN_ROWS = 20


def register_model(name: str):
    """Class decorator adding a generator to the registry under ``name``."""

    def deco(cls):
        if name in MODELS:
            raise ValueError(f"a model named {name!r} is already registered")
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def make_model(name: str, **params) -> GenerativeModel:
    """Build the registered generator ``name`` with hyperparameters ``params``.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones) or an unknown hyperparameter.
    """
    _ensure_registered()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    cls = MODELS[name]
    allowed = cls.param_names()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"model {name!r} has no parameter(s) {unknown}; its parameters are {sorted(allowed)}")
    return cls(**params)


def list_models() -> pd.DataFrame:
    """Table of registered generators: name, one-line description, whether it can be saved."""
    _ensure_registered()
    rows = []
    for name, cls in sorted(MODELS.items()):
        doc = (inspect.getdoc(cls) or "").splitlines()
        rows.append({"name": name, "description": doc[0] if doc else "", "saveable": cls.saveable})
    return pd.DataFrame(rows)


def _ensure_registered() -> None:
    from . import baselines  # noqa: F401  (registers the baselines)


class GenerativeModel:
    """Base class of every generator (see the module docstring).

    Subclasses implement ``_fit(Z, rng)`` and ``_sample(n, rng, **options) -> Z`` on the preprocessed scale,
    ``_get_state() -> (config, arrays)`` / ``_set_state(config, arrays)`` for saving, and ``nfe``.
    """

    name: ClassVar[str] = "base"
    saveable: ClassVar[bool] = True
    max_sample_retries: ClassVar[int] = 3
    #: Keyword options that ``sample`` accepts (e.g. ``("steps", "sampler")`` for diffusion models).
    sample_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, preprocessing: str | list[str] = "robust", seed: int | None = 0):
        self.preprocessing = preprocessing
        self.seed = seed

    # ---- hyperparameters ------------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        names = []
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__:
                sig = inspect.signature(klass.__init__)
                names += [p for p in sig.parameters if p not in ("self", "args", "kwargs")]
        return list(dict.fromkeys(names))

    def get_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- the contract ---------------------------------------------------------------------------------
    def fit(self, X, columns=None) -> GenerativeModel:
        """Fit the generator to the rows of ``X``.

        Parameters
        ----------
        X : Table, DataFrame or array of shape (n, d)
            Training data on the raw scale (finite, n >= 20).
        columns : sequence of str, optional
            Column names (taken from a Table or DataFrame when not given).
        """
        if isinstance(X, Table):
            columns, X = (columns or X.columns), X.values
        elif isinstance(X, pd.DataFrame):
            columns = columns or [str(c) for c in X.columns]
            X = X.to_numpy()
        X = check_array(X, "X", min_rows=MIN_TRAIN_ROWS, columns=columns, allow_constant=False)
        d = X.shape[1]
        self.columns_ = tuple(columns) if columns is not None else tuple(f"x{j}" for j in range(d))
        if len(self.columns_) != d:
            raise DataError(f"{len(self.columns_)} column names given for {d} columns")
        self.n_features_in_ = d
        t0 = time.perf_counter()
        self.preprocessor_ = Preprocessor(self.preprocessing).fit(X, columns=self.columns_)
        Z = self.preprocessor_.transform(X)
        self._fit(Z, as_generator(self.seed))
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def sample(self, n: int, seed: int | np.random.Generator | None = None, **options) -> np.ndarray:
        """Draw ``n`` synthetic rows on the raw data scale, shape (n, d).

        ``seed`` makes the draw reproducible. Non-finite draws (overflow in the back-transform of an extreme
        draw) are redrawn up to a few times and then reported with :class:`NumericalError`; never returned.
        Extra ``options`` (e.g. ``steps``, ``sampler``) go to the model's sampler.
        """
        self._check_fitted()
        n = check_positive_int(n, "n")
        unknown = sorted(set(options) - set(self.sample_options))
        if unknown:
            allowed = ", ".join(self.sample_options) or "none"
            raise ValueError(f"model {self.name!r} does not take sampling option(s) {unknown} (it takes: {allowed})")
        options = {k: v for k, v in options.items() if v is not None}
        rng = as_generator(seed)
        t0 = time.perf_counter()
        out = np.empty((n, self.n_features_in_))
        todo = np.arange(n)
        for _attempt in range(self.max_sample_retries + 1):
            Z = self._sample(len(todo), rng, **options)
            with np.errstate(over="ignore", invalid="ignore"):
                X = self.preprocessor_.inverse_transform(Z)
            ok = np.isfinite(X).all(axis=1)
            out[todo[ok]] = X[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
        else:
            raise NumericalError(
                f"{self.name}: {len(todo)} of {n} samples stayed non-finite after {self.max_sample_retries} "
                "redraws (overflow of extreme draws on the raw scale); try the 'signed-log' or 'log' preprocessing"
            )
        self.sample_seconds_ = time.perf_counter() - t0
        return out

    def sample_frame(self, n: int, seed=None, **options) -> pd.DataFrame:
        """Like :meth:`sample`, as a DataFrame with the training column names."""
        return pd.DataFrame(self.sample(n, seed=seed, **options), columns=list(self.columns_))

    @property
    def nfe(self) -> int:
        """Network function evaluations per sample at the default sampler settings (0 for closed-form models)."""
        return 0

    # ---- persistence ----------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save to the folder ``path`` (JSON manifest + tensors; see :mod:`heavytail_diffusion.persistence`)."""
        self._check_fitted()
        if not self.saveable:
            raise ValueError(f"model {self.name!r} cannot be saved (it holds a user-supplied sampler)")
        params = {k: v for k, v in self.get_params().items()}
        cfg, arrays = self._get_state()
        config, tensors = flatten_state({"preprocessor": self.preprocessor_.get_state(), "model": (cfg, arrays)})
        config["params"] = params
        config["columns"] = list(self.columns_)
        config["fit_seconds"] = float(self.fit_seconds_)
        save_folder(path, self.name, config, tensors)

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict) -> GenerativeModel:
        obj = cls(**config["params"])
        obj.columns_ = tuple(config["columns"])
        obj.n_features_in_ = len(obj.columns_)
        obj.fit_seconds_ = config.get("fit_seconds", float("nan"))
        obj.preprocessor_ = Preprocessor.from_state(*unflatten_state(config, tensors, "preprocessor"))
        mcfg, marrays = unflatten_state(config, tensors, "model")
        obj._set_state(mcfg, marrays)
        return obj

    # ---- to implement -----------------------------------------------------------------------------------
    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict]:
        raise NotImplementedError

    def _set_state(self, config: dict, arrays: dict) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "preprocessor_"):
            raise RuntimeError(f"model {self.name!r} is not fitted; call fit(X) first")


def load_model(path) -> GenerativeModel:
    """Load a model saved with :meth:`GenerativeModel.save`; never executes code from the folder."""
    _ensure_registered()
    name, config, tensors = load_folder(path)
    if name not in MODELS:
        raise ModelFileError(f"{path} holds a model of unknown type {name!r} (from a newer version?)")
    try:
        return MODELS[name]._from_saved(config, tensors)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: the saved {name!r} model is incomplete or corrupt ({exc})") from None
