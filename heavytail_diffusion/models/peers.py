"""Optional adapters: other tools' tabular generators behind our ``fit``/``sample`` interface, for ``compare``.

Registered as generators when their package is installed (``pip install heavytail-diffusion[peers]``):

======================  =====================================================================================
name                    generator
======================  =====================================================================================
sdv-gaussian-copula     SDV ``GaussianCopulaSynthesizer`` (parametric margins fitted by SDV, Gaussian copula)
sdv-ctgan               SDV ``CTGANSynthesizer`` (conditional GAN; Xu et al. 2019)
sdv-tvae                SDV ``TVAESynthesizer`` (variational autoencoder; Xu et al. 2019)
forest-diffusion        ForestDiffusion ``ForestDiffusionModel`` (gradient-boosted trees as the score / flow
                        model; Jolicoeur-Martineau et al., AISTATS 2024)
======================  =====================================================================================

They see the raw columns (``preprocessing="none"`` by default: each tool applies its own transforms) and keep
their tools' defaults except the training budget (``epochs``; ``n_t``, ``duplicate_K``, ``n_estimators``).
SDV's default ``enforce_min_max_values=True`` clips samples to the training range, which caps every tail at
the largest training value; it is kept because it is what SDV users get. The adapters cannot be saved, and
they seed torch/numpy's global generators (SDV and ForestDiffusion take no generator argument).
Peers are not in :func:`heavytail_diffusion.report.default_models`: name them in ``--models``. Importing
:mod:`heavytail_diffusion.models` declares them (:func:`~.registry.add_optional_models`); they are registered
by :func:`register_peers` (called by :func:`~.registry.check_model_names`) when their package is installed.
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import numpy as np
import pandas as pd

from .base import GenerativeModel
from .registry import MODELS, add_optional_models, register_model

__all__ = ["PEERS", "available_peers", "register_peers"]

#: name -> the package it needs.
PEERS = {
    "sdv-gaussian-copula": "sdv",
    "sdv-ctgan": "sdv",
    "sdv-tvae": "sdv",
    "forest-diffusion": "ForestDiffusion",
}


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def available_peers() -> list[str]:
    """Names of the peers whose package is installed."""
    return [n for n, pkg in PEERS.items() if _installed(pkg)]


def _seed_globals(rng: np.random.Generator) -> int:
    s = int(rng.integers(2**31 - 1))
    np.random.seed(s)
    try:
        import torch

        torch.manual_seed(s)
    except ImportError:  # pragma: no cover
        pass
    return s


class _Peer(GenerativeModel):
    saveable: ClassVar[bool] = False

    def __init__(self, preprocessing: str | list[str] = "none", seed: int | None = 0):
        super().__init__(preprocessing=preprocessing, seed=seed)

    def _get_state(self):  # pragma: no cover - saveable is False
        raise ValueError(f"model {self.name!r} cannot be saved")

    def _set_state(self, config, arrays):  # pragma: no cover
        raise ValueError(f"model {self.name!r} cannot be loaded")


class _SDVPeer(_Peer):
    """Base of the SDV adapters: every column declared numerical."""

    synthesizer: ClassVar[str] = ""

    def _options(self) -> dict:
        return {}

    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        import warnings

        from sdv import single_table
        from sdv.metadata import Metadata

        df = pd.DataFrame(Z, columns=[f"c{j}" for j in range(Z.shape[1])])
        md = Metadata.detect_from_dataframes({"t": df})
        for c in df.columns:
            md.update_column(column_name=c, sdtype="numerical", table_name="t")
        _seed_globals(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SDV's advisory messages about the metadata and the data
            self.synth_ = getattr(single_table, self.synthesizer)(md, **self._options())
            self.synth_.fit({"t": df})

    def _sample(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        _seed_globals(rng)
        if hasattr(self.synth_, "reset_sampling"):
            self.synth_.reset_sampling()
        out = self.synth_.sample(num_rows=n)
        out = out["t"] if isinstance(out, dict) else out
        return out.to_numpy(dtype=np.float64)


class SDVGaussianCopula(_SDVPeer):
    """SDV GaussianCopulaSynthesizer (SDV defaults: margins chosen by SDV, values clipped to the training range)."""

    synthesizer = "GaussianCopulaSynthesizer"


class SDVCTGAN(_SDVPeer):
    """SDV CTGANSynthesizer (conditional GAN, Xu et al. 2019); ``epochs`` (SDV default 300)."""

    synthesizer = "CTGANSynthesizer"

    def __init__(self, epochs: int = 300, preprocessing: str | list[str] = "none", seed: int | None = 0):
        super().__init__(preprocessing=preprocessing, seed=seed)
        self.epochs = epochs

    def _options(self) -> dict:
        return {"epochs": int(self.epochs), "enable_gpu": False}


class SDVTVAE(SDVCTGAN):
    """SDV TVAESynthesizer (variational autoencoder, Xu et al. 2019); ``epochs`` (SDV default 300)."""

    synthesizer = "TVAESynthesizer"


class ForestDiffusion(_Peer):
    """ForestDiffusion (Jolicoeur-Martineau, Fatras & Kachman, AISTATS 2024): XGBoost regressors as the flow
    model. ``n_t`` noise levels (default 50), ``duplicate_K`` noised copies per row (100), ``n_estimators``
    trees per level (100), ``diffusion_type`` ``"flow"`` or ``"vp"``."""

    def __init__(self, n_t: int = 50, duplicate_K: int = 100, n_estimators: int = 100, diffusion_type: str = "flow",
                 preprocessing: str | list[str] = "none", seed: int | None = 0):  # fmt: skip
        super().__init__(preprocessing=preprocessing, seed=seed)
        self.n_t, self.duplicate_K, self.n_estimators, self.diffusion_type = (
            n_t,
            duplicate_K,
            n_estimators,
            diffusion_type,
        )

    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        from ForestDiffusion import ForestDiffusionModel

        s = _seed_globals(rng)
        # With one column, ForestDiffusion's multi-output regressor (p_in_one=True, its default) predicts a
        # 1-D array that its sampler cannot assign to the (b, 1) output ("shape mismatch" in generate); one
        # regressor per column (p_in_one=False) is the same model for c = 1 and works.
        self.model_ = ForestDiffusionModel(Z, n_t=int(self.n_t), duplicate_K=int(self.duplicate_K),
                                           n_estimators=int(self.n_estimators), diffusion_type=self.diffusion_type,
                                           n_jobs=1, seed=s, p_in_one=Z.shape[1] > 1)  # fmt: skip

    def _sample(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        _seed_globals(rng)
        return np.asarray(self.model_.generate(batch_size=n), dtype=np.float64).reshape(n, -1)


_CLASSES = {"sdv-gaussian-copula": SDVGaussianCopula, "sdv-ctgan": SDVCTGAN, "sdv-tvae": SDVTVAE,
            "forest-diffusion": ForestDiffusion}  # fmt: skip


def register_peers() -> list[str]:
    """Register every peer whose package is installed (idempotent); returns their names."""
    names = []
    for name in available_peers():
        if name not in MODELS:
            register_model(name)(_CLASSES[name])
        names.append(name)
    return names


add_optional_models(PEERS, register_peers)
