"""Safe model files: a folder with a JSON manifest and a tensor file loaded with ``weights_only=True``.

Layout of a saved model folder::

    model.json    {"format": "heavytail-diffusion-model", "format_version": 1, "package_version": ...,
                   "model": "<registry name>", "config": {...}, "tensors_sha256": "<hex>"}
    tensors.pt    a flat ``dict[str, torch.Tensor]`` written by ``torch.save``

Loading never unpickles code: the tensor file is read with ``torch.load(..., weights_only=True)`` after its
SHA-256 has been checked against the manifest, and the manifest is plain JSON. The checksum sits beside the
data it protects, so it catches accidents (truncation, a stray edit), not tampering: after it, the content
is checked for meaning (:func:`load_folder`: no NaN/Infinity literals, an integer format version, finite
tensors, column names that are strings; the components then check their own parameters' domains in
their ``from_state``).

Saving is atomic: the folder is written under a temporary name in the same parent and renamed into place,
so an interrupted save leaves the previous model intact; a lock file ``.<name>.lock`` beside the folder
makes a second writer fail at once with a clear message (:func:`folder_lock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import socket
import threading
import uuid
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .errors import ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "flatten_state",
    "folder_lock",
    "load_folder",
    "save_folder",
    "unflatten_state",
]

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


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


#: (lock file, thread) pairs held here: folder_lock is re-entrant within a thread, exclusive between threads
_HELD: set[tuple[str, int]] = set()


def _lock_owner_alive(text: str) -> bool:
    """Whether the process named in a lock file ("pid host") may still be running."""
    try:
        pid_text, host = text.split()
        pid = int(pid_text)
    except ValueError:
        return True  # unreadable: assume a live writer rather than steal its folder
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # no permission to signal it: it exists
        return True
    return True


@contextlib.contextmanager
def folder_lock(path):
    """Hold the write lock of the model folder ``path`` (a file ``.<name>.lock`` in its parent).

    A second writer, in this or another process on the machine, gets a :class:`ModelFileError` at once. A
    lock left by a process that no longer runs (a crash) is taken over. Re-entrant within a thread.

    Raises
    ------
    ModelFileError
        If another process holds the lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_path(path)
    key = (str(lock.resolve()), threading.get_ident())
    if key in _HELD:
        yield lock
        return
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                owner = lock.read_text()
            except OSError:
                owner = ""
            if _lock_owner_alive(owner):
                raise ModelFileError(
                    f"{path} is being written by another process ({owner.strip() or 'unknown'}; lock file "
                    f"{lock}); wait for it to finish, or delete the lock file if no fit is running"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its writer is gone
    else:  # pragma: no cover - lost a race twice
        raise ModelFileError(f"{path}: could not take the lock {lock}; try again")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{os.getpid()} {socket.gethostname()}\n")
    _HELD.add(key)
    try:
        yield lock
    finally:
        _HELD.discard(key)
        lock.unlink(missing_ok=True)


def _replace_folder(tmp: Path, path: Path) -> None:
    """Move the finished folder ``tmp`` to ``path``; an existing ``path`` is removed only afterwards."""
    if not path.exists():
        os.rename(tmp, path)
        return
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(path, old)
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def save_folder(path, model_name: str, config: dict, tensors: dict) -> Path:
    """Write ``config`` (JSON-able) and ``tensors`` (name -> array/tensor) to the folder ``path``, atomically.

    The folder is written as ``.<name>.tmp-*`` beside ``path`` and renamed into place, so an interrupt
    never leaves a half-written model, nor loses the model it replaces. An existing model folder (or an
    empty folder) is replaced; any other existing folder is refused.

    Parameters
    ----------
    path : str or path-like
        The model folder to write (created or replaced).
    model_name : str
        Registry name of the model, stored as the manifest's ``"model"``.
    config : dict
        Plain JSON (no NaN/inf), stored as the manifest's ``"config"``.
    tensors : dict of str to array_like or torch.Tensor
        Saved to ``tensors.pt`` as CPU tensor copies; the manifest records that file's SHA-256.

    Returns
    -------
    path : pathlib.Path
        ``path``, now holding ``model.json`` and ``tensors.pt``.

    Raises
    ------
    TypeError
        If ``config`` is not JSON-serialisable (non-finite floats included).
    ModelFileError
        If ``path`` is a file or a non-empty folder that is not a model folder, or another process is
        writing it (see :func:`folder_lock`).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelFileError(f"{path} exists and is not a folder; choose another --out path")
    if path.is_dir() and any(path.iterdir()) and not (path / MANIFEST).is_file():
        raise ModelFileError(
            f"{path} is a non-empty folder that is not a model folder; refusing to replace it: "
            "choose a new or empty folder"
        )
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
                "model": model_name, "config": config}  # fmt: skip
    try:
        json.dumps(manifest, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a programming error: config must be plain JSON
        raise TypeError(f"model config is not JSON-serialisable: {exc}") from None
    with folder_lock(path):
        tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            tensor_file = tmp / TENSORS
            torch.save({k: _to_tensor(v) for k, v in tensors.items()}, tensor_file)
            manifest["tensors_sha256"] = _sha256(tensor_file)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False))
            _replace_folder(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return path


def _no_constants(name: str):
    raise ValueError(f"the non-standard JSON literal {name}")


def _read_manifest(mpath: Path) -> dict:
    """The manifest as a dict: strict JSON (no NaN/Infinity literals), not nested absurdly deep."""
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{mpath} is not valid JSON ({exc}); the file is corrupt or from another tool"
        ) from None
    except ValueError as exc:  # from _no_constants
        raise ModelFileError(
            f"{mpath} holds {exc} (NaN/Infinity are not valid JSON, and no saved parameter is non-finite); "
            "the file was edited: re-create the model with `heavytail fit`"
        ) from None
    except RecursionError:
        raise ModelFileError(
            f"{mpath} is nested too deeply to be a model manifest; the file is corrupt"
        ) from None
    return manifest


def _check_manifest(manifest, mpath: Path) -> None:
    """Format, version and field types of a parsed manifest."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{mpath} is not a heavytail-diffusion model manifest (from another tool?)")
    version = manifest.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{mpath} has format version {version!r}; this heavytail-diffusion ({__version__}) reads up to "
            f"{FORMAT_VERSION}: upgrade the package"
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{mpath} has an invalid format version {version!r} (an integer from 1 to {FORMAT_VERSION} is "
            "expected); the file is corrupt or was edited"
        )
    for key, kind in (("model", str), ("config", dict), ("tensors_sha256", str)):
        if key not in manifest:
            raise ModelFileError(f"{mpath} lacks the field {key!r}; the file is corrupt")
        if not isinstance(manifest[key], kind):
            raise ModelFileError(
                f"{mpath}: the field {key!r} must be a {kind.__name__}, got {type(manifest[key]).__name__}; "
                "the file is corrupt"
            )
    columns = manifest["config"].get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns)
    ):
        raise ModelFileError(f"{mpath}: 'columns' must be a non-empty list of names; the file is corrupt")


def _check_tensors(tensors: dict, tpath: Path) -> None:
    """Every floating-point tensor is finite (no fitted parameter or weight is NaN/inf)."""
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ModelFileError(
                f"{tpath}: the tensor {name!r} holds NaN or infinite values; the model is corrupt: "
                "re-create it with `heavytail fit`"
            )


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
    manifest = _read_manifest(mpath)
    _check_manifest(manifest, mpath)
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
    _check_tensors(tensors, tpath)
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
    """Inverse of :func:`flatten_state` for one component.

    Parameters
    ----------
    config : dict
        The merged config (component name -> its config).
    tensors : dict of str to tensor
        The merged tensors, keys ``"<name>.<key>"``.
    name : str
        The component to extract.

    Returns
    -------
    config : dict
        ``config[name]`` (not a copy).
    tensors : dict
        The tensors whose key starts with ``name + "."``, that prefix removed.

    Raises
    ------
    ModelFileError
        If ``config`` has no ``name`` entry.
    """
    if name not in config:
        raise ModelFileError(f"saved model lacks its {name!r} component; the folder is corrupt")
    prefix = name + "."
    return config[name], {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
