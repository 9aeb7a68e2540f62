"""One-off: turn schema-0 result lines (before ``meio-envs.trial/1``) into schema-1 records.

Schema-0 lines held the result and a few settings, not the full configuration, nor versions or
git commits. The migrated record says so: ``config`` holds only the settings the old line stated
(under ``recorded_settings``, with ``complete: false``), the package version is tagged ``-legacy``
so the identity can never equal a new trial's, ``preset`` is ``legacy``, and ``provenance`` names
the commit that published the line (the code that produced it is at or before that commit).

    python benchmarks/migrate_records_v0.py OLD.jsonl NEW.jsonl

The publishing commit of each line is read with ``git blame`` on OLD.jsonl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from baselines.common.records import ResultsStore, TrialIdentity, make_record

RESULT_KEYS = ("best_cost", "heuristic_cost", "savings", "episodes", "env_steps", "best_episodes", "eval_episodes",
               "initial_cost", "agent_iterations", "equilibrium", "job_sequence", "accepted",
               "time_to_beat_heuristic_s", "episodes_to_beat_heuristic", "run_dir", "best_model_cost",
               "best_model_se", "best_model_step", "final_cost", "final_se", "benchmark_cost", "benchmark",
               "paired_saving_mean", "paired_saving_se", "breakdown_best", "train_time_s", "action_type")
SETTING_KEYS = ("episodes", "timesteps", "episodes_per_iteration", "num_envs", "num_steps", "n_envs", "n_steps", "order",
                "base_policy", "eval_episodes", "action_type")
EVAL_SEED_V0 = 1_000_003  # the evaluation seed of every schema-0 trial (meio_envs.evaluation.EVAL_SEED)


def migrate(old: dict[str, Any], commit: str) -> dict[str, Any]:
    """The schema-1 record of one schema-0 line."""
    old = dict(old)
    if old["model"] == "a2c":  # its schema-0 'episodes' counted evaluation episodes; budget was in env steps
        old["eval_episodes"] = old.pop("episodes")
        old["episodes"] = int(old["env_steps"]) // 52  # Chapter2L episodes are 52 periods
        old["timesteps"] = int(old["env_steps"])
    settings = {k: old[k] for k in SETTING_KEYS if k in old}
    ident = TrialIdentity(old["scenario"], old["model"], int(old["seed"]),
                          {"recorded_settings": settings, "complete": False}, version="0.1.0-legacy")
    res = {k: old[k] for k in RESULT_KEYS if k in old}
    res["eval_seed"] = old.get("eval_seed", EVAL_SEED_V0)
    res.setdefault("episodes", old.get("episodes"))
    prov = {"package_version": "0.1.0", "git_commit": commit, "git_dirty": None, "device": old.get("device"),
            "wall_time_s": old.get("wall_time_s"), "migrated_from": "schema 0",
            "note": "settings not stored by schema 0 are unknown; versions and host were not recorded"}
    return make_record(ident, res, prov, preset="legacy")


def _blame(path: str) -> list[str]:
    out = subprocess.run(["git", "blame", "-l", "-s", path], capture_output=True, text=True, check=True).stdout
    return [ln.split()[0].lstrip("^") for ln in out.splitlines()]


def main(argv: list[str]) -> int:
    src, dst = argv
    store = ResultsStore(dst)
    with open(src) as fh:
        lines = fh.read().splitlines()
    n = sum(store.append(migrate(json.loads(line), c)) for line, c in zip(lines, _blame(src)) if line.strip())
    print(f"migrated {n} records into {dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
