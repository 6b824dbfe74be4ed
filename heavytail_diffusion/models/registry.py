"""The registry of generators: users swap them by name (:func:`make_model`, :func:`load_model`, :func:`list_models`).

Every model module of :mod:`heavytail_diffusion.models` registers its classes when it is imported, and the
package imports all of them. Optional generators (adapters of other tools, :mod:`.peers`) are registered by
:func:`register_optional_models` only when their package is installed.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from ..errors import ModelFileError
from ..persistence import load_folder
from .base import GenerativeModel

__all__ = [
    "DEPRECATED_NAMES",
    "MODELS",
    "OPTIONAL_MODELS",
    "add_optional_models",
    "canonical_model_name",
    "check_model_names",
    "list_models",
    "load_model",
    "make_model",
    "model_params",
    "register_model",
    "register_optional_models",
]

MODELS: dict[str, type[GenerativeModel]] = {}

#: Old model names still accepted (with a DeprecationWarning) -> their current name. ``evt-copula`` was the
#: model fitting the ``evt-t-copula`` prior, while the prior named ``evt-copula`` has an empirical copula.
DEPRECATED_NAMES: dict[str, str] = {"evt-copula": "evt-t-copula"}

#: Optional generators: name -> the package it needs (registered once installed; see :func:`add_optional_models`).
OPTIONAL_MODELS: dict[str, str] = {}
_OPTIONAL_REGISTRARS: list[Callable[[], list[str]]] = []


def register_model(name: str):
    """Class decorator adding a generator to the registry under ``name``."""

    def deco(cls):
        if name in MODELS or name in DEPRECATED_NAMES:
            raise ValueError(f"a model named {name!r} is already registered")
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def add_optional_models(packages: Mapping[str, str], registrar: Callable[[], list[str]]) -> None:
    """Declare optional generators that :func:`register_optional_models` registers when installed.

    Parameters
    ----------
    packages : mapping of str to str
        Generator name -> the package it needs (named in the error for a generator that is not installed).
    registrar : callable
        ``registrar() -> list of names``: registers the installed ones (idempotent) and returns their names.

    Returns
    -------
    None
    """
    OPTIONAL_MODELS.update(packages)
    if registrar not in _OPTIONAL_REGISTRARS:
        _OPTIONAL_REGISTRARS.append(registrar)


def register_optional_models() -> list[str]:
    """Register every optional generator whose package is installed (idempotent); returns their names."""
    return [name for registrar in _OPTIONAL_REGISTRARS for name in registrar()]


def canonical_model_name(name: str, stacklevel: int = 2) -> str:
    """The current registry name of ``name``: itself, or the new name of a deprecated one (with a warning).

    Parameters
    ----------
    name : str
        A model name, current or deprecated (:data:`DEPRECATED_NAMES`).
    stacklevel : int, default 2
        Passed to :func:`warnings.warn` (2 points at the caller of this function).

    Returns
    -------
    str
    """
    if isinstance(name, str) and name in DEPRECATED_NAMES:
        new = DEPRECATED_NAMES[name]
        warnings.warn(
            f"the model name {name!r} is deprecated; use {new!r} (the same model: it fits the {new!r} prior, "
            f"while the prior named {name!r} has an empirical copula)",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        return new
    return name


def make_model(name: str, **params) -> GenerativeModel:
    """Build the registered generator ``name`` with hyperparameters ``params``.

    Parameters
    ----------
    name : str
        A registered name (:func:`list_models`); a deprecated name is accepted with a DeprecationWarning.
    **params
        The generator's hyperparameters (``type(model).param_names()``).

    Returns
    -------
    GenerativeModel
        The unfitted generator.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones) or an unknown hyperparameter.

    Examples
    --------
    >>> from heavytail_diffusion.models import make_model
    >>> make_model("evt-t-copula", tail_fraction=0.1).tail_fraction
    0.1
    """
    name = canonical_model_name(name, stacklevel=2)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    cls = MODELS[name]
    allowed = cls.param_names()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"model {name!r} has no parameter(s) {unknown}; its parameters are {sorted(allowed)}"
        )
    return cls(**params)


def model_params(name: str, *, quick: bool = False, progress: bool | None = None, preprocessing=None,
                 oracle=None, user: Mapping | None = None) -> dict:  # fmt: skip
    """Hyperparameters of the generator ``name`` as a comparison or a choice fits it.

    Only what the model accepts is set: ``preprocessing`` and ``oracle`` when given (not None), ``progress``
    when given, the model's own quick settings (``quick_params``) with ``quick``, then ``user`` on top.

    Parameters
    ----------
    name : str
        A registered name.
    quick : bool
        Add the model's quick settings.
    progress : bool or None
        Progress bars (None: the model's default).
    preprocessing : str, list of str or None
        Per-column transform (None: the model's default).
    oracle : callable or None
        True-law sampler for ``oracle-start``.
    user : mapping, optional
        Hyperparameters given by the user; they win.

    Returns
    -------
    dict
    """
    cls = MODELS[name]
    allowed = set(cls.param_names())
    params: dict = {}
    if "preprocessing" in allowed and preprocessing is not None:
        params["preprocessing"] = preprocessing
    if "progress" in allowed and progress is not None:
        params["progress"] = progress
    if quick:
        params.update(cls.quick_params())  # each model declares its own quick settings
    if "oracle" in allowed and oracle is not None:
        params["oracle"] = oracle
    params.update(dict(user or {}))
    return params


def list_models() -> pd.DataFrame:
    """Table of registered generators: name, one-line description, whether it can be saved.

    Examples
    --------
    >>> from heavytail_diffusion.models import list_models
    >>> table = list_models()
    >>> list(table.columns), "truncated" in set(table["name"]), "evt-copula" in set(table["name"])
    (['name', 'description', 'saveable'], True, False)
    """
    rows = []
    for name, cls in sorted(MODELS.items()):
        doc = (inspect.getdoc(cls) or "").splitlines()
        rows.append({"name": name, "description": doc[0] if doc else "", "saveable": cls.saveable})
    return pd.DataFrame(rows)


def check_model_names(names: str | Iterable[str]) -> list[str]:
    """Validate a list of generator names (e.g. ``--models``) before anything is fitted.

    Optional generators whose package is installed are registered first; deprecated names are replaced by
    their current name (DeprecationWarning).

    Parameters
    ----------
    names : str or iterable of str
        Names, or one comma-separated string.

    Returns
    -------
    list of str
        The current names, in the given order.

    Raises
    ------
    ValueError
        For an empty list, a name given twice, an optional generator whose package is missing (with the
        ``pip install`` to run) or an unknown name (listing the known ones).

    Examples
    --------
    >>> from heavytail_diffusion.models import check_model_names
    >>> check_model_names("truncated, edm")
    ['truncated', 'edm']
    """
    register_optional_models()
    if isinstance(names, str):
        names = [m.strip() for m in names.split(",") if m.strip()]
    names = [canonical_model_name(m, stacklevel=2) for m in names]
    if not names:
        raise ValueError("models is empty; name at least one generator")
    unknown = [m for m in names if m not in MODELS]
    missing = [m for m in unknown if m in OPTIONAL_MODELS]
    if missing:
        raise ValueError(f"model(s) {missing} need the package(s) {sorted({OPTIONAL_MODELS[m] for m in missing})}: "
                         "pip install 'heavytail-diffusion[peers]'")  # fmt: skip
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {', '.join(sorted(MODELS))}")
    if len(set(names)) != len(names):
        raise ValueError(f"models lists a generator twice: {names}")
    return names


def load_model(path) -> GenerativeModel:
    """Load a model saved with :meth:`GenerativeModel.save`; never executes code from the folder.

    A folder saved under a deprecated model name loads as the model of its current name (DeprecationWarning).
    """
    name, config, tensors = load_folder(path)
    name = canonical_model_name(name, stacklevel=2)
    if name not in MODELS:
        raise ModelFileError(f"{path} holds a model of unknown type {name!r} (from a newer version?)")
    try:
        return MODELS[name]._from_saved(config, tensors)
    except ModelFileError as exc:
        if str(path) in str(exc):
            raise
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: the saved {name!r} model is incomplete or corrupt ({exc})") from None
