"""Static simulation parameters (arrays derived once from a :class:`NetworkSpec`) and the state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from meio_envs.network import NetworkSpec
from meio_envs.validation import MAX_BASE_STOCK, MAX_COST_FACTOR, MEIOInputError, int_array, range_pair, show

__all__ = ["CostVariation", "SimParams", "SimState", "TableSampler"]


class TableSampler:
    """Inverse-CDF sampling of several integer PMFs with one ``searchsorted`` call.

    Row r's CDF is stored shifted by r in one sorted array, so a uniform ``u`` for row ``r`` is
    looked up as ``u + r``; a draw costs one uniform and a binary search.
    """

    def __init__(self, pmfs: Sequence[np.ndarray]) -> None:
        cdfs = []
        for p in pmfs:
            c = np.cumsum(np.asarray(p, dtype=np.float64))
            c = np.minimum(c / c[-1], 1.0)
            c[-1] = 1.0
            cdfs.append(c)
        self.sizes = np.asarray([c.size for c in cdfs], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.flat = np.concatenate([c + r for r, c in enumerate(cdfs)]) if cdfs else np.zeros(0)
        self.max_value = int(self.sizes.max() - 1) if cdfs else 0

    def draw(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Integers for uniforms ``u`` (B, n), slot j using PMF ``rows[j]``."""
        idx = np.searchsorted(self.flat, u + rows, side="right")
        return idx - self.starts[rows]


@dataclass(frozen=True)
class CostVariation:
    """Per-episode random cost factors (scenario level 5): f_h, f_b ~ U[low, high]."""

    holding: tuple[float, float] = (0.5, 1.5)
    backorder: tuple[float, float] = (0.5, 1.5)

    def __post_init__(self) -> None:
        for name in ("holding", "backorder"):  # finite and bounded: observations and costs stay finite
            pair = range_pair(f"CostVariation.{name}", getattr(self, name), 0.0, MAX_COST_FACTOR)
            object.__setattr__(self, name, pair)


@dataclass(frozen=True, eq=False)
class SimParams:
    """Everything the period function needs, as arrays in node order.

    Built by :meth:`from_network`; never mutated. ``base_stock`` sets the initial on-hand stock
    and the observation bounds.
    """

    network: NetworkSpec
    base_stock: np.ndarray  # (P,) int64 initial on-hand = base-stock level
    cost_variation: CostVariation | None = None
    # derived (filled in __post_init__)
    holding: np.ndarray = field(init=False)  # (P,) float64
    backorder: np.ndarray = field(init=False)  # (R,) float64 at retailers
    fixed_order_cost: np.ndarray = field(init=False)  # (P,) float64
    unit_order_cost: np.ndarray = field(init=False)  # (P,) float64
    max_order: np.ndarray = field(init=False)  # (P,) int64
    ip_low: np.ndarray = field(init=False)  # (P,) float64
    ip_high: np.ndarray = field(init=False)  # (P,) float64 = base_stock + margin
    edges: np.ndarray = field(init=False)  # (E, 2) supplier, customer
    retailers: np.ndarray = field(init=False)  # (R,)
    external: np.ndarray = field(init=False)  # (X,)
    horizon_slots: int = field(init=False)  # ring-buffer length H = max lead time + 1

    def __post_init__(self) -> None:
        net = self.network
        if not isinstance(net, NetworkSpec):
            raise MEIOInputError(f"network must be a NetworkSpec, got {show(net)}")
        P = net.num_nodes
        if self.cost_variation is not None and not isinstance(self.cost_variation, CostVariation):
            raise MEIOInputError(
                f"cost_variation must be a CostVariation, None or 'auto', got {show(self.cost_variation)}"
            )
        s = object.__setattr__
        bs = int_array("base_stock (one per stock point, node order)", self.base_stock, (P,), 0, MAX_BASE_STOCK)
        s(self, "base_stock", bs)
        s(self, "holding", net.array("holding"))
        s(self, "backorder", net.array("backorder")[net.retailers])
        s(self, "fixed_order_cost", net.array("order_fixed_cost"))
        s(self, "unit_order_cost", net.array("order_unit_cost"))
        s(self, "max_order", net.array("max_order").astype(np.int64))
        s(self, "ip_low", np.asarray([sp.ip_bounds[0] for sp in net.stock_points], dtype=np.float64))
        s(self, "ip_high", self.base_stock + np.asarray([sp.ip_bounds[1] for sp in net.stock_points]))
        if np.any(self.ip_low >= self.ip_high):
            raise ValueError("ip_bounds: low must be below base_stock + margin for every stock point")
        s(self, "edges", net.edges)
        s(self, "retailers", net.retailers)
        s(self, "external", net.external_nodes)
        E = len(self.edges)
        # Random slots of a period: [demand (R) | lead time internal edges (E) | external (X) | supplier pick (P)]
        s(self, "demand_sampler", TableSampler([net.stock_points[r].demand.pmf() for r in self.retailers]))
        s(self, "lead_sampler", TableSampler([sp.lead_time.pmf() for sp in net.stock_points]))
        s(self, "horizon_slots", int(self.lead_sampler.max_value) + 1)
        s(self, "n_slots", len(self.retailers) + E + len(self.external) + P)
        # Allocation layout: suppliers with internal customers, padded to K customers each.
        sups = np.unique(self.edges[:, 0]) if E else np.zeros(0, np.int64)
        K = max((len(net.customer_indices[u]) for u in sups), default=1)
        pad_edge = np.full((len(sups), K), E, dtype=np.int64)  # E = dummy edge (always zero)
        for i, u in enumerate(sups):
            es = np.nonzero(self.edges[:, 0] == u)[0]
            pad_edge[i, : len(es)] = es
        cust_of_edge = np.concatenate([self.edges[:, 1], [P]])  # dummy customer P
        s(self, "alloc_suppliers", sups)
        s(self, "alloc_edges", pad_edge)  # (U, K)
        s(self, "alloc_customers", cust_of_edge[pad_edge])  # (U, K), P where padded
        # Per-node padded lists of incoming / outgoing internal edges for IP sums.
        kin = max((len(x) for x in net.supplier_indices), default=1) or 1
        kout = max((len(x) for x in net.customer_indices), default=1) or 1
        ein = np.full((P, kin), E, dtype=np.int64)
        eout = np.full((P, kout), E, dtype=np.int64)
        for c in range(P):
            es = np.nonzero(self.edges[:, 1] == c)[0] if E else []
            ein[c, : len(es)] = es
            es = np.nonzero(self.edges[:, 0] == c)[0] if E else []
            eout[c, : len(es)] = es
        s(self, "edges_in", ein)
        s(self, "edges_out", eout)
        # Supplier choice: edge e is chosen when the customer's pick equals the edge's rank.
        nsup = np.asarray([max(1, len(x)) for x in net.supplier_indices], dtype=np.int64)
        rank = np.zeros(E, dtype=np.int64)
        for e, (u, c) in enumerate(self.edges):
            rank[e] = net.supplier_indices[c].index(u)
        s(self, "n_suppliers", nsup)
        s(self, "edge_rank", rank)
        is_ret = np.zeros(P, dtype=bool)
        is_ret[self.retailers] = True
        s(self, "is_retailer", is_ret)

    @property
    def num_nodes(self) -> int:
        """P."""
        return self.network.num_nodes

    @property
    def num_edges(self) -> int:
        """E, the number of internal supply edges."""
        return len(self.edges)

    @classmethod
    def from_network(
        cls,
        network: NetworkSpec,
        base_stock: np.ndarray | None = None,
        cost_variation: CostVariation | None = None,
    ) -> SimParams:
        """Parameters for ``network``; base-stock levels default to the node overrides or DA."""
        if base_stock is None:
            from meio_envs.heuristic_levels import default_base_stock

            base_stock = default_base_stock(network)
        return cls(network=network, base_stock=base_stock, cost_variation=cost_variation)  # validated there


@dataclass
class SimState:
    """Mutable batched state of B independent copies (all integers are units of stock)."""

    period: np.ndarray  # (B,) int64 periods completed in this episode
    on_hand: np.ndarray  # (B, P) int64
    pipeline: np.ndarray  # (B, P, H) int64 shipments to node p arriving at period t with t % H == slot
    in_transit: np.ndarray  # (B, P) int64 = pipeline.sum(-1)
    edge_backorder: np.ndarray  # (B, E) int64 owed by supplier to customer from earlier periods
    edge_new: np.ndarray  # (B, E) int64 ordered last period, to be filled this period
    market_backorder: np.ndarray  # (B, R) int64 owed by each retailer to its market
    market_new: np.ndarray  # (B, R) int64 demand of last period, to be filled this period
    cost_factors: np.ndarray  # (B, 2) float64 holding and backorder factors (1.0 unless level 5)
    keys: np.ndarray  # (B,) uint64 copy keys (from seeds)
    episode: np.ndarray  # (B,) int64 episode counter of each copy
    streams: np.ndarray  # (B,) uint64 random stream of each copy's current episode
    external_in: np.ndarray  # (B,) int64 units shipped in by external suppliers this episode
    delivered: np.ndarray  # (B,) int64 units delivered to the market this episode
    demand_total: np.ndarray  # (B,) int64 units of external demand this episode
    # Options beyond the report (meio_envs.core.option_tables); zero-size when the option is off.
    lost: np.ndarray | None = None  # (B,) int64 units of market demand lost this episode
    spell_left: np.ndarray | None = None  # (B, K) int64 periods left in each disruption's random spell
    down: np.ndarray | None = None  # (B, K) bool disruption k is down in the last period played
    ext_backlog: np.ndarray | None = None  # (B, X) int64 orders a disrupted external supplier holds
    # Open-order tracker (meio_envs.core.open_orders), None unless enabled: (B, P, K) int64 each.
    open_qty: np.ndarray | None = None
    open_placed: np.ndarray | None = None

    @property
    def batch_size(self) -> int:
        """B."""
        return int(self.on_hand.shape[0])
