"""Index tables of one network for the compiled period (:mod:`meio_envs.core.kernel`).

Derived once from a :class:`~meio_envs.core.params.SimParams` and cached on it, so a step passes
ready arrays to the kernel and builds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from meio_envs.core.params import SimParams, TableSampler

__all__ = ["StepPlan"]


def _draw_table(sampler: TableSampler, rows: np.ndarray, pmfs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per slot: the constant of a single-point PMF (-1 when random), the lookup offset and the row start.

    A random row draws as ``TableSampler.draw``: ``searchsorted(flat, u + row, "right") - start[row]``.
    A single-point row takes no uniform (``TableSampler.draw`` could, with probability below
    2**-48 per draw, round ``u + row`` into the next row; a constant never does).
    """
    rows = np.asarray(rows, dtype=np.int64)
    const = np.full(rows.size, -1, dtype=np.int64)
    for j, p in enumerate(pmfs):
        support = np.nonzero(np.asarray(p) > 0)[0]
        if support.size == 1:
            const[j] = int(support[0])
    offset = rows.astype(np.float64)
    start = sampler.starts[rows].astype(np.int64) if rows.size else np.zeros(0, np.int64)
    return const, offset, start


class StepPlan:
    """Static tables of one network for the period kernel."""

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
        i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
        f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
        self.P, self.E, self.R, self.X = p.num_nodes, p.num_edges, len(p.retailers), len(p.external)
        self.H = int(p.horizon_slots)
        self.retailers = i64(p.retailers)
        self.edge_sup = i64(p.edges[:, 0])
        self.edge_cust = i64(p.edges[:, 1])
        self.edge_rank = i64(p.edge_rank)
        # Edges are sorted by supplier, then customer: each supplier's queue is one run of edges.
        sups, first = np.unique(self.edge_sup, return_index=True)
        self.sup_nodes = i64(sups)
        self.sup_ptr = i64(np.append(first, self.E))
        self.n_sup = i64(p.n_suppliers)
        self.ext_nodes = i64(p.external)
        self.holding = f64(p.holding)
        self.backorder = f64(p.backorder)
        self.fixed_cost = f64(p.fixed_order_cost)
        self.unit_cost = f64(p.unit_order_cost)
        self.free_orders = not (np.any(p.fixed_order_cost) or np.any(p.unit_order_cost))
        sps = net.stock_points
        self.demand = _draw_table(p.demand_sampler, np.arange(self.R), [sps[r].demand.pmf() for r in p.retailers])
        self.demand_flat = f64(p.demand_sampler.flat)
        item_dest = np.concatenate([p.edges[:, 1], p.external]).astype(np.int64)  # edges, then external orders
        self.lead = _draw_table(p.lead_sampler, item_dest, [sps[d].lead_time.pmf() for d in item_dest])
        self.lead_flat = f64(p.lead_sampler.flat)
        from meio_envs.core.option_tables import OptionTables

        self.options = OptionTables(p)
        # The static arguments of meio_envs.core.kernel.period, in its order (the demand multiplier
        # table between the options' tables is added per step: it grows with the periods played).
        self.tables = (self.H, self.retailers, self.edge_sup, self.edge_cust, self.edge_rank, self.sup_ptr, self.sup_nodes,
                self.n_sup, self.ext_nodes, self.holding, self.backorder, self.fixed_cost, self.unit_cost,
                self.free_orders, *self.demand, self.demand_flat, *self.lead, self.lead_flat)
