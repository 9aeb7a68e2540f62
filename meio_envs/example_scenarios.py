"""Example scenarios of the options beyond the report: a grid network with one option switched on.

``MEIO-A1-LostSales-v0``, ``MEIO-B4-Seasonal-v0`` and ``MEIO-D1-Disrupted-v0`` are registered like
the grid ids (single and vector entry points; :func:`meio_envs.parallel_env` and the trainers take
``"A1-LostSales"`` etc. as a scenario). The 30 grid scenarios themselves are unchanged. Each
example's fields are listed in docs/options.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from meio_envs.demand_patterns import DemandPattern
from meio_envs.disruptions import Disruption
from meio_envs.distributions import UniformInt
from meio_envs.network import EXTERNAL, NetworkSpec

__all__ = ["EXAMPLE_SCENARIOS", "example_network"]


def _lost_sales(net: NetworkSpec) -> NetworkSpec:
    """Every retailer loses the demand it cannot fill (none backordered), 19 per unit lost."""
    return _each_retailer(net, lost_sales_cost=19.0, backorder_fraction=0.0)


def _seasonal(net: NetworkSpec) -> NetworkSpec:
    """Demand x (1 + 0.5 sin(2 pi t / 32)), and x 1.25 from period 80 on, at every retailer."""
    pattern = DemandPattern(season_length=32, season_amplitude=0.5, shocks=((80, 1.25),))
    return _each_retailer(net, demand_pattern=pattern)


def _disrupted(net: NetworkSpec) -> NetworkSpec:
    """F2 down in random spells (p = 0.03 per period, 2-8 periods); F1's external supply down in
    random spells (p = 0.02, 1-5 periods); stock points with two suppliers reroute around a
    supplier that is down."""
    sps = []
    for sp in net.stock_points:
        ch: dict = {}
        if sp.name == "F2":
            ch["disruption"] = Disruption(0.03, UniformInt(2, 8))
        if sp.name == "F1":
            ch["supply_disruptions"] = ((EXTERNAL, Disruption(0.02, UniformInt(1, 5))),)
        if len(sp.suppliers) > 1:
            ch["on_disrupted_supplier"] = "reroute"
        sps.append(replace(sp, **ch))
    return NetworkSpec(tuple(sps), name=net.name, metadata=net.metadata)


def _each_retailer(net: NetworkSpec, **changes: object) -> NetworkSpec:
    sps = tuple(replace(sp, **changes) if sp.demand is not None else sp for sp in net.stock_points)
    return NetworkSpec(sps, name=net.name, metadata=net.metadata)


EXAMPLE_SCENARIOS: dict[str, tuple[str, Callable[[NetworkSpec], NetworkSpec]]] = {
    "A1-LostSales": ("A1", _lost_sales),
    "B4-Seasonal": ("B4", _seasonal),
    "D1-Disrupted": ("D1", _disrupted),
}
"""Example id -> (grid scenario it starts from, the change of its network)."""


def example_network(example_id: str, base: NetworkSpec) -> NetworkSpec:
    """The network of ``example_id`` built from ``base`` (the grid scenario's network)."""
    net = EXAMPLE_SCENARIOS[example_id][1](base)
    return NetworkSpec(net.stock_points, name=example_id, metadata={**net.metadata, "example": example_id})
