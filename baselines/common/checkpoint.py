"""Atomic checkpoints: save a dict of tensors/arrays/plain data, load it back, resume runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file, then rename over ``path`` (never a half-written file)."""
    import torch

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> dict[str, Any] | None:
    """The saved payload, or ``None`` when there is no checkpoint yet."""
    import torch

    p = Path(path)
    if not p.exists():
        return None
    return torch.load(p, map_location=map_location, weights_only=False)
