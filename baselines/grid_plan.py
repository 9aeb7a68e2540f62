"""``meio grid plan``: which trials of a budget preset are not published yet, what they will cost, and
the commands that run them.

A trial counts as published when a finished record with its exact identity (scenario, model, seed
and every result-changing setting, package version included) is in the stores read. The cost of a
missing trial is estimated from the published records themselves: core-hours per training episode
of the same model (at the ``quick`` or ``report`` preset), on the same scenario if it has records,
else on scenarios of the same structure (the same network), else on any scenario scaled by the
number of stock points (marked ``~``: rougher), times the preset's episodes. Within each of these
tiers, records that measured CPU time are used first; wall time, from records without it,
overstates the work on a shared machine and comes from older code (records from before the
compiled period ran several times slower), so it is the fallback, and the plan says which basis
each estimate has. IMARL's episodes are a cap (it stops at an
equilibrium), so its estimate is an upper bound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from baselines.grid import trial_core_hours, trial_cpu_hours
from baselines.grid_runner import TrialSpec
from baselines.presets import preset_options

__all__ = ["format_plan", "plan_commands", "plan_rows"]


def _structure(scenario: str) -> str:
    from meio_envs.scenarios import parse_scenario_id

    return parse_scenario_id(scenario)[0]


def _nodes(scenario: str) -> int:
    from meio_envs.scenarios import make_scenario

    return make_scenario(scenario).network.num_nodes


def _rate(rates: Mapping[tuple[str, str], list[tuple[float, bool]]], model: str,
          sc: str) -> tuple[float | None, bool, str]:
    """Core-hours per episode of ``model`` on ``sc``, whether it is scaled from other networks, and its
    basis (``"CPU"`` or ``"wall"``). The network matters most, so the tiers go same scenario, same
    structure, scaled; within a tier, records that measured CPU time come first: those without it
    ran older code (some of it several times slower) and their wall time counts any sharing."""
    mine = {s: vs for (m, s), vs in rates.items() if m == model}
    for pick in (lambda s: s == sc, lambda s: _structure(s) == _structure(sc)):
        for cpu in (True, False):
            vs = [v for s, v_s in mine.items() if pick(s) for v, c in v_s if c == cpu]
            if vs:
                return sum(vs) / len(vs), False, "CPU" if cpu else "wall"
    for cpu in (True, False):
        per_node = [v / _nodes(s) for s, v_s in mine.items() for v, c in v_s if c == cpu]
        if per_node:
            return sum(per_node) / len(per_node) * _nodes(sc), True, "CPU" if cpu else "wall"
    return None, False, ""


def _rates(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[tuple[float, bool]]]:
    """(model, scenario) -> (core-hours per training episode, measured in CPU time?) of each finished
    trial of a grid preset (an episode costs the same at either budget; legacy records ran older,
    slower code)."""
    out: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    for r in records:
        eps = (r.get("result") or {}).get("episodes")
        if r["status"] == "finished" and r.get("preset") in ("quick", "report") and eps:
            cpu = trial_cpu_hours(r)
            out[(r["model"], r["scenario"])].append(((trial_core_hours(r) if cpu is None else cpu) / float(eps),
                                                     cpu is not None))
    return out


def plan_rows(records: Sequence[Mapping[str, Any]], models: Sequence[str], scenarios: Sequence[str],
              seeds: Sequence[int], preset: str) -> list[dict[str, Any]]:
    """One row per (model, scenario) with trials missing: the seeds published and missing, and the
    estimated core-hours of the missing ones (None where the model has no record to estimate from;
    ``scaled`` where the estimate comes from other networks)."""
    done = {r["trial_id"] for r in records if r["status"] == "finished"}
    rates = _rates(records)
    rows = []
    for model in models:
        for sc in scenarios:
            opts = preset_options(preset, model, sc)
            missing = [s for s in seeds if TrialSpec(model, sc, s, opts, preset=preset).identity().trial_id not in done]
            if not missing:
                continue
            rate, scaled, basis = _rate(rates, model, sc)
            rows.append({"model": model, "scenario": sc, "episodes": opts["episodes"],
                         "published": [s for s in seeds if s not in missing], "missing": missing,
                         "core_hours": None if rate is None else rate * opts["episodes"] * len(missing),
                         "scaled": scaled, "basis": basis})
    return rows


def plan_commands(rows: Sequence[Mapping[str, Any]], preset: str) -> list[str]:
    """``meio grid run`` lines for the rows: one per model and set of missing seeds, its scenarios together."""
    groups: dict[tuple[str, tuple[int, ...]], list[str]] = defaultdict(list)
    for r in rows:
        groups[(r["model"], tuple(r["missing"]))].append(r["scenario"])
    return [f"meio grid run --preset {preset} --models {m} --scenarios {' '.join(sc)} "
            f"--seeds {' '.join(map(str, seeds))}" for (m, seeds), sc in groups.items()]


def format_plan(rows: Sequence[Mapping[str, Any]], preset: str) -> str:
    """The plan as Markdown: a table, the total, and the commands."""
    if not rows:
        return f"Every trial asked for is published at preset `{preset}`.\n"
    lines = ["| model | scenario | episodes | published seeds | missing seeds | est. core-h | from |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        est = "unknown" if r["core_hours"] is None else ("~" if r["scaled"] else "") + f"{r['core_hours']:.2f}"
        lines.append(f"| {r['model']} | {r['scenario']} | {r['episodes']} | {' '.join(map(str, r['published'])) or '-'} "
                     f"| {' '.join(map(str, r['missing']))} | {est} | {r['basis'] or '-'} |")
    known = [r["core_hours"] for r in rows if r["core_hours"] is not None]
    unknown = len(rows) - len(known)
    lines += ["", f"{sum(len(r['missing']) for r in rows)} trials missing in {len(rows)} cells: about "
              f"{sum(known):.1f} core-hours" + (f", plus {unknown} cells of models with no record to estimate from"
                                                  if unknown else "") + " (~: scaled from other networks by "
              "their stock points; from: the records' CPU time, or their wall time where none of the records used "
              "measured CPU time, which overstates the cost of older and shared runs).", "", "```bash"]
    lines += plan_commands(rows, preset) + ["```"]
    return "\n".join(lines) + "\n"
