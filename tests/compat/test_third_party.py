"""The envs run through the third-party tools RL researchers use (issue 14 part 1).

Optional tools are skipped when they are not installed (``pip install meio-envs[compat]``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import meio_envs
from meio_envs import meio_v0, parallel_env
from meio_envs.envs.chapter import ChapterEnv


@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
@pytest.mark.parametrize("env_id", ["MEIO-A1-v0", "MEIO-D5-v0", "MEIO-Chapter2L-v0"])
def test_gymnasium_check_env(env_id: str, render_mode: str | None) -> None:
    # Not skipping the render check: Gymnasium's checker renders in the given mode.
    gym_check_env(gym.make(env_id, render_mode=render_mode).unwrapped)


def test_sb3_check_env() -> None:
    sb3_env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3_env_checker.check_env(meio_envs.MEIOEnv("B4"), warn=True)
    sb3_env_checker.check_env(ChapterEnv("continuous"), warn=True)


@pytest.mark.parametrize("view", ["marl", "imarl"])
def test_pettingzoo_parallel_api_and_seed_tests(view: str) -> None:
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    parallel_api_test(parallel_env("B4", view=view, max_cycles=4), num_cycles=6)
    parallel_seed_test(lambda: parallel_env("B4", view=view))


def test_pettingzoo_aec_api_test() -> None:
    from pettingzoo.test import api_test

    api_test(meio_v0.env("A1", max_cycles=4), num_cycles=6)


def test_pettingzoo_render_test() -> None:
    from pettingzoo.test import render_test

    def make(render_mode: str | None = None) -> object:
        # render_test first builds a "human" env only to read metadata["render_modes"]; we have no
        # human mode (Gymnasium's HumanRendering wrapper can show rgb_array frames), so that probe
        # gets an env without rendering. Every declared mode is then tested for real.
        return meio_v0.env("A1", render_mode=None if render_mode == "human" else render_mode)

    render_test(make)


def test_pettingzoo_max_cycles_test() -> None:
    from pettingzoo.test import max_cycles_test

    max_cycles_test(meio_v0)


def test_supersuit_vec_env() -> None:
    ss = pytest.importorskip("supersuit")
    venv = ss.pettingzoo_env_to_vec_env_v1(parallel_env("A1", view="marl"))
    venv = ss.concat_vec_envs_v1(venv, 2, num_cpus=0, base_class="gymnasium")
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, 1)  # 2 copies x 4 agents, one scaled IP each
    for _ in range(3):
        obs, rewards, terms, truncs, _ = venv.step(np.zeros((8, 1), np.float32))
    assert obs.shape == (8, 1) and rewards.shape == (8,) and not terms.any() and not truncs.any()
    assert np.all(rewards <= 0)


def test_torchrl_wrappers() -> None:
    pytest.importorskip("torchrl")
    from torchrl.envs import GymWrapper
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper
    from torchrl.envs.utils import check_env_specs

    env = GymWrapper(gym.make("MEIO-A1-v0"))
    check_env_specs(env)
    assert env.rollout(4)["next", "reward"].shape == (4, 1)
    ma = PettingZooWrapper(parallel_env("A1"), use_mask=False)
    check_env_specs(ma)
