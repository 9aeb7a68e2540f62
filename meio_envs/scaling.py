"""Action and observation scaling (docs/environments.md), in one place for every env view.

The functions take an optional ``work`` buffer (float64, the shape of the result) so the env
shells can reuse one scratch array per step; results are always new arrays. Clipping is written
as ``maximum`` then ``minimum`` into that buffer, which is what ``np.clip`` computes, without its
per-call overhead on the tiny arrays of a single env.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["action_to_orders", "check_action", "orders_to_action", "scale_ip", "validate_action"]

_MINUS_ONE, _ONE, _HALF, _TWO = (np.array(x) for x in (-1.0, 1.0, 0.5, 2.0))  # 0-d: cheaper than scalars
_SMALL = 64  # arrays up to this size are checked for NaN/inf in Python, faster than two NumPy calls


def validate_action(action: object, shape: tuple[int, ...], what: str = "action") -> np.ndarray:
    """Check an action array: real numbers, the right shape, all finite. Returns it as an array, unconverted."""
    arr = np.asarray(action)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what}: expected real numbers (float or int dtype), got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{what}: expected shape {shape}, got {arr.shape}")
    if arr.dtype.kind == "f" and not _all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[:3].tolist()
        raise ValueError(f"{what}: contains NaN or infinite values (first at index {bad}); actions must be finite")
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    if arr.size <= _SMALL and math.isfinite(sum(arr.ravel().tolist())):
        return True  # a sum is finite only if every term is (an overflow falls through to the exact test)
    return bool(np.isfinite(arr).all())


def check_action(action: object, shape: tuple[int, ...], what: str = "action") -> np.ndarray:
    """Validate an action array: real numbers, the right shape, all finite. Returns float64."""
    return validate_action(action, shape, what).astype(np.float64, copy=False)


def action_to_orders(action: np.ndarray, max_order: np.ndarray, work: np.ndarray | None = None) -> np.ndarray:
    """Map actions in [-1, 1] to integer orders ``round((a + 1) / 2 * max_order)``.

    Out-of-range actions are clipped to [-1, 1] first (documented behaviour, as Box spaces do).
    ``work``: optional float64 scratch of the actions' shape.
    """
    x = np.empty(np.shape(action)) if work is None else work
    np.copyto(x, action)  # float64, as the arithmetic below has always been done
    np.maximum(x, _MINUS_ONE, out=x)
    np.minimum(x, _ONE, out=x)
    np.add(x, _ONE, out=x)
    np.multiply(x, _HALF, out=x)
    np.multiply(x, max_order, out=x)
    np.rint(x, out=x)
    return x.astype(np.int64)


def orders_to_action(orders: np.ndarray, max_order: np.ndarray) -> np.ndarray:
    """Inverse of :func:`action_to_orders` for integer orders in [0, max_order] (exact round trip)."""
    q = np.clip(np.asarray(orders, dtype=np.float64), 0, max_order)
    return (2.0 * q / max_order - 1.0).astype(np.float32)


def scale_ip(
    ip: np.ndarray, low: np.ndarray, high: np.ndarray, span: np.ndarray | None = None, work: np.ndarray | None = None
) -> np.ndarray:
    """Clip inventory positions to [low, high] and map linearly onto [-1, 1] (float32).

    ``span`` (= ``high - low``) and ``work`` (float64 scratch of ``ip``'s shape) are optional.
    """
    x = np.empty(np.shape(ip)) if work is None else work
    np.copyto(x, ip)
    np.maximum(x, low, out=x)
    np.minimum(x, high, out=x)
    np.subtract(x, low, out=x)
    np.multiply(x, _TWO, out=x)
    np.divide(x, high - low if span is None else span, out=x)
    np.subtract(x, _ONE, out=x)
    return x.astype(np.float32)
