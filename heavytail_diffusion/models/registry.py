"""The registry of generators: users swap them by name (:func:`make_model`, :func:`load_model`, :func:`list_models`)."""

from __future__ import annotations

import inspect

import pandas as pd

from ..errors import ModelFileError
from ..persistence import load_folder
from .base import GenerativeModel

__all__ = ["MODELS", "list_models", "load_model", "make_model", "register_model"]

MODELS: dict[str, type[GenerativeModel]] = {}


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


def list_models() -> pd.DataFrame:
    """Table of registered generators: name, one-line description, whether it can be saved."""
    rows = []
    for name, cls in sorted(MODELS.items()):
        doc = (inspect.getdoc(cls) or "").splitlines()
        rows.append({"name": name, "description": doc[0] if doc else "", "saveable": cls.saveable})
    return pd.DataFrame(rows)


def _ensure_registered() -> None:
    """No-op kept for callers of earlier versions: :mod:`heavytail_diffusion.models` registers every model at import."""


def load_model(path) -> GenerativeModel:
    """Load a model saved with :meth:`GenerativeModel.save`; never executes code from the folder."""
    name, config, tensors = load_folder(path)
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
