"""Benchmark your algorithm: train a policy with a third-party library, then put it on the grid.

    python docs/examples/benchmark_sb3.py              # trains PPO (Stable-Baselines3) on MEIO-A1-v0
    meio benchmark docs/examples/benchmark_sb3.py:make_policy --scenarios A1 --name sb3-ppo-example \
        --episodes 160 --results runs/benchmark/results.jsonl
    meio grid report --results benchmarks/results/results.jsonl runs/benchmark/results.jsonl --out runs/report

The training here is deliberately tiny (20,480 steps, about half a minute): it shows the path, not
a good policy. ``make_policy`` also shows the per-agent form: a dict of one policy per stock point.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

import meio_envs  # noqa: F401 - registers MEIO-<id>-v0

MODEL = Path("runs/example/ppo_A1.zip")


def train(steps: int = 20_480) -> None:
    """Train SB3 PPO on the registered Gymnasium env and save it."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("MEIO-A1-v0", n_envs=4, seed=0)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, learning_rate=3e-4, seed=0, verbose=0)
    model.learn(steps)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    model.save(MODEL)
    print(f"saved {MODEL}")


def make_policy(scenario: str):  # noqa: ANN201 - any of the policy kinds meio benchmark accepts
    """The policy for ``scenario``: the trained SB3 model on A1, else a naive rule per stock point."""
    if scenario == "A1" and MODEL.exists():
        from stable_baselines3 import PPO

        return PPO.load(MODEL, device="cpu")  # your own file: loading it is your decision
    env = gym.make(f"MEIO-{scenario}-v0")
    names = env.unwrapped.core.params.network.names

    def order_up_to(obs: np.ndarray, info: dict) -> np.ndarray:
        # more the further the scaled inventory position is below 0.5; nothing above it
        return np.clip(2.0 * (0.5 - obs[:, 0]) - 1.0, -1.0, 1.0)

    return {name: order_up_to for name in names}


if __name__ == "__main__":
    train()
