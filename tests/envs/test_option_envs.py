"""The option example ids (issue 16) under the Gymnasium and PettingZoo checkers, seeded and evaluated."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import meio_envs
from meio_envs.envs.batch import INFO_KEYS
from meio_envs.evaluation import da_policy, evaluate
from meio_envs.registration import EXAMPLE_ENV_IDS

EXAMPLES = ("A1-LostSales", "B4-Seasonal", "D1-Disrupted")


def test_example_ids_are_registered():
    assert EXAMPLE_ENV_IDS == tuple(f"MEIO-{s}-v0" for s in EXAMPLES)
    assert all(i in gym.registry for i in EXAMPLE_ENV_IDS)
    assert len(meio_envs.ENV_IDS) == 30  # the grid is unchanged


@pytest.mark.parametrize("env_id", EXAMPLE_ENV_IDS)
def test_gymnasium_check_env(env_id):
    check_env(gym.make(env_id).unwrapped)


def test_gymnasium_check_env_with_phase():
    env = gym.make("MEIO-B4-Seasonal-v0", observe_phase=True)
    assert env.observation_space.shape == (11,)
    check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", EXAMPLE_ENV_IDS)
def test_vector_env_and_info_keys(env_id):
    envs = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    _, info0 = envs.reset(seed=0)
    out = envs.step(envs.action_space.sample())
    keys = {k for k in out[4] if not k.startswith("_")}
    assert keys == {k for k in info0 if not k.startswith("_")} == set(INFO_KEYS)
    assert out[4]["lost_units"].dtype == np.int64


@pytest.mark.parametrize("sid", EXAMPLES)
@pytest.mark.parametrize("view", ["marl", "imarl"])
def test_pettingzoo_parallel_api(sid, view):
    parallel_api_test(meio_envs.parallel_env(sid, view=view, episode_length=3), num_cycles=5)


@pytest.mark.parametrize("sid", EXAMPLES)
def test_pettingzoo_seed(sid):
    parallel_seed_test(lambda: meio_envs.parallel_env(sid), num_cycles=3)


@pytest.mark.parametrize("env_id", EXAMPLE_ENV_IDS)
def test_determinism_under_seed(env_id):
    def roll(seed):
        env = gym.make(env_id)
        rng = np.random.default_rng(1)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for _ in range(60):
            o, r, _, _, info = env.step(rng.uniform(-1, 0, env.action_space.shape).astype(np.float32))
            out += [o, np.float64(r), info["lost_units"]]
        return out

    a, b, c = roll(3), roll(3), roll(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_single_env_equals_vector_copy():
    env = gym.make("MEIO-D1-Disrupted-v0")
    venv = meio_envs.MEIOVectorEnv("D1-Disrupted", 2)
    obs1, _ = env.reset(seed=7)
    obsv, _ = venv.reset(seed=6)  # copy 1 is seeded 7
    np.testing.assert_array_equal(obs1, obsv[1])
    rng = np.random.default_rng(0)
    for _ in range(40):
        a = rng.uniform(-1, 1, (2, 18)).astype(np.float32)
        o1, r1, *_ = env.step(a[1])
        ov, rv, *_ = venv.step(a)
        np.testing.assert_array_equal(o1, ov[1])
        assert r1 == rv[1]


def test_evaluation_counts_lost_sales():
    res = evaluate(da_policy(meio_envs.BatchedMEIO("A1-LostSales").params), "A1-LostSales", episodes=8)
    assert "lost_sales" in res.breakdown
    assert res.mean == pytest.approx(sum(res.breakdown.values()))


def test_multi_agent_rewards_charge_the_lost_sales_penalty():
    from meio_envs.envs.batched_ma import BatchedMultiAgent

    ma = BatchedMultiAgent("A1-LostSales", view="marl", num_envs=4)
    ma.reset(seed=0)
    lost_seen = 0.0
    for _ in range(30):  # no orders: the retailers run dry and lose sales
        _, rewards, _, info = ma.step(-np.ones((4, ma.num_agents), np.float32))
        lost_seen += info["lost_sales_cost"].sum()
        parts = info["holding_cost"] + info["backorder_cost"] + info["ordering_cost"] + info["lost_sales_cost"]
        np.testing.assert_allclose(info["cost"], parts, rtol=1e-12)
        np.testing.assert_allclose(-rewards.sum(axis=1) / ma.core.reward_scale,
                                   info["node_costs"][:, 1:].sum(axis=1) + info["cost"], rtol=1e-12)  # W1: the network
    assert lost_seen > 0
    assert info["node_costs"].sum() == pytest.approx(info["cost"].sum())
