"""SB3 PPO ``learn()`` env-steps/s on a scenario: the package's batched SB3 VecEnv vs a DummyVecEnv of MEIOEnv.

Same hyperparameters (SARL, the report's Appendix B), same process, alternating A/B repeats so
machine drift hits both (PERF-NOTES: quote ratios). Also times the bare env step (random actions,
no learning) to show where the time goes.

    python benchmarks/sarl_throughput.py --scenario A1 --steps 20480 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from baselines.sarl import Args, make_model  # noqa: E402
from meio_envs.adapters.sb3 import MEIOSB3VecEnv  # noqa: E402
from meio_envs.envs.single import MEIOEnv  # noqa: E402


def make_venv(kind: str, scenario: str, n_envs: int):  # noqa: ANN201
    """``batched``: MEIOSB3VecEnv; ``dummy``: DummyVecEnv of n_envs MEIOEnv."""
    if kind == "batched":
        return MEIOSB3VecEnv(scenario, n_envs)
    return DummyVecEnv([lambda: MEIOEnv(scenario) for _ in range(n_envs)])


def time_learn(kind: str, scenario: str, steps: int, model: str) -> float:
    """Env steps/s of PPO.learn(steps)."""
    args = Args(scenario=scenario, model=model, progress=False)
    venv = make_venv(kind, scenario, args.n_envs)
    m = make_model(args, venv, "cpu")
    t = time.perf_counter()
    m.learn(steps)
    return m.num_timesteps / (time.perf_counter() - t)


def time_env(kind: str, scenario: str, steps: int, n_envs: int = 4) -> float:
    """Env steps/s of bare stepping with random actions."""
    venv = make_venv(kind, scenario, n_envs)
    venv.seed(0)
    venv.reset()
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (steps // n_envs, n_envs, venv.action_space.shape[0])).astype(np.float32)
    t = time.perf_counter()
    for a in acts:
        venv.step(a)
    return steps / (time.perf_counter() - t)


def main() -> None:
    """Print a side-by-side table with ratios (medians over repeats)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="A1")
    ap.add_argument("--steps", type=int, default=20480)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default="sarl", choices=["sarl", "sarl-gnn"])
    a = ap.parse_args()
    torch.set_num_threads(1)
    res: dict[tuple[str, str], list[float]] = {}
    for _ in range(a.repeats):
        for kind in ("batched", "dummy"):
            res.setdefault(("env", kind), []).append(time_env(kind, a.scenario, 40_000))
            res.setdefault(("learn", kind), []).append(time_learn(kind, a.scenario, a.steps, a.model))
    print(f"scenario {a.scenario}, model {a.model}, n_envs 4, learn {a.steps} steps, {a.repeats} repeats "
          "(median env steps/s)")
    print("| what | batched SB3 VecEnv | DummyVecEnv(4 x MEIOEnv) | ratio |")
    print("|---|---|---|---|")
    for what, label in (("env", "env.step only, random actions"), ("learn", "PPO.learn (SARL hyperparameters)")):
        b, d = statistics.median(res[(what, "batched")]), statistics.median(res[(what, "dummy")])
        print(f"| {label} | {b:,.0f} | {d:,.0f} | {b / d:.2f}x |")


if __name__ == "__main__":
    main()
