"""IMARL: job-list logic (fake trainer on B1), tiny real runs on A1 (DA and random base), kill + resume."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.common.checkpoint import load_checkpoint
from baselines.common.records import read_records
from baselines.imarl import (
    AgentResult,
    Args,
    JointPolicy,
    initial_jobs,
    pop_job,
    push_neighbours,
    run_imarl,
    train,
)
from meio_envs.envs.batched_ma import BatchedMultiAgent
from meio_envs.evaluation import EvalResult, da_policy, evaluate


def net(sc: str = "B1"):
    return BatchedMultiAgent(sc).core.params.network


def test_initial_orders_and_pop() -> None:
    n = net("B1")  # W1 W2 W3 R1..R6
    assert initial_jobs(n, "downstream-first") == [8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert initial_jobs(n, "upstream-first") == list(range(9))
    jobs = [3, 1, 5]
    pot = np.array([0, 0.9, 0, 0.2, 0, 0.9, 0, 0, 0])
    assert pop_job(jobs, "greedy", pot) == 1 and jobs == [3, 5]  # tie 1 vs 5: queue order
    assert pop_job(jobs, "downstream-first") == 3 and jobs == [5]


def test_push_direct_predecessors_and_successors_B1() -> None:
    n = net("B1")
    jobs = [5]
    assert push_neighbours(jobs, 1, n) == [4, 6, 8]  # W2 (external supply) -> customers 4, 5, 6, 8; 5 is queued already
    assert jobs == [5, 4, 6, 8]
    jobs = []
    assert push_neighbours(jobs, 4, n) == [0, 1]  # R2 is supplied by W1 and W2, has no customers
    assert push_neighbours([0, 1], 4, n) == []


class FakeTrainer:
    """Scripted costs per (iteration): deterministic and instant."""

    def __init__(self, costs: list[float]) -> None:
        self.costs, self.calls = costs, []

    def __call__(self, agent, saved, seed, on_eval, steps):
        k = len(self.calls)
        self.calls.append(agent)
        on_eval({"episodes": 10, "eval_cost": self.costs[k], "eval_se": 0.0, "iteration_best": self.costs[k],
                 "new_episodes": 10, "env_steps": 1280})
        return AgentResult(self.costs[k], np.full(9, self.costs[k] / 9), {"actor": {}, "critic": {}}, 10, 1280)


def fake_eval(saved) -> EvalResult:
    return EvalResult(episode_costs=np.full(4, 100.0), node_costs=np.full((4, 9), 100.0 / 9))


def test_job_list_logic_with_fake_trainer_B1(tmp_path) -> None:
    # downstream-first on B1: R6(8) R5(7) R4(6) R3(5) R2(4) R1(3) W3(2) W2(1) W1(0)
    costs = [101, 99, 99.5, 98, 98] + [97] * 3 + [200] * 40
    tr = FakeTrainer(costs)
    args = Args("B1", out=str(tmp_path), results=str(tmp_path / "r.jsonl"), progress=False, tensorboard=False,
                eval_episodes=4)
    s = run_imarl(args, trainer=tr, evaluator=fake_eval)["result"]
    # it0 R6 101 >= 100 rejected; it1 R5 99 accepted -> push W3(2) (queued) ; it2 R4 99.5 rejected;
    # it3 R3 98 accepted -> push W1, W2 (queued); it4 R2 98 not < 98 rejected; it5 R1 97 accepted (W1 queued);
    # it6 W3 97 rejected (equal); it7 W2 97 rejected; it8 W1 200 rejected -> empty
    assert tr.calls == [8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert s["accepted"] == [False, True, False, True, False, True, False, False, False]
    assert s["best_cost"] == 97 and s["equilibrium"] and s["agent_iterations"] == 9
    # an accepted upstream agent re-queues its customers
    tr2 = FakeTrainer([101] * 6 + [90] + [200] * 40)  # W3 (7th) improves -> R4 R5 R6 come back
    s2 = run_imarl(Args("B1", out=str(tmp_path), run_name="b", results=None, progress=False, tensorboard=False,
                        eval_episodes=4), trainer=tr2, evaluator=fake_eval)["result"]
    assert tr2.calls == [8, 7, 6, 5, 4, 3, 2, 1, 0, 6, 7, 8]
    assert s2["best_cost"] == 90 and s2["equilibrium"]
    hist = (tmp_path / "b" / "iterations.csv").read_text().splitlines()
    assert len(hist) == 13 and hist[0].startswith("iteration,agent,agent_name,episodes")


def test_da_base_joint_policy_is_the_heuristic() -> None:
    ma = BatchedMultiAgent("A1", view="imarl")
    jp = JointPolicy(ma, [None] * 4)
    assert evaluate(jp, "A1", episodes=10).mean == evaluate(da_policy(ma.core.params), "A1", episodes=10).mean


def tiny(tmp_path, **kw) -> Args:
    base = dict(episodes_per_iteration=8, num_envs=8, num_steps=128, eval_every=8, eval_episodes=10,
                max_agent_iterations=2, out=str(tmp_path), results=str(tmp_path / "r.jsonl"), progress=False,
                tensorboard=False)
    base.update(kw)
    return Args(**base)


def test_imarl_tiny_run_A1(tmp_path, capsys) -> None:
    import json

    from baselines.cli import main as meio

    args = tiny(tmp_path, init_active="bc")
    rec = train(args)
    s = rec["result"]
    run = args.run_dir
    assert (run / "checkpoint.pt").exists() and (run / "curve.csv").exists() and (run / "iterations.csv").exists()
    assert s["job_sequence"] == ["R3", "R2"] and s["agent_iterations"] == 2 and not s["equilibrium"]
    assert s["best_cost"] <= s["heuristic_cost"] == s["initial_cost"]  # starts at DA, only accepts improvements
    assert read_records(args.results) == [rec] and rec["model"] == "imarl"
    assert s["best_model"] == str(run / "best.pt")
    capsys.readouterr()
    assert meio(["evaluate", s["best_model"], "--episodes", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "imarl" and out["cost"] == pytest.approx(s["best_cost"])  # the accepted joint policy
    assert meio(["evaluate", str(tmp_path / "nothing.pt")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_imarl_random_base_A1(tmp_path) -> None:
    rec = run_imarl(tiny(tmp_path, base_policy="random", order="upstream-first"))
    s = rec["result"]
    assert rec["model"] == "imarl-random" and s["job_sequence"] == ["W1", "R1"]
    assert s["initial_cost"] != s["heuristic_cost"] and np.isfinite(s["best_cost"])
    assert s["best_cost"] <= s["initial_cost"]


def test_imarl_killed_and_resumed_continues_from_last_iteration(tmp_path) -> None:
    # random base: acceptances happen even with tiny budgets, so the job list is re-filled (W1 -> R1 R2 R3)
    kw = dict(base_policy="random", max_agent_iterations=6, results=None)
    full = run_imarl(tiny(tmp_path / "a", **kw))["result"]
    assert any(full["accepted"]) and len(full["job_sequence"]) == 6
    assert run_imarl(tiny(tmp_path / "b", stop_after=4, **kw)) is None
    cpu_before = load_checkpoint(tmp_path / "b" / "imarl-random/A1/seed0/checkpoint.pt")["state"]["cpu_elapsed"]
    assert len((tmp_path / "b" / "imarl-random/A1/seed0/iterations.csv").read_text().splitlines()) == 5
    rec = run_imarl(tiny(tmp_path / "b", **kw))
    resumed = rec["result"]
    assert rec["provenance"]["cpu_time_s"] > cpu_before > 0  # the killed part's CPU time is carried
    assert resumed["job_sequence"] == full["job_sequence"]
    assert resumed["accepted"] == full["accepted"]
    assert resumed["best_cost"] == pytest.approx(full["best_cost"], abs=0)
    assert resumed["episodes"] == full["episodes"]
