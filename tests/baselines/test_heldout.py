"""Held-out evaluation of trials: paired with DA on unseen draws, computed once, checked when read."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from baselines import grid, heldout
from baselines.common.records import ResultsStore, read_records
from baselines.grid_runner import TrialSpec, run_trials
from baselines.heldout import HeldoutError, add_heldout, evaluate_heldout, heldout_table, read_heldout
from baselines.saved_policies import load_policy
from meio_envs.envs.batch import resolve_params
from meio_envs.evaluation import EVAL_SEED, da_policy, evaluate


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("heldout")
    opts = {"episodes": 32, "eval_episodes": 5, "num_envs": 4, "num_steps": 128, "eval_every": 16}
    store = root / "runs" / "results.jsonl"
    run_trials([TrialSpec("marl", "A1", 0, opts, str(root / "runs"), "custom")], ResultsStore(store),
               use_ray=False, live=False, say=lambda s: None)
    (rec,) = read_records(store)
    return rec, root


def test_heldout_row_is_the_paired_comparison_on_unseen_draws(trial) -> None:
    rec, root = trial
    row = evaluate_heldout(rec, [root], episodes=40)
    assert row is not None and row["seed"] == heldout.HELDOUT_SEED and row["episodes"] == 40
    # independently: the model file and DA on the same 40 held-out copies
    pol = load_policy(root / rec["result"]["best_model"]).policy
    m = evaluate(pol, "A1", episodes=40, seed=heldout.HELDOUT_SEED)
    da = evaluate(da_policy(resolve_params("A1")[0]), "A1", episodes=40, seed=heldout.HELDOUT_SEED)
    assert row["heldout_cost"] == m.mean and row["heldout_da_cost"] == da.mean
    assert row["heldout_savings"] == pytest.approx((da.mean - m.mean) / da.mean, rel=1e-12)
    d = da.episode_costs - m.episode_costs
    assert row["heldout_savings_se"] == pytest.approx(d.std(ddof=1) / math.sqrt(40) / da.mean, rel=1e-12)
    assert row["recorded_savings"] == rec["result"]["savings"]
    # the held-out draws are not the protocol's: the same policy costs something else there
    assert evaluate(pol, "A1", episodes=40, seed=EVAL_SEED).mean != m.mean
    with pytest.raises(HeldoutError, match="holds a marl policy for A1, not marl for A2"):
        evaluate_heldout(dict(rec, scenario="A2"), [root])
    assert evaluate_heldout(dict(rec, result=dict(rec["result"], best_model="gone/best.pt")), [root]) is None


def test_rows_are_added_once_per_trial_and_read_back(trial, tmp_path: Path) -> None:
    rec, root = trial
    path = tmp_path / "heldout.csv"
    gone = dict(rec, trial_id="marl-A1-s9-000000000000", result=dict(rec["result"], best_model="gone/best.pt"))
    assert add_heldout([rec, gone], [root], path, episodes=20) == (1, ["marl-A1-s9-000000000000"])
    first = path.read_text()
    (row,) = read_heldout(path)
    assert row["trial_id"] == rec["trial_id"] and row["episodes"] == 20 and np.isfinite(row["heldout_savings"])
    assert add_heldout([rec], [root], path, episodes=50) == (0, [])  # computed once: never re-evaluated
    assert path.read_text() == first
    assert read_heldout(tmp_path / "none.csv") == []
    for bad in (1, 0, -5, 100_001, 2.5):
        with pytest.raises(HeldoutError, match="held-out episodes must be a whole number from 2 to 100,000"):
            add_heldout([rec], [root], tmp_path / "other.csv", episodes=bad)
    assert not (tmp_path / "other.csv").exists()
    assert grid.grid_cli(["heldout", "--results", str(root / "runs" / "results.jsonl"),
                          "--to", str(tmp_path / "cli.csv"), "--episodes", "1"]) == 2


def _write(path: Path, rows: list[list[str]], header: tuple[str, ...] = heldout.COLUMNS) -> Path:
    path.write_text("\n".join(",".join(r) for r in [list(header), *rows]) + "\n")
    return path


GOOD = ["marl-A1-s0-abc", "A1", "marl", "quick", "3000017", "500", "0.1", "90", "100", "0.1", "0.01", "f00"]


@pytest.mark.parametrize("rows, header, match", [
    ([GOOD, GOOD], heldout.COLUMNS, "a second row for marl-A1-s0-abc"),
    ([GOOD[:7] + ["nan"] + GOOD[8:]], heldout.COLUMNS, "finite"),
    ([GOOD[:5] + ["x"] + GOOD[6:]], heldout.COLUMNS, "line 2"),
    ([["../../etc"] + GOOD[1:]], heldout.COLUMNS, "cannot name a held-out row"),
    ([GOOD], heldout.COLUMNS[:-1], "expected"),
])
def test_malformed_heldout_files_are_refused(tmp_path: Path, rows, header, match) -> None:
    with pytest.raises(HeldoutError, match=match):
        read_heldout(_write(tmp_path / "h.csv", rows, header))


def test_an_oversized_heldout_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    p = _write(tmp_path / "h.csv", [GOOD])
    monkeypatch.setattr(heldout, "MAX_BYTES", 100)
    with pytest.raises(HeldoutError, match="at most 100 bytes"):
        read_heldout(p)


def test_heldout_table_states_the_gap_by_cell_and_overall() -> None:
    def row(tid: str, sc: str, rec: float, held: float) -> dict:
        return {"trial_id": tid, "scenario": sc, "model": "imarl", "preset": "quick", "seed": 3_000_017,
                "episodes": 500, "recorded_savings": rec, "heldout_savings": held, "heldout_savings_se": 0.004}

    text = heldout_table([row("a", "B3", 0.12, 0.11), row("b", "B3", 0.10, 0.09), row("c", "C1", 0.01, 0.02)])
    assert "| B3 | imarl | quick | 2 | +11.00 % | +10.00 % | +1.00 | 0.40 |" in text
    assert "| C1 | imarl | quick | 1 | +1.00 % | +2.00 % | -1.00 | 0.40 |" in text
    # gaps +1, +1, -1 points: mean +0.33, sd 1.155, se 0.67
    assert "by +0.33 points on average (standard error 0.67; largest +1.00)" in text
    assert heldout_table([]) == ""


def test_publish_writes_heldout_rows_and_the_report_shows_them(trial, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from baselines.grid_report import write_report

    rec, root = trial
    store = root / "runs" / "results.jsonl"
    pub = tmp_path / "pub" / "results.jsonl"
    # the published files change while publishing; the evaluating code is labelled as it was before
    written = {"yes": False}
    real_publish = grid.publish

    def publish(*a, **kw):
        written["yes"] = True
        return real_publish(*a, **kw)

    monkeypatch.setattr(grid, "publish", publish)
    monkeypatch.setattr(heldout, "code_version", lambda: {"git_commit": "c" * 40, "git_dirty": written["yes"]})
    assert grid.grid_cli(["publish", "--results", str(store), "--to", str(pub), "--allow-dirty"]) == 0
    (row,) = read_heldout(pub.parent / "heldout.csv")
    assert row["trial_id"] == rec["trial_id"] and row["episodes"] == heldout.HELDOUT_EPISODES
    assert written["yes"] and row["git_commit"] == "c" * 40
    assert heldout.evaluating_code() == "c" * 40 + "-dirty"
    write_report(read_records(pub), tmp_path / "rep", tmp_path / "none.csv", heldout=[row])
    md = (tmp_path / "rep" / "grid.md").read_text()
    assert "## Recorded and held-out savings" in md and "| A1 | marl | custom | 1 |" in md


def test_the_report_refuses_a_malformed_heldout_file_with_its_reason(trial, tmp_path: Path, capsys) -> None:
    from baselines.grid_report import report_cli

    rec, root = trial
    bad = _write(tmp_path / "h.csv", [GOOD, GOOD])
    assert report_cli(["--results", str(root / "runs" / "results.jsonl"), "--out", str(tmp_path / "rep"),
                       "--heldout", str(bad)]) == 2
    assert "a second row for marl-A1-s0-abc" in capsys.readouterr().err
