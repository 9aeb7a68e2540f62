"""The base-stock benchmark acts the same in the single env, the vector env and the evaluator."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import meio_envs  # noqa: F401
from meio_envs.envs.batch import resolve_params
from meio_envs.evaluation import base_stock_policy, da_policy, evaluate
from meio_envs.heuristic_levels import da_levels


def test_policy_in_single_vector_and_evaluate_agree():
    params, _ = resolve_params("B3")
    pol = base_stock_policy(da_levels(params.network), params.max_order)
    n, seed, periods, warmup = 3, 50, 30, 10
    res = evaluate(pol, params, episodes=n, periods=periods, warmup=warmup, seed=seed)
    venv = gym.make_vec("MEIO-B3-v0", num_envs=n)
    obs, info = venv.reset(seed=seed)
    vec_scores = np.zeros(n)
    for t in range(periods):
        obs, _, _, _, info = venv.step(pol(obs, info))
        if t >= warmup:
            vec_scores += info["cost"]
    np.testing.assert_allclose(vec_scores, res.episode_costs)
    env = gym.make("MEIO-B3-v0")
    obs, info = env.reset(seed=seed + 2)
    single = 0.0
    for t in range(periods):
        obs, _, _, _, info = env.step(pol(obs, info))
        single += info["cost"] if t >= warmup else 0.0
    assert single == res.episode_costs[2]


def test_base_stock_orders_bring_ip_to_level():
    params, _ = resolve_params("A1")
    levels = np.array([40, 30, 30, 30])
    pol = base_stock_policy(levels, params.max_order)
    env = gym.make("MEIO-A1-v0").unwrapped
    obs, info = env.reset(seed=1)
    for _ in range(20):
        ip_before = info["inventory_position"].copy()
        obs, _, _, _, info = env.step(pol(obs, info))
        q = np.clip(levels - ip_before, 0, params.max_order)
        # own order raises the IP by q; downstream orders and demand lower it
        assert np.all(info["inventory_position"] <= ip_before + q)


def test_level5_da_policy_recomputes_levels_per_cost_draw():
    params, _ = resolve_params("A5")
    pol = da_policy(params)
    from meio_envs.envs.batch import BatchedMEIO

    b = BatchedMEIO(params=params, num_envs=2)
    b.reset(3)
    b.state.cost_factors[:] = [[0.5, 1.5], [1.5, 0.5]]
    info = b.info(None, b.inventory_position())
    ip = np.tile([50, 75, 75, 75], (2, 1))
    info["inventory_position"] = ip
    a = pol(b.observe(), info)
    from meio_envs.scaling import action_to_orders

    q = action_to_orders(a, params.max_order)
    # cheap holding + dear backorders -> higher retailer levels than the reverse
    assert np.all(q[0, 1:] > q[1, 1:])
    np.testing.assert_array_equal(q[0], np.clip(da_levels(params.network, 0.5, 1.5) - ip[0], 0, params.max_order))
