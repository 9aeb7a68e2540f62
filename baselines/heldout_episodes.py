"""Per-episode held-out costs, so that a trial and a base-stock policy compare with a standard error.

``heldout.csv`` holds each trial's mean held-out cost and ``heldout_base_stock.csv`` each
base-stock policy's, on the same draws. A difference of two means says nothing about whether it
is more than noise; the draws are shared, so the paired per-episode differences do. This module
keeps the per-episode costs behind those means in ``heldout_episodes.csv`` (one row per scenario
and policy: a trial id, or ``searched`` / ``echelon`` with their levels) and computes the paired
saving of a trial against a policy with its standard error (:func:`paired_vs_base`).

The rows are written by the same steps that write the means (:func:`baselines.heldout.add_heldout`,
:func:`baselines.heldout_base.add_base_stock_heldout`); where a mean exists without its episodes
(rows written before this file existed), those steps evaluate the policy again and refuse to
store costs whose mean is not the recorded one. :func:`paired_vs_base` makes the same check when
it reads, so the three files always describe one experiment.
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
from baselines.common.records import RecordError
from baselines.curve_archive import plain_trial_id
from baselines.heldout import MAX_EPISODES, HeldoutError, csv_rows, paired_savings

__all__ = ["BASE_POLICIES", "EPISODES_FILE", "EPISODE_COLUMNS", "add_episode_costs", "episode_row", "paired_vs_base",
           "read_episode_costs"]

EPISODES_FILE = "heldout_episodes.csv"  # next to heldout.csv
EPISODE_COLUMNS = ("scenario", "policy", "levels", "seed", "episodes", "costs", "git_commit")
BASE_POLICIES = ("DA", "searched", "echelon")  # heldout_base.METHODS (that module imports this one)
MAX_BYTES = 64 * 2**20  # ~5 KB a row of 500 episodes: ten thousand rows
MEAN_RTOL = 1e-6  # costs are stored with 10 significant digits; their mean must give the recorded one


def episode_row(scenario: str, policy: str, levels: str, seed: int, costs: np.ndarray, code: str) -> dict[str, Any]:
    """A row of the file for ``policy``'s per-episode ``costs`` on ``costs.size`` episodes from ``seed``."""
    c = np.asarray(costs, np.float64)
    return {"scenario": scenario, "policy": policy, "levels": levels, "seed": int(seed), "episodes": int(c.size),
            "costs": c, "git_commit": code}


def _check_policy(policy: str, where: str) -> None:
    if policy in BASE_POLICIES:
        return
    try:
        plain_trial_id(policy, "a held-out episodes row")
    except RecordError as e:
        raise HeldoutError(f"{where}: {e}") from None


def read_episode_costs(path: str | Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(scenario, policy) -> row (``costs`` as a float array) of a per-episode file, checked: columns, size,
    one row per key, plain policy names, as many finite costs as episodes. Raises :class:`HeldoutError`."""
    p = Path(path)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for i, raw in enumerate(csv_rows(p, EPISODE_COLUMNS, MAX_BYTES, "a held-out episodes file"), start=2):
        where = f"{p}, line {i}"
        _check_policy(raw["policy"], where)
        key = (raw["scenario"], raw["policy"])
        if key in out:
            raise HeldoutError(f"{where}: a second row for {key[0]} {key[1]}")
        try:
            seed, episodes = int(raw["seed"]), int(raw["episodes"])
            costs = np.array([float(x) for x in raw["costs"].split()], np.float64)
        except (TypeError, ValueError) as e:
            raise HeldoutError(f"{where}: {e}") from None
        if not 2 <= episodes <= MAX_EPISODES or costs.size != episodes or not np.isfinite(costs).all():
            raise HeldoutError(f"{where}: needs 2 to {MAX_EPISODES:,} episodes and one finite cost for each "
                               f"(episodes {episodes}, {costs.size} costs)")
        out[key] = {**raw, "seed": seed, "episodes": episodes, "costs": costs}
    return out


def add_episode_costs(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Store ``rows`` (of :func:`episode_row`) in ``path``, replacing rows of the same scenario and policy;
    returns how many were written. Safe under concurrent callers (a lock file); written atomically."""
    new = list(rows)
    if not new:
        return 0
    p = Path(path)
    with FileLock(str(p) + ".lock"):
        have = read_episode_costs(p)
        for r in new:
            _check_policy(r["policy"], "a new held-out episodes row")
            have[(r["scenario"], r["policy"])] = dict(r)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=EPISODE_COLUMNS, lineterminator="\n")
        w.writeheader()
        for key in sorted(have):
            r = have[key]
            w.writerow({**r, "costs": " ".join(f"{c:.10g}" for c in r["costs"])})
        atomic_write_text(p, buf.getvalue())
    return len(new)


def _consistent(ep: Mapping[str, Any] | None, seed: int, episodes: int, mean: float, levels: str | None = None) -> bool:
    """Whether ``ep`` holds the episodes behind a mean ``mean`` on these draws (and these levels)."""
    if ep is None or (ep["seed"], ep["episodes"]) != (seed, episodes):
        return False
    if levels is not None and ep["levels"] != levels:
        return False
    return math.isclose(float(ep["costs"].mean()), mean, rel_tol=MEAN_RTOL)


def paired_vs_base(trial_rows: Iterable[Mapping[str, Any]], base_rows: Iterable[Mapping[str, Any]],
                   episodes: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[tuple[str, str], tuple[float, float]]:
    """(trial id, method) -> (paired saving, standard error) of each held-out trial row against each
    base-stock row of its scenario on the same draws, where ``episodes`` holds both per-episode costs.
    Raises :class:`HeldoutError` where stored costs do not average to the mean recorded beside them."""
    base: dict[tuple[str, int, int], list[Mapping[str, Any]]] = {}
    for b in base_rows:
        base.setdefault((b["scenario"], b["seed"], b["episodes"]), []).append(b)
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for t in trial_rows:
        key = (t["scenario"], t["seed"], t["episodes"])
        mine = episodes.get((t["scenario"], t["trial_id"]))
        if mine is None or key not in base:
            continue
        if not _consistent(mine, t["seed"], t["episodes"], t["heldout_cost"]):
            raise HeldoutError(f"{t['trial_id']}: its per-episode held-out costs ({EPISODES_FILE}) do not average to "
                               f"its held-out cost {t['heldout_cost']} on the same draws; evaluate it again")
        for b in base[key]:
            theirs = episodes.get((b["scenario"], b["method"]))
            if theirs is None or theirs["levels"] != b["levels"]:
                continue  # levels searched again since: its episodes are those of the old levels
            if not _consistent(theirs, b["seed"], b["episodes"], b["heldout_cost"], b["levels"]):
                raise HeldoutError(f"{b['scenario']} {b['method']}: its per-episode held-out costs ({EPISODES_FILE}) "
                                   f"do not average to its held-out cost {b['heldout_cost']}; evaluate it again")
            out[(t["trial_id"], b["method"])] = paired_savings(mine["costs"], theirs["costs"])
    return out

