"""The heuristics and the simulator checked against each other (issue: benchmark heuristics)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import meio_envs  # noqa: F401
from heuristics import da, solve_serial_network
from meio_envs.base_stock_search import search_base_stock, simulated_costs
from meio_envs.core.params import SimParams
from meio_envs.envs.batch import BatchedMEIO, resolve_params
from meio_envs.heuristic_levels import da_levels
from meio_envs.network import NetworkSpec
from tests.conftest import sp


def long_run_cost(params: SimParams, levels: np.ndarray, copies=400, periods=700, burn=100, seed=1):
    b = BatchedMEIO(params=params, num_envs=copies, episode_length=periods)
    b.reset(seed)
    tot = np.zeros(copies)
    for t in range(periods):
        c = b.step_orders(np.clip(levels - b.inventory_position(), 0, params.max_order))
        if t >= burn:
            tot += c.total
    per = tot / (periods - burn)
    return per.mean(), per.std(ddof=1) / np.sqrt(copies)


@pytest.mark.parametrize("sid", ["S1", "L1"])
def test_clark_scarf_cost_matches_simulation_and_is_locally_optimal(sid):
    params, _ = resolve_params(sid)
    exact = solve_serial_network(params.network.to_plain(), method="clark_scarf")
    levels = np.asarray(exact.local)
    mean, se = long_run_cost(params, levels)
    # analytic cost minus the in-transit holding our simulator does not charge (heuristics-spec 8.2)
    assert abs(mean - exact.cost_simulator) < 4 * se, (mean, se, exact.cost_simulator)
    neighbours = [levels]
    for i in range(levels.size):
        for d in (-1, 1):
            n = levels.copy()
            n[i] += d
            neighbours.append(n)
    means, ses = simulated_costs(params, np.stack(neighbours), episodes=600, periods=150, warmup=50)
    # ses[1:] are paired standard errors of the difference to the exact levels
    assert np.all(means[1:] > means[0] - 3 * ses[1:]), (means, ses)


def test_wrong_protection_convention_costs_more_in_simulation():
    params, _ = resolve_params("A1")
    plain = params.network.to_plain()
    right = da(plain).local
    wrong = da(plain, convention="stockpyl").local
    means, _ = simulated_costs(params, np.stack([right, wrong]), episodes=200)
    assert means[1] > 1.5 * means[0]


def t5_network():
    return NetworkSpec.from_dict({"stock_points": [
        sp("W1", ["external"], holding=0.6, max_order=150, ip_bounds=[-300, 150]),
        *[sp(f"R{i}", ["W1"], holding=1.0, backorder=19.0, max_order=50, ip_bounds=[-100, 50],
             demand={"type": "poisson", "mu": mu}) for i, mu in ((1, 5), (2, 10), (3, 15))],
    ]})


def g1_network():
    return NetworkSpec.from_dict({"stock_points": [
        sp("W1", ["external"], holding=0.6, max_order=150, ip_bounds=[-300, 150]),
        sp("W2", ["external"], holding=0.6, max_order=150, ip_bounds=[-300, 150]),
        sp("R1", ["W1"], holding=1.0, backorder=19.0, max_order=50, demand={"type": "poisson", "mu": 5}),
        sp("R2", ["W1", "W2"], holding=1.0, backorder=19.0, max_order=50, demand={"type": "poisson", "mu": 10}),
        sp("R3", ["W2"], holding=1.0, backorder=19.0, max_order=50, demand={"type": "poisson", "mu": 15}),
    ]})


@pytest.mark.parametrize(("make", "expected"), [(t5_network, [28, 17, 30, 42]), (g1_network, [15, 25, 10, 17, 23])])
def test_da_levels_on_spec_networks_and_search_never_worse(make, expected):
    net = make()
    levels = da_levels(net)
    # heuristics-spec T5 V3 is our period; T7 G1 is tabulated with protection 1 on every edge,
    # i.e. the stockpyl convention
    conv = "meio" if make is t5_network else "stockpyl"
    assert da(net.to_plain(), convention=conv).local.tolist() == expected
    params = SimParams.from_network(net)
    found = search_base_stock(params, levels, episodes=150, max_rounds=12)
    means, ses = simulated_costs(params, np.stack([levels, found.result.best_levels]), episodes=150)
    assert means[1] <= means[0]
    # the gap is a finding, reported in docs/heuristics.md; here only its sign is a contract


def test_t5_simulated_cost_matches_reference_simulation():
    """heuristics-spec T9: DA-V3 levels on the T5 network simulate 34.096 +- 0.059 per period."""
    params = SimParams.from_network(t5_network())
    mean, se = long_run_cost(params, np.array([28, 17, 30, 42]))
    assert abs(mean - 34.096) < 3 * np.hypot(se, 0.059)


def test_env_initial_state_and_bounds_use_da_levels():
    env = gym.make("MEIO-B1-v0").unwrapped
    _, info = env.reset(seed=0)
    levels = da_levels(env.params.network)
    np.testing.assert_array_equal(info["on_hand"], levels)
    np.testing.assert_array_equal(env.params.ip_high, levels + np.where(env.params.network.echelons == 1, 50, 150))


def test_base_stock_override_in_network_wins():
    env = gym.make("MEIO-A1-v0", base_stock=[5, 6, 7, 8]).unwrapped
    _, info = env.reset(seed=0)
    assert info["on_hand"].tolist() == [5, 6, 7, 8]


def test_echelon_positions_and_policy():
    from meio_envs.base_stock_search import echelon_matrix
    from meio_envs.evaluation import echelon_base_stock_policy
    from meio_envs.scaling import action_to_orders

    params, _ = resolve_params("C1")
    m = echelon_matrix(params)
    names = params.network.names
    ip = np.arange(13)[None, :]
    ech = (ip @ m)[0]
    # F1 sees everything; W1 sees itself and R1..R3; retailers only themselves
    assert ech[names.index("F1")] == ip.sum()
    w1 = names.index("W1")
    assert ech[w1] == ip[0, w1] + sum(ip[0, names.index(f"R{i}")] for i in (1, 2, 3))
    assert ech[names.index("R5")] == ip[0, names.index("R5")]
    levels = np.full(13, 100)
    pol = echelon_base_stock_policy(levels, params)
    q = action_to_orders(pol(None, {"inventory_position": ip}), params.max_order)
    np.testing.assert_array_equal(q[0], np.clip(levels - ech, 0, params.max_order))


def test_echelon_search_never_worse_than_its_start():
    from meio_envs.base_stock_search import echelon_matrix

    params, _ = resolve_params("A1")
    start = da_levels(params.network) @ echelon_matrix(params)
    found = search_base_stock(params, start, episodes=100, max_rounds=8, kind="echelon")
    means, _ = simulated_costs(params, np.stack([start, found.result.best_levels]), episodes=100, kind="echelon")
    assert means[1] <= means[0]
