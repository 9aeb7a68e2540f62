"""Plain network description accepted by the heuristics (no environment import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .pmf import validate_pmf

__all__ = ["PlainNetwork", "CONVENTIONS", "protection_lead_times"]

CONVENTIONS = ("meio", "stockpyl")


@dataclass(frozen=True)
class PlainNetwork:
    """An acyclic supply network with base-stock data.

    Every array is indexed by the node order of ``names``.
    ``suppliers[v]`` lists the supplier indices of v; ``()`` means v is supplied
    by an unlimited external supplier. Retailers are the nodes without
    customers; they (and only they) have external demand and backorder costs.
    ``lead_time_pmf[v]`` is the PMF of the *shipment* lead time into v
    (index = periods); protection lead times are derived by
    :func:`protection_lead_times`.
    """

    names: tuple[str, ...]
    suppliers: tuple[tuple[int, ...], ...]
    holding: np.ndarray
    backorder: np.ndarray
    demand_pmf: dict[int, np.ndarray]
    lead_time_pmf: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        P = len(names)
        if P == 0:
            raise ValueError("PlainNetwork: the network has no nodes")
        if len(set(names)) != P:
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"PlainNetwork: duplicate node names {dup}; names must be unique")
        object.__setattr__(self, "names", names)

        if len(self.suppliers) != P:
            raise ValueError(f"PlainNetwork: suppliers has {len(self.suppliers)} entries, expected one per node ({P})")
        sups: list[tuple[int, ...]] = []
        for v, s in enumerate(self.suppliers):
            s = tuple(int(u) for u in s)
            for u in s:
                if not 0 <= u < P:
                    raise ValueError(f"PlainNetwork: node {names[v]!r} lists supplier index {u}, allowed 0..{P - 1}")
                if u == v:
                    raise ValueError(f"PlainNetwork: node {names[v]!r} lists itself as supplier (cycle)")
            if len(set(s)) != len(s):
                raise ValueError(f"PlainNetwork: node {names[v]!r} lists a supplier twice")
            sups.append(s)
        object.__setattr__(self, "suppliers", tuple(sups))

        for field in ("holding", "backorder"):
            arr = np.asarray(getattr(self, field), dtype=np.float64).reshape(-1)
            if arr.shape != (P,):
                raise ValueError(f"PlainNetwork: {field} must have one entry per node ({P}), got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"PlainNetwork: {field} costs must be finite")
            if np.any(arr < 0):
                bad = [names[i] for i in np.flatnonzero(arr < 0)]
                raise ValueError(f"PlainNetwork: negative {field} cost at {bad}; costs must be >= 0")
            arr.setflags(write=False)
            object.__setattr__(self, field, arr)

        self._check_acyclic()

        customers = self.customers
        dem: dict[int, np.ndarray] = {}
        for k, p in dict(self.demand_pmf).items():
            k = int(k)
            if not 0 <= k < P:
                raise ValueError(f"PlainNetwork: demand_pmf key {k} is not a node index (0..{P - 1})")
            if customers[k]:
                raise ValueError(
                    f"PlainNetwork: node {names[k]!r} has external demand and also supplies "
                    f"{[names[c] for c in customers[k]]}; the heuristics need demand only at retailers "
                    "(nodes without customers). Model the demand with an extra retailer node instead."
                )
            arr = validate_pmf(p, f"demand_pmf of {names[k]!r}")
            arr.setflags(write=False)
            dem[k] = arr
        for v in range(P):
            if not customers[v] and v not in dem:
                raise ValueError(f"PlainNetwork: retailer {names[v]!r} (a node without customers) has no demand_pmf")
            if customers[v] and self.backorder[v] > 0:
                raise ValueError(
                    f"PlainNetwork: internal node {names[v]!r} has backorder cost {self.backorder[v]}; "
                    "backorder costs are allowed only at retailers"
                )
        object.__setattr__(self, "demand_pmf", dem)

        if len(self.lead_time_pmf) != P:
            raise ValueError(
                f"PlainNetwork: lead_time_pmf has {len(self.lead_time_pmf)} entries, expected one per node ({P})"
            )
        lts = []
        for v, p in enumerate(self.lead_time_pmf):
            arr = validate_pmf(p, f"lead_time_pmf of {names[v]!r}")
            arr.setflags(write=False)
            lts.append(arr)
        object.__setattr__(self, "lead_time_pmf", tuple(lts))

    def _check_acyclic(self) -> None:
        order = _topological_upstream_first(self.suppliers)
        if order is None:
            raise ValueError("PlainNetwork: the supplier relation has a cycle; the heuristics need an acyclic network")

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.names)

    @property
    def customers(self) -> tuple[tuple[int, ...], ...]:
        """Customer indices per node (nodes that list it as a supplier)."""
        out: list[list[int]] = [[] for _ in self.names]
        for v, sup in enumerate(self.suppliers):
            for u in sup:
                out[u].append(v)
        return tuple(tuple(c) for c in out)

    @property
    def retailers(self) -> tuple[int, ...]:
        """Indices of nodes without customers."""
        return tuple(v for v, c in enumerate(self.customers) if not c)

    def upstream_first(self) -> list[int]:
        """Node indices ordered so every supplier comes before its customers."""
        order = _topological_upstream_first(self.suppliers)
        assert order is not None
        return order

    def index(self, name: str) -> int:
        """Index of the node called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"unknown node name {name!r}; known: {list(self.names)}") from None

    def is_serial(self) -> bool:
        """True when the network is a single chain ending at one external supplier."""
        return len(self.retailers) == 1 and all(len(s) <= 1 for s in self.suppliers) and all(
            len(c) <= 1 for c in self.customers
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PlainNetwork":
        """Build from a plain dict / JSON form.

        ``{"nodes": [{"name": "W1", "suppliers": [], "holding": 0.6, "backorder": 0,
        "lead_time_pmf": [0, 1]}, {"name": "R1", "suppliers": ["W1"], "holding": 1.0,
        "backorder": 19, "demand_pmf": [...], "lead_time_pmf": [0, 1]}]}``.
        ``backorder`` defaults to 0; ``demand_pmf`` is required for retailers only.
        """
        if "nodes" not in d:
            raise ValueError("PlainNetwork.from_dict: expected a mapping with a 'nodes' list")
        nodes = list(d["nodes"])
        names = []
        for i, nd in enumerate(nodes):
            if "name" not in nd:
                raise ValueError(f"PlainNetwork.from_dict: node #{i} has no 'name'")
            names.append(str(nd["name"]))
        pos = {n: i for i, n in enumerate(names)}
        sups, hold, back, dem, lts = [], [], [], {}, []
        for i, nd in enumerate(nodes):
            s = []
            for sname in nd.get("suppliers", []) or []:
                if sname not in pos:
                    raise ValueError(f"PlainNetwork.from_dict: node {names[i]!r} names unknown supplier {sname!r}")
                s.append(pos[sname])
            sups.append(tuple(s))
            if "holding" not in nd:
                raise ValueError(f"PlainNetwork.from_dict: node {names[i]!r} has no 'holding' cost")
            hold.append(float(nd["holding"]))
            back.append(float(nd.get("backorder", 0.0)))
            if nd.get("demand_pmf") is not None:
                dem[i] = np.asarray(nd["demand_pmf"], dtype=np.float64)
            if "lead_time_pmf" not in nd:
                raise ValueError(f"PlainNetwork.from_dict: node {names[i]!r} has no 'lead_time_pmf'")
            lts.append(np.asarray(nd["lead_time_pmf"], dtype=np.float64))
        return cls(tuple(names), tuple(sups), np.array(hold), np.array(back), dem, tuple(lts))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form accepted by :meth:`from_dict`."""
        nodes = []
        for v, name in enumerate(self.names):
            nd: dict[str, Any] = {
                "name": name,
                "suppliers": [self.names[u] for u in self.suppliers[v]],
                "holding": float(self.holding[v]),
                "backorder": float(self.backorder[v]),
                "lead_time_pmf": self.lead_time_pmf[v].tolist(),
            }
            if v in self.demand_pmf:
                nd["demand_pmf"] = self.demand_pmf[v].tolist()
            nodes.append(nd)
        return {"nodes": nodes}


def _topological_upstream_first(suppliers: tuple[tuple[int, ...], ...]) -> list[int] | None:
    P = len(suppliers)
    indeg = [len(s) for s in suppliers]
    cust: list[list[int]] = [[] for _ in range(P)]
    for v, s in enumerate(suppliers):
        for u in s:
            cust[u].append(v)
    ready = [v for v in range(P) if indeg[v] == 0]
    order = []
    while ready:
        u = ready.pop(0)
        order.append(u)
        for v in cust[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return order if len(order) == P else None


def protection_lead_times(net: PlainNetwork, convention: str = "meio") -> tuple[np.ndarray, ...]:
    """Protection lead-time PMF of the replenishment into every node.

    ``"meio"`` (our simulator, docs/heuristics.md): a node supplied by internal
    nodes protects shipment + 1 periods (its order waits one period to be filled);
    a node supplied externally protects the shipment lead time. Shipment lead
    times must then be >= 1.
    ``"stockpyl"``: protection = shipment lead time (P(0) > 0 allowed).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    out = []
    for v, lt in enumerate(net.lead_time_pmf):
        if convention == "meio":
            if lt[0] > 0:
                raise ValueError(
                    f"lead_time_pmf of {net.names[v]!r} has P(0) = {lt[0]:.3g}; convention 'meio' needs "
                    "shipment lead times >= 1 (use convention='stockpyl' for zero lead times)"
                )
            if net.suppliers[v]:
                lt = np.concatenate([[0.0], lt])
        out.append(np.asarray(lt, dtype=np.float64))
    return tuple(out)
