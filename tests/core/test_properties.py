"""Property tests (Hypothesis): random valid networks keep every invariant of the simulator.

Networks are serial, divergent or general, with random demand and lead-time PMFs and up to 300
stock points; actions are random. Checked every period: conservation of units, non-negative
stock, the cost formula (tests/core/test_dynamics.py::assert_invariants); per network:
determinism under the seed, and that copy i of the vector env is the single env seeded s + i.
Run with ``--hypothesis-show-statistics`` to see how many cases each property ran, by class.
"""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402

from meio_envs import MEIOEnv, MEIOVectorEnv, NetworkSpec  # noqa: E402
from meio_envs.envs.batch import BatchedMEIO  # noqa: E402
from tests.core.net_strategies import network_cases  # noqa: E402
from tests.core.test_dynamics import assert_invariants  # noqa: E402

PROPERTY = settings(
    max_examples=80, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _size_class(n: int) -> str:
    return "1-12 stock points" if n <= 12 else ("13-100 stock points" if n <= 100 else "101-300 stock points")


def _run(net: NetworkSpec, seed: int, periods: int, num_envs: int = 3) -> list[np.ndarray]:
    """Step a batch with random orders (some above max_order, which clips); check every period."""
    b = BatchedMEIO(network=net, num_envs=num_envs)
    b.reset(seed)
    rng = np.random.default_rng(seed)
    p = b.params
    trace = []
    for _ in range(periods):
        q = rng.integers(0, 2 * p.max_order + 1, size=(num_envs, p.num_nodes))
        c = b.step_orders(q)
        assert_invariants(p, b.state, c, np.minimum(q, p.max_order))
        trace.append(np.concatenate([b.state.on_hand.ravel(), b.inventory_position().ravel(), c.total]))
    return trace


@pytest.mark.timeout(300)
@PROPERTY
@given(case=network_cases())
def test_random_networks_keep_invariants_and_are_deterministic(case):
    data, seed, kind = case
    net = NetworkSpec.from_dict(data)
    event(f"kind: {kind}")
    event(f"size: {_size_class(net.num_nodes)}")
    event("base stock: " + ("DA" if any(sp.base_stock is None for sp in net.stock_points) else "given"))
    periods = 30 if net.num_nodes <= 100 else 12
    first = _run(net, seed, periods)
    again = _run(NetworkSpec.from_dict(data), seed, periods)  # rebuilt from the same data
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.timeout(300)
@settings(PROPERTY, max_examples=40)
@given(case=network_cases(max_size=60))
def test_vector_copy_equals_single_env(case):
    data, seed, kind = case
    net = NetworkSpec.from_dict(data)
    event(f"kind: {kind}")
    event(f"size: {_size_class(net.num_nodes)}")
    n, T = 3, 12
    vec = MEIOVectorEnv(network=net, num_envs=n, episode_length=T)
    singles = [MEIOEnv(network=net, episode_length=T) for _ in range(n)]
    vobs, _ = vec.reset(seed=seed)
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs, vobs[i])
    rng = np.random.default_rng(seed)
    for _ in range(T):
        a = rng.uniform(-1.5, 1.5, size=(n, net.num_nodes)).astype(np.float32)  # out of range clips
        vobs, vrew, _, vtrunc, vinfo = vec.step(a)
        for i, env in enumerate(singles):
            obs, rew, _, trunc, info = env.step(a[i])
            np.testing.assert_array_equal(obs, vobs[i])
            assert rew == vrew[i] and trunc == vtrunc[i]
            np.testing.assert_array_equal(info["inventory_position"], vinfo["inventory_position"][i])
            assert np.all(np.isfinite(obs)) and np.all(np.abs(obs) <= 1)
