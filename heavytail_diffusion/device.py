"""The one device resolver of the package: ``"auto"`` means CUDA when it is available, else the CPU."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device for a ``device=`` argument.

    Parameters
    ----------
    device : "auto", "cpu", "cuda", "cuda:<index>", torch.device or None
        ``"auto"`` (or None) -> CUDA when ``torch.cuda.is_available()``, else CPU; the others as given.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For another string, or for CUDA when it is not available (use "auto" to fall back to the CPU).

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available; use device='auto' or 'cpu'")
    return torch.device(device)
