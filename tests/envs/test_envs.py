"""Gymnasium contract, determinism and input checking for the single and vector envs."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import meio_envs
from meio_envs import ENV_IDS, MEIOVectorEnv, NetworkError
from tests.conftest import sp


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_env_checker_passes(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    obs, r, term, trunc, info = env.step(env.action_space.sample())
    assert not term and isinstance(r, float)
    assert info["cost"] == pytest.approx(info["holding_cost"] + info["backorder_cost"] + info["ordering_cost"])
    assert r == pytest.approx(-info["cost"] / 1000)


def test_make_without_import_via_module_prefix():
    code = "import gymnasium as gym; e = gym.make('meio_envs:MEIO-B4-v0'); print(e.reset(seed=0)[0].shape)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(9,)"


def test_episode_truncates_never_terminates():
    env = gym.make("MEIO-A1-v0", episode_length=5)
    env.reset(seed=1)
    flags = [env.step(np.zeros(4, np.float32))[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]


def rollout(env, seed, steps=40):
    env.reset(seed=seed)
    rng = np.random.default_rng(123)
    return [env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))[4]["cost"] for _ in range(steps)]


@pytest.mark.parametrize("sid", ["A3", "B4", "D5"])
def test_same_seed_same_trajectory(sid):
    a = rollout(gym.make(f"MEIO-{sid}-v0"), 3)
    b = rollout(gym.make(f"MEIO-{sid}-v0"), 3)
    c = rollout(gym.make(f"MEIO-{sid}-v0"), 4)
    assert a == b and a != c


@pytest.mark.parametrize("sid", ["B3", "C4", "D5"])
def test_vector_copy_equals_single_env(sid):
    n, seed = 4, 20
    venv = gym.make_vec(f"MEIO-{sid}-v0", num_envs=n)
    assert isinstance(venv, MEIOVectorEnv)
    singles = [gym.make(f"MEIO-{sid}-v0") for _ in range(n)]
    obs_v, _ = venv.reset(seed=seed)
    for i, e in enumerate(singles):
        np.testing.assert_array_equal(e.reset(seed=seed + i)[0], obs_v[i])
    rng = np.random.default_rng(0)
    for _ in range(130):  # crosses the autoreset at 128 (NEXT_STEP)
        a = rng.uniform(-1.2, 1.2, venv.action_space.shape).astype(np.float32)
        obs_v, r_v, _, tr_v, info_v = venv.step(a)
        for i, e in enumerate(singles):
            if e.unwrapped.core.truncated()[0]:
                o, _ = e.reset()
                np.testing.assert_array_equal(o, obs_v[i])
                assert r_v[i] == 0
                continue
            o, r, _, tr, info = e.step(a[i])
            np.testing.assert_array_equal(o, obs_v[i])
            assert r == pytest.approx(r_v[i]) and tr == tr_v[i]
            assert info["cost"] == pytest.approx(info_v["cost"][i])


def test_same_step_autoreset_returns_final_obs():
    venv = MEIOVectorEnv("A1", 3, episode_length=4, autoreset_mode=AutoresetMode.SAME_STEP)
    venv.reset(seed=0)
    for _ in range(3):
        venv.step(np.zeros((3, 4), np.float32))
    obs, _, _, trunc, info = venv.step(np.zeros((3, 4), np.float32))
    assert trunc.all() and "final_obs" in info
    assert np.all(venv.core.state.period == 0)
    np.testing.assert_array_equal(obs, venv.core.observe())


def test_seed_mode_repeat_replays_episode():
    env = gym.make("MEIO-A3-v0", seed_mode="repeat")
    a = rollout(env, 5)
    env.reset()
    rng = np.random.default_rng(123)
    b = [env.step(rng.uniform(-1, 1, 4).astype(np.float32))[4]["cost"] for _ in range(40)]
    assert a == b


def test_unseeded_resets_advance_to_new_episodes():
    env = gym.make("MEIO-A3-v0")
    a = rollout(env, 5)
    env.reset()
    rng = np.random.default_rng(123)
    b = [env.step(rng.uniform(-1, 1, 4).astype(np.float32))[4]["cost"] for _ in range(40)]
    assert a != b


@pytest.mark.parametrize(
    ("action", "err", "match"),
    [
        (np.array([np.nan, 0, 0, 0]), ValueError, "NaN or infinite"),
        (np.array([np.inf, 0, 0, 0]), ValueError, "NaN or infinite"),
        (np.zeros(3), ValueError, r"expected shape \(1, 4\)"),
        (np.zeros((2, 4)), ValueError, "expected shape"),
        (np.array(["a", "b", "c", "d"]), TypeError, "real numbers"),
        (np.array([1 + 1j, 0, 0, 0]), TypeError, "real numbers"),
    ],
)
def test_bad_actions_raise_clear_errors(action, err, match):
    env = gym.make("MEIO-A1-v0")
    env.reset(seed=0)
    with pytest.raises(err, match=match):
        env.unwrapped.step(action)


def test_out_of_range_actions_are_clipped():
    e1, e2 = gym.make("MEIO-A1-v0").unwrapped, gym.make("MEIO-A1-v0").unwrapped
    e1.reset(seed=0)
    e2.reset(seed=0)
    for _ in range(3):
        i1 = e1.step(np.array([5.0, -7.0, 1.5, 0.0]))[4]
        i2 = e2.step(np.array([1.0, -1.0, 1.0, 0.0]))[4]
        assert i1["cost"] == i2["cost"]
    np.testing.assert_array_equal(e1.core.state.in_transit, e2.core.state.in_transit)


def test_action_scaling_maps_to_orders():
    env = gym.make("MEIO-A1-v0").unwrapped
    env.reset(seed=0)
    env.step(np.array([1.0, -1.0, 0.0, 0.5]))
    st = env.core.state
    assert st.in_transit[0, 0] == 150  # W1 max order 150, from the external supplier
    assert st.edge_new[0].tolist() == [0, 25, 38]  # round(0.5 * 50) = 25, round(0.75 * 50) = 37.5 -> 38


def test_custom_network_via_make():
    net = {
        "name": "tiny",
        "stock_points": [
            sp("W1", ["external"], holding=0.5),
            sp("R1", ["W1"], backorder=9.0, demand={"type": "poisson", "mu": 4}),
        ],
    }
    env = gym.make("MEIO-A1-v0", network=net, episode_length=10)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space.shape == (2,)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda n: n[1].update(suppliers=["R2"]) or n[2].update(suppliers=["R1"]), "cycle"),
        (lambda n: n[1].update(suppliers=[]), "no supplier"),
        (lambda n: n[2].pop("demand"), "no customers and no demand"),
        (lambda n: n[0].update(holding=-1.0), "holding must be a finite number >= 0"),
        (lambda n: n[1].update(max_order=0), "max_order must be a positive integer"),
        (lambda n: n[2].update(name="R1"), "duplicate stock point names"),
        (lambda n: n[1].update(demand=[0.5, 0.6]), "sums to"),
        (lambda n: n[1].update(demand=[-0.5, 1.5]), "negative mass"),
        (lambda n: n[1].update(lead_time=0), "lead times must be >= 1"),
        (lambda n: n[1].update(suppliers=["W9"]), "unknown supplier"),
        (lambda n: n[0].update(colour="red"), "unknown fields"),
    ],
)
def test_invalid_networks_give_clear_errors(mutate, match):
    nodes = [
        sp("W1", ["external"]),
        sp("R1", ["W1"], backorder=1.0, demand=2),
        sp("R2", ["W1"], backorder=1.0, demand=2),
    ]
    mutate(nodes)
    with pytest.raises((NetworkError, ValueError), match=match):
        meio_envs.NetworkSpec.from_dict({"stock_points": nodes})


def test_network_files_round_trip(tmp_path):
    import json

    import yaml

    net = meio_envs.make_scenario("B4").network
    (tmp_path / "n.json").write_text(json.dumps(net.to_dict()))
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(net.to_dict()))
    for f in ("n.json", "n.yaml"):
        back = meio_envs.NetworkSpec.from_file(tmp_path / f)
        assert back.names == net.names and back.supplier_indices == net.supplier_indices
        for a, b in zip(back.stock_points, net.stock_points):
            np.testing.assert_allclose(a.lead_time.pmf(), b.lead_time.pmf(), atol=1e-15)
            assert (a.holding, a.backorder, a.max_order, a.ip_bounds) == (b.holding, b.backorder, b.max_order, b.ip_bounds)
    (tmp_path / "bad.yaml").write_text("stock_points:\n  - {name: W1, suppliers: [W1], holding: 1, max_order: 5, ip_bounds: [-1, 1], lead_time: 1}\n")
    with pytest.raises(NetworkError, match="cycle"):
        meio_envs.NetworkSpec.from_file(tmp_path / "bad.yaml")


def test_level5_observes_cost_factors():
    env = gym.make("MEIO-A5-v0")
    obs, info = env.reset(seed=2)
    assert obs.shape == (6,)
    f = info["cost_factors"]
    assert np.all((0.5 <= f) & (f <= 1.5))
    np.testing.assert_allclose(obs[4:], (f - 0.5) * 2 - 1, atol=1e-6)
    _, _, _, _, info = env.step(np.zeros(4, np.float32))
    assert info["holding_cost"] == pytest.approx(float(np.dot(info["on_hand"], env.unwrapped.params.holding)) * f[0])


def test_node_order_is_upstream_to_downstream():
    assert meio_envs.make_scenario("D1").network.names[:4] == ("F1", "F2", "F3", "W1")
    assert meio_envs.make_scenario("C1").network.names[-1] == "R9"
