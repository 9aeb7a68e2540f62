"""The period of SPEC section 1, vectorised over a batch of B copies.

:func:`step` runs events 1 and 2 of period t (receive, fulfil), charges the period's holding and
backorder costs on the stock after fulfilment, then runs event 3 (every stock point orders, the
market's demand of period t arrives, the external supplier ships at once) and charges ordering
costs. The observation a policy sees before ordering (the inventory position) is unchanged by
events 1 and 2, so an action chosen on the state returned by the previous step is exactly the
order of period t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meio_envs.core import open_orders, rng
from meio_envs.core.params import SimParams, SimState

__all__ = ["PeriodCosts", "inventory_position", "new_state", "reset_copies", "step"]


@dataclass
class PeriodCosts:
    """Costs of one period per copy and stock point, already multiplied by the cost factors."""

    holding: np.ndarray  # (B, P) float64
    backorder: np.ndarray  # (B, P) float64 (non-zero at retailers only)
    ordering: np.ndarray  # (B, P) float64 fixed + per-unit ordering cost

    @property
    def per_node(self) -> np.ndarray:
        """(B, P) total cost of each stock point."""
        return self.holding + self.backorder + self.ordering

    @property
    def total(self) -> np.ndarray:
        """(B,) network cost."""
        return self.per_node.sum(axis=1)


def new_state(params: SimParams, seeds: np.ndarray, *, track_open_orders: bool = False) -> SimState:
    """A batch of B = len(seeds) copies at the standard initial state, copy i keyed by seeds[i].

    ``track_open_orders`` adds the open-order tracker of :mod:`meio_envs.core.open_orders`.
    """
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
    B, P, E, R = seeds.size, params.num_nodes, params.num_edges, len(params.retailers)
    z = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
    state = SimState(
        period=z(B),
        on_hand=z(B, P),
        pipeline=z(B, P, params.horizon_slots),
        in_transit=z(B, P),
        edge_backorder=z(B, E),
        edge_new=z(B, E),
        market_backorder=z(B, R),
        market_new=z(B, R),
        cost_factors=np.ones((B, 2)),
        keys=rng.copy_keys(seeds),
        episode=z(B),
        streams=np.zeros(B, dtype=np.uint64),
        external_in=z(B),
        delivered=z(B),
        demand_total=z(B),
    )
    if track_open_orders:
        state.open_qty, state.open_placed = open_orders.allocate(B, P)
    reset_copies(params, state, np.ones(B, dtype=bool), next_episode=False)
    return state


def reset_copies(params: SimParams, state: SimState, mask: np.ndarray, *, next_episode: bool = True) -> None:
    """Put the copies selected by ``mask`` (B,) back to the initial state, in place.

    With ``next_episode`` the copies move on to their next episode's random stream (autoreset);
    otherwise they restart the current one.
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return
    if next_episode:
        state.episode[m] += 1
    state.streams[m] = rng.episode_streams(state.keys[m], state.episode[m])
    state.period[m] = 0
    state.on_hand[m] = params.base_stock
    for arr in (state.pipeline, state.in_transit, state.edge_backorder, state.edge_new,
                state.market_backorder, state.market_new, state.delivered, state.demand_total):
        arr[m] = 0
    if state.open_qty is not None:
        open_orders.reset(state.open_qty, state.open_placed, m)
    state.external_in[m] = params.base_stock.sum()  # the initial stock counts as having come in
    cv = params.cost_variation
    if cv is None:
        state.cost_factors[m] = 1.0
    else:
        u = rng.uniforms(state.streams[m], np.full(int(m.sum()), rng.RESET_PERIOD), 2)
        lo = np.asarray([cv.holding[0], cv.backorder[0]])
        hi = np.asarray([cv.holding[1], cv.backorder[1]])
        state.cost_factors[m] = lo + u * (hi - lo)


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
    u = rng.uniforms(state.streams, t, params.n_slots)

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
        open_orders.update(state.open_qty, state.open_placed, arrivals, q, t)
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
