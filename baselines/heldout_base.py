"""The base-stock policies on the same held-out episodes as the trials, so RL and base stock compare fairly.

The heuristics table (``heuristics_all.csv``) gives each scenario's searched local and searched
echelon base-stock levels, found on the search seeds and costed on the protocol's 100 evaluation
episodes. A trial's recorded cost is the best of its evaluations on those same 100 episodes, so
"best trial against echelon" on the protocol favours the trial. :mod:`baselines.heldout` evaluates
each trial once more on held-out episodes; this module costs DA and the two searched policies on
the very same held-out episodes (same seeds, same count), one row per scenario and method in
``heldout_base_stock.csv``. The report then compares, per cell, the trial that the protocol picked
as best (by its recorded cost) with each base-stock policy on draws neither was selected on.

DA's row repeats what every trial row of :mod:`baselines.heldout` holds as ``heldout_da_cost``; the
report checks that they agree (same draws, same simulator), which catches a mismatch of seeds or
episodes between the two files.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from baselines.common.files import atomic_write_text
from baselines.heldout import HELDOUT_EPISODES, HELDOUT_SEED, MAX_EPISODES, HeldoutError, csv_rows, evaluating_code
from baselines.heldout_episodes import BASE_POLICIES, EPISODES_FILE, add_episode_costs, episode_row, read_episode_costs

__all__ = ["BASE_COLUMNS", "BASE_FILE", "METHODS", "add_base_stock_heldout", "paired_base_costs",
           "read_base_stock_heldout"]

BASE_FILE = "heldout_base_stock.csv"  # next to heldout.csv
METHODS = BASE_POLICIES  # DA, searched, echelon
BASE_COLUMNS = ("scenario", "method", "levels", "seed", "episodes", "heldout_cost", "git_commit")
MAX_BYTES = 2**20  # a few rows per scenario


def _table_levels(heuristics: str | Path) -> dict[tuple[str, str], str]:
    """(scenario, method) -> the levels column of the heuristics table, for the methods compared."""
    p = Path(heuristics)
    if not p.exists():
        return {}
    with p.open(newline="") as fh:
        return {(r["scenario"], r["method"]): r["levels"] for r in csv.DictReader(fh) if r["method"] in METHODS}


def _policy(scenario: str, method: str, levels: str) -> Any:
    from meio_envs.envs.batch import resolve_params
    from meio_envs.evaluation import base_stock_policy, da_policy, echelon_base_stock_policy

    params = resolve_params(scenario)[0]
    if method == "DA":
        return da_policy(params)  # recomputed per cost draw where costs vary, as the trials' DA
    try:
        lv = np.array([int(x) for x in levels.split()], dtype=np.int64)
    except ValueError:
        raise HeldoutError(f"{scenario} {method}: levels {levels!r} are not whole numbers") from None
    if lv.size != params.num_nodes:
        raise HeldoutError(f"{scenario} {method}: {lv.size} levels for {params.num_nodes} stock points")
    return base_stock_policy(lv, params.max_order) if method == "searched" else echelon_base_stock_policy(lv, params)


def _known_scenario(sid: str) -> bool:
    from meio_envs.scenarios import canonical_scenario_id

    try:
        return canonical_scenario_id(sid) == sid
    except (ValueError, TypeError):
        return False


def read_base_stock_heldout(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a base-stock held-out file (empty when there is none), checked; raises :class:`HeldoutError`."""
    p = Path(path)
    rows, seen = [], set()
    for i, raw in enumerate(csv_rows(p, BASE_COLUMNS, MAX_BYTES, "a base-stock held-out file"), start=2):
        key = (raw["scenario"], raw["method"])
        if not _known_scenario(raw["scenario"]) or raw["method"] not in METHODS:
            raise HeldoutError(f"{p}, line {i}: scenario {raw['scenario']!r} and method {raw['method']!r} must be "
                               f"a scenario id as the package writes it (grid or example) and one of "
                               f"{', '.join(METHODS)}")
        if key in seen:
            raise HeldoutError(f"{p}, line {i}: a second row for {key[0]} {key[1]}")
        seen.add(key)
        try:
            row = {**raw, "seed": int(raw["seed"]), "episodes": int(raw["episodes"]),
                   "heldout_cost": float(raw["heldout_cost"])}
        except (TypeError, ValueError) as e:
            raise HeldoutError(f"{p}, line {i}: {e}") from None
        if not math.isfinite(row["heldout_cost"]) or row["episodes"] < 2:
            raise HeldoutError(f"{p}, line {i}: the cost must be finite and episodes >= 2")
        rows.append(row)
    return rows


def add_base_stock_heldout(scenarios: Iterable[str], path: str | Path, heuristics: str | Path,
                           episodes: int = HELDOUT_EPISODES, seed: int = HELDOUT_SEED,
                           code: str | None = None) -> int:
    """Cost DA and the searched local and echelon levels of ``heuristics`` for ``scenarios`` on the
    held-out episodes; adds the rows missing from ``path`` and redoes those whose levels, seed or
    episodes changed. Returns the rows written. Safe under concurrent callers (a lock file).

    The per-episode costs go to :data:`~baselines.heldout_episodes.EPISODES_FILE` beside ``path``; a
    row without them (older than that file) is evaluated again, and refused with :class:`HeldoutError`
    if the costs do not give its recorded mean."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or not 2 <= episodes <= MAX_EPISODES:
        raise HeldoutError(f"held-out episodes must be a whole number from 2 to {MAX_EPISODES:,}, got {episodes!r}")
    from meio_envs.evaluation import evaluate

    table = _table_levels(heuristics)
    p = Path(path)
    written, costs = 0, []
    with FileLock(str(p) + ".lock"):
        rows = {(r["scenario"], r["method"]): r for r in read_base_stock_heldout(p)}
        have_costs = read_episode_costs(p.parent / EPISODES_FILE)
        for sc in sorted(set(scenarios)):
            for method in METHODS:
                levels = table.get((sc, method))
                if levels is None:
                    continue  # not in the heuristics table (e.g. no search for this scenario)
                old = rows.get((sc, method))
                current = old is not None and (old["levels"], old["seed"], old["episodes"]) == (levels, seed, episodes)
                ep = have_costs.get((sc, method))
                if current and ep is not None and (ep["levels"], ep["seed"], ep["episodes"]) == (levels, seed, episodes):
                    continue
                res = evaluate(_policy(sc, method, levels), sc, episodes=episodes, seed=seed)
                label = evaluating_code() if code is None else code
                if not current:
                    rows[(sc, method)] = {"scenario": sc, "method": method, "levels": levels, "seed": seed,
                                          "episodes": episodes, "heldout_cost": res.mean, "git_commit": label}
                    written += 1
                elif not math.isclose(res.mean, old["heldout_cost"], rel_tol=1e-9):
                    raise HeldoutError(f"{sc} {method}: costs {res.mean} on the held-out episodes now, but "
                                       f"{old['heldout_cost']} in {p} (evaluated by {old['git_commit'] or 'unknown code'}): "
                                       "the simulator changed since")
                costs.append(episode_row(sc, method, levels, seed, res.episode_costs, label))
        if written:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=BASE_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows[k] for k in sorted(rows))
            atomic_write_text(p, buf.getvalue())
        add_episode_costs(p.parent / EPISODES_FILE, costs)
    return written


def paired_base_costs(trial_rows: Iterable[Mapping[str, Any]],
                      base_rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """scenario -> method -> held-out cost, from the ``base_rows`` on the same held-out draws (seed and
    episodes) as the scenario's ``trial_rows`` (rows of :func:`baselines.heldout.read_heldout`); rows on
    other draws are left out, as they would not compare paired. Raises :class:`HeldoutError` where DA's
    cost differs from the trials' DA on the same draws: then the two files do not describe one experiment."""
    da = {(r["scenario"], r["seed"], r["episodes"]): (r["trial_id"], float(r["heldout_da_cost"])) for r in trial_rows}
    out: dict[str, dict[str, float]] = {}
    for b in base_rows:
        key = (b["scenario"], b["seed"], b["episodes"])
        if key not in da:
            continue
        if b["method"] == "DA":
            tid, cost = da[key]
            if not math.isclose(cost, b["heldout_cost"], rel_tol=1e-9):
                raise HeldoutError(f"{b['scenario']}: DA costs {b['heldout_cost']} on the held-out episodes in "
                                   f"{BASE_FILE} but {cost} in trial {tid}'s row on the same seeds; "
                                   "recompute one of them with the current code")
        out.setdefault(b["scenario"], {})[b["method"]] = float(b["heldout_cost"])
    return out
