"""Index tables and scratch buffers for the batched period (:mod:`meio_envs.core.dynamics`).

At B = 1 a period is a few dozen NumPy calls on arrays of a handful of numbers, so what it costs
is the number of calls and how expensive each one is, not arithmetic. Everything here exists to
keep that number small:

* :class:`StepPlan` holds every index array the period needs, derived once from a
  :class:`~meio_envs.core.params.SimParams` and cached on it. Contiguous index runs become slices
  (views, no gather); random draws are only made for slots that are random (a deterministic lead
  time or a stock point with one supplier needs no uniform); sums over the edges of a supplier or
  of a customer are a few column gathers (or one ``reduceat`` for large fans).
* :class:`Workspace` holds scratch buffers for one batch size, cached on the
  :class:`~meio_envs.core.params.SimState`. Nothing in it survives a call as a result: arrays the
  period returns or stores in the state are never workspace buffers. It is dropped (rebuilt on
  the next step) when the state is copied or pickled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from meio_envs.core.rng import UniformBlock

if TYPE_CHECKING:
    from meio_envs.core.params import SimParams, SimState

__all__ = ["SMALL_FAN", "SegmentSums", "StepPlan", "Workspace"]

SMALL_FAN = 4
"""Suppliers with at most this many customers rank them by pairwise comparisons (no sort)."""
TAKE_BELOW = 48
"""Below this many copies ``ndarray.take`` is faster than fancy indexing for column gathers."""

Index = slice | np.ndarray
Gather = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _take(x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return x.take(cols, axis=-1)


def _fancy(x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return x[..., cols]


def as_index(idx: np.ndarray) -> Index:
    """``idx`` as a slice when it is a contiguous increasing run, so indexing gives a view."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        return slice(int(idx[0]), int(idx[0]) + idx.size)
    return idx


class SegmentSums:
    """Row sums of fixed, non-empty column groups: ``out[:, g] = x[:, groups[g]].sum(-1)``.

    ``x`` has ``pad + 1`` columns, the last one (index ``pad``) zero. Groups of at most
    :data:`SMALL_FAN` columns are summed as a few whole-array gathers; larger fans use one
    ``np.add.reduceat`` on the columns reordered group by group.
    """

    def __init__(self, groups: Sequence[Sequence[int]], pad: int) -> None:
        sizes = [len(g) for g in groups]
        if not sizes or min(sizes) < 1:
            raise ValueError("SegmentSums needs at least one group and no empty group")
        self.num_groups = len(groups)
        self.by_gather = max(sizes) <= SMALL_FAN
        if self.by_gather:
            table = np.full((max(sizes), len(groups)), pad, dtype=np.int64)
            for g, cols in enumerate(groups):
                table[: len(cols), g] = cols
            self.columns = [table[k] for k in range(table.shape[0])]
        else:
            order = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
            self.order: np.ndarray | None = None if np.array_equal(order, np.arange(order.size)) else order
            self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)

    def __call__(self, x: np.ndarray, gather: Gather) -> np.ndarray:
        """(B, num_groups) sums (a new array)."""
        if self.by_gather:
            acc = gather(x, self.columns[0])
            for cols in self.columns[1:]:
                acc += gather(x, cols)
            return acc
        y = x if self.order is None else gather(x, self.order)
        return np.add.reduceat(y, self.starts, axis=-1)


class _Draws:
    """Integer draws for fixed rows of a :class:`~meio_envs.core.params.TableSampler`.

    Rows whose PMF has a single point are constants and take no uniform. A random row draws
    exactly as ``TableSampler.draw``: ``searchsorted(flat, u + row, "right") - start[row]``.
    (``TableSampler.draw`` can, with probability below 2**-48 per draw, round ``u + row`` up to
    the next row and return a value outside a point PMF's support; a constant row never does.)
    """

    def __init__(self, sampler: object, rows: np.ndarray, pmfs: Sequence[np.ndarray]) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        point = np.asarray([np.count_nonzero(np.asarray(p) > 0) == 1 for p in pmfs], dtype=bool)
        self.values = np.asarray([int(np.argmax(np.asarray(p) > 0)) for p in pmfs], dtype=np.int64)
        self.random = np.nonzero(~point)[0]  # positions (into rows) that need a uniform
        self.constant = np.nonzero(point)[0]
        self.all_random = self.constant.size == 0
        self.flat = sampler.flat  # type: ignore[attr-defined]
        self.offset = rows[self.random].astype(np.float64)  # the "+ row" of the lookup
        self.start = sampler.starts[rows[self.random]]  # type: ignore[attr-defined]
        self.const_values = self.values[self.constant]

    def draw(self, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Draws for the random rows from their uniforms ``u`` (B, len(random)), into ``out`` if given."""
        return np.subtract(self.flat.searchsorted(u + self.offset, side="right"), self.start, out=out)


class StepPlan:
    """Static tables of one network for the period function (see the module docstring)."""

    @classmethod
    def of(cls, params: SimParams) -> StepPlan:
        """The plan of ``params``, built on first use and cached on it."""
        plan = params.__dict__.get("_step_plan")
        if plan is None:
            plan = cls(params)
            object.__setattr__(params, "_step_plan", plan)  # SimParams is frozen; this is derived data
        return plan

    def __init__(self, p: SimParams) -> None:
        net = p.network
        P, E, H = p.num_nodes, p.num_edges, p.horizon_slots
        R, X = len(p.retailers), len(p.external)
        self.P, self.E, self.H, self.R, self.X = P, E, H, R, X
        self.H0 = np.array(H, dtype=np.int64)
        self.ret: Index = as_index(p.retailers)
        self.external_nodes = p.external
        self.holding = p.holding
        self.backorder = p.backorder
        self.free_orders = not (np.any(p.fixed_order_cost) or np.any(p.unit_order_cost))
        self.fixed_order_cost, self.unit_order_cost = p.fixed_order_cost, p.unit_order_cost
        self.ip_low, self.ip_high = p.ip_low, p.ip_high
        self.ip_span = p.ip_high - p.ip_low
        self.max_order = p.max_order
        self.max_order_f = p.max_order.astype(np.float64)

        # Random slots (layout of rng slots: demand R | internal edges E | external X | pick P).
        lead_pmfs = [sp.lead_time.pmf() for sp in net.stock_points]
        self.demand = _Draws(p.demand_sampler, np.arange(R), [net.stock_points[r].demand.pmf() for r in p.retailers])
        item_dest = np.concatenate([p.edges[:, 1], p.external]).astype(np.int64)  # shipments: edges, then external
        self.lead = _Draws(p.lead_sampler, item_dest, [lead_pmfs[d] for d in item_dest])
        multi = np.nonzero(p.n_suppliers > 1)[0]
        self.M = multi.size
        slots = [self.demand.random, R + self.lead.random, R + E + X + multi]
        self.slots = np.concatenate(slots).astype(np.int64)
        n_d, n_l = self.demand.random.size, self.lead.random.size
        self.u_demand = slice(0, n_d)
        self.u_lead = slice(n_d, n_d + n_l)
        self.u_pick = slice(n_d + n_l, n_d + n_l + self.M)
        self.nsup_f = p.n_suppliers[multi].astype(np.float64)
        self.nsup_max = p.n_suppliers[multi] - 1

        # Internal edges: buffers over edges have E + 1 columns, the last one a zero pad.
        self.edge_cust = p.edges[:, 1].copy()
        self.edge_sup = np.concatenate([p.edges[:, 0], [0]]).astype(np.int64)
        pick_col = np.full(P, self.M, dtype=np.int64)  # column M of the pick buffer is always 0
        pick_col[multi] = np.arange(self.M)
        self.edge_pick_col = pick_col[p.edges[:, 1]]
        self.edge_rank = p.edge_rank
        if E:
            sups = np.unique(p.edges[:, 0])
            custs = np.unique(p.edges[:, 1])
            self.sups: Index = as_index(sups)
            self.custs: Index = as_index(custs)
            self.sup_sums = SegmentSums([np.nonzero(p.edges[:, 0] == u)[0] for u in sups], E)
            self.cust_sums = SegmentSums([np.nonzero(p.edges[:, 1] == c)[0] for c in custs], E)
            seg = np.zeros(E + 1, dtype=np.int64)
            seg[:E] = np.searchsorted(sups, p.edges[:, 0])
            self.edge_seg = seg  # supplier group of each edge (pad -> group 0, its want is 0)
            fan = max(len(x) for x in net.customer_indices)
            self.pairwise = fan <= SMALL_FAN
            if self.pairwise:
                self._pairs(p, sups)
            else:
                self.alloc_customers = p.alloc_customers  # (U, K), P where padded
                self.alloc_edges = p.alloc_edges  # (U, K), E where padded

        # Shipments: items [edges 0..E-1 | pad E | external E+1..E+X]; each node receives from
        # one or more items. Layer 0 has every node's first item in node order; later layers hold
        # further items of nodes with several suppliers (unique nodes within a layer).
        ext_item = {int(d): E + 1 + j for j, d in enumerate(p.external)}
        per_node: list[list[int]] = [[] for _ in range(P)]
        for e, c in enumerate(p.edges[:, 1]):
            per_node[int(c)].append(e)
        for d, it in ext_item.items():
            per_node[d].append(it)
        self.first_item = np.asarray([items[0] for items in per_node], dtype=np.int64)
        self.more_items: list[tuple[Index, np.ndarray]] = []
        self.layers: list[tuple[np.ndarray, np.ndarray]] = [(np.arange(P, dtype=np.int64), self.first_item)]
        for k in range(1, max(len(x) for x in per_node)):
            nodes = np.asarray([n for n in range(P) if len(per_node[n]) > k], dtype=np.int64)
            items = np.asarray([per_node[n][k] for n in nodes], dtype=np.int64)
            self.more_items.append((as_index(nodes), items))
            self.layers.append((nodes, items))
        # Lead time per shipment item (pad column 0); constants filled once, random ones drawn.
        item_cols = np.concatenate([np.arange(E), E + 1 + np.arange(X)]).astype(np.int64)
        self.lam_template = np.zeros(E + 1 + X, dtype=np.int64)
        self.lam_template[item_cols[self.lead.constant]] = self.lead.const_values
        self.lam_random_cols = item_cols[self.lead.random]
        self.node_lead: np.ndarray | None = None  # set when every node's lead time is a constant
        if self.lead.random.size == 0:  # items into one node share its lead time
            self.node_lead = self.lam_template[self.first_item].copy()

    def _pairs(self, p: SimParams, sups: np.ndarray) -> None:
        """Pairs (e1 < e2) of edges of one supplier, and for each edge where its predecessors' wants sit."""
        E = len(p.edges)
        e1, e2 = [], []
        for u in sups:
            es = np.nonzero(p.edges[:, 0] == u)[0]
            for i in range(len(es)):
                for j in range(i + 1, len(es)):
                    e1.append(es[i])
                    e2.append(es[j])
        NP = len(e1)
        self.NP = NP
        self.pair_e1 = np.asarray(e1, dtype=np.int64)
        self.pair_e2 = np.asarray(e2, dtype=np.int64)
        self.pair_c1 = p.edges[self.pair_e1, 1] if NP else np.zeros(0, np.int64)
        self.pair_c2 = p.edges[self.pair_e2, 1] if NP else np.zeros(0, np.int64)
        # Contribution columns: [want(e1) if e1 first (NP) | want(e2) if e2 first (NP) | 0].
        into: list[list[int]] = [[] for _ in range(E + 1)]
        for k in range(NP):
            into[e2[k]].append(k)  # e1's want is ahead of e2 when e1 is served first
            into[e1[k]].append(NP + k)
        width = max((len(x) for x in into), default=0)
        table = np.full((width, E + 1), 2 * NP, dtype=np.int64)
        for e, cols in enumerate(into):
            table[: len(cols), e] = cols
        self.ahead_cols = [table[k] for k in range(width)]


class Workspace:
    """Scratch buffers of one batch size for :class:`StepPlan` (see the module docstring)."""

    @classmethod
    def of(cls, plan: StepPlan, state: SimState) -> Workspace:
        """The workspace cached on ``state``, rebuilt when the plan or the batch size changed."""
        w = state.work
        B = state.period.shape[0]
        if w is None or w.plan is not plan or w.B != B:
            w = cls(plan, B)
            state.work = w
        return w

    def __init__(self, plan: StepPlan, B: int) -> None:
        P, E, H, X = plan.P, plan.E, plan.H, plan.X
        self.plan, self.B = plan, B
        self.gather: Gather = _take if B < TAKE_BELOW else _fancy
        self.uniforms = UniformBlock(plan.slots, B) if plan.slots.size else None
        node_rows = np.arange(B, dtype=np.int64)[:, None] * P
        self.pipe_rows = (node_rows + np.arange(P)) * H  # flat pipeline offset of (b, p, slot 0)
        self.layer_rows = [(node_rows + nodes) * H for nodes, _ in plan.layers]
        self.items = np.zeros((B, E + 1 + X), dtype=np.int64)  # shipped units per item (pad stays 0)
        self.lam = np.tile(plan.lam_template, (B, 1))
        self.owed = np.zeros((B, E + 1), dtype=np.int64)
        self.new = np.zeros((B, E + 1), dtype=np.int64)
        self.want = np.zeros((B, 2, E + 1), dtype=np.int64)  # [backorders | new orders] per edge
        self.avail = np.empty((B, 2, E + 1), dtype=np.int64)
        self.pick = np.zeros((B, plan.M + 1), dtype=np.int64)
        self.pick_f = np.empty((B, plan.M), dtype=np.float64)
        if E and plan.pairwise:
            self.ahead = np.zeros((B, 2, 2 * plan.NP + 1), dtype=np.int64)
        if E and not plan.pairwise:
            self.sort_rows = np.arange(B, dtype=np.int64)[:, None, None] * (2 * (E + 1))
            self.ip_key = np.empty((B, P + 1), dtype=np.int64)
            self.ip_key[:, P] = np.iinfo(np.int64).max

    def __reduce__(self) -> tuple[type, tuple[()]]:
        # Copies and pickles of a state carry no scratch: the next step rebuilds it.
        return (type(None), ())
