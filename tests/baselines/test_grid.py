"""The grid runner's resumability and summary (with a fake trainer, so it is fast)."""

from __future__ import annotations

import sys
import types

from baselines import cli, grid
from baselines.common.results import append_result, read_results


def test_grid_skips_done_trials_and_summarises(tmp_path, monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("fake_trainer")

    def train_cli(model, argv):
        sid, seed, path = argv[0], int(argv[2]), argv[4]
        calls.append((sid, seed))
        append_result(path, dict(scenario=sid, model=model, seed=seed, best_cost=90.0 + seed,
                                 heuristic_cost=100.0, savings=(100.0 - 90.0 - seed) / 100.0,
                                 wall_time_s=1.0, env_steps=1, episodes=1, device="cpu"))
        return 0

    fake.train_cli = train_cli
    monkeypatch.setitem(sys.modules, "fake_trainer", fake)
    monkeypatch.setitem(cli.TRAINERS, "fake", "fake_trainer")
    res = tmp_path / "r.jsonl"
    args = ["--scenarios", "A1", "--models", "fake", "--seeds", "0", "1", "--results", str(res),
            "--summary-csv", str(tmp_path / "s.csv")]
    grid.grid_cli(args)
    grid.grid_cli(args + ["--seeds", "0", "1", "2"])  # resumes: only seed 2 is new
    assert calls == [("A1", 0), ("A1", 1), ("A1", 2)]
    assert len(read_results(res)) == 3
    (row,) = grid.summarise(read_results(res))
    assert row["trials"] == 3 and abs(row["best_savings"] - 0.10) < 1e-12
    assert abs(row["mean_savings"] - 0.09) < 1e-12
    assert (tmp_path / "s.csv").read_text().startswith("scenario,model")


def test_append_result_requires_fields(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="lacks fields"):
        append_result(tmp_path / "x.jsonl", {"scenario": "A1"})
