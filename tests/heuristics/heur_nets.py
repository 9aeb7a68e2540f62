"""Networks of heuristics-spec tables T4-T8, built as PlainNetwork (shared by the heuristics tests)."""

from __future__ import annotations

import numpy as np

from heuristics.network import PlainNetwork
from heuristics.pmf import mixed_poisson_uniform_pmf, point_mass, poisson_pmf

H_BY_ECHELON = {1: 1.0, 2: 0.6, 3: 0.4}


def lt_pmf(d: dict[int, float]) -> np.ndarray:
    out = np.zeros(max(d) + 1)
    for k, v in d.items():
        out[k] = v
    return out


def build(edges: dict[str, list[str]], echelon: dict[str, int], demand: dict[str, np.ndarray],
          lead: dict[str, np.ndarray], holding: dict[int, float] | None = None, b: float = 19.0) -> PlainNetwork:
    """``edges[node] = suppliers``; ``lead[node]`` = shipment lead-time PMF into the node."""
    holding = holding or H_BY_ECHELON
    nodes = []
    for name in edges:
        nodes.append(
            {
                "name": name,
                "suppliers": edges[name],
                "holding": holding[echelon[name]],
                "backorder": b if name in demand else 0.0,
                "demand_pmf": demand.get(name),
                "lead_time_pmf": lead[name],
            }
        )
    return PlainNetwork.from_dict({"nodes": nodes})


def t5(variant: str) -> PlainNetwork:
    """W -> {R1, R2, R3}, Poisson 5/10/15; protection lead times given directly (convention 'stockpyl')."""
    lw, lr = {"V1": (1, 1), "V2": (2, 2), "V3": (1, 2), "V4": (2, 1)}[variant]
    edges = {"W": [], "R1": ["W"], "R2": ["W"], "R3": ["W"]}
    ech = {"W": 2, "R1": 1, "R2": 1, "R3": 1}
    dem = {"R1": poisson_pmf(5), "R2": poisson_pmf(10), "R3": poisson_pmf(15)}
    lead = {"W": point_mass(lw), "R1": point_mass(lr), "R2": point_mass(lr), "R3": point_mass(lr)}
    return build(edges, ech, dem, lead)


def t6(leaf_lambda: tuple[float, float, float, float] = (8, 8, 8, 8)) -> PlainNetwork:
    """Rong-Atan-Snyder Figure 1(a) with Poisson leaves; lead time 1 everywhere (protection)."""
    edges = {"N0": [], "N1": ["N0"], "N2": ["N0"], "N3": ["N1"], "N4": ["N1"], "N5": ["N2"], "N6": ["N2"]}
    ech = {"N0": 3, "N1": 2, "N2": 2, "N3": 1, "N4": 1, "N5": 1, "N6": 1}
    hold = {3: 1 / 3, 2: 2 / 3, 1: 1.0}
    dem = {f"N{i}": poisson_pmf(lam) for i, lam in zip((3, 4, 5, 6), leaf_lambda)}
    lead = {k: point_mass(1) for k in edges}
    return build(edges, ech, dem, lead, holding=hold, b=20.0)


def t7(case: str) -> PlainNetwork:
    """Network G of T7 (protection lead times given directly)."""
    edges = {"W1": [], "W2": [], "R1": ["W1"], "R2": ["W1", "W2"], "R3": ["W2"]}
    ech = {"W1": 2, "W2": 2, "R1": 1, "R2": 1, "R3": 1}
    r2 = np.full(21, 1 / 21) if case == "G3" else poisson_pmf(10)
    dem = {"R1": poisson_pmf(5), "R2": r2, "R3": poisson_pmf(15)}
    if case == "G2":
        ext, ret = lt_pmf({1: 0.8, 3: 0.2}), lt_pmf({1: 0.5, 2: 0.5})
    else:
        ext = ret = point_mass(1)
    lead = {"W1": ext, "W2": ext, "R1": ret, "R2": ret, "R3": ret}
    return build(edges, ech, dem, lead)


PRODUCT_EDGES = {
    "S": {"W1": [], "R1": ["W1"]},
    "L": {"F1": [], "W1": ["F1"], "R1": ["W1"]},
    "A": {"W1": [], "R1": ["W1"], "R2": ["W1"], "R3": ["W1"]},
    "B": {
        "W1": [], "W2": [], "W3": [],
        "R1": ["W1"], "R2": ["W1", "W2"], "R3": ["W1", "W2"], "R4": ["W2", "W3"], "R5": ["W3"], "R6": ["W2", "W3"],
    },
    "C": {
        "F1": [], "W1": ["F1"], "W2": ["F1"], "W3": ["F1"],
        **{f"R{i}": [f"W{(i - 1) // 3 + 1}"] for i in range(1, 10)},
    },
    "D": {
        "F1": [], "F2": [], "F3": [],
        "W1": ["F1"], "W2": ["F1", "F2"], "W3": ["F2"], "W4": ["F2", "F3"], "W5": ["F3"], "W6": ["F1", "F3"],
        "R1": ["W1"], "R2": ["W1", "W2"], "R3": ["W2"], "R4": ["W3"], "R5": ["W3", "W4"], "R6": ["W4"],
        "R7": ["W5"], "R8": ["W5", "W6"], "R9": ["W6"],
    },
}


def product(scenario: str) -> PlainNetwork:
    """Product scenario S/L/A/B/C/D at level 1 or 3 with SHIPMENT lead times (use convention 'meio')."""
    code, level = scenario[0], int(scenario[1:])
    edges = PRODUCT_EDGES[code]
    ech = {n: {"R": 1, "W": 2, "F": 3}[n[0]] for n in edges}
    dem = {n: mixed_poisson_uniform_pmf(5, 15) for n in edges if n.startswith("R")}
    lt = point_mass(1) if level == 1 else lt_pmf({k: 0.2 for k in range(1, 6)})
    return build(edges, ech, dem, {n: lt for n in edges})
