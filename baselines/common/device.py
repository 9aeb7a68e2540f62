"""Where network updates run: ``auto`` picks a CUDA GPU when one exists."""

from __future__ import annotations

__all__ = ["resolve_device"]


def resolve_device(name: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` if available else ``"cpu"``; explicit names are checked."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but no CUDA GPU is available; use 'cpu' or 'auto'")
    if name not in ("cpu",) and not name.startswith("cuda") and name != "mps":
        raise ValueError(f"unknown device {name!r}; allowed: auto, cpu, cuda, cuda:N, mps")
    return name
