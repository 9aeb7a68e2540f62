"""Optional tracker of each stock point's open replenishment orders (off by default).

An order is *open* from the period it is placed until all of its units have arrived at the
ordering stock point. The tracker gives, per copy and stock point, the quantity still to come on
the oldest open order, that order's age and the total quantity on open orders (the book chapter's
state, docs/chapter_env.md). It works for every network, not just the chapter's.

Representation: per copy and stock point a FIFO list of at most ``K`` open orders kept in two
(B, P, K) int64 arrays stored on :class:`~meio_envs.core.params.SimState`:

* ``open_qty[b, p, k]``: units of order k not received yet (0 = empty slot),
* ``open_placed[b, p, k]``: the period in which order k was placed.

Slot 0 is the oldest open order; occupied slots form a prefix (the list is kept compacted).

Matching receipts to orders: a shipment does not say which order it belongs to (a supplier
short of stock splits an order over several shipments, and with stochastic lead times later
shipments can overtake earlier ones). Received units are therefore matched **first in, first
out**: every unit that arrives reduces the oldest open order first. An order counts as fully
received once the total received since it was placed covers it and every older order. The
total open quantity is exact under any matching (units ordered minus units received); only the
split between orders, and so the "oldest order" features, depend on the FIFO convention.

Overflow: a stock point with ``K`` open orders that places another adds it to its newest slot
(that slot keeps its own placement period). ``K = 32`` is far above what a sensible policy keeps
open; the quantities stay exact, only the age of the merged order is approximate.

Timing: :func:`update` is called at the end of :func:`~meio_envs.core.dynamics.step` of period
``t`` with the units received at event 1 and the orders placed at event 3. After the step
``state.period == t + 1``, so an order placed in the step just taken has age 1 when the policy
next decides (:func:`features`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_OPEN_ORDERS", "allocate", "features", "reset", "update"]

MAX_OPEN_ORDERS = 32


def allocate(batch: int, nodes: int, slots: int = MAX_OPEN_ORDERS) -> tuple[np.ndarray, np.ndarray]:
    """Empty ``(open_qty, open_placed)`` arrays of shape (batch, nodes, slots)."""
    if slots < 1:
        raise ValueError(f"the open-order tracker needs at least 1 slot, got {slots}")
    return np.zeros((batch, nodes, slots), np.int64), np.zeros((batch, nodes, slots), np.int64)


def reset(open_qty: np.ndarray, open_placed: np.ndarray, mask: np.ndarray) -> None:
    """Clear the copies selected by ``mask`` (B,)."""
    open_qty[mask] = 0
    open_placed[mask] = 0


def update(open_qty: np.ndarray, open_placed: np.ndarray, received: np.ndarray, ordered: np.ndarray,
           period: np.ndarray) -> None:
    """Apply one period in place: FIFO receipts ``received`` (B, P), then new orders ``ordered`` (B, P)
    placed in ``period`` (B,)."""
    K = open_qty.shape[-1]
    if received.any():
        cum = np.cumsum(open_qty, axis=-1)
        r = received[..., None]
        left = np.clip(cum - r, 0, open_qty)  # FIFO: the oldest orders absorb receipts first
        done = (cum <= r).sum(axis=-1)  # fully received orders (a prefix), per (b, p)
        idx = np.arange(K) + done[..., None]
        keep = idx < K
        idx = np.minimum(idx, K - 1)
        open_qty[:] = np.where(keep, np.take_along_axis(left, idx, axis=-1), 0)
        open_placed[:] = np.where(keep, np.take_along_axis(open_placed, idx, axis=-1), 0)
    pos = ordered > 0
    if pos.any():
        b, p = np.nonzero(pos)
        n = (open_qty[b, p] > 0).sum(axis=-1)
        slot = np.minimum(n, K - 1)
        fresh = n < K
        open_qty[b, p, slot] += ordered[b, p]
        open_placed[b, p, slot] = np.where(fresh, period[b], open_placed[b, p, slot])


def features(open_qty: np.ndarray, open_placed: np.ndarray, period: np.ndarray) -> np.ndarray:
    """(B, P, 3) int64: units still due on the oldest open order, its age in periods
    (``period - placed``; 0 when nothing is open) and the total open quantity."""
    oldest = open_qty[..., 0]
    age = np.where(oldest > 0, period[:, None] - open_placed[..., 0], 0)
    return np.stack([oldest, age, open_qty.sum(axis=-1)], axis=-1)
