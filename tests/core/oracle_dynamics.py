"""The period function as it was before the small-batch speed work (commit 564213f), frozen.

A test oracle only: ``tests/core/test_fast_step.py`` checks that :func:`meio_envs.core.dynamics.step`
gives exactly the same state and costs on random networks. Do not optimise or fix this file; it
is the reference the fast path must match.
"""

from __future__ import annotations

import numpy as np

from meio_envs.core import open_orders as _open_orders
from meio_envs.core.dynamics import PeriodCosts
from meio_envs.core.params import SimParams, SimState

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
SLOTS_PER_PERIOD_MAX = 1 << 16


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _uniforms(streams: np.ndarray, period: np.ndarray, n: int) -> np.ndarray:
    """(B, n) uniforms in [0, 1) for slots 0..n-1 of ``period`` (per copy) of each stream."""
    p = np.asarray(period).astype(np.int64).view(np.uint64)
    counter = p[:, None] * np.uint64(SLOTS_PER_PERIOD_MAX) + np.arange(n, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = _mix(streams[:, None] + counter * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def inventory_position(params: SimParams, state: SimState) -> np.ndarray:
    """(B, P) int64 inventory position: on hand + in transit + ordered and not yet shipped - owed."""
    owed = np.concatenate([state.edge_backorder + state.edge_new, np.zeros((state.batch_size, 1), np.int64)], axis=1)
    ip = state.on_hand + state.in_transit + owed[:, params.edges_in].sum(-1) - owed[:, params.edges_out].sum(-1)
    ip[:, params.retailers] -= state.market_backorder + state.market_new
    return ip


def _allocate(avail: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Serve ``want`` (B, U, K), already sorted by priority, from ``avail`` (B, U); return shipped."""
    before = np.cumsum(want, axis=-1) - want
    return np.minimum(want, np.maximum(avail[..., None] - before, 0))


def step(params: SimParams, state: SimState, orders: np.ndarray) -> PeriodCosts:
    """Advance every copy by one period in place; ``orders`` (B, P) are the period's orders.

    Orders must already be integers in [0, max_order] (the env layers scale and clip actions).
    """
    B, P = state.on_hand.shape
    E = params.num_edges
    R = len(params.retailers)
    X = len(params.external)
    rows = np.arange(B)
    t = state.period
    H = params.horizon_slots
    u = _uniforms(state.streams, t, params.n_slots)

    # Event 1: receive shipments due now.
    slot = t % H
    arrivals = state.pipeline[rows, :, slot]
    state.pipeline[rows, :, slot] = 0
    state.on_hand += arrivals
    state.in_transit -= arrivals

    # Event 2: fulfil. Retailers serve their market (backorders first, then last period's demand;
    # one customer, so the total shipped is the same either way).
    ret = params.retailers
    owed_mkt = state.market_backorder + state.market_new
    ship_mkt = np.minimum(state.on_hand[:, ret], owed_mkt)
    state.on_hand[:, ret] -= ship_mkt
    state.market_backorder = owed_mkt - ship_mkt
    state.market_new[:] = 0
    state.delivered += ship_mkt.sum(axis=1)

    if E:
        ip = inventory_position(params, state)
        sups = params.alloc_suppliers
        pad_e = params.alloc_edges
        # Customers ranked by ascending IP, ties by node index (stable sort of index-ordered lists).
        key = np.concatenate([ip, np.full((B, 1), np.iinfo(np.int64).max)], axis=1)[:, params.alloc_customers]
        order = np.argsort(key, axis=-1, kind="stable")
        e_sorted = np.take_along_axis(np.broadcast_to(pad_e, key.shape), order, axis=-1)
        bo = np.concatenate([state.edge_backorder, np.zeros((B, 1), np.int64)], axis=1)
        new = np.concatenate([state.edge_new, np.zeros((B, 1), np.int64)], axis=1)
        avail = state.on_hand[:, sups]
        want_bo = np.take_along_axis(bo[:, pad_e], order, axis=-1)
        ship_bo = _allocate(avail, want_bo)
        avail = avail - ship_bo.sum(-1)
        want_new = np.take_along_axis(new[:, pad_e], order, axis=-1)
        ship_new = _allocate(avail, want_new)
        shipped_pad = ship_bo + ship_new
        state.on_hand[:, sups] -= shipped_pad.sum(-1)
        ship = np.zeros((B, E + 1), np.int64)
        # Each real edge appears once per copy; padded slots all write 0 into the dummy column E.
        ship[rows[:, None], e_sorted.reshape(B, -1)] = shipped_pad.reshape(B, -1)
        ship = ship[:, :E]
        state.edge_backorder = state.edge_backorder + state.edge_new - ship
        state.edge_new[:] = 0
        lam = params.lead_sampler.draw(u[:, R : R + E], params.edges[:, 1])
        _send(params, state, params.edges[:, 1], ship, lam)

    # Costs of period t on the stock after fulfilment.
    f = state.cost_factors
    holding = state.on_hand * (params.holding * f[:, :1])
    backorder = np.zeros((B, P))
    backorder[:, ret] = state.market_backorder * (params.backorder * f[:, 1:2])

    # Event 3: orders.
    q = orders
    if E:
        pick = np.minimum((u[:, R + E + X :] * params.n_suppliers).astype(np.int64), params.n_suppliers - 1)
        cust = params.edges[:, 1]
        state.edge_new = np.where(pick[:, cust] == params.edge_rank, q[:, cust], 0)
    ext = params.external
    if X:
        lam_x = params.lead_sampler.draw(u[:, R + E : R + E + X], ext)
        _send(params, state, ext, q[:, ext], lam_x)
        state.external_in += q[:, ext].sum(axis=1)
    demand = params.demand_sampler.draw(u[:, :R], np.arange(R))
    state.market_new = demand
    state.demand_total += demand.sum(axis=1)
    ordering = (q > 0) * params.fixed_order_cost + q * params.unit_order_cost
    if state.open_qty is not None:  # optional open-order tracker (off by default)
        _open_orders.update(state.open_qty, state.open_placed, arrivals, q, t)
    state.period = t + 1
    return PeriodCosts(holding=holding, backorder=backorder, ordering=ordering)


def _send(params: SimParams, state: SimState, dest: np.ndarray, qty: np.ndarray, lam: np.ndarray) -> None:
    """Put shipments ``qty`` (B, n) to nodes ``dest`` (n,) into the pipeline, arriving after ``lam``."""
    B, P = state.on_hand.shape
    H = params.horizon_slots
    slot = (state.period[:, None] + lam) % H
    flat = (np.arange(B)[:, None] * P + dest[None, :]) * H + slot
    np.add.at(state.pipeline.reshape(-1), flat.reshape(-1), qty.reshape(-1))
    np.add.at(state.in_transit.reshape(-1), (np.arange(B)[:, None] * P + dest[None, :]).reshape(-1), qty.reshape(-1))
