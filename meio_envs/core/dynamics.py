"""The period of SPEC section 1, vectorised over a batch of B copies.

:func:`step` runs events 1 and 2 of period t (receive, fulfil), charges the period's holding and
backorder costs on the stock after fulfilment, then runs event 3 (every stock point orders, the
market's demand of period t arrives, the external supplier ships at once) and charges ordering
costs. The observation a policy sees before ordering (the inventory position) is unchanged by
events 1 and 2, so an action chosen on the state returned by the previous step is exactly the
order of period t.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meio_envs.core import open_orders, rng
from meio_envs.core.params import SimParams, SimState
from meio_envs.core.plan import StepPlan, Workspace

__all__ = ["PeriodCosts", "advance", "inventory_position", "new_state", "reset_copies", "step"]

_ZERO = np.array(0, dtype=np.int64)


@dataclass
class PeriodCosts:
    """Costs of one period per copy and stock point, already multiplied by the cost factors.

    The three arrays are fresh for every period (views of one (4, B, P) block when made by
    :func:`step`); ``per_node``, ``total`` and :meth:`sums` are computed from them on each call.
    """

    holding: np.ndarray  # (B, P) float64
    backorder: np.ndarray  # (B, P) float64 (non-zero at retailers only)
    ordering: np.ndarray  # (B, P) float64 fixed + per-unit ordering cost
    _block: np.ndarray | None = field(default=None, repr=False, compare=False)  # (4, B, P): the three + per_node

    @property
    def per_node(self) -> np.ndarray:
        """(B, P) total cost of each stock point."""
        if self._block is None:
            return self.holding + self.backorder + self.ordering
        out = self._block[3]
        np.add(self.holding, self.backorder, out=out)
        np.add(out, self.ordering, out=out)
        return out

    @property
    def total(self) -> np.ndarray:
        """(B,) network cost."""
        return self.per_node.sum(axis=1)

    def sums(self) -> np.ndarray:
        """(4, B): holding, backorder and ordering cost and the total of each copy, in one reduction.

        Bit for bit the same numbers as ``holding.sum(axis=1)``, ..., ``total``.
        """
        per_node = self.per_node
        if self._block is None:
            return np.stack([self.holding.sum(axis=1), self.backorder.sum(axis=1), self.ordering.sum(axis=1),
                             per_node.sum(axis=1)])
        return self._block.sum(axis=2)


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
    plan = StepPlan.of(params)
    return _inventory_position(plan, Workspace.of(plan, state), state)


def step(params: SimParams, state: SimState, orders: np.ndarray) -> PeriodCosts:
    """Advance every copy by one period in place; ``orders`` (B, P) are the period's orders.

    Orders must already be integers in [0, max_order] (the env layers scale and clip actions).
    """
    return _period(params, state, orders, False)[0]


def advance(params: SimParams, state: SimState, orders: np.ndarray) -> tuple[PeriodCosts, np.ndarray]:
    """:func:`step`, also returning the (B, P) inventory positions after the period (a new array).

    Cheaper than ``step`` followed by :func:`inventory_position`: the period already knows the
    positions at its start (they rank customers) and how its orders and demand change them.
    """
    return _period(params, state, orders, True)  # type: ignore[return-value]


def _inventory_position(plan: StepPlan, w: Workspace, st: SimState) -> np.ndarray:
    ip = st.on_hand + st.in_transit
    if plan.E:
        owed = w.owed  # (B, E + 1), pad column stays 0
        np.add(st.edge_backorder, st.edge_new, out=owed[:, : plan.E])
        _add_at(ip, plan.custs, plan.cust_sums(owed, w.gather))
        _add_at(ip, plan.sups, plan.sup_sums(owed, w.gather), sign=-1)
    _add_at(ip, plan.ret, st.market_backorder, sign=-1)
    _add_at(ip, plan.ret, st.market_new, sign=-1)
    return ip


def _add_at(x: np.ndarray, cols: slice | np.ndarray, v: np.ndarray, sign: int = 1) -> None:
    """``x[:, cols] += sign * v`` in place (a view for a slice, a gather and scatter otherwise)."""
    if isinstance(cols, slice):
        view = x[:, cols]
        if sign > 0:
            view += v
        else:
            view -= v
    elif sign > 0:
        x[:, cols] += v
    else:
        x[:, cols] -= v


def _period(
    params: SimParams, st: SimState, orders: np.ndarray, want_ip: bool
) -> tuple[PeriodCosts, np.ndarray | None]:
    plan = StepPlan.of(params)
    w = Workspace.of(plan, st)
    g = w.gather
    B, P, E, X = w.B, plan.P, plan.E, plan.X
    t = st.period
    u = w.uniforms(st.streams, t) if w.uniforms is not None else None
    # Events 1 and 2 leave every inventory position unchanged, so the positions at the start of
    # the period are the ones that rank customers at event 2.
    ip = _inventory_position(plan, w, st) if (E or want_ip) else None
    if not st.pipeline.flags.c_contiguous:
        st.pipeline = np.ascontiguousarray(st.pipeline)
    pipe = st.pipeline.reshape(-1)

    # Event 1: receive shipments due now.
    due = w.pipe_rows + np.remainder(t, plan.H0)[:, None]
    arrivals = pipe.take(due)
    pipe[due] = 0
    st.on_hand += arrivals
    st.in_transit -= arrivals

    # Event 2: fulfil. Retailers serve their market (backorders first, then last period's demand;
    # one customer, so the total shipped is the same either way). The demand of last period is
    # replaced at event 3, so market_new needs no clearing here.
    ret = plan.ret
    owed_mkt = st.market_backorder + st.market_new
    ship_mkt = np.minimum(st.on_hand[:, ret], owed_mkt)
    _add_at(st.on_hand, ret, ship_mkt, sign=-1)
    np.subtract(owed_mkt, ship_mkt, out=st.market_backorder)
    st.delivered += ship_mkt.sum(axis=1)
    items = w.items
    if E:
        _fulfil_internal(plan, w, st, ip, items)  # type: ignore[arg-type]

    # Costs of period t on the stock after fulfilment.
    block = np.empty((4, B, P))
    f = st.cost_factors
    np.multiply(st.on_hand, plan.holding * f[:, :1], out=block[0])
    block[1].fill(0.0)
    if isinstance(ret, slice):
        np.multiply(st.market_backorder, plan.backorder * f[:, 1:2], out=block[1, :, ret])
    else:
        block[1][:, ret] = st.market_backorder * (plan.backorder * f[:, 1:2])
    q = orders
    if plan.free_orders:
        block[2].fill(0.0)  # (q > 0) * 0 + q * 0 is +0.0 for every q
    else:
        np.multiply(q > 0, plan.fixed_order_cost, out=block[2])
        block[2] += q * plan.unit_order_cost

    # Event 3: orders. A customer with several suppliers sends its order to one drawn at random.
    new = w.new  # (B, E + 1), pad column stays 0
    if E:
        qc = g(q, plan.edge_cust)
        if plan.M:
            pick = w.pick  # column M stays 0: the pick of every single-supplier customer
            np.multiply(u[:, plan.u_pick], plan.nsup_f, out=w.pick_f)  # type: ignore[index]
            np.copyto(pick[:, : plan.M], w.pick_f, casting="unsafe")  # truncation, as astype(int64)
            np.minimum(pick[:, : plan.M], plan.nsup_max, out=pick[:, : plan.M])
            np.multiply(qc, g(pick, plan.edge_pick_col) == plan.edge_rank, out=new[:, :E])
        else:
            new[:, :E] = qc
        np.copyto(st.edge_new, new[:, :E])
    if X:
        qx = g(q, plan.external_nodes)
        items[:, E + 1 :] = qx
        st.external_in += qx.sum(axis=1)
    _send(plan, w, st, items, u)
    demand = plan.demand
    if demand.all_random:
        demand.draw(u[:, plan.u_demand], out=st.market_new)  # type: ignore[index]
    else:
        st.market_new[:, demand.constant] = demand.const_values
        if demand.random.size:
            st.market_new[:, demand.random] = demand.draw(u[:, plan.u_demand])  # type: ignore[index]
    st.demand_total += st.market_new.sum(axis=1)
    if st.open_qty is not None:  # optional open-order tracker (off by default)
        open_orders.update(st.open_qty, st.open_placed, arrivals, q, t)
    st.period = t + 1
    costs = PeriodCosts(holding=block[0], backorder=block[1], ordering=block[2], _block=block)
    if not want_ip:
        return costs, None
    # Event 3 raises every position by its own order, lowers each supplier's by the orders it
    # received and each retailer's by the new demand.
    ip += q  # type: ignore[operator]
    if E:
        _add_at(ip, plan.sups, plan.sup_sums(new, g), sign=-1)  # type: ignore[arg-type]
    _add_at(ip, ret, st.market_new, sign=-1)  # type: ignore[arg-type]
    return costs, ip


def _fulfil_internal(plan: StepPlan, w: Workspace, st: SimState, ip: np.ndarray, items: np.ndarray) -> None:
    """Event 2 for internal suppliers: backorders first, then new orders, lowest-IP customer first.

    Serving a supplier's queue greedily gives ``min(want, max(stock - ahead, 0))`` to each want,
    ``ahead`` being the units queued before it. Backorders of all customers come before any new
    order, so a new order has the supplier's backorder total ahead of it too.
    """
    g, E = w.gather, plan.E
    want = w.want  # (B, 2, E + 1): [backorders | new orders], pad column 0
    np.copyto(want[:, 0, :E], st.edge_backorder)
    np.copyto(want[:, 1, :E], st.edge_new)
    ahead = _queue_ahead(plan, w, ip, want)
    stock = g(st.on_hand, plan.edge_sup)  # (B, E + 1) stock of each edge's supplier
    avail = w.avail
    np.copyto(avail[:, 0], stock)
    np.subtract(stock, g(plan.sup_sums(want[:, 0], g), plan.edge_seg), out=avail[:, 1])
    if ahead is not None:
        avail -= ahead
    np.maximum(avail, _ZERO, out=avail)
    np.minimum(avail, want, out=avail)  # avail now holds what each want gets
    shipped = items[:, : E + 1]
    np.add(avail[:, 0], avail[:, 1], out=shipped)
    _add_at(st.on_hand, plan.sups, plan.sup_sums(shipped, g), sign=-1)
    np.subtract(w.owed[:, :E], shipped[:, :E], out=st.edge_backorder)  # owed = backorders + new orders


def _queue_ahead(plan: StepPlan, w: Workspace, ip: np.ndarray, want: np.ndarray) -> np.ndarray | None:
    """(B, 2, E + 1) units queued ahead of each want at its supplier, within its class.

    Customers are served in ascending IP, ties to the lower node index (edges of a supplier are in
    customer order, so e1 < e2 is served first unless IP(e2) < IP(e1)).
    """
    g = w.gather
    if plan.pairwise:
        if not plan.NP:
            return None
        NP = plan.NP
        first = g(ip, plan.pair_c1) <= g(ip, plan.pair_c2)  # (B, NP): e1 is served before e2
        c = w.ahead  # (B, 2, 2 NP + 1), last column 0
        np.multiply(g(want, plan.pair_e1), first[:, None, :], out=c[:, :, :NP])
        np.multiply(g(want, plan.pair_e2), ~first[:, None, :], out=c[:, :, NP : 2 * NP])
        acc = g(c, plan.ahead_cols[0])
        for cols in plan.ahead_cols[1:]:
            acc += g(c, cols)
        return acc
    # Large fans: sort each supplier's customers (padded lists, pads last).
    key = w.ip_key
    key[:, : plan.P] = ip
    order = np.argsort(key[:, plan.alloc_customers], axis=-1, kind="stable")  # (B, U, K)
    edges = np.take_along_axis(np.broadcast_to(plan.alloc_edges, order.shape), order, axis=-1)
    flat = (edges + w.sort_rows).reshape(-1)  # into want.reshape(-1), class 0
    ahead = np.zeros_like(want)
    wf, af = want.reshape(-1), ahead.reshape(-1)
    for k in (0, 1):
        idx = flat + k * (plan.E + 1)
        ws = wf[idx].reshape(order.shape)
        af[idx] = (np.cumsum(ws, axis=-1) - ws).reshape(-1)  # pads all write into the pad column
    return ahead


def _send(plan: StepPlan, w: Workspace, st: SimState, items: np.ndarray, u: np.ndarray | None) -> None:
    """Put the period's shipments ``items`` (B, E + 1 + X) into the pipeline and ``in_transit``."""
    g = w.gather
    pipe = st.pipeline.reshape(-1)
    t = st.period
    incoming = g(items, plan.first_item)  # (B, P)
    for nodes, its in plan.more_items:
        _add_at(incoming, nodes, g(items, its))
    st.in_transit += incoming
    if plan.node_lead is not None:  # constant lead times: one slot per node
        due = w.pipe_rows + np.remainder(t[:, None] + plan.node_lead, plan.H0)
        pipe[due] += incoming
        return
    lam = w.lam  # constant columns were filled when the workspace was made
    lam[:, plan.lam_random_cols] = plan.lead.draw(u[:, plan.u_lead])  # type: ignore[index]
    for (_, its), rows in zip(plan.layers, w.layer_rows):
        due = rows + np.remainder(t[:, None] + g(lam, its), plan.H0)
        pipe[due] += g(items, its)  # nodes are unique within a layer
