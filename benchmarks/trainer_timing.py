"""Time short seed-batched MAPPO / IMARL runs and split their wall time into rollout, update and evaluation.

Shared by ``trainer_throughput.py`` and ``gpu_check.py``. The split wraps the trainers' module-level
calls (``collect_rollout``, ``ppo_epochs``, ``evaluate_many`` / ``evaluate``) with timers; "other"
is the rest (env and network construction, critic values and GAE, checkpoints, curves). Updates
on a GPU are asynchronous, so the update timer synchronises the device after each call.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from typing import Any

PHASES = ("rollout", "update", "eval")
_WRAPPED = {"collect_rollout": "rollout", "ppo_epochs": "update", "evaluate_many": "eval", "evaluate": "eval"}


@contextlib.contextmanager
def phase_timers(modules: list[Any], device: str) -> Iterator[dict[str, float]]:
    """Wrap the trainers' phase functions in ``modules`` while the block runs; yields the seconds per phase."""
    import torch

    spent = dict.fromkeys(PHASES, 0.0)
    saved = []
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def wrap(fn: Any, phase: str) -> Any:
        def timed(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                sync()
                spent[phase] += time.perf_counter() - t
        return timed

    for mod in modules:
        for name, phase in _WRAPPED.items():
            if hasattr(mod, name):
                saved.append((mod, name, getattr(mod, name)))
                setattr(mod, name, wrap(getattr(mod, name), phase))
    try:
        yield spent
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


def run(model: str, scenario: str, seeds: list[int], rollouts: int, num_envs: int = 4, num_steps: int = 256,
        device: str = "cpu", eval_every: int = 100) -> dict[str, Any]:
    """Train ``len(seeds)`` trials of ``model`` batched for ``rollouts`` rollouts each; wall time and phases.

    IMARL runs one agent-iteration of that many rollouts (its first agent, fresh start).
    """
    from baselines import imarl, mappo

    episodes = rollouts * num_envs * num_steps // 128
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(num_envs=num_envs, num_steps=num_steps, eval_every=eval_every, out=tmp, results=None,
                      progress=False, tensorboard=False, device=device, resume=False)
        if model == "imarl":
            args = [imarl.Args(scenario, seed=s, episodes_per_iteration=episodes, max_agent_iterations=1, **common)
                    for s in seeds]
        else:
            args = [mappo.Args(scenario, model=model, seed=s, episodes=episodes, **common) for s in seeds]
        trainer = imarl if model == "imarl" else mappo
        with phase_timers([trainer], device) as spent:
            t, c = time.perf_counter(), time.process_time()
            recs = trainer.run_trials(args)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
    env_steps = sum(r["result"]["env_steps"] for r in recs)
    phases = dict(spent)
    phases["other"] = max(wall - sum(spent.values()), 0.0)
    return {"model": model, "scenario": scenario, "trials": len(seeds), "wall_s": wall, "cpu_s": cpu, "env_steps": env_steps,
            "steps_per_s": env_steps / wall, "phases": phases, "best": [r["result"]["best_cost"] for r in recs]}


def phase_text(phases: dict[str, float]) -> str:
    """``rollout 41% / update 35% / eval 12% / other 12%``."""
    total = sum(phases.values()) or 1.0
    return " / ".join(f"{k} {100 * v / total:.0f}%" for k, v in phases.items())
