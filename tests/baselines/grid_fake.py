"""A trainer module for grid tests: instant (or ``sleep`` seconds), fails for seed 13, records like a real one."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.common.records import TrialIdentity, utc_now
from baselines.common.train_loop import LearningCurve
from baselines.common.trial import finish, finished_result, open_run_dir, result_config

FAIL_SEED = 13


@dataclass
class Args:
    scenario: str
    model: str
    seed: int
    episodes: int = 10
    sleep: float = 0.0
    out: str = "runs"
    run_name: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")

    @property
    def run_dir(self) -> Path:
        return Path(self.out) / (self.run_name or f"{self.model}/{self.scenario}/seed{self.seed}")

    def identity(self) -> TrialIdentity:
        return TrialIdentity(self.scenario, self.model, self.seed, result_config(self))


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Args:
    return Args(scenario=scenario, model=model, seed=seed, **options)


def run_trial(args: Args) -> dict[str, Any]:
    ident = args.identity()
    d = open_run_dir(args.run_dir, ident)
    done = finished_result(d, ident)
    if done is not None:
        return done
    started, t0 = utc_now(), time.time()
    with open(d / "runs.log", "a") as fh:  # how often this trial was (re)started, and by which process
        fh.write(f"{os.getpid()}\n")
    time.sleep(args.sleep)
    if args.seed == FAIL_SEED:
        raise RuntimeError("this trial fails on purpose")
    cost = 100.0 - args.seed
    curve = LearningCurve(d, tensorboard=False)  # falls from 3x to the final cost, like a training run
    for k in (1, 2, 3):
        curve.log(k * args.episodes, k * args.episodes * 128, time.time() - t0, cost * (4 - k), cost * (4 - k))
    res = {"best_cost": cost, "heuristic_cost": 100.0, "savings": (100.0 - cost) / 100.0, "eval_seed": 1,
           "episodes": args.episodes, "env_steps": args.episodes * 128, "curve": str(d / "curve.csv")}
    return finish(d, ident, res, "cpu", started, time.time() - t0)


if __name__ == "__main__":
    print(json.dumps(make_args("fake", "A1", 0).identity().as_dict()))
