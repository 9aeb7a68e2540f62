"""Issue 14 part 1: render modes, flat info keys and the episode length / max_episode_steps contract."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import meio_envs  # noqa: F401  (registers the ids)
from meio_envs import MEIOVectorEnv, parallel_env
from meio_envs.envs.batch import INFO_KEYS
from meio_envs.envs.chapter import ChapterEnv
from meio_envs.envs.parallel import AGENT_INFO_KEYS
from meio_envs.rendering import RENDER_MODES

ENV_MAKERS = {
    "single": lambda mode: gym.make("MEIO-B4-v0", render_mode=mode).unwrapped,
    "vector": lambda mode: MEIOVectorEnv("B4", 2, render_mode=mode),
    "parallel": lambda mode: parallel_env("B4", render_mode=mode),
    "chapter": lambda mode: ChapterEnv(render_mode=mode),
}


def _reset_and_step(kind: str, env, n: int = 1):  # noqa: ANN001, ANN202
    if kind == "parallel":
        env.reset(seed=0)
        for _ in range(n):
            env.step({a: np.ones(1, np.float32) for a in env.agents})
    else:
        env.reset(seed=0)
        for _ in range(n):
            env.step(np.ones(env.action_space.shape, np.float32) if kind != "chapter" else 4)


def _one_copy_state(kind: str, env):  # noqa: ANN001, ANN202
    core = env.batch.core if kind == "chapter" else env.core
    return core.params.network.names, core.state.on_hand[0]


# ----------------------------------------------------------------------------- render modes
@pytest.mark.parametrize("kind", list(ENV_MAKERS))
def test_render_modes_are_declared_and_a_bad_mode_lists_them(kind: str) -> None:
    env = ENV_MAKERS[kind](None)
    assert list(env.metadata["render_modes"]) == ["ansi", "rgb_array"] == list(RENDER_MODES)
    assert env.render_mode is None
    _reset_and_step(kind, env)
    assert env.render() is None
    with pytest.raises(ValueError, match=r"\['ansi', 'rgb_array'\]"):
        ENV_MAKERS[kind]("rgb")


@pytest.mark.parametrize("kind", list(ENV_MAKERS))
def test_ansi_table_shows_every_stock_point_and_its_state(kind: str) -> None:
    env = ENV_MAKERS[kind]("ansi")
    assert env.render_mode == "ansi"
    _reset_and_step(kind, env, 3)
    text = env.render()
    if kind == "vector":
        assert isinstance(text, tuple) and len(text) == 2
        text = text[0]
    assert isinstance(text, str)
    names, on_hand = _one_copy_state(kind, env)
    lines = text.splitlines()
    assert "period 3/" in lines[0]
    assert lines[1].split()[:4] == ["stock", "point", "echelon", "on"]
    rows = {ln.split()[0]: ln.split() for ln in lines[3:3 + len(names)]}
    assert list(rows) == list(names)
    for name, oh in zip(names, on_hand):
        assert int(rows[name][2]) == int(oh)  # the on-hand column is the env's state


def test_ansi_table_columns_match_the_single_env_step() -> None:
    env = gym.make("MEIO-A1-v0", render_mode="ansi")
    env.reset(seed=3)
    u = env.unwrapped
    assert "last order" in env.render() and all(r.split()[5] == "0" for r in env.render().splitlines()[3:7])
    _, _, _, _, info = env.step(np.array([0.5, -1.0, 0.0, 1.0], np.float32))
    rows = [ln.split() for ln in env.render().splitlines()[3:7]]
    st = u.core.state
    np.testing.assert_array_equal([int(r[3]) for r in rows], st.in_transit[0])
    np.testing.assert_array_equal([int(r[5]) for r in rows], u.core.actions_to_orders(np.array([[0.5, -1, 0, 1]]))[0])
    np.testing.assert_allclose([float(r[6]) for r in rows], info["node_costs"], atol=0.006)
    assert f"total last cost: {info['cost']:.2f}" in env.render()


@pytest.mark.parametrize("kind", list(ENV_MAKERS))
def test_rgb_array_is_an_image_that_changes_with_the_stock(kind: str) -> None:
    env = ENV_MAKERS[kind]("rgb_array")
    env.reset(seed=0)
    first = env.render()
    first = first[0] if kind == "vector" else first
    assert isinstance(first, np.ndarray) and first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    core = env.batch.core if kind == "chapter" else env.core
    core.state.on_hand[0] //= 4  # less stock: the stock bars and the on-hand labels must change
    second = env.render()
    second = second[0] if kind == "vector" else second
    assert second.shape == first.shape and not np.array_equal(first, second)


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = "import sys, meio_envs, gymnasium as gym; gym.make('MEIO-A1-v0'); print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gym_make_checks_render_modes() -> None:
    env = gym.make("MEIO-A1-v0", render_mode="ansi")
    env.reset(seed=0)
    assert "W1" in env.render()
    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        gym.make("MEIO-A1-v0", render_mode="rgb")


# ----------------------------------------------------------------------------- infos
def _is_numpy(v: object) -> bool:
    return isinstance(v, (np.ndarray, np.generic))


@pytest.mark.parametrize("sid", ["A1", "C5"])
def test_single_env_info_keys_are_flat_equal_and_zero_at_reset(sid: str) -> None:
    env = gym.make(f"MEIO-{sid}-v0")
    _, info0 = env.reset(seed=0)
    _, _, _, _, info1 = env.step(env.action_space.sample())
    assert tuple(sorted(info0)) == tuple(sorted(info1)) == tuple(sorted(INFO_KEYS))
    for k in INFO_KEYS:
        assert _is_numpy(info0[k]) and _is_numpy(info1[k]), k
        assert np.shape(info0[k]) == np.shape(info1[k]) and np.asarray(info0[k]).dtype == np.asarray(info1[k]).dtype, k
    for k in ("cost", "node_costs", "holding_cost", "backorder_cost", "ordering_cost"):
        assert np.all(info0[k] == 0), k
    assert info1["cost"] == pytest.approx(info1["holding_cost"] + info1["backorder_cost"] + info1["ordering_cost"])


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_vector_env_infos_follow_gymnasium_vector_convention(mode: str) -> None:
    env = gym.make_vec("MEIO-A1-v0", num_envs=3, episode_length=2, autoreset_mode=mode)
    _, info0 = env.reset(seed=0)
    keys = set(INFO_KEYS) | {f"_{k}" for k in INFO_KEYS}
    assert set(info0) == keys
    _, _, _, _, info1 = env.step(env.action_space.sample())
    assert set(info1) == keys
    for k in INFO_KEYS:
        assert info1[k].shape[0] == 3 and info1[f"_{k}"].dtype == bool and info1[f"_{k}"].all()
        assert info0[k].shape == info1[k].shape and info0[k].dtype == info1[k].dtype
    assert not info0["cost"].any() and info1["cost"].all()
    _, _, _, trunc, info2 = env.step(env.action_space.sample())
    assert trunc.all()
    if mode == "SameStep":
        assert set(info2) == keys | {"final_obs", "_final_obs", "final_info", "_final_info"}
        assert info2["_final_obs"].all() and set(info2["final_info"]) == keys
    else:
        assert set(info2) == keys


def test_parallel_env_infos_are_equal_at_reset_and_step() -> None:
    env = parallel_env("B4")
    _, infos0 = env.reset(seed=0)
    _, _, _, _, infos1 = env.step({a: env.action_space(a).sample() for a in env.agents})
    for a in env.possible_agents:
        assert tuple(infos0[a]) == tuple(infos1[a]) == AGENT_INFO_KEYS
        assert all(_is_numpy(v) for v in (*infos0[a].values(), *infos1[a].values()))
        assert infos0[a]["cost"] == infos0[a]["node_cost"] == infos0[a]["charged_cost"] == 0


def test_chapter_env_infos_are_equal_at_reset_and_step() -> None:
    env = gym.make("MEIO-Chapter2L-v0")
    _, info0 = env.reset(seed=0)
    _, _, _, _, info1 = env.step(3)
    assert set(info0) == set(info1) == set(INFO_KEYS) | {"net_inventory", "open_orders"}
    assert all(_is_numpy(v) for v in (*info0.values(), *info1.values()))
    assert info0["cost"] == 0 and info1["cost"] > 0


# ----------------------------------------------------------------------------- episode length
def test_max_episode_steps_sets_the_episode_length() -> None:
    env = gym.make("MEIO-A1-v0", max_episode_steps=200)
    assert env.spec.max_episode_steps == 200 and env.unwrapped.core.episode_length == 200
    env.reset(seed=0)
    flags = [env.step(np.zeros(4, np.float32))[3] for _ in range(200)]
    assert flags == [False] * 199 + [True]


def test_spec_max_episode_steps_is_the_episode_length() -> None:
    assert gym.make("MEIO-A1-v0").spec.max_episode_steps == 128
    assert gym.make("MEIO-A1-v0", episode_length=64).spec.max_episode_steps == 64
    assert gym.make("MEIO-A1-v0", episode_length=64, max_episode_steps=64).spec.max_episode_steps == 64
    assert gym.make("MEIO-Chapter2L-v0").spec.max_episode_steps == 52
    assert gym.make("MEIO-Chapter2L-v0", max_episode_steps=10).unwrapped.batch.core.episode_length == 10
    assert gym.make_vec("MEIO-A1-v0", num_envs=2, max_episode_steps=7).core.episode_length == 7


def test_disagreeing_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="disagree"):
        gym.make("MEIO-A1-v0", episode_length=64, max_episode_steps=200)
    with pytest.raises(ValueError, match="disagree"):
        MEIOVectorEnv("A1", 2, episode_length=5, max_episode_steps=6)
    with pytest.raises(ValueError, match="disagree"):
        parallel_env("A1", episode_length=5, max_cycles=6)


def test_max_cycles_is_the_parallel_episode_length() -> None:
    env = parallel_env("A1", max_cycles=3)
    assert env.max_cycles == env.core.episode_length == 3
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, trunc, _ = env.step({a: np.zeros(1, np.float32) for a in env.agents})
    assert all(trunc.values()) and env.agents == []
