"""Check a trial record against the model it claims: load the trial's best model file, evaluate it under
the record's protocol (evaluation seed and episodes), and compare with the record's best cost.

Evaluation is deterministic, so a record and its own model file agree exactly on the machine that
trained it. A disagreement means the record and the file do not belong together (a record
attributed to the wrong run folder, a model file overwritten by another run) or that the file was
evaluated on a platform whose floating point differs. ``meio grid publish`` runs this check on
every record whose model file it finds, and ``meio grid verify`` runs it on any results store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from baselines.common.records import RecordError
from baselines.curve_archive import find_run_file

__all__ = ["REL_TOL", "check_records", "check_record"]

REL_TOL = 1e-9
"""Largest relative difference between the record's best cost and the re-evaluated one that passes."""


def check_record(record: Mapping[str, Any], roots: Sequence[Path], rel_tol: float = REL_TOL) -> str:
    """Re-evaluate ``record``'s best model file; returns "verified", "no model file" or "not checkable".

    Raises :class:`RecordError` when the file is of another model or scenario than the record, or
    gives another cost.
    """
    from baselines.saved_policies import GRID_POLICY_MODELS, load_policy
    from meio_envs.evaluation import evaluate

    res = record.get("result", {})
    if record.get("status") != "finished" or record.get("model") not in GRID_POLICY_MODELS:
        return "not checkable"
    if not res.get("best_model") or "eval_seed" not in res or "eval_episodes" not in res:
        return "not checkable"
    path = find_run_file(res["best_model"], roots)  # no filter: a folder of another run must fail the check
    if path is None:
        return "no model file"
    saved = load_policy(path)
    tid = record["trial_id"]
    if (saved.model, saved.scenario) != (record["model"], record["scenario"]):
        raise RecordError(f"{tid}: its model file {path} holds a {saved.model} policy for {saved.scenario}, "
                          f"not {record['model']} for {record['scenario']}")
    got = evaluate(saved.policy, record["scenario"], episodes=int(res["eval_episodes"]), seed=int(res["eval_seed"])).mean
    if not math.isclose(got, res["best_cost"], rel_tol=rel_tol, abs_tol=0.0):
        raise RecordError(f"{tid}: its model file {path} costs {got:.6f} under the record's protocol (seed "
                          f"{res['eval_seed']}, {res['eval_episodes']} episodes), the record says "
                          f"{res['best_cost']:.6f}: the record and the file do not belong together, or the file "
                          "was evaluated on another platform")
    return "verified"


def check_records(records: Iterable[Mapping[str, Any]], roots: Sequence[Path],
                  rel_tol: float = REL_TOL) -> tuple[int, list[str]]:
    """:func:`check_record` on each; returns (records verified, trial ids of finished grid records without a
    model file under ``roots``). The first disagreement raises :class:`RecordError`."""
    verified, missing = 0, []
    for r in records:
        state = check_record(r, roots, rel_tol)
        verified += state == "verified"
        if state == "no model file":
            missing.append(r["trial_id"])
    return verified, missing
