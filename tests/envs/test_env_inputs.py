"""Bad arguments to the envs fail at construction with the package's error (issue 15).

"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from meio_envs import MEIOInputError
from meio_envs.core.params import CostVariation
from meio_envs.distributions import Fixed
from tests.conftest import sp

NET = {"stock_points": [sp("W1", ["external"]), sp("R1", ["W1"], backorder=1.0, demand=2)]}


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [
        ({"cost_variation": "foo"}, "cost_variation must be a CostVariation, None or 'auto', got 'foo'"),
        ({"cost_variation": CostVariation(holding=(0, 2))}, None),
        ({"demand_profiles": [Fixed(1)] * 4}, "demand_profiles: scenario level 1"),
        ({"lead_time_profiles": [Fixed(1)] * 4}, "lead_time_profiles: scenario level 1"),
        ({"base_stock": [1.5, 2, 3, 4]}, "got 1.5 at index 0"),
        ({"base_stock": [1, 2, 3]}, "must be 4 integers"),
        ({"network": {"stock_points": [{**NET["stock_points"][0], "max_order": True}]}}, "got True (bool)"),
        ({"network": {"stock_points": [{**NET["stock_points"][0], "max_order": "50"}]}}, "got '50' (str)"),
        ({"network": {"stock_points": [{**NET["stock_points"][1], "suppliers": 5}]}}, "suppliers must be a list"),
        ({"network": "/dev/zero"}, "network files must end in .yaml, .yml or .json"),
    ],
)
def test_bad_env_arguments_fail_at_construction(kwargs, expect):
    if expect is None:
        gym.make("MEIO-A1-v0", **kwargs).reset(seed=0)
        return
    with pytest.raises(MEIOInputError) as info:
        gym.make("MEIO-A1-v0", **kwargs)
    assert expect in str(info.value)


def test_dev_zero_behind_a_yaml_name(tmp_path):
    (tmp_path / "n.yaml").symlink_to("/dev/zero")
    with pytest.raises(MEIOInputError, match="not a regular file"):
        gym.make("MEIO-A1-v0", network=str(tmp_path / "n.yaml"))


def test_cost_variation_foo_never_reaches_the_dynamics():
    with pytest.raises(MEIOInputError):
        gym.make_vec("MEIO-A5-v0", num_envs=2, cost_variation="foo")


@pytest.mark.parametrize("value", [1.5, True, "50", 0, 10**9])
def test_episode_length_is_an_exact_bounded_int(value):
    with pytest.raises(MEIOInputError, match="episode_length"):
        gym.make("MEIO-A1-v0", episode_length=value)


@pytest.mark.parametrize("seed", [2**64, -1])
def test_reset_seed_out_of_range_is_a_clear_error(seed):
    env = gym.make("MEIO-A1-v0")
    with pytest.raises(MEIOInputError, match="seed"):
        env.reset(seed=seed)


def test_base_stock_list_of_bools_is_rejected():
    with pytest.raises(MEIOInputError, match="base_stock"):
        gym.make("MEIO-A1-v0", base_stock=[True, 1, 2, 3])


def test_profiles_next_to_a_user_network_are_rejected():
    with pytest.raises(MEIOInputError, match="demand_profiles"):
        gym.make("MEIO-A1-v0", network=NET, demand_profiles=[Fixed(1)] * 2)


def test_actions_after_bad_construction_attempts_still_work():
    env = gym.make("MEIO-A1-v0")
    env.reset(seed=0)
    _, r, _, _, info = env.step(np.zeros(4, np.float32))
    assert np.isfinite(r) and info["cost"] >= 0


@pytest.mark.parametrize("bad", [1.7, np.nan, np.inf, -np.inf])
def test_step_orders_rejects_fractions_and_non_finite_orders(bad):
    from meio_envs.envs.batch import BatchedMEIO

    core = BatchedMEIO("A1", num_envs=2)
    core.reset(0)
    before = core.state.on_hand.copy(), core.state.period.copy()
    q = np.full((2, 4), 3.0)
    q[1, 2] = bad
    with pytest.raises(MEIOInputError, match="whole numbers"):
        core.step_orders(q)
    assert np.array_equal(core.state.on_hand, before[0]) and np.array_equal(core.state.period, before[1])
    with pytest.raises(MEIOInputError, match="shape"):
        core.step_orders(np.zeros((2, 3), np.int64))
    core.step_orders(np.full((2, 4), 1e300))  # a huge whole number is clipped to max_order, as documented
    assert core.state.period.tolist() == [1, 1]
