"""Safe model files: a folder with a JSON manifest and a tensor file loaded with ``weights_only=True``.

Layout of a saved model folder::

    model.json    {"format": "heavytail-diffusion-model", "format_version": 1, "package_version": ...,
                   "model": "<registry name>", "config": {...}, "tensors_sha256": "<hex>"}
    tensors.pt    a flat ``dict[str, torch.Tensor]`` written by ``torch.save``

Loading never unpickles code: the tensor file is read with ``torch.load(..., weights_only=True)`` after its
SHA-256 has been checked against the manifest, and the manifest is plain JSON.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .errors import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "flatten_state", "load_folder", "save_folder", "unflatten_state"]

FORMAT = "heavytail-diffusion-model"
FORMAT_VERSION = 1
MANIFEST = "model.json"
TENSORS = "tensors.pt"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _to_tensor(v) -> torch.Tensor:
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().clone()
    return torch.as_tensor(np.asarray(v)).clone()


def save_folder(path, model_name: str, config: dict, tensors: dict) -> Path:
    """Write ``config`` (JSON-able) and ``tensors`` (name -> array/tensor) to the folder ``path``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelFileError(f"{path} exists and is not a folder; choose another --out path")
    path.mkdir(parents=True, exist_ok=True)
    tensor_file = path / TENSORS
    torch.save({k: _to_tensor(v) for k, v in tensors.items()}, tensor_file)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": model_name,
        "config": config,
        "tensors_sha256": _sha256(tensor_file),
    }
    try:
        text = json.dumps(manifest, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a programming error: config must be plain JSON
        raise TypeError(f"model config is not JSON-serialisable: {exc}") from None
    (path / MANIFEST).write_text(text)
    return path


def load_folder(path) -> tuple[str, dict, dict[str, torch.Tensor]]:
    """Read a model folder written by :func:`save_folder`; return (model name, config, tensors).

    Raises
    ------
    ModelFileError
        If the folder or its files are missing, not ours, from a newer format, or corrupt.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model folder {path} does not exist")
    if not path.is_dir():
        raise ModelFileError(
            f"{path} is a file, not a model folder; a saved model is a folder with {MANIFEST} and {TENSORS}"
        )
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise ModelFileError(f"{path} has no {MANIFEST}: it is not a heavytail-diffusion model folder")
    try:
        manifest = json.loads(mpath.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{mpath} is not valid JSON ({exc}); the file is corrupt or from another tool"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{mpath} is not a heavytail-diffusion model manifest (from another tool?)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{mpath} has format version {version!r}; this heavytail-diffusion ({__version__}) reads up to "
            f"{FORMAT_VERSION}: upgrade the package"
        )
    for key in ("model", "config", "tensors_sha256"):
        if key not in manifest:
            raise ModelFileError(f"{mpath} lacks the field {key!r}; the file is corrupt")
    tpath = path / TENSORS
    if not tpath.is_file():
        raise ModelFileError(f"{path} has no {TENSORS}; the model folder is incomplete")
    if _sha256(tpath) != manifest["tensors_sha256"]:
        raise ModelFileError(
            f"{tpath} does not match the checksum in {MANIFEST}: the file is truncated or modified"
        )
    try:
        tensors = torch.load(tpath, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only refused a Python object: never retry without it
        refused = " ".join(str(exc).split())
        m = re.search(r"unsupported GLOBAL (\S+)", refused)
        what = f" ({m.group(1)})" if m else ""
        raise ModelFileError(
            f"{tpath} could not be read safely: it holds pickled Python objects{what}, not plain tensors, "
            "and unpickling them could execute code; re-create the model with `heavytail fit`"
        ) from None
    except Exception as exc:  # noqa: BLE001 (any other failure means a bad file)
        msg = " ".join(str(exc).split())
        raise ModelFileError(
            f"{tpath} could not be read as a tensor file ({type(exc).__name__}: {msg})"
        ) from None
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise ModelFileError(f"{tpath} does not hold a flat dict of tensors")
    return manifest["model"], manifest["config"], tensors


def flatten_state(parts: dict[str, tuple[dict, dict]]) -> tuple[dict, dict]:
    """Merge named components' ``(config, arrays)`` states into one config dict and one prefixed tensor dict."""
    config, tensors = {}, {}
    for name, (cfg, arrays) in parts.items():
        config[name] = cfg
        for k, v in arrays.items():
            tensors[f"{name}.{k}"] = v
    return config, tensors


def unflatten_state(config: dict, tensors: dict, name: str) -> tuple[dict, dict]:
    """Inverse of :func:`flatten_state` for one component."""
    if name not in config:
        raise ModelFileError(f"saved model lacks its {name!r} component; the folder is corrupt")
    prefix = name + "."
    return config[name], {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
