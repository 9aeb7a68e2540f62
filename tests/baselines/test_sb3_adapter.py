"""SB3 VecEnv adapter: the SB3 contract and step-for-step equality with a DummyVecEnv of MEIOEnv."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from meio_envs.adapters.sb3 import MEIOSB3VecEnv  # noqa: E402
from meio_envs.envs.single import MEIOEnv  # noqa: E402


def _rollout(venv, actions):  # noqa: ANN001, ANN202
    out = [venv.reset()]
    steps = []
    for a in actions:
        obs, rew, done, infos = venv.step(a)
        steps.append((obs, rew, done, infos))
    return out[0], steps


@pytest.mark.parametrize("scenario", ["A1", "B3"])
def test_matches_dummy_vec_env_of_single_envs(scenario: str) -> None:
    B, T, L, seed = 3, 70, 32, 11  # 70 steps cross two truncations (at 32 and 64)
    ours = MEIOSB3VecEnv(scenario, B, episode_length=L)
    ref = DummyVecEnv([lambda: MEIOEnv(scenario, episode_length=L) for _ in range(B)])
    ours.seed(seed)
    ref.seed(seed)  # copy i: seed + i in both
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (T, B, ours.action_space.shape[0])).astype(np.float32)
    o0, s_ours = _rollout(ours, actions)
    r0, s_ref = _rollout(ref, actions)
    np.testing.assert_array_equal(o0, r0)
    for t, ((o, r, d, inf), (o2, r2, d2, inf2)) in enumerate(zip(s_ours, s_ref)):
        np.testing.assert_array_equal(o, o2, err_msg=f"obs at step {t}")
        np.testing.assert_array_equal(r, r2, err_msg=f"reward at step {t}")
        np.testing.assert_array_equal(d, d2, err_msg=f"done at step {t}")
        assert d.all() == ((t + 1) % L == 0)
        for i in range(B):
            assert inf[i]["cost"] == pytest.approx(inf2[i]["cost"])
            assert inf[i].get("TimeLimit.truncated", False) == inf2[i].get("TimeLimit.truncated", False)
            if d[i]:
                np.testing.assert_array_equal(inf[i]["terminal_observation"], inf2[i]["terminal_observation"])


def test_contract_dones_terminal_observation_autoreset() -> None:
    venv = MEIOSB3VecEnv("A1", 4)
    venv.seed(0)
    start = venv.reset()
    assert start.shape == (4, venv.core.obs_dim) and start.dtype == np.float32
    a = np.zeros((4, venv.core.num_nodes), np.float32)
    for t in range(1, 129):
        obs, rew, done, infos = venv.step(a)
        assert rew.shape == (4,) and rew.dtype == np.float32
        assert all("cost" in i for i in infos)
        np.testing.assert_allclose(rew, -1e-3 * np.array([i["cost"] for i in infos]), rtol=1e-6)
        if t < 128:
            assert not done.any() and not any("terminal_observation" in i for i in infos)
    assert done.all()
    for i, inf in enumerate(infos):
        assert inf["TimeLimit.truncated"] is True
        assert inf["terminal_observation"].shape == (venv.core.obs_dim,)
        assert inf["episode"]["l"] == 128
    np.testing.assert_array_equal(obs, start)  # auto-reset: the new episode starts at the standard state
    assert (venv.core.state.period == 0).all() and (venv.core.state.episode == 1).all()


def test_seeding_and_attr_methods() -> None:
    a = MEIOSB3VecEnv("A1", 2)
    b = MEIOSB3VecEnv("A1", 2)
    assert a.seed(5) == [5, 6]
    b.seed(5)
    a.reset()
    b.reset()
    act = np.full((2, 4), 0.1, np.float32)
    for _ in range(5):
        ra = a.step(act)[1]
        rb = b.step(act)[1]
    np.testing.assert_array_equal(ra, rb)
    assert a.get_attr("num_nodes") == [4, 4]
    assert a.get_attr("render_mode", indices=[1]) == [None]
    assert a.env_is_wrapped(object) == [False, False]  # type: ignore[arg-type]
    assert a.env_method("truncated")[0].shape == (2,)
    a.set_attr("reward_scale", 2e-3)
    assert a.core.reward_scale == 2e-3
    with pytest.raises(ValueError):
        a.set_attr("reward_scale", 1.0, indices=[0])
    with pytest.raises(ValueError):
        a.step(np.full((2, 4), np.nan, np.float32))


def test_sb3_check_env_on_single_env() -> None:
    check_env(MEIOEnv("A1"), warn=True)


def test_ppo_runs_on_adapter() -> None:
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    venv = MEIOSB3VecEnv("A1", 2, episode_length=16)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0, verbose=0)
    model.learn(64)
    assert model.num_timesteps == 64
    assert len(model.ep_info_buffer) > 0  # "episode" infos reach SB3's logger
