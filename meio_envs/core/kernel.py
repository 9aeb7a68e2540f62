"""The compiled period (receive, fulfil, order): one loop over copies, one pass over each network.

This is the only implementation of the dynamics; :mod:`meio_envs.core.dynamics` prepares the
arrays and calls :func:`period`. A period on a handful of numbers costs almost nothing as
arithmetic, so a vectorised NumPy version pays mostly for its dozens of calls per step (about
80 us at B = 1); compiled with Numba the same rules cost a few microseconds per copy at any batch
size, and the code reads as the rules do (per copy, per stock point, per customer queue).

Numba compiles on first use and caches the machine code next to this file (or in Numba's user
cache directory when that is not writable), so only the first process on a machine pays the
compile time (docs/performance.md).

Random numbers: every draw is a pure function of (copy stream, period, slot) (see
:mod:`meio_envs.core.rng`); the slots of a period are laid out
``[demand (R) | lead time of internal edges (E) | lead time of external orders (X) | supplier pick (P)]``.
A slot whose distribution is a single point takes no uniform, and a shipment of zero units draws
no lead time (it changes nothing).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["inventory_positions", "mix_array", "period", "uniform", "uniforms_array"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 2.0**-53
SLOTS_PER_PERIOD_MAX = 1 << 16  # counter layout: period * this + slot
with np.errstate(over="ignore"):
    _PERIOD_STEP = np.uint64(SLOTS_PER_PERIOD_MAX) * _GOLDEN  # counter step of one period, premixed

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser (wrapping 64-bit arithmetic)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def mix_array(z: np.ndarray) -> np.ndarray:
    """:func:`mix64` of every element of a 1-D uint64 array (a new array)."""
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = mix64(z[i])
    return out


@_jit
def period_base(stream: np.uint64, t: np.int64) -> np.uint64:
    """Counter origin of period ``t`` of a stream: ``stream + t * SLOTS_PER_PERIOD_MAX * GOLDEN``."""
    return np.uint64(t) * _PERIOD_STEP + stream


@_jit
def uniform(base: np.uint64, slot: np.int64) -> float:
    """The uniform in [0, 1) of ``slot`` in the period whose counter origin is ``base``."""
    z = mix64(base + np.uint64(slot) * _GOLDEN)
    return np.float64(z >> _S11) * _TO_UNIT  # exact: 53 bits


@_jit
def uniforms_array(streams: np.ndarray, periods: np.ndarray, n: np.int64) -> np.ndarray:
    """(B, n) uniforms of slots 0..n-1 of each copy's period."""
    B = streams.shape[0]
    out = np.empty((B, n))
    for b in range(B):
        base = period_base(streams[b], periods[b])
        for j in range(n):
            out[b, j] = uniform(base, j)
    return out


@_jit
def _search_right(flat: np.ndarray, x: float) -> np.int64:
    """``np.searchsorted(flat, x, side="right")`` for a sorted 1-D array."""
    lo, hi = 0, flat.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if flat[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def _draw(base, slot, const, offset, start, flat):  # noqa: ANN001, ANN202
    """Inverse-CDF draw of a table row (``const >= 0``: a single-point PMF, no uniform)."""
    if const >= 0:
        return const
    return _search_right(flat, uniform(base, slot) + offset) - start


@_jit
def _state_mismatch(P, E, R, H, period_, streams, on_hand, pipeline, in_transit, edge_backorder, edge_new,  # noqa: ANN001, ANN202
                    market_backorder, market_new, cost_factors, external_in, delivered, demand_total):
    """Index (in :data:`STATE_FIELDS`) of the first state array whose shape does not fit the network, else -1.

    The loops below do not check bounds, so this runs first in every entry point: a state that does
    not fit never reaches them."""
    B = period_.shape[0]
    if streams.shape[0] != B:
        return 1
    if on_hand.shape[0] != B or on_hand.shape[1] != P:
        return 2
    if pipeline.shape[0] != B or pipeline.shape[1] != P or pipeline.shape[2] != H:
        return 3
    if in_transit.shape[0] != B or in_transit.shape[1] != P:
        return 4
    if edge_backorder.shape[0] != B or edge_backorder.shape[1] != E:
        return 5
    if edge_new.shape[0] != B or edge_new.shape[1] != E:
        return 6
    if market_backorder.shape[0] != B or market_backorder.shape[1] != R:
        return 7
    if market_new.shape[0] != B or market_new.shape[1] != R:
        return 8
    if cost_factors.shape[0] != B or cost_factors.shape[1] != 2:
        return 9
    if external_in.shape[0] != B:
        return 10
    if delivered.shape[0] != B:
        return 11
    if demand_total.shape[0] != B:
        return 12
    return -1


STATE_FIELDS = ("period", "streams", "on_hand", "pipeline", "in_transit", "edge_backorder", "edge_new",
                "market_backorder", "market_new", "cost_factors", "external_in", "delivered", "demand_total")
"""The state arrays the kernel reads, in the order of its arguments."""


@_jit
def _ip_copy(b, out, on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,  # noqa: ANN001, ANN202
             retailers, edge_sup, edge_cust):
    """``out[:] =`` inventory positions of copy ``b``: on hand + in transit + owed to it - owed by it."""
    P = out.shape[0]
    for p in range(P):
        out[p] = on_hand[b, p] + in_transit[b, p]
    for e in range(edge_sup.shape[0]):
        owed = edge_backorder[b, e] + edge_new[b, e]
        out[edge_cust[e]] += owed
        out[edge_sup[e]] -= owed
    for i in range(retailers.shape[0]):
        out[retailers[i]] -= market_backorder[b, i] + market_new[b, i]


@_jit
def inventory_positions(on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,  # noqa: ANN001, ANN201
                        retailers, edge_sup, edge_cust):
    """(B, P) int64 inventory positions of every copy; an empty (0, 0) array when the arrays do not fit
    the network (the caller turns that into an error)."""
    B, P = on_hand.shape
    E, R = edge_sup.shape[0], retailers.shape[0]
    if (in_transit.shape[0] != B or in_transit.shape[1] != P or edge_backorder.shape[0] != B
            or edge_backorder.shape[1] != E or edge_new.shape[0] != B or edge_new.shape[1] != E
            or market_backorder.shape[0] != B or market_backorder.shape[1] != R or market_new.shape[0] != B
            or market_new.shape[1] != R or (E and P <= max(edge_sup.max(), edge_cust.max()))
            or (R and P <= retailers.max())):
        return np.empty((0, 0), np.int64)
    out = np.empty((B, P), np.int64)
    for b in range(B):
        _ip_copy(b, out[b], on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                 retailers, edge_sup, edge_cust)
    return out


@_jit
def period(  # noqa: ANN201, PLR0913, PLR0915
    # static tables (meio_envs.core.plan.StepPlan)
    H, retailers, edge_sup, edge_cust, edge_rank, sup_ptr, sup_nodes, n_sup, ext_nodes,
    holding, backorder, fixed_cost, unit_cost, free_orders,
    d_const, d_offset, d_start, d_flat, l_const, l_offset, l_start, l_flat,
    # state (changed in place)
    period_, streams, on_hand, pipeline, in_transit, edge_backorder, edge_new, market_backorder, market_new,
    cost_factors, external_in, delivered, demand_total,
    # the period's orders and the outputs
    orders, costs, ip_out, arrivals, want_ip,
):
    """Advance every copy one period in place (events 1-3) and return -1, writing the costs into ``costs[0:3]``
    (holding, backorder, ordering; (3+, B, P)), the units received into ``arrivals`` when it has
    B rows (any other shape: not written) and, with ``want_ip``, the inventory positions after the
    period into ``ip_out`` (B, P). When an array does not fit the network nothing is changed and the
    index of the first such state field (:data:`STATE_FIELDS`; ``len(STATE_FIELDS)`` for the orders
    or outputs) is returned instead."""
    B, P = on_hand.shape
    keep_arrivals = arrivals.shape[0] == B
    E = edge_sup.shape[0]
    R = retailers.shape[0]
    X = ext_nodes.shape[0]
    bad = _state_mismatch(holding.shape[0], E, R, H, period_, streams, on_hand, pipeline, in_transit,
                          edge_backorder, edge_new, market_backorder, market_new, cost_factors, external_in,
                          delivered, demand_total)
    if bad >= 0:
        return bad
    if orders.shape[0] != B or orders.shape[1] != P or costs.shape[1] != B or costs.shape[2] != P:
        return len(STATE_FIELDS)
    if want_ip and (ip_out.shape[0] != B or ip_out.shape[1] != P):
        return len(STATE_FIELDS)
    ip0 = np.empty(P, np.int64)
    shipped = np.empty(E, np.int64)
    order = np.empty(E, np.int64)  # a supplier's edges in service order
    pick = np.zeros(P, np.int64)
    for b in range(B):
        t = period_[b]
        base = period_base(streams[b], t)
        # Events 1 and 2 leave every inventory position unchanged, so the positions at the start
        # of the period are the ones that rank customers at event 2.
        if E:
            _ip_copy(b, ip0, on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                     retailers, edge_sup, edge_cust)

        # Event 1: receive shipments due now.
        s = t % H
        for p in range(P):
            a = pipeline[b, p, s]
            pipeline[b, p, s] = 0
            on_hand[b, p] += a
            in_transit[b, p] -= a
            if keep_arrivals:
                arrivals[b, p] = a

        # Event 2: fulfil. Retailers serve their market (one customer: backorders and last period's
        # demand together).
        for i in range(R):
            r = retailers[i]
            owed = market_backorder[b, i] + market_new[b, i]
            ship = min(on_hand[b, r], owed)
            on_hand[b, r] -= ship
            market_backorder[b, i] = owed - ship
            delivered[b] += ship
        # Internal suppliers: all backorders first, then new orders; within each class customers
        # in ascending inventory position, ties to the lower node index.
        for k in range(sup_nodes.shape[0]):
            u = sup_nodes[k]
            lo, hi = sup_ptr[k], sup_ptr[k + 1]
            n = 0
            for e in range(lo, hi):  # insertion sort; edges come in customer order, so ties keep it
                j = n
                while j > 0 and ip0[edge_cust[order[j - 1]]] > ip0[edge_cust[e]]:
                    order[j] = order[j - 1]
                    j -= 1
                order[j] = e
                n += 1
            left = on_hand[b, u]
            for j in range(n):
                e = order[j]
                g = min(edge_backorder[b, e], left)
                shipped[e] = g
                left -= g
            for j in range(n):
                e = order[j]
                g = min(edge_new[b, e], left)
                shipped[e] += g
                left -= g
            on_hand[b, u] = left
        for e in range(E):
            edge_backorder[b, e] = edge_backorder[b, e] + edge_new[b, e] - shipped[e]

        # Costs of period t on the stock after fulfilment.
        fh, fb = cost_factors[b, 0], cost_factors[b, 1]
        for p in range(P):
            costs[0, b, p] = on_hand[b, p] * (holding[p] * fh)
            costs[1, b, p] = 0.0
            q = orders[b, p]
            if free_orders:
                costs[2, b, p] = 0.0
            else:
                costs[2, b, p] = (1.0 if q > 0 else 0.0) * fixed_cost[p] + q * unit_cost[p]
        for i in range(R):
            costs[1, b, retailers[i]] = market_backorder[b, i] * (backorder[i] * fb)

        # Event 3: orders. A customer with several suppliers sends its order to one drawn at random;
        # shipments go into the pipeline with their lead times; the market's demand arrives.
        if E:
            for p in range(P):
                if n_sup[p] > 1:
                    pick[p] = min(np.int64(uniform(base, R + E + X + p) * n_sup[p]), n_sup[p] - 1)
            for e in range(E):
                c = edge_cust[e]
                edge_new[b, e] = orders[b, c] if pick[c] == edge_rank[e] else 0
                qty = shipped[e]
                if qty:
                    lam = _draw(base, R + e, l_const[e], l_offset[e], l_start[e], l_flat)
                    pipeline[b, c, (t + lam) % H] += qty
                    in_transit[b, c] += qty
        for j in range(X):
            x = ext_nodes[j]
            qty = orders[b, x]
            external_in[b] += qty
            if qty:
                lam = _draw(base, R + E + j, l_const[E + j], l_offset[E + j], l_start[E + j], l_flat)
                pipeline[b, x, (t + lam) % H] += qty
                in_transit[b, x] += qty
        for i in range(R):
            d = _draw(base, i, d_const[i], d_offset[i], d_start[i], d_flat)
            market_new[b, i] = d
            demand_total[b] += d
        period_[b] = t + 1
        if want_ip:
            _ip_copy(b, ip_out[b], on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                     retailers, edge_sup, edge_cust)
    return -1
