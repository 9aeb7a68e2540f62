"""The 30-scenario complexity grid (docs/scenarios.md): 6 structures x 5 parameter levels.

Scenario id = structure code + level, e.g. ``"B4"``. The report's 13 scenarios (A1-A4, B1-B4,
C1-C4, D1) keep its meaning (its Table 3); S, L and level 5 are this package's additions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meio_envs.core.params import CostVariation
from meio_envs.distributions import Distribution, EmpiricalPMF, Fixed, PoissonUniformMean, UniformInt
from meio_envs.network import EXTERNAL, NetworkSpec, StockPoint
from meio_envs.validation import MEIOInputError, show

__all__ = [
    "LEVELS",
    "REPORT_SCENARIOS",
    "SCENARIO_IDS",
    "STRUCTURES",
    "ScenarioConfig",
    "make_network",
    "make_scenario",
]

# Per echelon (1 = retailer): holding, backorder, max order, IP lower bound, IP margin above BSL.
ECHELON_PARAMS = {
    1: dict(holding=1.0, backorder=19.0, max_order=50, ip_bounds=(-100.0, 50.0)),
    2: dict(holding=0.6, backorder=0.0, max_order=150, ip_bounds=(-300.0, 150.0)),
    3: dict(holding=0.4, backorder=0.0, max_order=500, ip_bounds=(-1000.0, 500.0)),
}

# Structure code -> (description, {node: suppliers}); nodes without an entry are supplied externally.
STRUCTURES: dict[str, tuple[str, dict[str, tuple[str, ...]], tuple[str, ...]]] = {
    "S": ("small serial", {"R1": ("W1",)}, ("W1",)),
    "L": ("large serial", {"W1": ("F1",), "R1": ("W1",)}, ("F1",)),
    "A": ("small divergent", {f"R{i}": ("W1",) for i in (1, 2, 3)}, ("W1",)),
    "B": (
        "small general",
        {
            "R1": ("W1",), "R2": ("W1", "W2"), "R3": ("W1", "W2"),
            "R4": ("W2", "W3"), "R5": ("W3",), "R6": ("W2", "W3"),
        },
        ("W1", "W2", "W3"),
    ),
    "C": (
        "large divergent",
        {
            **{f"W{i}": ("F1",) for i in (1, 2, 3)},
            **{f"R{i}": (f"W{(i - 1) // 3 + 1}",) for i in range(1, 10)},
        },
        ("F1",),
    ),
    "D": (
        "large general",
        {
            "W1": ("F1",), "W2": ("F1", "F2"), "W3": ("F2",), "W4": ("F2", "F3"), "W5": ("F3",),
            "W6": ("F1", "F3"),
            "R1": ("W1",), "R2": ("W1", "W2"), "R3": ("W2",), "R4": ("W3",), "R5": ("W3", "W4"),
            "R6": ("W4",), "R7": ("W5",), "R8": ("W5", "W6"), "R9": ("W6",),
        },
        ("F1", "F2", "F3"),
    ),
}

LEVELS = {
    1: "demand Poisson(m), m ~ U{5..15}; lead time 1; static costs",
    2: "real-life demand profiles; lead time 1; static costs",
    3: "demand Poisson(m), m ~ U{5..15}; lead time U{1..5} per shipment; static costs",
    4: "real-life demand and lead-time profiles; static costs",
    5: "as level 4, plus per-episode holding and backorder cost factors ~ U[0.5, 1.5]",
}

SCENARIO_IDS: tuple[str, ...] = tuple(f"{s}{lv}" for s in STRUCTURES for lv in LEVELS)
REPORT_SCENARIOS: tuple[str, ...] = (*(f"{s}{lv}" for s in "ABC" for lv in (1, 2, 3, 4)), "D1")


@dataclass(frozen=True)
class ScenarioConfig:
    """A grid scenario: its network and whether costs vary per episode."""

    scenario_id: str
    structure: str
    level: int
    network: NetworkSpec
    cost_variation: CostVariation | None

    @property
    def description(self) -> str:
        """One line: structure and parameter level."""
        return f"{STRUCTURES[self.structure][0]}, level {self.level}: {LEVELS[self.level]}"


def canonical_scenario_id(scenario_id: str) -> str:
    """``"b4"`` -> ``"B4"``, ``"a1-lostsales"`` -> ``"A1-LostSales"`` (an example id); errors as :func:`parse_scenario_id`."""
    example = _example_id(scenario_id)
    if example is not None:
        return example
    structure, level = parse_scenario_id(scenario_id)
    return f"{structure}{level}"


def _example_id(scenario_id: object) -> str | None:
    from meio_envs.example_scenarios import EXAMPLE_SCENARIOS

    if not isinstance(scenario_id, str):
        return None
    return next((k for k in EXAMPLE_SCENARIOS if k.lower() == scenario_id.lower()), None)


def parse_scenario_id(scenario_id: str) -> tuple[str, int]:
    """``"B4"`` -> ``("B", 4)`` with a clear error for unknown ids.

    An example id (``"A1-LostSales"``, see :mod:`meio_envs.example_scenarios`) gives the structure
    and level of the grid scenario it starts from.
    """
    example = _example_id(scenario_id)
    if example is not None:
        from meio_envs.example_scenarios import EXAMPLE_SCENARIOS

        scenario_id = EXAMPLE_SCENARIOS[example][0]
    sid = scenario_id.upper() if isinstance(scenario_id, str) else ""
    if len(sid) != 2 or sid[0] not in STRUCTURES or not sid[1].isdigit() or int(sid[1]) not in LEVELS:
        raise MEIOInputError(
            f"unknown scenario {show(scenario_id)}; ids are a structure {sorted(STRUCTURES)} followed by a "
            f"level {sorted(LEVELS)}, e.g. 'B4', or an example id {_example_ids()}"
        )
    return sid[0], int(sid[1])


def _node_names(structure: str) -> list[str]:
    _, sup, ext = STRUCTURES[structure]
    return list(ext) + list(sup)


def make_network(
    structure: str,
    level: int,
    *,
    demand_profiles: Sequence[Distribution] | None = None,
    lead_time_profiles: Sequence[Distribution] | None = None,
) -> NetworkSpec:
    """Build the network of structure ``structure`` at parameter level ``level``.

    Real-life levels (2, 4, 5) give node k (in node order) profile k; pass ``demand_profiles`` /
    ``lead_time_profiles`` (one distribution per node index, at least P of them) to use your own.
    Profiles for a level that does not use them (demand at levels 1 and 3, lead times at 1, 2
    and 3) are an error rather than silently ignored.
    """
    if not isinstance(structure, str) or structure not in STRUCTURES or type(level) is not int or level not in LEVELS:
        raise MEIOInputError(
            f"unknown structure/level {show(structure)}/{show(level)}; allowed: {sorted(STRUCTURES)} / {sorted(LEVELS)}"
        )
    _check_used("demand_profiles", demand_profiles, level, (2, 4, 5))
    _check_used("lead_time_profiles", lead_time_profiles, level, (4, 5))
    desc, sup, ext = STRUCTURES[structure]
    draft = NetworkSpec(
        tuple(
            StockPoint(name=n, suppliers=sup.get(n, (EXTERNAL,)), holding=1.0, max_order=1,
                       ip_bounds=(-1.0, 1.0), lead_time=Fixed(1),
                       demand=Fixed(0) if n.startswith("R") else None)
            for n in _node_names(structure)
        )
    )
    P = draft.num_nodes
    real = level in (2, 4, 5)
    if real and (demand_profiles is None or lead_time_profiles is None):
        from meio_envs.profiles import builtin_distributions

        demand_profiles = demand_profiles or builtin_distributions("demand")
        lead_time_profiles = lead_time_profiles or builtin_distributions("lead_time")
    for label, profs in (("demand_profiles", demand_profiles), ("lead_time_profiles", lead_time_profiles)):
        if profs is not None and (isinstance(profs, (str, bytes)) or not isinstance(profs, Sequence)):
            raise MEIOInputError(f"{label} must be a list of distributions (one per stock point), got {show(profs)}")
        if profs is not None and len(profs) < P:
            raise MEIOInputError(f"{label}: need one distribution per stock point ({P}), got {len(profs)}")
    sps = []
    for k, (name, ech) in enumerate(zip(draft.names, draft.echelons)):
        p = ECHELON_PARAMS[int(ech)]
        if level in (1, 2):
            lead: Distribution = Fixed(1)
        elif level == 3:
            lead = UniformInt(1, 5)
        else:
            lead = _as_dist(lead_time_profiles[k])  # type: ignore[index]
        demand = None
        if int(ech) == 1:
            demand = _as_dist(demand_profiles[k]) if real else PoissonUniformMean(5, 15)  # type: ignore[index]
        sps.append(StockPoint(name=name, suppliers=sup.get(name, (EXTERNAL,)), lead_time=lead,
                              demand=demand, **p))  # type: ignore[arg-type]
    return NetworkSpec(tuple(sps), name=f"{structure}{level}", metadata={"structure": desc, "level": level})


def _check_used(label: str, profiles: object, level: int, levels: tuple[int, ...]) -> None:
    if profiles is not None and level not in levels:
        raise MEIOInputError(
            f"{label}: scenario level {level} ({LEVELS[level]}) does not use them; allowed only at "
            f"levels {list(levels)} (leave {label} unset)"
        )


def _as_dist(d: Distribution | Sequence[float]) -> Distribution:
    if isinstance(d, Distribution):
        return d
    if isinstance(d, (str, bytes)) or not isinstance(d, Sequence):
        raise MEIOInputError(f"a profile must be a Distribution or a list of probabilities, got {show(d)}")
    return EmpiricalPMF(tuple(d))


def make_scenario(
    scenario_id: str,
    *,
    demand_profiles: Sequence[Distribution] | None = None,
    lead_time_profiles: Sequence[Distribution] | None = None,
) -> ScenarioConfig:
    """The :class:`ScenarioConfig` of a grid id such as ``"B4"`` or an example id such as ``"A1-LostSales"``."""
    structure, level = parse_scenario_id(scenario_id)
    net = make_network(structure, level, demand_profiles=demand_profiles, lead_time_profiles=lead_time_profiles)
    cv = CostVariation() if level == 5 else None
    example = _example_id(scenario_id)
    if example is not None:
        from meio_envs.example_scenarios import example_network

        return ScenarioConfig(example, structure, level, example_network(example, net), cv)
    return ScenarioConfig(f"{structure}{level}", structure, level, net, cv)


def _example_ids() -> list[str]:
    from meio_envs.example_scenarios import EXAMPLE_SCENARIOS

    return list(EXAMPLE_SCENARIOS)
