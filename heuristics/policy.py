"""Base-stock policy: order up to a level on the inventory position (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["BaseStockPolicy"]


class BaseStockPolicy:
    """Local base-stock policy: order ``clip(levels - ip, 0, max_order)`` at every node."""

    def __init__(self, levels: np.ndarray, max_order: np.ndarray | None = None) -> None:
        lv = np.asarray(levels)
        if lv.ndim != 1 or lv.size == 0:
            raise ValueError(f"levels must be a non-empty 1-D array (one level per node), got shape {lv.shape}")
        if not np.all(np.isfinite(lv)):
            raise ValueError("levels must be finite")
        self.levels = np.rint(lv).astype(np.int64)
        if max_order is None:
            self.max_order = None
        else:
            mo = np.asarray(max_order)
            if mo.shape != self.levels.shape:
                raise ValueError(f"max_order must have shape {self.levels.shape} like levels, got {mo.shape}")
            if np.any(mo < 0):
                raise ValueError("max_order must be >= 0")
            self.max_order = np.rint(mo).astype(np.int64)

    def orders(self, ip: np.ndarray) -> np.ndarray:
        """Orders for inventory positions ``ip`` of shape (P,) or (B, P); int64 of the same shape."""
        ip = np.asarray(ip)
        if ip.shape[-1:] != self.levels.shape or ip.ndim not in (1, 2):
            raise ValueError(f"ip must have shape (P,) or (B, P) with P = {self.levels.size}, got {ip.shape}")
        out = self.levels - np.rint(ip).astype(np.int64)
        upper = self.max_order if self.max_order is not None else None
        return np.clip(out, 0, upper).astype(np.int64)

    __call__ = orders
