"""Rules every trainer keeps: run folders refuse other trials, budgets are hard, outputs stay under --out."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from baselines import imarl, mappo, sarl  # noqa: E402
from baselines.common.records import read_records  # noqa: E402
from baselines.common.trial import ConfigMismatch, check_run_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _sarl(tmp: Path, **kw):
    base = dict(scenario="A1", seed=0, episodes=8, n_envs=2, n_steps=32, n_minibatches=4, episode_length=16,
                eval_every=8, eval_episodes=4, out=str(tmp), progress=False, net_arch=(16, 16))
    base.update(kw)
    return sarl.Args(**base)


def _marl(tmp: Path, **kw):
    base = dict(episodes=8, num_envs=8, num_steps=128, eval_every=8, eval_episodes=4, out=str(tmp), progress=False,
                tensorboard=False)
    base.update(kw)
    return mappo.Args(**base)


def _imarl(tmp: Path, **kw):
    base = dict(episodes_per_iteration=8, num_envs=8, num_steps=128, eval_every=8, eval_episodes=4,
                max_agent_iterations=1, out=str(tmp), progress=False, tensorboard=False)
    base.update(kw)
    return imarl.Args(**base)


CASES = {
    "sarl": (_sarl, sarl.train, {"learning_rate": 3e-4}),
    "marl": (_marl, mappo.train, {"learning_rate": 3e-4}),
    "imarl": (_imarl, imarl.train, {"learning_rate": 3e-4}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_folder_of_another_trial_is_refused(tmp_path: Path, name: str) -> None:
    make, train, change = CASES[name]
    first = make(tmp_path)
    rec = train(first)
    assert rec["status"] == "finished"
    other = make(tmp_path, **change)
    other.run_name = first.run_name or str(first.run_dir).removeprefix(str(tmp_path) + "/")
    with pytest.raises(ConfigMismatch, match="learning_rate: folder has 0.0001, this command has 0.0003") as e:
        train(other)
    assert "--no-resume" in str(e.value)
    # the B1-on-an-A1-folder case of the issue: a scenario mismatch is refused too
    b1 = make(tmp_path, scenario="B1")
    b1.run_name = other.run_name
    with pytest.raises(ConfigMismatch, match="scenario"):
        train(b1)
    assert len(read_records(tmp_path / "results.jsonl")) == 1  # nothing invented
    other.resume = False  # starting fresh is allowed and says so in the record
    assert train(other)["config"]["learning_rate"] == 3e-4


def test_marl_gnn_refuses_a_marl_folder(tmp_path: Path) -> None:
    pytest.importorskip("torch_geometric")
    a = _marl(tmp_path)
    mappo.train(a)
    b = _marl(tmp_path, model="marl-gnn", run_name="marl/A1/seed0")
    with pytest.raises(ConfigMismatch, match="model"):
        mappo.train(b)


def test_a2c_refuses_another_trials_folder(tmp_path: Path) -> None:
    from baselines.chapter_a2c import main

    argv = ["--seed", "0", "--timesteps", "128", "--n-envs", "4", "--eval-freq", "128", "--eval-episodes", "2",
            "--out", str(tmp_path), "--quiet"]
    main(argv)
    with pytest.raises(ConfigMismatch, match="lr"):
        main([*argv, "--lr", "1e-3"])


@pytest.mark.parametrize("bad", [{"episodes": 0}, {"episodes": -5}, {"episodes": 1.5}, {"episodes": 3}])
def test_marl_budgets_rejected_before_anything_exists(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(ValueError, match="episodes"):
        _marl(tmp_path / "x", **bad)  # 3 < one rollout of 8 episodes
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", [{"episodes_per_iteration": 0}, {"episodes": 0}, {"episodes": -5},
                                 {"max_agent_iterations": 0}])
def test_imarl_budgets_rejected(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(ValueError):
        _imarl(tmp_path, **bad)


def test_sarl_budget_rejected_and_rounded_down(tmp_path: Path) -> None:
    for bad in (0, -5, 3):  # 3 episodes of 16 periods < one rollout of 64 steps
        with pytest.raises(ValueError, match="episodes"):
            _sarl(tmp_path, episodes=bad)
    assert _sarl(tmp_path, episodes=13).total_steps == 192  # 13 x 16 = 208 steps -> 3 rollouts of 64


def test_imarl_total_budget_cuts_the_iteration(tmp_path: Path) -> None:
    # 25,000 episodes per iteration, but a total of 20: the first iteration is cut to 16 (two rollouts of 8),
    # then less than a rollout is left and training stops
    rec = imarl.train(_imarl(tmp_path, episodes_per_iteration=25_000, episodes=20, max_agent_iterations=None))
    r = rec["result"]
    assert r["episodes"] == 16 and r["env_steps"] == 16 * 128 and r["agent_iterations"] == 1


def test_cli_rejects_bad_budgets_and_paths_before_creating_folders(tmp_path: Path) -> None:
    out = tmp_path / "o"
    for argv in (["imarl", "A1", "--episodes-per-iteration", "0"], ["imarl", "A1", "--episodes", "-5"],
                 ["marl", "A1", "--episodes", "0"], ["sarl", "A1", "--episodes", "0"],
                 ["sarl", "../../x"], ["marl", "A1", "--run-name", "../../escape"]):
        p = subprocess.run([sys.executable, "-m", "baselines.cli", "train", *argv, "--out", str(out)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode != 0, argv
        assert not out.exists(), argv
    with pytest.raises(ValueError, match="relative path"):
        check_run_name("/etc")


def _tracked_results() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "benchmarks" / "results").rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_trainers_write_only_under_out(tmp_path: Path) -> None:
    before = _tracked_results()
    sarl.train(_sarl(tmp_path))
    mappo.train(_marl(tmp_path))
    imarl.train(_imarl(tmp_path))
    assert _tracked_results() == before
    recs = read_records(tmp_path / "results.jsonl")  # the default store is under --out
    assert sorted(r["model"] for r in recs) == ["imarl", "marl", "sarl"]
    for r in recs:
        assert Path(r["result"]["run_dir"]).resolve().is_relative_to(tmp_path.resolve())
        assert json.loads((Path(r["result"]["run_dir"]) / "config.json").read_text())["trial_id"] == r["trial_id"]


@pytest.mark.parametrize("model", ["sarl", "marl", "imarl"])
def test_meio_train_bad_scenario_is_one_line_exit_2_nothing_written(model, tmp_path, monkeypatch, capsys) -> None:
    from baselines.cli import main as meio

    monkeypatch.chdir(tmp_path)
    assert meio(["train", model, "Z9", "--episodes", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"meio train {model}: unknown scenario 'Z9'") and "e.g. 'B4'" in err[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make", [_marl, _imarl])
def test_rollout_shapes_that_cannot_run_are_refused_with_the_numbers(tmp_path: Path, make) -> None:
    with pytest.raises(ValueError, match="num_steps=96 and episode_length=128 must divide one another"):
        make(tmp_path, num_steps=96)
    with pytest.raises(ValueError, match="num_envs \\* num_steps = 1024 must split into num_minibatches=3"):
        make(tmp_path, num_minibatches=3)
    assert make(tmp_path, num_steps=64).num_steps == 64  # 64 divides 128: allowed


def test_every_trainer_places_its_run_folder_and_store_alike(tmp_path: Path) -> None:
    for args, model in ((_sarl(tmp_path), "sarl"), (_marl(tmp_path, model="marl-gnn"), "marl-gnn"),
                        (_imarl(tmp_path, base_policy="random"), "imarl-random")):
        assert args.run_dir == tmp_path / model / "A1" / "seed0"
        assert args.store == tmp_path / "results.jsonl"
        assert args.identity().model == model and args.identity().trial_id.startswith(f"{model}-A1-s0-")
        args.run_name, args.results = "mine/x", str(tmp_path / "s.jsonl")
        assert args.run_dir == tmp_path / "mine" / "x" and args.store == tmp_path / "s.jsonl"
