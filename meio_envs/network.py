"""Inventory networks as validated data.

A :class:`NetworkSpec` is a frozen list of :class:`StockPoint` records plus the derived index
arrays the simulator needs. Users write networks as a dict, YAML or JSON file::

    name: two-stage
    stock_points:
      - {name: W1, suppliers: [external], holding: 0.6, max_order: 150,
         ip_bounds: [-300, 150], lead_time: 1}
      - {name: R1, suppliers: [W1], holding: 1.0, backorder: 19, max_order: 50,
         ip_bounds: [-100, 50], lead_time: 1,
         demand: {type: poisson_uniform_mean, low: 5, high: 15}}

``suppliers: [external]`` marks a stock point supplied by an unlimited external supplier.
``ip_bounds: [low, margin]`` gives the observation bounds ``[low, base_stock + margin]``.

Node order (used by every array in the package): upstream to downstream by echelon (highest
echelon first), then by name in natural order (``R2`` before ``R10``). Echelon 1 = retailers;
a stock point's echelon is one more than the highest echelon among its customers.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from meio_envs.distributions import Distribution, distribution_from_dict

__all__ = ["EXTERNAL", "NetworkError", "NetworkSpec", "StockPoint"]

EXTERNAL = "external"


class NetworkError(ValueError):
    """A network description that cannot be simulated, with the reason and what is allowed."""


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class StockPoint:
    """One stock point (node) of the network.

    Attributes:
        name: Unique name.
        suppliers: Names of upstream stock points, or ``("external",)`` for the unlimited
            external supplier. With several suppliers, each period's whole order goes to one of
            them drawn uniformly at random.
        holding: Holding cost per unit on hand per period (>= 0).
        backorder: Cost per unit owed to the external market per period (>= 0; retailers only).
        max_order: Largest order per period (> 0); actions in [-1, 1] map onto [0, max_order].
        ip_bounds: ``(low, margin)``: observations clip the inventory position to
            ``[low, base_stock + margin]`` before scaling to [-1, 1].
        lead_time: Distribution of the shipment lead time into this stock point (every value >= 1).
        demand: External demand per period (retailers only; ``None`` otherwise).
        order_fixed_cost: Cost per period in which this stock point orders a positive quantity.
        order_unit_cost: Cost per unit ordered.
        base_stock: Base-stock level override; ``None`` means use the DA heuristic's level.
    """

    name: str
    suppliers: tuple[str, ...]
    holding: float
    max_order: int
    ip_bounds: tuple[float, float]
    lead_time: Distribution
    backorder: float = 0.0
    demand: Distribution | None = None
    order_fixed_cost: float = 0.0
    order_unit_cost: float = 0.0
    base_stock: int | None = None

    def __post_init__(self) -> None:
        where = f"stock point {self.name!r}"
        if not isinstance(self.name, str) or not self.name or self.name == EXTERNAL:
            raise NetworkError(f"stock point names must be non-empty strings other than {EXTERNAL!r}, got {self.name!r}")
        for attr in ("holding", "backorder", "order_fixed_cost", "order_unit_cost"):
            v = getattr(self, attr)
            if not (isinstance(v, (int, float, np.number)) and math.isfinite(v) and v >= 0):
                raise NetworkError(f"{where}: {attr} must be a finite number >= 0, got {v!r}")
        if not (float(self.max_order).is_integer() and self.max_order > 0):
            raise NetworkError(f"{where}: max_order must be a positive integer, got {self.max_order!r}")
        if len(self.ip_bounds) != 2 or not all(math.isfinite(float(x)) for x in self.ip_bounds):
            raise NetworkError(f"{where}: ip_bounds must be two finite numbers (low, margin), got {self.ip_bounds!r}")
        if self.ip_bounds[1] <= 0:
            raise NetworkError(f"{where}: ip_bounds margin must be > 0, got {self.ip_bounds[1]!r}")
        if not isinstance(self.lead_time, Distribution):
            raise NetworkError(f"{where}: lead_time must be a Distribution")
        if self.lead_time.pmf()[0] > 0:
            raise NetworkError(f"{where}: lead times must be >= 1 period; the lead-time PMF puts mass on 0")
        if self.demand is not None and not isinstance(self.demand, Distribution):
            raise NetworkError(f"{where}: demand must be a Distribution or None")
        if not self.suppliers:
            raise NetworkError(f"{where}: has no supplier; list upstream stock points or [{EXTERNAL!r}]")
        if EXTERNAL in self.suppliers and len(self.suppliers) > 1:
            raise NetworkError(f"{where}: {EXTERNAL!r} cannot be combined with other suppliers")
        if len(set(self.suppliers)) != len(self.suppliers):
            raise NetworkError(f"{where}: duplicate supplier in {self.suppliers}")
        if self.base_stock is not None and (int(self.base_stock) != self.base_stock or self.base_stock < 0):
            raise NetworkError(f"{where}: base_stock must be a non-negative integer or None, got {self.base_stock!r}")

    @property
    def external(self) -> bool:
        """True if supplied by the unlimited external supplier."""
        return self.suppliers == (EXTERNAL,)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (inverse of :meth:`NetworkSpec.from_dict` for one stock point)."""
        d: dict[str, Any] = {
            "name": self.name,
            "suppliers": list(self.suppliers),
            "holding": float(self.holding),
            "backorder": float(self.backorder),
            "max_order": int(self.max_order),
            "ip_bounds": [float(self.ip_bounds[0]), float(self.ip_bounds[1])],
            "lead_time": self.lead_time.to_dict(),
        }
        if self.demand is not None:
            d["demand"] = self.demand.to_dict()
        if self.order_fixed_cost or self.order_unit_cost:
            d["order_fixed_cost"] = float(self.order_fixed_cost)
            d["order_unit_cost"] = float(self.order_unit_cost)
        if self.base_stock is not None:
            d["base_stock"] = int(self.base_stock)
        return d


_SP_FIELDS = {
    "name", "suppliers", "holding", "backorder", "max_order", "ip_bounds", "lead_time", "demand",
    "order_fixed_cost", "order_unit_cost", "base_stock", "echelon",
}


@dataclass(frozen=True)
class NetworkSpec:
    """A validated inventory network; stock points are stored in the canonical node order."""

    stock_points: tuple[StockPoint, ...]
    name: str = "custom"
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        sps = tuple(self.stock_points)
        if not sps:
            raise NetworkError("a network needs at least one stock point")
        names = [sp.name for sp in sps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise NetworkError(f"duplicate stock point names: {dupes}; names must be unique")
        known = set(names)
        for sp in sps:
            for s in sp.suppliers:
                if s != EXTERNAL and s not in known:
                    raise NetworkError(
                        f"stock point {sp.name!r} names unknown supplier {s!r}; known: {sorted(known)} or {EXTERNAL!r}"
                    )
                if s == sp.name:
                    raise NetworkError(f"stock point {sp.name!r} lists itself as supplier (a cycle)")
        by_name = {sp.name: sp for sp in sps}
        customers: dict[str, list[str]] = {n: [] for n in names}
        for sp in sps:
            for s in sp.suppliers:
                if s != EXTERNAL:
                    customers[s].append(sp.name)
        echelon = _echelons(by_name, customers)
        for sp in sps:
            cust = customers[sp.name]
            if sp.demand is None and not cust:
                raise NetworkError(
                    f"stock point {sp.name!r} has no customers and no demand: a retailer needs a demand "
                    "distribution, every other stock point needs a customer"
                )
            if sp.demand is not None and cust:
                raise NetworkError(
                    f"stock point {sp.name!r} has external demand and also supplies {cust}; "
                    "a stock point with demand must be a retailer (no downstream customers)"
                )
            if sp.backorder > 0 and sp.demand is None:
                raise NetworkError(
                    f"stock point {sp.name!r}: backorder cost is charged only on units owed to the "
                    "external market, so it must be 0 for a stock point without demand"
                )
        order = sorted(names, key=lambda n: (-echelon[n], _natural_key(n)))
        object.__setattr__(self, "stock_points", tuple(by_name[n] for n in order))
        object.__setattr__(self, "_echelon", tuple(echelon[n] for n in order))

    # ---------------------------------------------------------------- derived structure
    @property
    def num_nodes(self) -> int:
        """Number of stock points P."""
        return len(self.stock_points)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Stock point names in node order."""
        return tuple(sp.name for sp in self.stock_points)

    @cached_property
    def index(self) -> dict[str, int]:
        """Name -> node index."""
        return {n: i for i, n in enumerate(self.names)}

    @property
    def echelons(self) -> np.ndarray:
        """(P,) echelon of each node (1 = retailer)."""
        return np.asarray(self._echelon, dtype=np.int64)  # type: ignore[attr-defined]

    @cached_property
    def supplier_indices(self) -> tuple[tuple[int, ...], ...]:
        """Per node, the indices of its suppliers (empty for external supply)."""
        return tuple(
            () if sp.external else tuple(self.index[s] for s in sp.suppliers) for sp in self.stock_points
        )

    @cached_property
    def customer_indices(self) -> tuple[tuple[int, ...], ...]:
        """Per node, the indices of its internal customers, ascending."""
        out: list[list[int]] = [[] for _ in self.stock_points]
        for c, sups in enumerate(self.supplier_indices):
            for s in sups:
                out[s].append(c)
        return tuple(tuple(sorted(x)) for x in out)

    @cached_property
    def edges(self) -> np.ndarray:
        """(E, 2) internal supply edges (supplier, customer), sorted by supplier then customer."""
        e = sorted((s, c) for c, sups in enumerate(self.supplier_indices) for s in sups)
        return np.asarray(e, dtype=np.int64).reshape(-1, 2)

    @cached_property
    def retailers(self) -> np.ndarray:
        """Indices of nodes with external demand."""
        return np.asarray([i for i, sp in enumerate(self.stock_points) if sp.demand is not None], dtype=np.int64)

    @cached_property
    def external_nodes(self) -> np.ndarray:
        """Indices of nodes supplied by the external supplier."""
        return np.asarray([i for i, sp in enumerate(self.stock_points) if sp.external], dtype=np.int64)

    @cached_property
    def downstream(self) -> tuple[tuple[int, ...], ...]:
        """Per node, every node reachable downstream (excluding itself), ascending."""
        out: list[set[int]] = [set() for _ in self.stock_points]
        for i in reversed(range(self.num_nodes)):  # downstream nodes come later in node order
            for c in self.customer_indices[i]:
                out[i] |= {c} | out[c]
        return tuple(tuple(sorted(x)) for x in out)

    def array(self, attr: str) -> np.ndarray:
        """(P,) float array of a numeric stock-point attribute, in node order."""
        return np.asarray([float(getattr(sp, attr)) for sp in self.stock_points], dtype=np.float64)

    # ---------------------------------------------------------------- conversion
    def to_plain(self) -> Any:
        """The plain description taken by :mod:`heuristics` (no environment objects inside)."""
        from heuristics.network import PlainNetwork

        return PlainNetwork(
            names=self.names,
            suppliers=self.supplier_indices,
            holding=self.array("holding"),
            backorder=self.array("backorder"),
            demand_pmf={int(r): self.stock_points[r].demand.pmf() for r in self.retailers},  # type: ignore[union-attr]
            lead_time_pmf=tuple(sp.lead_time.pmf() for sp in self.stock_points),
        )

    def replace(self, **changes_by_node: Mapping[str, Any]) -> NetworkSpec:
        """Copy with some stock-point fields changed: ``spec.replace(R1={"holding": 2.0})``."""
        from dataclasses import replace as dc_replace

        unknown = set(changes_by_node) - set(self.names)
        if unknown:
            raise NetworkError(f"replace: unknown stock points {sorted(unknown)}; known: {list(self.names)}")
        sps = [dc_replace(sp, **changes_by_node.get(sp.name, {})) for sp in self.stock_points]
        return NetworkSpec(tuple(sps), name=self.name, metadata=self.metadata)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back."""
        return {"name": self.name, "stock_points": [sp.to_dict() for sp in self.stock_points]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None) -> NetworkSpec:
        """Build and validate a network from plain data (see the module docstring for the format)."""
        if not isinstance(data, Mapping) or "stock_points" not in data:
            raise NetworkError("a network description must be a mapping with a 'stock_points' list")
        raw = data["stock_points"]
        if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
            raise NetworkError("'stock_points' must be a list of mappings")
        sps = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise NetworkError(f"stock_points[{i}] must be a mapping, got {type(item).__name__}")
            unknown = set(item) - _SP_FIELDS
            if unknown:
                raise NetworkError(f"stock_points[{i}]: unknown fields {sorted(unknown)}; allowed: {sorted(_SP_FIELDS)}")
            missing = {"name", "suppliers", "holding", "max_order", "ip_bounds", "lead_time"} - set(item)
            if missing:
                raise NetworkError(f"stock_points[{i}] ({item.get('name', '?')}): missing fields {sorted(missing)}")
            name = item["name"]
            try:
                lead = _dist(item["lead_time"], base_dir, kind="lead_time")
                demand = _dist(item["demand"], base_dir, kind="demand") if item.get("demand") is not None else None
            except ValueError as exc:
                raise NetworkError(f"stock point {name!r}: {exc}") from None
            sups = item["suppliers"]
            if isinstance(sups, str):
                sups = [sups]
            sps.append(
                StockPoint(
                    name=name,
                    suppliers=tuple(sups),
                    holding=item["holding"],
                    backorder=item.get("backorder", 0.0),
                    max_order=item["max_order"],
                    ip_bounds=tuple(item["ip_bounds"]),  # type: ignore[arg-type]
                    lead_time=lead,
                    demand=demand,
                    order_fixed_cost=item.get("order_fixed_cost", 0.0),
                    order_unit_cost=item.get("order_unit_cost", 0.0),
                    base_stock=item.get("base_stock"),
                )
            )
        return cls(tuple(sps), name=str(data.get("name", "custom")), metadata=dict(data.get("metadata", {})))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> NetworkSpec:
        """Read a ``.yaml``/``.yml`` or ``.json`` network file."""
        p = Path(path)
        text = p.read_text()
        if p.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        elif p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise NetworkError(f"{p}: network files must end in .yaml, .yml or .json")
        return cls.from_dict(data, base_dir=p.parent)


def _dist(spec: Any, base_dir: str | os.PathLike[str] | None, *, kind: str) -> Distribution:
    """Distribution from plain data; ``{type: profile, path, product, target_mean}`` reads a CSV."""
    if isinstance(spec, Mapping) and spec.get("type") == "profile":
        from meio_envs.distributions import EmpiricalPMF
        from meio_envs.profiles import build_profile, read_daily_table

        path = Path(spec["path"])
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        table = read_daily_table(path, layout=spec.get("layout", "auto"))
        product = str(spec["product"])
        if product not in table:
            raise ValueError(f"product {product!r} not in {path}; products: {sorted(table)[:10]}...")
        default_mean = 10.0 if kind == "demand" else 3.0
        pmf = build_profile(table[product], float(spec.get("target_mean", default_mean)), kind=kind)
        return EmpiricalPMF(tuple(pmf), label=f"{product} {kind}")
    return distribution_from_dict(spec)


def _echelons(by_name: Mapping[str, StockPoint], customers: Mapping[str, list[str]]) -> dict[str, int]:
    """Echelon of each node; raises on cycles (Kahn's algorithm from the retailers up)."""
    pending = {n: len(c) for n, c in customers.items()}
    ech: dict[str, int] = {}
    ready = [n for n, k in pending.items() if k == 0]
    while ready:
        n = ready.pop()
        ech[n] = 1 + max((ech[c] for c in customers[n]), default=0)
        for s in by_name[n].suppliers:
            if s != EXTERNAL:
                pending[s] -= 1
                if pending[s] == 0:
                    ready.append(s)
    if len(ech) != len(by_name):
        cyc = sorted(set(by_name) - set(ech))
        raise NetworkError(f"the supply edges contain a cycle through {cyc}; networks must be acyclic")
    return ech
