"""Kernel tables of the options beyond the report: lost sales, demand patterns and series, disruptions.

Each option has a static on/off flag; with every flag off the compiled period takes none of the
option branches and draws no extra uniform, so the 30 grid scenarios run exactly as before.

Random slots of a period after the report's ``[R | E | X | P]``: ``R`` demand-rounding uniforms
(one per retailer, only when some retailer has a demand pattern), then two per disruption
(spell start, spell length).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from meio_envs.distributions import DemandSeries
from meio_envs.network import EXTERNAL

if TYPE_CHECKING:
    from meio_envs.core.params import SimParams

__all__ = ["OptionTables"]


def _i64(x: object) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def _f64(x: object) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


class OptionTables:
    """Static arrays of the options of one network, in the order :func:`kernel.period` takes them."""

    def __init__(self, p: SimParams) -> None:
        from meio_envs.core.params import TableSampler
        from meio_envs.core.plan import _draw_table

        net = p.network
        sps = net.stock_points
        rets = [sps[r] for r in p.retailers]
        R, E, X, P = len(rets), p.num_edges, len(p.external), p.num_nodes
        # Lost sales.
        self.lost_on = any(sp.backorder_fraction < 1.0 or sp.lost_sales_cost > 0 for sp in rets)
        self.bo_frac = _f64([sp.backorder_fraction for sp in rets])
        self.lost_cost = _f64([sp.lost_sales_cost for sp in rets])
        # Demand patterns (multiplier of the period).
        pats = [sp.demand_pattern for sp in rets]
        self.pat_on = any(x is not None for x in pats)
        self.pat_has = _i64([x is not None and not x.is_stationary for x in pats])
        self._patterns = pats
        self._mult = np.ones((0, R))
        # Demand series replayed in order.
        series = [sp.demand if isinstance(sp.demand, DemandSeries) else None for sp in rets]
        self.ser_on = any(s is not None for s in series)
        self.ser_len = _i64([len(s.values) if s else 0 for s in series])
        self.ser_start = _i64([s.start if s else 0 for s in series])
        self.ser_ptr = _i64(np.concatenate([[0], np.cumsum(self.ser_len)]) if R else [0])
        self.ser_flat = _i64([v for s in series if s for v in s.values])
        # Disruptions: element k is a stock point, an internal edge or an external supply.
        node, edge, ext, dis = [], [], [], []
        edge_of = {(int(u), int(c)): e for e, (u, c) in enumerate(p.edges)}
        ext_of = {int(x): j for j, x in enumerate(p.external)}
        for i, sp in enumerate(sps):
            if sp.disruption is not None:
                node.append(i), edge.append(-1), ext.append(-1), dis.append(sp.disruption)
            for sup, d in sp.supply_disruptions:
                node.append(-1)
                edge.append(-1 if sup == EXTERNAL else edge_of[(net.index[sup], i)])
                ext.append(ext_of[i] if sup == EXTERNAL else -1)
                dis.append(d)
        K = len(dis)
        self.dis_on = K > 0
        self.dis_node, self.dis_edge, self.dis_ext = _i64(node), _i64(edge), _i64(ext)
        self.dis_p = _f64([d.start_probability for d in dis])
        sampler = TableSampler([d.spell_length.pmf() for d in dis])
        self.dis_len = _draw_table(sampler, np.arange(K), [d.spell_length.pmf() for d in dis])
        self.dis_len_flat = _f64(sampler.flat)
        self.sched_ptr = _i64(np.concatenate([[0], np.cumsum([len(d.schedule) for d in dis])]))
        self.sched_lo = _i64([lo for d in dis for lo, _ in d.schedule])
        self.sched_hi = _i64([hi for d in dis for _, hi in d.schedule])
        # Rerouting: a customer's internal edges by rank (its supplier list order).
        self.reroute = _i64([sp.on_disrupted_supplier == "reroute" for sp in sps])
        S = max((len(x) for x in net.supplier_indices), default=0) or 1
        by_rank = np.full((P, S), -1, dtype=np.int64)
        for e, r in enumerate(p.edge_rank):
            by_rank[p.edges[e, 1], r] = e
        self.edge_by_rank = by_rank
        self.num_disruptions = K
        self.slot_round = R + E + X + P
        self.slot_dis = self.slot_round + (R if self.pat_on else 0)
        self.tables_before_mult = (self.lost_on, self.bo_frac, self.lost_cost, self.pat_on, self.pat_has)
        self.tables_after_mult = (
            self.ser_on, self.ser_len, self.ser_start, self.ser_ptr, self.ser_flat,
            self.dis_on, self.dis_node, self.dis_edge, self.dis_ext, self.dis_p, *self.dis_len, self.dis_len_flat,
            self.sched_ptr, self.sched_lo, self.sched_hi, self.reroute, self.edge_by_rank,
            self.slot_round, self.slot_dis,
        )

    def multipliers(self, periods: int) -> np.ndarray:
        """(T, R) demand multipliers m(t) of periods ``0..T-1`` with ``T >= periods`` (kept and grown).

        Computed here once (by :meth:`DemandPattern.multiplier`, the one definition) rather than in
        the compiled period, which only reads the table. Without a pattern: a (0, R) table, never read.
        """
        if not self.pat_on or self._mult.shape[0] >= periods:
            return self._mult
        T = max(periods, 2 * self._mult.shape[0], 256)
        t = np.arange(T)
        cols = [x.multiplier(t) if x is not None else np.ones(T) for x in self._patterns]
        self._mult = np.ascontiguousarray(np.stack(cols, axis=1), dtype=np.float64)
        return self._mult
