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

Every field is checked with :mod:`meio_envs.validation` (exact types, ranges with upper limits);
files are read with the bounded parsers of :mod:`meio_envs.safe_files`, and profile paths are
resolved relative to the network file and confined to its folder unless the caller opts out.
Errors are :class:`NetworkError`, a :class:`~meio_envs.validation.MEIOInputError`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from meio_envs.core.rng import SLOTS_PER_PERIOD_MAX
from meio_envs.demand_patterns import DemandPattern
from meio_envs.disruptions import Disruption
from meio_envs.distributions import Distribution, check_pmf, distribution_from_dict
from meio_envs.safe_files import parse_json, parse_yaml
from meio_envs.validation import (
    MAX_BASE_STOCK,
    MAX_DEMAND,
    MAX_IP_BOUND,
    MAX_LEAD_TIME,
    MAX_NETWORK_FILE_BYTES,
    MAX_ORDER,
    MAX_STOCK_POINTS,
    MAX_SUPPLIERS,
    MAX_UNIT_COST,
    MEIOFileNotFoundError,
    MEIOInputError,
    choice,
    exact_int,
    finite_float,
    read_text_file,
    show,
    text,
)

__all__ = ["EXTERNAL", "NetworkError", "NetworkSpec", "StockPoint"]

EXTERNAL = "external"


class NetworkError(MEIOInputError):
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

    Options beyond the report (all off by default; docs/options.md):

    Attributes:
        lost_sales_cost: Penalty per unit of market demand lost (retailers only, >= 0).
        backorder_fraction: Share in [0, 1] of the market demand a retailer cannot fill that is
            backordered; the rest is lost (rounded down to whole units backordered). 1 (the
            default) backorders everything, as in the report.
        demand_pattern: A :class:`~meio_envs.demand_patterns.DemandPattern` multiplying the
            demand by period (retailers only).
        disruption: A :class:`~meio_envs.disruptions.Disruption`: while down this stock point
            ships nothing.
        supply_disruptions: Supplier name (or ``"external"``) -> Disruption of that supply edge:
            while down the edge ships nothing.
        on_disrupted_supplier: ``"wait"`` (default): an order sent to a supplier that is down
            (or whose edge is down) waits there as a backorder; ``"reroute"``: the random supplier
            choice picks among the suppliers that are up (all, when none is).
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
    lost_sales_cost: float = 0.0
    backorder_fraction: float = 1.0
    demand_pattern: DemandPattern | None = None
    disruption: Disruption | None = None
    supply_disruptions: tuple[tuple[str, Disruption], ...] = ()
    on_disrupted_supplier: str = "wait"

    def __post_init__(self) -> None:
        try:
            self._validate()
        except NetworkError:
            raise
        except MEIOInputError as exc:
            raise NetworkError(str(exc)) from None

    def _validate(self) -> None:
        """Check every field and store it in its canonical type (floats, ints, tuples)."""
        put = lambda attr, v: object.__setattr__(self, attr, v)  # noqa: E731 - frozen dataclass
        text("stock point name", self.name)
        if self.name == EXTERNAL:
            raise NetworkError(f"stock point names must be non-empty strings other than {EXTERNAL!r}, got {self.name!r}")
        where = f"stock point {self.name!r}"
        for attr in ("holding", "backorder", "order_fixed_cost", "order_unit_cost"):
            put(attr, finite_float(f"{where}: {attr}", getattr(self, attr), 0.0, MAX_UNIT_COST))
        put("max_order", exact_int(f"{where}: max_order", self.max_order, 1, MAX_ORDER))
        put("suppliers", _suppliers(where, self.suppliers))
        put("ip_bounds", _ip_bounds(where, self.ip_bounds))
        if _check_distribution(f"{where}: lead_time", self.lead_time, MAX_LEAD_TIME)[0] > 0:
            raise NetworkError(f"{where}: lead_time: lead times must be >= 1 period; the PMF puts mass on 0")
        if self.demand is not None:
            _check_distribution(f"{where}: demand", self.demand, MAX_DEMAND)
        if self.base_stock is not None:
            put("base_stock", exact_int(f"{where}: base_stock", self.base_stock, 0, MAX_BASE_STOCK))
        self._validate_options(where, put)

    def _validate_options(self, where: str, put: Any) -> None:
        """The options beyond the report: lost sales, demand pattern, disruptions."""
        put("lost_sales_cost", finite_float(f"{where}: lost_sales_cost", self.lost_sales_cost, 0.0, MAX_UNIT_COST))
        put("backorder_fraction", finite_float(f"{where}: backorder_fraction", self.backorder_fraction, 0.0, 1.0))
        retail_only = [a for a, off in (("lost_sales_cost", 0.0), ("backorder_fraction", 1.0), ("demand_pattern", None))
                       if getattr(self, a) != off]
        if self.demand is None and retail_only:
            raise NetworkError(f"{where}: {retail_only[0]} applies to market demand, so it is for retailers only "
                               "(a stock point with demand)")
        try:
            if self.demand_pattern is not None:
                put("demand_pattern", DemandPattern.from_dict(self.demand_pattern))
            if self.disruption is not None:
                put("disruption", Disruption.from_dict(self.disruption))
        except NetworkError:
            raise
        except MEIOInputError as exc:  # name the stock point in the one-line error
            raise NetworkError(f"{where}: {exc}") from None
        raw = self.supply_disruptions
        bad = NetworkError(f"{where}: supply_disruptions must map supplier names to disruptions, got {show(raw)}")
        if isinstance(raw, Mapping):
            items = list(raw.items())
        elif isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
            raise bad
        else:
            items = list(raw)
        pairs = []
        for item in items:
            if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
                raise bad
            sup, dis = item
            if sup not in self.suppliers:
                raise NetworkError(f"{where}: supply_disruptions names {show(sup)}, which is not one of its "
                                   f"suppliers {list(self.suppliers)}")
            try:
                pairs.append((sup, Disruption.from_dict(dis)))
            except MEIOInputError as exc:
                raise NetworkError(f"{where}: supply_disruptions[{sup!r}]: {exc}") from None
        if len({s for s, _ in pairs}) != len(pairs):
            raise NetworkError(f"{where}: supply_disruptions lists a supplier twice")
        put("supply_disruptions", tuple(sorted(pairs, key=lambda x: self.suppliers.index(x[0]))))
        put("on_disrupted_supplier",
            choice(f"{where}: on_disrupted_supplier", self.on_disrupted_supplier, ("wait", "reroute")))

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
        if self.lost_sales_cost or self.backorder_fraction != 1.0:
            d["lost_sales_cost"] = float(self.lost_sales_cost)
            d["backorder_fraction"] = float(self.backorder_fraction)
        if self.demand_pattern is not None:
            d["demand_pattern"] = self.demand_pattern.to_dict()
        if self.disruption is not None:
            d["disruption"] = self.disruption.to_dict()
        if self.supply_disruptions:
            d["supply_disruptions"] = {s: x.to_dict() for s, x in self.supply_disruptions}
        if self.on_disrupted_supplier != "wait":
            d["on_disrupted_supplier"] = self.on_disrupted_supplier
        return d


def _suppliers(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise NetworkError(
            f"{where}: suppliers must be a list of stock point names or [{EXTERNAL!r}], got {show(value)}"
        )
    if not value:
        raise NetworkError(f"{where}: has no supplier; suppliers must list upstream stock points or [{EXTERNAL!r}]")
    if len(value) > MAX_SUPPLIERS:
        raise NetworkError(f"{where}: suppliers may list at most {MAX_SUPPLIERS} stock points, got {len(value)}")
    sups = tuple(text(f"{where}: suppliers[{i}]", s) for i, s in enumerate(value))
    if EXTERNAL in sups and len(sups) > 1:
        raise NetworkError(f"{where}: {EXTERNAL!r} cannot be combined with other suppliers")
    if len(set(sups)) != len(sups):
        raise NetworkError(f"{where}: duplicate supplier in {list(sups)}; list each supplier once")
    return sups


def _ip_bounds(where: str, value: Any) -> tuple[float, float]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or len(value) != 2:
        raise NetworkError(f"{where}: ip_bounds must be two finite numbers [low, margin], got {show(value)}")
    low = finite_float(f"{where}: ip_bounds low", value[0], -MAX_IP_BOUND, MAX_IP_BOUND)
    margin = finite_float(f"{where}: ip_bounds margin", value[1], 0.0, MAX_IP_BOUND, lo_open=True)
    return low, margin


def _check_distribution(name: str, dist: Any, max_value: int) -> np.ndarray:
    """The PMF of ``dist``, a :class:`Distribution` whose PMF is proper and ends at ``max_value`` or below."""
    if not isinstance(dist, Distribution):
        raise NetworkError(f"{name} must be a Distribution, got {show(dist)}")
    pmf = check_pmf(dist.pmf(), name)  # user subclasses define pmf() themselves
    if pmf.size - 1 > max_value:
        raise NetworkError(f"{name}: values must be <= {max_value}, but the distribution reaches {pmf.size - 1}")
    return pmf


_SP_FIELDS = {
    "name", "suppliers", "holding", "backorder", "max_order", "ip_bounds", "lead_time", "demand",
    "order_fixed_cost", "order_unit_cost", "base_stock", "echelon",
    "lost_sales_cost", "backorder_fraction", "demand_pattern", "disruption", "supply_disruptions",
    "on_disrupted_supplier",
}
_OPTION_FIELDS = ("lost_sales_cost", "backorder_fraction", "demand_pattern", "disruption", "supply_disruptions",
                  "on_disrupted_supplier")


@dataclass(frozen=True)
class NetworkSpec:
    """A validated inventory network; stock points are stored in the canonical node order."""

    stock_points: tuple[StockPoint, ...]
    name: str = "custom"
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.stock_points, (str, bytes, Mapping)) or not isinstance(self.stock_points, Sequence):
            raise NetworkError(f"stock_points must be a sequence of StockPoint, got {show(self.stock_points)}")
        sps = tuple(self.stock_points)
        if not sps:
            raise NetworkError("a network needs at least one stock point")
        if len(sps) > MAX_STOCK_POINTS:
            raise NetworkError(f"a network may have at most {MAX_STOCK_POINTS} stock points, got {len(sps)}")
        bad = next((i for i, sp in enumerate(sps) if not isinstance(sp, StockPoint)), None)
        if bad is not None:
            raise NetworkError(f"stock_points[{bad}] must be a StockPoint, got {show(sps[bad])}")
        try:
            text("network name", self.name)
        except MEIOInputError as exc:
            raise NetworkError(str(exc)) from None
        if not isinstance(self.metadata, Mapping):
            raise NetworkError(f"network metadata must be a mapping, got {show(self.metadata)}")
        object.__setattr__(self, "metadata", dict(self.metadata))
        names = [sp.name for sp in sps]
        counts = Counter(names)
        dupes = sorted(n for n, k in counts.items() if k > 1)
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
        # The counter-based generator gives each period SLOTS_PER_PERIOD_MAX uniforms; more slots
        # would reuse the next period's draws.
        n_edges = sum(len(sp.suppliers) for sp in sps if not sp.external)
        n_dis = sum((sp.disruption is not None) + len(sp.supply_disruptions) for sp in sps)
        # A demand pattern adds one rounding uniform per retailer (slots laid out by retailer index).
        n_rounding = sum(sp.demand is not None for sp in sps) if any(sp.demand_pattern for sp in sps) else 0
        n_slots = sum(sp.demand is not None for sp in sps) + n_rounding + n_edges + 2 * len(sps) + 2 * n_dis
        if n_slots > SLOTS_PER_PERIOD_MAX:
            raise NetworkError(
                f"the network needs {n_slots} random draws per period (retailers + supply edges + "
                f"external stock points + stock points + options); at most {SLOTS_PER_PERIOD_MAX} are allowed"
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
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        allow_outside_base_dir: bool = False,
    ) -> NetworkSpec:
        """Build and validate a network from plain data (see the module docstring for the format).

        Profile paths (``{type: profile, path: ...}``) are resolved against ``base_dir`` (the
        working directory when None) and must stay inside it unless ``allow_outside_base_dir``.
        """
        if not isinstance(data, Mapping) or "stock_points" not in data:
            raise NetworkError(
                f"a network description must be a mapping with a 'stock_points' list, got {show(data)}"
            )
        unknown = sorted(str(k) for k in data if k not in _TOP_FIELDS)
        if unknown:
            raise NetworkError(f"unknown top-level fields {unknown}; allowed: {sorted(_TOP_FIELDS)}")
        raw = data["stock_points"]
        if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
            raise NetworkError(f"'stock_points' must be a list of mappings, got {show(raw)}")
        if len(raw) > MAX_STOCK_POINTS:
            raise NetworkError(f"a network may have at most {MAX_STOCK_POINTS} stock points, got {len(raw)}")
        tables: dict[Path, Any] = {}  # profile CSVs parsed once per network
        read = lambda spec, kind: _dist(spec, kind, base_dir, allow_outside_base_dir, tables)  # noqa: E731
        sps = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise NetworkError(f"stock_points[{i}] must be a mapping, got {show(item)}")
            unknown = sorted(str(k) for k in item if k not in _SP_FIELDS)
            if unknown:
                raise NetworkError(f"stock_points[{i}]: unknown fields {unknown}; allowed: {sorted(_SP_FIELDS)}")
            missing = {"name", "suppliers", "holding", "max_order", "ip_bounds", "lead_time"} - set(item)
            if missing:
                raise NetworkError(f"stock_points[{i}] ({show(item.get('name', '?'))}): missing fields {sorted(missing)}")
            name = item["name"]
            where = f"stock point {name!r}" if isinstance(name, str) else f"stock_points[{i}]"
            try:
                lead = read(item["lead_time"], "lead_time")
                demand = read(item["demand"], "demand") if item.get("demand") is not None else None
            except MEIOInputError as exc:
                raise NetworkError(f"{where}: {exc}") from None
            sps.append(
                StockPoint(
                    name=name,
                    suppliers=item["suppliers"],
                    holding=item["holding"],
                    backorder=item.get("backorder", 0.0),
                    max_order=item["max_order"],
                    ip_bounds=item["ip_bounds"],
                    lead_time=lead,
                    demand=demand,
                    order_fixed_cost=item.get("order_fixed_cost", 0.0),
                    order_unit_cost=item.get("order_unit_cost", 0.0),
                    base_stock=item.get("base_stock"),
                    **{k: item[k] for k in _OPTION_FIELDS if k in item},
                )
            )
        net = cls(tuple(sps), name=data.get("name", "custom"), metadata=data.get("metadata", {}))
        for item in raw:  # 'echelon' is derived; a given one must agree rather than be ignored
            if "echelon" in item:
                derived = int(net.echelons[net.index[item["name"]]])
                given = exact_int(f"stock point {item['name']!r}: echelon", item["echelon"], 1, MAX_STOCK_POINTS)
                if given != derived:
                    raise NetworkError(
                        f"stock point {item['name']!r}: echelon is {given} but the structure gives {derived}; "
                        "echelons are derived (retailers are 1), so drop the field or correct it"
                    )
        return net

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, allow_outside_base_dir: bool = False) -> NetworkSpec:
        """Read a ``.yaml``/``.yml`` or ``.json`` network file (at most ``MAX_NETWORK_FILE_BYTES``).

        Profile paths inside it are relative to the file's folder and must stay inside that folder
        unless ``allow_outside_base_dir``.
        """
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in {".yaml", ".yml", ".json"}:
            raise NetworkError(f"{p}: network files must end in .yaml, .yml or .json")
        try:
            source = read_text_file(p, max_bytes=MAX_NETWORK_FILE_BYTES, what="network file")
            data = parse_json(source, str(p)) if suffix == ".json" else parse_yaml(source, str(p))
        except (NetworkError, MEIOFileNotFoundError):  # the latter stays a FileNotFoundError too
            raise
        except MEIOInputError as exc:
            raise NetworkError(str(exc)) from None
        return cls.from_dict(data, base_dir=p.parent, allow_outside_base_dir=allow_outside_base_dir)


_TOP_FIELDS = {"name", "stock_points", "metadata"}


def _dist(
    spec: Any,
    kind: str,
    base_dir: str | os.PathLike[str] | None,
    allow_outside: bool,
    tables: dict[Path, Any],
) -> Distribution:
    """Distribution from plain data; ``{type: profile, path, product, target_mean}`` reads a CSV."""
    try:
        if isinstance(spec, Mapping) and spec.get("type") == "profile":
            from meio_envs.profiles import profile_distribution

            return profile_distribution(
                spec, kind=kind, base_dir=base_dir, allow_outside_base_dir=allow_outside, cache=tables  # type: ignore[arg-type]
            )
        return distribution_from_dict(spec)
    except NetworkError:
        raise
    except MEIOInputError as exc:
        raise MEIOInputError(f"{kind}: {exc}") from None


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
        cyc = sorted(set(by_name) - set(ech), key=_natural_key)
        more = f" and {len(cyc) - 10} more" if len(cyc) > 10 else ""
        raise NetworkError(f"the supply edges contain a cycle through {cyc[:10]}{more}; networks must be acyclic")
    return ech
