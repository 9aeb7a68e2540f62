"""MAPPO (MARL, MARL+GNN): GAE by hand, tiny real runs, exact resume, GNN critic forward."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from baselines.common.gae import compute_gae
from baselines.common.records import read_records
from baselines.cli import main as meio
from baselines.mappo import Args, build_networks, critic_inputs, joint_policy, train
from meio_envs.envs.batched_ma import BatchedMultiAgent
from meio_envs.evaluation import da_policy, evaluate


def test_gae_hand_example_with_truncation_bootstrap() -> None:
    # One copy, 3 steps; the episode is truncated after step 1 (index 1), a new one starts at step 2.
    r = np.array([1.0, 2.0, 3.0]).reshape(3, 1)
    v = np.array([0.5, 1.0, 2.0]).reshape(3, 1)
    nv = np.array([1.0, 4.0, 5.0]).reshape(3, 1)  # V(s'_1)=4: the truncated episode's final state
    end = np.array([False, True, False]).reshape(3, 1)
    g, lam = 0.9, 0.5
    d2 = 3.0 + g * 5.0 - 2.0  # 5.5
    d1 = 2.0 + g * 4.0 - 1.0  # 4.6  (bootstrapped, not zeroed: truncation is not termination)
    d0 = 1.0 + g * 1.0 - 0.5  # 1.4
    a2, a1 = d2, d1  # the chain stops at the episode end
    a0 = d0 + g * lam * a1  # 1.4 + 0.45 * 4.6 = 3.47
    adv, ret = compute_gae(r, v, nv, end, gamma=g, lam=lam)
    np.testing.assert_allclose(adv[:, 0], [a0, a1, a2], rtol=1e-6)
    np.testing.assert_allclose(ret[:, 0], np.array([a0, a1, a2]) + v[:, 0], rtol=1e-6)
    # A true termination drops the bootstrap.
    adv_t, _ = compute_gae(r, v, nv, end, gamma=g, lam=lam, terminated=end)
    assert adv_t[1, 0] == pytest.approx(2.0 - 1.0)


def test_gae_per_agent_columns_broadcast() -> None:
    rng = np.random.default_rng(0)
    r, v, nv = (rng.normal(size=(4, 2, 3)) for _ in range(3))
    end = np.zeros((4, 2), bool)
    adv, _ = compute_gae(r, v, nv, end)
    for k in range(3):
        a_k, _ = compute_gae(r[..., k], v[..., k], nv[..., k], end)
        np.testing.assert_allclose(adv[..., k], a_k, rtol=1e-6)


def test_retailers_share_one_actor() -> None:
    for sc, n_actors in (("A1", 2), ("B1", 4)):
        ma = BatchedMultiAgent(sc, num_envs=2)
        actor, _ = build_networks(Args(sc), ma)
        assert len(actor.actors) == n_actors
        mean, log_std = actor(torch.zeros(1, 5, ma.state_dim))  # a leading trial axis (K = 1)
        assert mean.shape == (1, 5, ma.num_agents) and log_std.shape == (1, ma.num_agents)


def tiny(tmp_path, **kw) -> Args:
    base = dict(episodes=16, num_envs=8, num_steps=128, eval_every=8, eval_episodes=10, out=str(tmp_path),
                results=str(tmp_path / "results.jsonl"), progress=False, tensorboard=False)
    base.update(kw)
    return Args(**base)


def test_mappo_tiny_run_writes_curve_checkpoint_result(tmp_path, capsys) -> None:
    args = tiny(tmp_path, tensorboard=True)
    s = train(args)
    run = args.run_dir
    assert (run / "curve.csv").exists() and (run / "checkpoint.pt").exists() and (run / "best.pt").exists()
    assert (run / "tb").is_dir()
    rows = (run / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("episodes,env_steps,wall_time_s,eval_cost,best_cost") and len(rows) == 4  # 0, 8, 16
    (saved,) = read_records(args.results)
    assert saved == s and s["model"] == "marl" and s["scenario"] == "A1" and s["status"] == "finished"
    rec = s["result"]
    assert rec["episodes"] == 16 and rec["env_steps"] == 16 * 128
    da = evaluate(da_policy(BatchedMultiAgent("A1").core.params), "A1", episodes=10).mean
    assert rec["heuristic_cost"] == pytest.approx(da, rel=1e-9)
    assert rec["best_cost"] == min(float(r.split(",")[4]) for r in rows[1:])
    assert train(args) == s and len(read_records(args.results)) == 1  # a finished trial is skipped
    capsys.readouterr()
    assert meio(["evaluate", str(run / "best.pt"), "--episodes", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == "A1" and out["model"] == "marl"
    assert out["cost"] == pytest.approx(rec["best_cost"])  # the best weights, on the trial's evaluation episodes
    assert meio(["evaluate", str(run / "best.pt"), "--episodes", "10"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("A1 marl ") and f"savings {100 * out['savings']:.2f} %" in line


def test_mappo_resume_is_exact(tmp_path) -> None:
    full = train(tiny(tmp_path / "a", episodes=24, results=None))
    part = tiny(tmp_path / "b", episodes=24, results=None, stop_after=2)
    assert train(part) is None  # stopped after 2 of 4 checkpoints, as if killed
    part.stop_after = None
    resumed = train(part)
    ca = (tmp_path / "a" / "marl/A1/seed0/curve.csv").read_text().splitlines()
    cb = (tmp_path / "b" / "marl/A1/seed0/curve.csv").read_text().splitlines()
    col = ca[0].split(",").index("eval_cost")
    assert [r.split(",")[col] for r in ca[1:]] == [r.split(",")[col] for r in cb[1:]]
    assert resumed["result"]["best_cost"] == full["result"]["best_cost"]


def test_marl_gnn_forward_and_tiny_run_B1(tmp_path) -> None:
    pytest.importorskip("torch_geometric")
    args = tiny(tmp_path, scenario="B1", model="marl-gnn", episodes=8, num_envs=4, eval_episodes=5, results=None)
    ma = BatchedMultiAgent("B1", num_envs=4)
    actor, critic = build_networks(args, ma)
    x = torch.as_tensor(critic_inputs("marl-gnn", ma.core, ma.reset(seed=0) and ma.global_state()))
    assert x.shape == (4, 9, 3)
    assert critic(x[None]).shape == (1, 4, 9)  # a leading trial axis (K = 1)
    assert joint_policy(actor)(ma.global_state(), {}).shape == (4, 9)
    s = train(args)
    assert np.isfinite(s["result"]["best_cost"]) and s["result"]["episodes"] == 8
