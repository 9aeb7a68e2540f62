"""The period (docs/environments.md) on a batch of B copies: state, reset, and the calls into the kernel.

:func:`step` runs events 1 and 2 of period t (receive, fulfil), charges the period's holding and
backorder costs on the stock after fulfilment, then runs event 3 (every stock point orders, the
market's demand of period t arrives, the external supplier ships at once) and charges ordering
costs. The observation a policy sees before ordering (the inventory position) is unchanged by
events 1 and 2, so an action chosen on the state returned by the previous step is exactly the
order of period t. The period itself is :mod:`meio_envs.core.kernel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meio_envs.core import kernel, open_orders, rng
from meio_envs.core.params import SimParams, SimState
from meio_envs.core.plan import StepPlan

__all__ = ["PeriodCosts", "advance", "check_state", "inventory_position", "new_state", "reset_copies", "step"]


@dataclass
class PeriodCosts:
    """Costs of one period per copy and stock point, already multiplied by the cost factors.

    The three arrays are fresh for every period (views of one (4, B, P) block when made by
    :func:`step`); ``per_node``, ``total`` and :meth:`sums` are computed from them on each call.
    """

    holding: np.ndarray  # (B, P) float64
    backorder: np.ndarray  # (B, P) float64 (non-zero at retailers only)
    ordering: np.ndarray  # (B, P) float64 fixed + per-unit ordering cost
    _block: np.ndarray | None = field(default=None, repr=False, compare=False)  # (5, B, P): the three, per_node, lost
    lost_sales: np.ndarray | None = None  # (B, P) float64 lost-sales penalty (None: lost sales off, all zero)
    lost_units: np.ndarray | None = None  # (B,) int64 units of market demand lost this period

    @property
    def per_node(self) -> np.ndarray:
        """(B, P) total cost of each stock point."""
        if self._block is None:
            out = self.holding + self.backorder + self.ordering
            return out if self.lost_sales is None else out + self.lost_sales
        out = self._block[3]
        np.add(self.holding, self.backorder, out=out)
        np.add(out, self.ordering, out=out)
        if self.lost_sales is not None:  # only when on: the report's sums stay bit for bit
            np.add(out, self.lost_sales, out=out)
        return out

    @property
    def total(self) -> np.ndarray:
        """(B,) network cost."""
        return self.per_node.sum(axis=1)

    def sums(self) -> np.ndarray:
        """(5, B): holding, backorder and ordering cost, the total and the lost-sales cost of each
        copy, in one reduction.

        Bit for bit the same numbers as ``holding.sum(axis=1)``, ..., ``total``.
        """
        per_node = self.per_node
        if self._block is None:
            lost = np.zeros(per_node.shape[0]) if self.lost_sales is None else self.lost_sales.sum(axis=1)
            return np.stack([self.holding.sum(axis=1), self.backorder.sum(axis=1), self.ordering.sum(axis=1),
                             per_node.sum(axis=1), lost])
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
    opts = StepPlan.of(params).options
    state.lost = z(B)
    state.spell_left = z(B, opts.num_disruptions)
    state.down = np.zeros((B, opts.num_disruptions), dtype=bool)
    state.ext_backlog = z(B, len(params.external))
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
    for arr in (state.lost, state.spell_left, state.down, state.ext_backlog):
        if arr is not None:
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
    st = _with_option_arrays(state, params)
    ip = kernel.inventory_positions(st.on_hand, st.in_transit, st.edge_backorder, st.edge_new,
                                    st.market_backorder, st.market_new, plan.retailers, plan.edge_sup, plan.edge_cust,
                                    plan.ext_nodes, st.ext_backlog)
    if ip.shape != st.on_hand.shape or st.on_hand.shape[1:] != (plan.P,):
        raise ValueError(f"the state's arrays do not fit this network of {plan.P} stock points (on_hand "
                         f"{st.on_hand.shape}); a state must come from new_state() for the same network")
    return ip


def step(params: SimParams, state: SimState, orders: np.ndarray) -> PeriodCosts:
    """Advance every copy by one period in place; ``orders`` (B, P) are the period's orders.

    Orders must already be integers in [0, max_order] (the env layers scale and clip actions).
    """
    return _period(params, state, orders, False)[0]


def advance(params: SimParams, state: SimState, orders: np.ndarray) -> tuple[PeriodCosts, np.ndarray]:
    """:func:`step`, also returning the (B, P) inventory positions after the period (a new array).

    Cheaper than ``step`` followed by :func:`inventory_position`: the period computes them while
    the copy's numbers are at hand.
    """
    return _period(params, state, orders, True)  # type: ignore[return-value]


def check_state(params: SimParams, state: SimState) -> SimState:
    """``state`` if every array has the dtype and shape a state of ``params``' network has (B copies as
    in ``state.period``), else a ValueError naming the field. For states from outside, e.g. a checkpoint."""
    if not isinstance(state, SimState):
        raise ValueError(f"expected a SimState, got {type(state).__name__}")
    B = state.period.shape[0] if isinstance(state.period, np.ndarray) and state.period.ndim == 1 else -1
    P, E, R, H = params.num_nodes, params.num_edges, len(params.retailers), params.horizon_slots
    i8, u8, f8 = np.dtype(np.int64), np.dtype(np.uint64), np.dtype(np.float64)
    want = {"period": ((B,), i8), "streams": ((B,), u8), "keys": ((B,), u8), "episode": ((B,), i8),
            "on_hand": ((B, P), i8), "pipeline": ((B, P, H), i8), "in_transit": ((B, P), i8),
            "edge_backorder": ((B, E), i8), "edge_new": ((B, E), i8), "market_backorder": ((B, R), i8),
            "market_new": ((B, R), i8), "cost_factors": ((B, 2), f8), "external_in": ((B,), i8),
            "delivered": ((B,), i8), "demand_total": ((B,), i8)}
    if state.open_qty is not None or state.open_placed is not None:
        K = getattr(state.open_qty, "shape", (0, 0, 0))[-1]
        want["open_qty"] = want["open_placed"] = ((B, P, K), i8)
    if any(getattr(state, n) is not None for n in ("lost", "spell_left", "down", "ext_backlog")):
        D = StepPlan.of(params).options.num_disruptions
        want.update(lost=((B,), i8), spell_left=((B, D), i8), down=((B, D), np.dtype(bool)),
                    ext_backlog=((B, len(params.external)), i8))
    for name, (shape, dtype) in want.items():
        x = getattr(state, name)
        if B < 0 or not isinstance(x, np.ndarray) or x.shape != shape or x.dtype != dtype:
            raise ValueError(f"state.{name} must be a {dtype} array of shape {shape} for this network, got "
                             f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
    return state


def _state_error(code: int, st: SimState) -> ValueError:
    name = kernel.STATE_FIELDS[code] if code < len(kernel.STATE_FIELDS) else None
    if name is None:
        return ValueError("orders or outputs do not fit the state's copies and stock points")
    x = getattr(st, name)
    return ValueError(f"state.{name} does not fit this network and batch (shape {getattr(x, 'shape', None)}); "
                      "a state must come from new_state() for the same network")


def _with_option_arrays(st: SimState, params: SimParams) -> SimState:
    """``st``, given the options' arrays (all empty) when it was built by hand or before the options."""
    if st.lost is None:
        B = st.on_hand.shape[0]
        st.lost = np.zeros(B, np.int64)
        st.spell_left = np.zeros((B, 0), np.int64)
        st.down = np.zeros((B, 0), bool)
        st.ext_backlog = np.zeros((B, len(params.external)), np.int64)
    return st


def _period(
    params: SimParams, st: SimState, orders: np.ndarray, want_ip: bool
) -> tuple[PeriodCosts, np.ndarray | None]:
    plan = StepPlan.of(params)
    _with_option_arrays(st, params)
    B, P = st.on_hand.shape
    q = orders if orders.dtype == np.int64 and orders.flags.c_contiguous else np.ascontiguousarray(orders, np.int64)
    if q.shape != (B, P):  # the kernel does not check bounds: a wrong shape must never reach it
        raise ValueError(f"orders must have shape {(B, P)} (copies, stock points), got {q.shape}")
    block = np.empty((5, B, P))
    lost_units = np.empty(B, np.int64)
    ip = np.empty((B, P), np.int64) if want_ip else _NO_IP
    track = st.open_qty is not None
    arrivals = np.empty((B, P), np.int64) if track else _NO_ARRIVALS
    t = st.period.copy() if track else None
    opts = plan.options
    mult = opts.multipliers(int(st.period.max()) + 1) if opts.pat_on else opts.multipliers(0)
    code = kernel.period(*plan.tables, *opts.tables_before_mult, mult, *opts.tables_after_mult, st.period,
                         st.streams, st.on_hand, st.pipeline, st.in_transit, st.edge_backorder, st.edge_new,
                         st.market_backorder, st.market_new, st.cost_factors, st.external_in, st.delivered,
                         st.demand_total, st.lost, st.spell_left, st.down, st.ext_backlog, q, block, ip, arrivals,
                         want_ip, lost_units)
    if code >= 0:
        raise _state_error(code, st)
    if track:  # optional open-order tracker (off by default)
        open_orders.update(st.open_qty, st.open_placed, arrivals, q, t)
    costs = PeriodCosts(holding=block[0], backorder=block[1], ordering=block[2], _block=block,
                        lost_sales=block[4] if plan.options.lost_on else None, lost_units=lost_units)
    return costs, (ip if want_ip else None)


_NO_IP = np.empty((0, 0), np.int64)  # ip_out when the caller does not want the positions (never written)
_NO_ARRIVALS = np.empty((0, 0), np.int64)  # arrivals when no tracker reads them (never written)
