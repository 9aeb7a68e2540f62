"""The compiled period equals the frozen NumPy one of before the speed work (tests/core/oracle_dynamics.py).

Random networks of every kind (serial, divergent with large fans, general with several
suppliers), random PMFs (point masses and spreads), ordering costs, level-5 cost factors, copies
at different periods, several batch sizes: the state, the costs and the inventory positions must
be identical after every period.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from meio_envs import NetworkSpec
from meio_envs.core import dynamics
from meio_envs.core.params import SimParams
from tests.core import oracle_dynamics as oracle
from tests.core.net_strategies import random_network

FIELDS = ("period", "on_hand", "pipeline", "in_transit", "edge_backorder", "edge_new", "market_backorder",
          "market_new", "external_in", "delivered", "demand_total", "open_qty", "open_placed")


def _assert_same_state(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def _compare(params: SimParams, B: int, seed: int, periods: int, *, track: bool = False) -> None:
    rng = np.random.default_rng(seed)
    state = dynamics.new_state(params, seed + np.arange(B), track_open_orders=track)
    state.cost_factors[:] = rng.uniform(0.5, 1.5, size=(B, 2))
    ref = copy.deepcopy(state)
    for t in range(periods):
        if t == periods // 2 and B > 1:  # copies at different periods from here on
            m = rng.random(B) < 0.5
            dynamics.reset_copies(params, state, m)
            dynamics.reset_copies(params, ref, m)
        q = rng.integers(0, params.max_order + 1, size=(B, params.num_nodes))
        if t % 2:
            c_new, ip_new = dynamics.advance(params, state, q)
            np.testing.assert_array_equal(ip_new, dynamics.inventory_position(params, state))
        else:
            c_new = dynamics.step(params, state, q)
        c_ref = oracle.step(params, ref, q)
        _assert_same_state(state, ref)
        np.testing.assert_array_equal(dynamics.inventory_position(params, state), oracle.inventory_position(params, ref))
        for part in ("holding", "backorder", "ordering", "per_node", "total"):
            np.testing.assert_array_equal(getattr(c_new, part), getattr(c_ref, part), err_msg=part)
        sums = c_new.sums()
        for i, part in enumerate(("holding", "backorder", "ordering")):
            np.testing.assert_array_equal(sums[i], getattr(c_ref, part).sum(axis=1))
        np.testing.assert_array_equal(sums[3], c_ref.total)


CASES = [(kind, size, seed) for kind in ("serial", "divergent", "general") for size, seed in
         ((2, 1), (5, 2), (9, 3), (18, 4), (40, 5), (120, 6))]


@pytest.mark.parametrize(("kind", "size", "seed"), CASES, ids=[f"{k}-{s}" for k, s, _ in CASES])
@pytest.mark.parametrize("B", [1, 3, 64])
def test_fast_period_equals_oracle_on_random_networks(kind, size, seed, B):
    rng = np.random.default_rng(1000 * seed + size)
    net = NetworkSpec.from_dict(random_network(rng, kind, size, with_base_stock=True))
    params = SimParams.from_network(net)
    _compare(params, B, seed, periods=16, track=(seed % 2 == 0))


def test_large_fans_equal_oracle():
    # A warehouse with many customers: long service queues, ties in inventory position.
    big = {"name": "fan", "stock_points": [
        {"name": "F", "suppliers": ["external"], "holding": 0.2, "max_order": 500, "ip_bounds": [-900, 900],
         "lead_time": {"type": "uniform_int", "low": 1, "high": 3}, "base_stock": 40},
        *[{"name": f"R{i}", "suppliers": ["F"], "holding": 1.0, "backorder": 9.0, "max_order": 40,
           "ip_bounds": [-90, 90], "lead_time": 1, "demand": {"type": "poisson", "mu": 6.0}, "base_stock": 8}
          for i in range(11)],
    ]}
    params = SimParams.from_network(NetworkSpec.from_dict(big))
    for B in (1, 5, 70):
        _compare(params, B, 11, periods=20)


@pytest.mark.parametrize("sid", ["A1", "B4", "C3", "D1", "D5"])
def test_grid_scenarios_equal_oracle(sid):
    from meio_envs.envs.batch import resolve_params

    params, _ = resolve_params(sid)
    for B in (1, 50):
        _compare(params, B, 3, periods=40)


def test_non_contiguous_state_and_orders_are_accepted():
    """A caller may put views into the state or pass strided orders: same periods as the oracle."""
    from meio_envs.envs.batch import resolve_params

    params, _ = resolve_params("B4")
    B, P = 4, params.num_nodes
    st = dynamics.new_state(params, np.arange(B))
    ref = copy.deepcopy(st)
    st.on_hand = np.asfortranarray(st.on_hand)
    st.market_backorder = np.zeros((B, 2 * st.market_backorder.shape[1]), np.int64)[:, ::2]
    rng = np.random.default_rng(0)
    for _ in range(10):
        q = np.asfortranarray(rng.integers(0, params.max_order + 1, size=(B, P)))  # not C-contiguous
        c = dynamics.step(params, st, q)
        c_ref = oracle.step(params, ref, np.ascontiguousarray(q))
        _assert_same_state(st, ref)
        np.testing.assert_array_equal(c.total, c_ref.total)


def test_orders_of_the_wrong_shape_are_refused_before_the_kernel():
    from meio_envs.envs.batch import resolve_params

    params, _ = resolve_params("A1")
    st = dynamics.new_state(params, np.arange(2))
    before = copy.deepcopy(st)
    for bad in (np.zeros((2, 3), np.int64), np.zeros((1, 4), np.int64), np.zeros(8, np.int64)):
        with pytest.raises(ValueError, match="orders must have shape"):
            dynamics.step(params, st, bad)
    _assert_same_state(st, before)


def test_a_state_that_does_not_fit_the_network_is_refused():
    """The kernel does not check bounds: every entry point refuses a state of the wrong shape first."""
    from meio_envs.envs.batch import resolve_params

    a1, _ = resolve_params("A1")
    b4, _ = resolve_params("B4")
    st = dynamics.new_state(b4, np.arange(3))  # 9 stock points, A1 has 4
    with pytest.raises(ValueError, match="state.on_hand does not fit"):
        dynamics.step(a1, st, np.zeros((3, 9), np.int64))  # orders that fit the state, not the network
    with pytest.raises(ValueError, match="do not fit this network"):
        dynamics.inventory_position(a1, st)
    ok = dynamics.new_state(a1, np.arange(3))
    for name, bad in (("pipeline", np.zeros((3, 4, 1), np.int64)), ("market_new", np.zeros((3, 1), np.int64)),
                      ("streams", np.zeros(2, np.uint64))):
        broken = copy.deepcopy(ok)
        setattr(broken, name, bad)
        before = copy.deepcopy(broken)
        with pytest.raises(ValueError, match=f"state.{name} does not fit"):
            dynamics.step(a1, broken, np.zeros((3, 4), np.int64))
        _assert_same_state(broken, before)
        with pytest.raises(ValueError, match=f"state.{name} must be"):
            dynamics.check_state(a1, broken)
    ok.on_hand = ok.on_hand.astype(np.float64)
    with pytest.raises(ValueError, match="state.on_hand must be a int64"):
        dynamics.check_state(a1, ok)
    assert dynamics.check_state(a1, dynamics.new_state(a1, np.arange(2), track_open_orders=True)) is not None
