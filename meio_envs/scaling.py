"""Action and observation scaling (SPEC section 3), in one place for every env view."""

from __future__ import annotations

import numpy as np

__all__ = ["action_to_orders", "check_action", "orders_to_action", "scale_ip"]


def check_action(action: object, shape: tuple[int, ...], what: str = "action") -> np.ndarray:
    """Validate an action array: real numbers, the right shape, all finite. Returns float64."""
    arr = np.asarray(action)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what}: expected real numbers (float or int dtype), got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{what}: expected shape {shape}, got {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[:3].tolist()
        raise ValueError(f"{what}: contains NaN or infinite values (first at index {bad}); actions must be finite")
    return arr


def action_to_orders(action: np.ndarray, max_order: np.ndarray) -> np.ndarray:
    """Map actions in [-1, 1] to integer orders ``round((a + 1) / 2 * max_order)``.

    Out-of-range actions are clipped to [-1, 1] first (documented behaviour, as Box spaces do).
    """
    a = np.clip(action, -1.0, 1.0)
    return np.rint((a + 1.0) * 0.5 * max_order).astype(np.int64)


def orders_to_action(orders: np.ndarray, max_order: np.ndarray) -> np.ndarray:
    """Inverse of :func:`action_to_orders` for integer orders in [0, max_order] (exact round trip)."""
    q = np.clip(np.asarray(orders, dtype=np.float64), 0, max_order)
    return (2.0 * q / max_order - 1.0).astype(np.float32)


def scale_ip(ip: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Clip inventory positions to [low, high] and map linearly onto [-1, 1] (float32)."""
    x = np.clip(ip, low, high)
    return (2.0 * (x - low) / (high - low) - 1.0).astype(np.float32)
