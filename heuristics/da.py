"""Decomposition-aggregation (DA) base-stock heuristic for trees and general networks.

One implementation (docs/heuristics.md): a distribution tree with
deterministic lead times and Poisson demand is the special case in which every
path weight is 1 and every lead-time PMF is a point mass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import pmf as P
from .network import CONVENTIONS, PlainNetwork, protection_lead_times
from .serial import ROUNDINGS, clark_scarf, echelon_to_local, round_levels, shang_song

__all__ = ["DAResult", "PathDetail", "da", "effective_holding"]

SERIAL_METHODS = ("shang_song", "clark_scarf")
MATCHINGS = ("smallest", "nearest")
BACKORDER_SOURCES = ("own",)
HOLDING_RULES = ("error", "monotone")
MAX_PATHS = 100_000  # supply paths enumerated (general networks can have exponentially many)
MAX_LTD_SUPPORT = 2_000_000  # entries of the largest lead-time-demand PMF (an FFT of this size)
MAX_SERIAL_WORK = 4 * 10**10  # array operations of the serial systems (about 25 s); a chain grows as depth**3


@dataclass(frozen=True)
class PathDetail:
    """One serial system of the decomposition: leaf ``nodes[0]`` up to an externally supplied ``nodes[-1]``."""

    nodes: tuple[int, ...]
    weight: float
    echelon: np.ndarray  # serial echelon levels, stage 1 (leaf) first, as used (real unless rounded)
    local: np.ndarray  # serial local levels (docs/heuristics.md)
    backorders: np.ndarray  # counterpart backorders per stage


@dataclass(frozen=True)
class DAResult:
    """DA output; every array is in the network's node order."""

    names: tuple[str, ...]
    local: np.ndarray  # int64 local base-stock levels (the heuristic's answer)
    local_real: np.ndarray  # real s solving B(X_v, s) = target
    local_nearest: np.ndarray  # integer whose B is nearest the target
    targets: np.ndarray  # matched backorder targets beta_v
    echelon: np.ndarray  # s_v + sum of s over all distinct downstream nodes
    paths: tuple[PathDetail, ...]
    node_demand: tuple[np.ndarray, ...]  # per-period demand PMF seen by each node
    node_ltd: tuple[np.ndarray, ...]  # lead-time demand X_v used in the matching
    protection: tuple[np.ndarray, ...]  # protection lead-time PMF into each node
    holding: np.ndarray  # local holding costs actually used (after holding_rule)
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        """``{name: local level}``."""
        return {n: int(s) for n, s in zip(self.names, self.local)}


def effective_holding(net: PlainNetwork, rule: str = "error") -> np.ndarray:
    """Local holding costs the heuristic uses.

    ``"error"``: refuse a network where some node's local holding cost is below
    one of its suppliers' (an echelon holding cost would be negative).
    ``"monotone"``: replace ``h'_v`` by the maximum of ``h'`` over v and all its
    upstream nodes, which makes every echelon holding cost >= 0.
    """
    if rule not in HOLDING_RULES:
        raise ValueError(f"holding_rule must be one of {HOLDING_RULES}, got {rule!r}")
    h = np.asarray(net.holding, dtype=np.float64)
    if rule == "error":
        bad = [
            (net.names[u], net.names[v], h[u], h[v])
            for v, sup in enumerate(net.suppliers)
            for u in sup
            if h[u] > h[v]
        ]
        if bad:
            u, v, hu, hv = bad[0]
            raise ValueError(
                f"local holding cost must not decrease towards the customer, but {u!r} ({hu}) supplies "
                f"{v!r} ({hv}) ({len(bad)} such edge(s)); pass holding_rule='monotone' to raise each cost "
                "to the maximum over its upstream nodes"
            )
        return h.copy()
    out = h.copy()
    for v in net.upstream_first():
        for u in net.suppliers[v]:
            out[v] = max(out[v], out[u])
    return out


def check_size(net: PlainNetwork, prot: tuple[np.ndarray, ...], order_up: list[int]) -> None:
    """Refuse networks whose decomposition would exhaust the machine, before any work is done.

    Counts the supply paths and bounds the support of the largest lead-time-demand PMF (a node's
    demand over its protection lead time, a leaf's demand over a whole path's lead times) with
    integer arithmetic on the PMF lengths; raises ``ValueError`` above ``MAX_PATHS`` or
    ``MAX_LTD_SUPPORT``. :func:`check_serial_work` bounds the serial systems once paths are known.
    """
    sup, cust = net.suppliers, net.customers
    lmax = [len(p) - 1 for p in prot]
    n_paths = [0] * net.n
    path_lead = [0] * net.n  # largest sum of protection lead times from v up to an external supplier
    for v in order_up:
        n_paths[v] = sum(n_paths[u] for u in sup[v]) if sup[v] else 1
        path_lead[v] = lmax[v] + max((path_lead[u] for u in sup[v]), default=0)
    total = sum(n_paths[k] for k in net.retailers)
    if total > MAX_PATHS:
        raise ValueError(
            f"DA: the network has {total} supply paths from retailers to external suppliers; at most "
            f"{MAX_PATHS} are enumerated (give base-stock levels instead)"
        )
    dmax = [0] * net.n
    for v in reversed(order_up):
        dmax[v] = len(net.demand_pmf[v]) - 1 if not cust[v] else sum(dmax[c] for c in cust[v])
    worst = max(
        max(dmax[v] * lmax[v] for v in range(net.n)),
        max(dmax[k] * path_lead[k] for k in net.retailers),
    )
    if worst > MAX_LTD_SUPPORT:
        raise ValueError(
            f"DA: a lead-time demand would reach {worst} units (demand support x lead times); at most "
            f"{MAX_LTD_SUPPORT} are computed (give base-stock levels instead)"
        )


def check_serial_work(net: PlainNetwork, prot: tuple[np.ndarray, ...], paths: list[tuple[tuple[int, ...], float]]) -> None:
    """Bound the work of the serial systems: stage j of a path transforms a lead-time demand of
    about ``dmax * (L_1 + ... + L_j)`` entries once per lead-time entry of stages 1..j."""
    seen: set[tuple[int, ...]] = set()
    work = 0
    for nodes, _ in paths:
        if nodes in seen:
            continue
        seen.add(nodes)
        dmax = len(net.demand_pmf[nodes[0]]) - 1
        lead = terms = 0
        for v in nodes:
            lead += len(prot[v]) - 1
            terms += len(prot[v])
            work += dmax * lead * terms
        if work > MAX_SERIAL_WORK:
            raise ValueError(
                f"DA: the serial systems of this network need more than {MAX_SERIAL_WORK:.0e} array operations "
                f"(the longest path has {max(len(p) for p, _ in paths)} stages); give base-stock levels instead"
            )


def _key(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def da(
    net: PlainNetwork,
    *,
    serial_method: str = "shang_song",
    ltd_model: str = "compound",
    matching: str = "smallest",
    backorder_source: str = "own",
    serial_rounding: str | None = None,
    convention: str = "meio",
    holding_rule: str = "error",
) -> DAResult:
    """DA heuristic (Rong, Atan & Snyder 2017) extended to PMFs, random lead times and general networks.

    Options (defaults in brackets):
    ``serial_method`` ["shang_song"] or "clark_scarf" (DA-CS) for each serial system;
    ``ltd_model`` ["compound"] or "crossing" for random lead times;
    ``matching`` ["smallest"] integer with B <= target, or "nearest" in backorders;
    ``backorder_source`` ["own"]: counterpart backorders from the stage's own lead-time demand;
    ``serial_rounding`` [None]: rounding of Shang-Song levels before conversion to local ones;
    ``convention`` ["meio"] or "stockpyl": shipment -> protection lead times;
    ``holding_rule`` ["error"] or "monotone": see :func:`effective_holding`.
    """
    if serial_method not in SERIAL_METHODS:
        raise ValueError(f"serial_method must be one of {SERIAL_METHODS}, got {serial_method!r}")
    if matching not in MATCHINGS:
        raise ValueError(f"matching must be one of {MATCHINGS}, got {matching!r}")
    if backorder_source not in BACKORDER_SOURCES:
        raise ValueError(f"backorder_source must be one of {BACKORDER_SOURCES}, got {backorder_source!r}")
    if serial_rounding not in ROUNDINGS:
        raise ValueError(f"serial_rounding must be one of {ROUNDINGS}, got {serial_rounding!r}")
    if ltd_model not in ("compound", "crossing"):
        raise ValueError(f"ltd_model must be 'compound' or 'crossing', got {ltd_model!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")

    n = net.n
    prot = protection_lead_times(net, convention)
    hl = effective_holding(net, holding_rule)
    sup = net.suppliers
    cust = net.customers
    nsup = [max(1, len(s)) for s in sup]
    order_up = net.upstream_first()
    check_size(net, prot, order_up)

    ltd_cache: dict[tuple[bytes, bytes], np.ndarray] = {}

    def ltd(f: np.ndarray, lt: np.ndarray) -> np.ndarray:
        key = (_key(f), _key(lt))
        if key not in ltd_cache:
            ltd_cache[key] = P.lead_time_demand(f, lt, ltd_model)
        return ltd_cache[key]

    # Step 1: demand seen by each node, customers before suppliers; a customer's
    # order goes to this supplier with probability 1/n_c (whole-order mixing).
    node_demand: list[np.ndarray | None] = [None] * n
    for v in reversed(order_up):
        if not cust[v]:
            node_demand[v] = np.asarray(net.demand_pmf[v])
        else:
            parts = [P.mix(node_demand[c], 1.0 / nsup[c]) for c in cust[v]]  # type: ignore[arg-type]
            node_demand[v] = parts[0] if len(parts) == 1 else P.convolve_many(parts)
    # Steps 2-3: all internal suppliers of a node share its shipment lead time, so the
    # mixture over suppliers is the node's protection PMF itself.
    node_ltd = [ltd(node_demand[v], prot[v]) for v in range(n)]  # type: ignore[arg-type]

    # Step 4: every supply path of every leaf, with its probability weight. An explicit stack, not
    # recursion: a deep network must not hit Python's recursion limit.
    paths: list[tuple[tuple[int, ...], float]] = []
    for k in net.retailers:
        stack: list[tuple[tuple[int, ...], float]] = [((k,), 1.0)]
        while stack:
            path, w = stack.pop()
            v = path[-1]
            if not sup[v]:
                paths.append((path, w))
                continue
            for u in reversed(sup[v]):  # reversed: pop in supplier order, as the recursion did
                stack.append(((*path, u), w / nsup[v]))
    check_serial_work(net, prot, paths)

    # Step 5: serial systems (identical ones solved once).
    serial_cache: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    targets = np.zeros(n)
    details = []
    for nodes, w in paths:
        k = nodes[0]
        d = net.demand_pmf[k]
        b = float(net.backorder[k])
        hloc = hl[list(nodes)]
        hech = hloc - np.append(hloc[1:], 0.0)
        lts = [prot[v] for v in nodes]
        key = (_key(d), tuple(_key(lt) for lt in lts), hech.tobytes(), b)
        if key not in serial_cache:
            if b <= 0:
                raise ValueError(f"retailer {net.names[k]!r} needs a backorder cost > 0, got {b}")
            if serial_method == "shang_song":
                S = shang_song(d, lts, hech, b, ltd_model=ltd_model).levels
                S = round_levels(S, serial_rounding)
            else:
                S = clark_scarf(d, lts, hech, b, ltd_model=ltd_model).levels.astype(np.float64)
            s = echelon_to_local(S)
            beta = np.array([P.expected_backorders(ltd(d, lt), sr) for lt, sr in zip(lts, s)])
            serial_cache[key] = (S, s, beta)
        S, s, beta = serial_cache[key]
        details.append(PathDetail(nodes, w, S, s, beta))
        # Step 6: weighted counterpart backorders add up to each node's target.
        for v, bv in zip(nodes, beta):
            targets[v] += w * bv

    local = np.zeros(n, dtype=np.int64)
    local_real = np.zeros(n)
    local_nearest = np.zeros(n, dtype=np.int64)
    for v in range(n):
        smallest, real, nearest = P.match_backorders(node_ltd[v], targets[v])
        local[v] = smallest if matching == "smallest" else nearest
        local_real[v] = real
        local_nearest[v] = nearest

    # Echelon level: own level plus every distinct downstream node's level.
    echelon = np.zeros(n, dtype=np.int64)
    for v in range(n):
        seen = {v}
        stack = [v]
        while stack:
            for c in cust[stack.pop()]:
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        echelon[v] = int(sum(local[u] for u in seen))

    opts = dict(
        serial_method=serial_method,
        ltd_model=ltd_model,
        matching=matching,
        backorder_source=backorder_source,
        serial_rounding=serial_rounding,
        convention=convention,
        holding_rule=holding_rule,
    )
    return DAResult(
        names=net.names,
        local=local,
        local_real=local_real,
        local_nearest=local_nearest,
        targets=targets,
        echelon=echelon,
        paths=tuple(details),
        node_demand=tuple(node_demand),  # type: ignore[arg-type]
        node_ltd=tuple(node_ltd),
        protection=prot,
        holding=hl,
        options=opts,
    )
