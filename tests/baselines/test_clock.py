"""CPU time in the records: the clock, its checkpoints, and the grid's CPU-hours."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from baselines import grid, imarl, mappo
from baselines.common.checkpoint import load_checkpoint, save_checkpoint
from baselines.common.clock import TrialClock
from baselines.grid_report import _markdown


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_clock_tells_waiting_from_computing() -> None:
    c = TrialClock()
    time.sleep(0.3)  # occupies the trial's core, computes nothing
    w1, c1 = c.wall(), c.cpu()
    assert w1 >= 0.29 and c1 < 0.1
    _spin(0.3)
    assert c.cpu() - c1 >= 0.29 and c.wall() - w1 >= 0.29


def test_clock_resumes_from_a_checkpoint_and_keeps_unknown_cpu_unknown() -> None:
    c = TrialClock.from_state({"wall_time_s": 100.0, "cpu_time_s": 40.0})
    _spin(0.05)
    st = c.state()
    assert 100.05 <= st["wall_time_s"] < 110 and 40.05 <= st["cpu_time_s"] < 50
    old = TrialClock.from_state({"wall_time_s": 100.0})  # a checkpoint of code that did not measure CPU
    assert old.cpu() is None and old.state()["cpu_time_s"] is None and old.wall() >= 100.0
    assert TrialClock.from_state({}).wall() < 10


@pytest.mark.parametrize("bad", [{"wall_time_s": -1.0}, {"wall_time_s": math.nan}, {"wall_time_s": 1.0, "cpu_time_s": -2.0},
                                 {"wall_time_s": 1.0, "cpu_time_s": math.inf}, {"wall_time_s": "x"}])
def test_clock_refuses_impossible_checkpoint_values(bad: dict) -> None:
    with pytest.raises(ValueError):
        TrialClock.from_state(bad)


def _marl(tmp: Path, **kw) -> mappo.Args:
    base = dict(episodes=32, num_envs=4, num_steps=128, eval_every=8, eval_episodes=5, out=str(tmp), results=None,
                progress=False, tensorboard=False)
    return mappo.Args("A1", **{**base, **kw})


def test_records_carry_the_cpu_time_of_every_part_of_a_resumed_trial(tmp_path: Path) -> None:
    assert mappo.run_trial(_marl(tmp_path, stop_after=2)) is None  # killed after 2 checkpoints
    ck = load_checkpoint(tmp_path / "marl/A1/seed0/checkpoint.pt")
    first_cpu, first_wall = ck["state"]["cpu_elapsed"], ck["state"]["elapsed"]
    assert 0 < first_cpu and 0 < first_wall
    rec = mappo.run_trial(_marl(tmp_path))
    prov = rec["provenance"]
    assert prov["cpu_time_s"] > first_cpu and prov["wall_time_s"] > first_wall
    assert grid.trial_cpu_hours(rec) == pytest.approx(prov["cpu_time_s"] / 3600)


def test_a_trial_resumed_from_a_checkpoint_without_cpu_time_records_none(tmp_path: Path) -> None:
    assert mappo.run_trial(_marl(tmp_path, stop_after=2)) is None
    path = tmp_path / "marl/A1/seed0/checkpoint.pt"
    ck = load_checkpoint(path)
    del ck["state"]["cpu_elapsed"]  # what the code before CPU time wrote
    save_checkpoint(path, ck)
    rec = mappo.run_trial(_marl(tmp_path))
    assert rec["provenance"]["cpu_time_s"] is None and rec["provenance"]["wall_time_s"] > 0
    assert grid.trial_cpu_hours(rec) is None


def test_seed_batched_imarl_trials_share_their_task_cpu_time(tmp_path: Path) -> None:
    kw = dict(episodes_per_iteration=8, max_agent_iterations=2, num_envs=8, num_steps=128, eval_every=8, eval_episodes=5,
              out=str(tmp_path), results=None, progress=False, tensorboard=False)
    recs = imarl.run_trials([imarl.Args("A1", seed=s, **kw) for s in (0, 1)])
    for r in recs:
        assert r["result"]["batched_trials"] == 2 and r["provenance"]["cpu_time_s"] > 0
        assert grid.trial_cpu_hours(r) == pytest.approx(r["provenance"]["cpu_time_s"] / 2 / 3600)


def _rec(seed: int, wall: float, cpu: float | None, batched: int = 1) -> dict:
    return {"trial_id": f"marl-A1-s{seed}-e", "scenario": "A1", "model": "marl", "experiment_id": "e",
            "status": "finished", "seed": seed,
            "preset": "quick", "config": {"episodes": 2000},
            "result": {"savings": 0.1, "best_cost": 90.0, "heuristic_cost": 100.0, "batched_trials": batched},
            "provenance": {"wall_time_s": wall, **({} if cpu is None else {"cpu_time_s": cpu})}}


def test_grid_tables_show_cpu_hours_and_say_when_only_some_trials_measured_them() -> None:
    rows = grid.summarise([_rec(0, 7200.0, 3600.0), _rec(1, 7200.0, 1800.0)])
    assert rows[0]["core_hours"] == pytest.approx(4.0) and rows[0]["cpu_hours"] == pytest.approx(1.5)
    partial = grid.summarise([_rec(0, 7200.0, 3600.0), _rec(1, 7200.0, None)])[0]
    assert partial["cpu_hours"] == pytest.approx(1.0) and partial["cpu_measured"] == 1
    base = {"searched_cost": None, "echelon_cost": None, "best_savings_vs_searched": None,
            "best_savings_vs_echelon": None}
    md = _markdown([{**rows[0], **base}])
    assert "| quick | 1 of 65 | 0 | 2 | 4.0 | 1.50 |" in md  # totals: cells, other cells, trials, core-h, CPU-h
    assert md.rstrip().endswith("| 4.00 | 1.50 |")
    md = _markdown([{**partial, **base}])
    assert "| 4.00 | 1.00 (1 of 2 trials) |" in md
    none = grid.summarise([_rec(0, 7200.0, None)])[0]
    assert _markdown([{**none, **base}]).rstrip().endswith("| 2.00 | - |")


def test_grid_plan_estimates_from_cpu_time_where_it_was_measured() -> None:
    from baselines.grid_plan import _rates

    recs = [dict(_rec(0, 7200.0, 3600.0), result={"episodes": 2000}),  # oversubscribed: wall 2x the CPU
            dict(_rec(1, 3600.0, None), result={"episodes": 2000})]
    assert sorted(_rates(recs)[("marl", "A1")]) == [(pytest.approx(1.0 / 2000), False),
                                                    (pytest.approx(1.0 / 2000), True)]


def test_grid_plan_prefers_the_same_network_then_cpu_measured_records() -> None:
    from baselines.grid_plan import _rate
    from meio_envs.scenarios import make_scenario

    # A1: old code, wall time only (0.01 h/episode) and a CPU-measured trial (0.002); B1 in CPU time (0.001)
    rates = {("sarl", "A1"): [(0.01, False), (0.002, True)], ("sarl", "B1"): [(0.001, True)]}
    assert _rate(rates, "sarl", "A1") == (pytest.approx(0.002), False, "CPU")  # CPU first within the tier
    assert _rate(rates, "sarl", "B2") == (pytest.approx(0.001), False, "CPU")  # same structure
    # the same network, even in wall time, before other networks scaled
    assert _rate({("sarl", "A1"): [(0.01, False)], ("sarl", "B1"): [(0.001, True)]}, "sarl", "A2") == (
        pytest.approx(0.01), False, "wall")
    nodes = {s: make_scenario(s).network.num_nodes for s in ("A1", "B1", "C1")}
    scaled = (0.002 / nodes["A1"] + 0.001 / nodes["B1"]) / 2 * nodes["C1"]  # CPU-measured only
    assert _rate(rates, "sarl", "C1") == (pytest.approx(scaled), True, "CPU")
    assert _rate(rates, "imarl", "A1") == (None, False, "")
