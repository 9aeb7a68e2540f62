"""Checkpoints that load without running code: tensors and plain data only, ``torch.load(weights_only=True)``.

``torch.load`` with ``weights_only=False`` unpickles arbitrary objects, so a crafted ``.pt`` file
(given to ``meio evaluate`` or planted in a run folder) could run code. Every checkpoint of this
package is therefore written as tensors, numbers, strings, bytes, lists, tuples and dicts only:
NumPy arrays become ``{"__ndarray__": bytes, "dtype", "shape"}`` and the simulator's state
dataclass ``{"__dataclass__": name, ...fields}`` (an allowlist of one class). They load with
``weights_only=True``, which refuses anything else. A file that is not a checkpoint of this
package, a truncated file, or one of another model or scenario gives :class:`CheckpointError`
naming the file and what to do.

Writes are atomic (a temporary file renamed over the old one), so a kill never leaves half a file.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "CheckpointError", "decode", "encode", "load_checkpoint", "save_checkpoint"]

FORMAT = "meio-envs.checkpoint/1"
_ND, _DC = "__ndarray__", "__dataclass__"


class CheckpointError(ValueError):
    """A file that cannot be loaded as a checkpoint of this package (or not for this purpose)."""


def _dataclasses() -> dict[str, type]:
    from meio_envs.core.params import SimState

    return {"SimState": SimState}


def encode(obj: Any) -> Any:
    """``obj`` as tensors and plain data (see the module docstring); raises TypeError for anything else."""
    import torch

    if isinstance(obj, torch.Tensor) or obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("object arrays cannot go into a checkpoint")
        a = np.ascontiguousarray(obj)
        # An empty array's b"" pickles as a call of ``bytes``, which weights_only loading refuses.
        return {_ND: a.tobytes() if a.size else None, "dtype": a.dtype.str, "shape": list(a.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if _dataclasses().get(name) is not type(obj):
            raise TypeError(f"{type(obj).__qualname__} is not a checkpointable dataclass")
        out = {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        out[_DC] = name
        return out
    if isinstance(obj, Mapping):
        if _ND in obj or _DC in obj:
            raise TypeError(f"dict keys {_ND!r} and {_DC!r} are reserved in checkpoints")
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(encode(v) for v in obj)
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    raise TypeError(f"a {type(obj).__qualname__} cannot go into a checkpoint (tensors and plain data only)")


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(obj, Mapping):
        if _ND in obj:
            if obj[_ND] is None:
                return np.zeros(obj["shape"], dtype=np.dtype(obj["dtype"]))
            return np.frombuffer(obj[_ND], dtype=np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
        if _DC in obj:
            cls = _dataclasses().get(obj[_DC])
            if cls is None:
                raise CheckpointError(f"unknown dataclass {obj[_DC]!r} in checkpoint")
            return cls(**{k: decode(v) for k, v in obj.items() if k != _DC})
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(decode(v) for v in obj)
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def save_checkpoint(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> None:
    """Encode ``payload``, ``torch.save`` it to a temporary file, then rename over ``path``."""
    import torch

    data = {"format": FORMAT, "payload": encode(dict(payload))}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(data, tmp)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu",
                    expect: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The saved payload, or ``None`` when there is no file at ``path``.

    Raises :class:`CheckpointError` for a file that is not a checkpoint of this package (or is
    truncated, or holds anything but tensors and plain data), and for one whose fields differ from
    ``expect`` (e.g. ``{"model": "sarl", "scenario": "A1"}``).
    """
    import torch

    p = Path(path)
    if not p.exists():
        return None
    if not p.is_file():
        raise CheckpointError(f"{p} is not a file; give the path of a checkpoint.pt or best.pt")
    hint = "it was not written by meio-envs, or is truncated or damaged; delete it, or train again with --no-resume"
    try:
        data = torch.load(p, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError,
            AttributeError, TypeError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{p} cannot be loaded safely ({first}): {hint}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not a {FORMAT} checkpoint: {hint} (checkpoints of older versions of "
                              "meio-envs cannot be loaded safely and are refused)")
    payload = decode(data["payload"])
    for k, v in (expect or {}).items():
        if payload.get(k) != v:
            raise CheckpointError(f"{p} is a checkpoint of {k} {payload.get(k)!r}, not {v!r}")
    return payload
