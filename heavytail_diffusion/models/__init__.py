"""One interface for every generator: ``fit(X) -> self``, ``sample(n, seed)``, ``nfe``, ``save``, ``load_model``.

The method of the package, :class:`TruncatedDiffusion` (registered as ``"truncated"``), and every baseline
derive from :class:`GenerativeModel`, which owns what they share: input validation at the edge, the
invertible preprocessing (raw data in, raw-scale samples out), timing, the finiteness check of samples, and
saving to a safe model folder (:mod:`heavytail_diffusion.persistence`). Users swap generators by name with
:func:`make_model`.

Modules: :mod:`.base` (the base classes), :mod:`.registry` (names -> classes), :mod:`.truncated` (the method
and its start baselines), :mod:`.auto` (a generator chosen on held-out rows), :mod:`.baselines` (EDM, t-EDM,
the oracle start, the flow and the EVT copula), :mod:`.peers` (optional adapters of other tools), :mod:`.atoms` (a point mass
plus a base generator; deprecated in favour of the column schema).
Importing this package imports every model module, so every model is registered once it is imported.
"""

from . import atoms, auto, baselines, peers, truncated  # noqa: F401  (imported for their registrations)
from .atoms import AtomInflated, make_atom_inflated, split_atom
from .auto import AutoModel
from .base import DEFAULT_CHUNK_ROWS, EVT_MARGIN_PRIORS, MIN_TRAIN_ROWS, DiffusionModel, GenerativeModel
from .baselines import EDM, TEDM, EVTCopulaBaseline, FlowBaseline, OracleStart
from .registry import (
    DEPRECATED_NAMES,
    MODELS,
    OPTIONAL_MODELS,
    add_optional_models,
    canonical_model_name,
    check_model_names,
    list_models,
    load_model,
    make_model,
    model_params,
    register_model,
    register_optional_models,
)
from .truncated import EmpiricalStart, GaussianStart, TruncatedDiffusion

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEPRECATED_NAMES",
    "EDM",
    "EVT_MARGIN_PRIORS",
    "MIN_TRAIN_ROWS",
    "MODELS",
    "OPTIONAL_MODELS",
    "TEDM",
    "AtomInflated",
    "AutoModel",
    "DiffusionModel",
    "EVTCopulaBaseline",
    "EmpiricalStart",
    "FlowBaseline",
    "GaussianStart",
    "GenerativeModel",
    "OracleStart",
    "TruncatedDiffusion",
    "add_optional_models",
    "canonical_model_name",
    "check_model_names",
    "list_models",
    "load_model",
    "make_atom_inflated",
    "make_model",
    "model_params",
    "register_model",
    "register_optional_models",
    "split_atom",
]
