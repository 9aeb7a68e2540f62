"""Named training budgets of the grid: ``report``, ``quick`` and ``smoke``.

``report`` is the report's Table B.3 (training episodes per model and scenario); ``quick`` is
:data:`QUICK_FRACTION` of it for every model and scenario, so that the columns of a quick grid
compare at equal relative effort; ``smoke`` is a small fixed budget that only checks that the
pipeline runs, including one in-training evaluation at 100 episodes (its results mean nothing, and
``meio grid publish`` refuses them). A preset only fills in options: it resolves to explicit
numbers, and those numbers (not the preset's name) are part of a trial's identity, so
``--preset quick`` and the same episodes typed by hand are the same trial.

The report gives IMARL 25,000 episodes per agent-iteration and trains until an equilibrium, with no
total. A grid needs a bound, so ``report`` caps IMARL at ``IMARL_ITERATIONS_PER_AGENT`` x (number
of stock points) agent-iterations (docs/deviations.md).

Scenarios outside the report's 13 take the row of their structure: levels 1-2 the A1/B1/C1 row,
levels 3-5 the A3/B3/C3 row; S and L use the A rows; all D scenarios the D1 row.
"""

from __future__ import annotations

import math
from typing import Any

from meio_envs.scenarios import parse_scenario_id

__all__ = ["IMARL_ITERATIONS_PER_AGENT", "PRESETS", "QUICK_FRACTION", "preset_options", "report_episodes"]

PRESETS = ("report", "quick", "smoke")
QUICK_FRACTION = 0.1
IMARL_ITERATIONS_PER_AGENT = 2
IMARL_EPISODES_PER_ITERATION = 25_000

# Table B.3: (structure, level group) -> episodes for sarl, sarl-gnn, marl, marl-gnn
_TABLE_B3: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("A", "12"): (25_000, 25_000, 20_000, 20_000),
    ("A", "34"): (75_000, 75_000, 20_000, 20_000),
    ("B", "12"): (75_000, 100_000, 20_000, 20_000),
    ("B", "34"): (150_000, 200_000, 20_000, 20_000),
    ("C", "12"): (75_000, 100_000, 20_000, 20_000),
    ("C", "34"): (150_000, 200_000, 20_000, 20_000),
    ("D", "12"): (300_000, 300_000, 20_000, 20_000),
    ("D", "34"): (300_000, 300_000, 20_000, 20_000),
}
_COLUMN = {"sarl": 0, "sarl-gnn": 1, "marl": 2, "marl-gnn": 3}
MODELS = ("sarl", "sarl-gnn", "marl", "marl-gnn", "imarl")


def _row(scenario: str) -> tuple[str, str]:
    structure, level = parse_scenario_id(scenario)
    s = {"S": "A", "L": "A"}.get(structure, structure)
    return s, "12" if level <= 2 else "34"


def _num_stock_points(scenario: str) -> int:
    from meio_envs.scenarios import make_scenario

    return make_scenario(scenario).network.num_nodes


def report_episodes(model: str, scenario: str) -> int:
    """Table B.3's training episodes (IMARL: per agent-iteration)."""
    if model == "imarl":
        return IMARL_EPISODES_PER_ITERATION
    if model not in _COLUMN:
        raise ValueError(f"no Table B.3 budget for model {model!r}; models with presets: {list(MODELS)}")
    return _TABLE_B3[_row(scenario)][_COLUMN[model]]


def preset_options(preset: str, model: str, scenario: str) -> dict[str, Any]:
    """The trainer options a preset sets for ``model`` on ``scenario`` (explicit numbers)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown budget preset {preset!r}; choose from {list(PRESETS)}")
    if model not in MODELS:
        raise ValueError(f"no budget presets for model {model!r}; models with presets: {list(MODELS)}")
    if preset == "smoke":
        if model == "imarl":
            return {"episodes_per_iteration": 56, "max_agent_iterations": 2, "episodes": 112, "eval_episodes": 10,
                    "eval_every": 50}
        return {"episodes": 104, "eval_episodes": 10}
    frac = 1.0 if preset == "report" else QUICK_FRACTION
    if model == "imarl":
        per_it = int(math.ceil(IMARL_EPISODES_PER_ITERATION * frac))
        its = IMARL_ITERATIONS_PER_AGENT * _num_stock_points(scenario)
        return {"episodes_per_iteration": per_it, "max_agent_iterations": its, "episodes": per_it * its}
    return {"episodes": int(math.ceil(report_episodes(model, scenario) * frac))}
