"""The results store: concurrent writers, torn lines, identities, validation."""

from __future__ import annotations

import json
import multiprocessing as mp
import warnings
from pathlib import Path

import pytest

from baselines.common.records import (
    SCHEMA,
    RecordError,
    ResultsStore,
    TrialIdentity,
    canonical,
    make_record,
    read_records,
    validate_record,
)


def _record(seed: int, **config: object) -> dict:
    ident = TrialIdentity("A1", "fake", seed, {"episodes": 10, **config})
    res = {"best_cost": 90.0, "heuristic_cost": 100.0, "savings": 0.1, "eval_seed": 1, "episodes": 10,
           "env_steps": 1280}
    return make_record(ident, res, {"wall_time_s": 1.0})


def _writer(path: str, worker: int, n: int) -> None:
    store = ResultsStore(path)
    for i in range(n):
        store.append(_record(worker * 1000 + i))
        store.append(_record(i))  # the same trials from every writer: must land once


def test_concurrent_writers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "r.jsonl")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 100)) for w in range(1, 5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    ids = [r["trial_id"] for r in read_records(path)]
    assert len(ids) == len(set(ids)) == 4 * 100 + 100  # 400 distinct + 100 shared, each once


def test_torn_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    store = ResultsStore(p)
    assert store.append(_record(0))
    with p.open("a") as fh:
        fh.write('{"schema": "meio-envs.trial/1", "trial_id": "cut')  # killed mid-write
    with pytest.warns(UserWarning, match="torn last line"):
        assert [r["seed"] for r in read_records(p)] == [0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert store.append(_record(1))
    lines = p.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["seed"] == 1
    with pytest.raises(RecordError, match="line 2"):  # now it is in the middle: corruption, not a torn write
        read_records(p)


def test_identity_changes_with_every_setting_and_not_with_dict_order() -> None:
    a = TrialIdentity("A1", "sarl", 0, {"episodes": 10, "hidden": (64, 64)})
    assert a.trial_id == TrialIdentity("A1", "sarl", 0, {"hidden": [64, 64], "episodes": 10}).trial_id
    assert a.trial_id != TrialIdentity("A1", "sarl", 0, {"episodes": 11, "hidden": (64, 64)}).trial_id
    assert a.trial_id != TrialIdentity("A1", "sarl", 1, {"episodes": 10, "hidden": (64, 64)}).trial_id
    assert a.trial_id != TrialIdentity("A1", "sarl", 0, {"episodes": 10, "hidden": (64, 64)}, version="9.9").trial_id
    assert a.experiment_id == TrialIdentity("A1", "sarl", 7, {"episodes": 10, "hidden": (64, 64)}).experiment_id
    assert a.trial_id.startswith("sarl-A1-s0-")


def test_same_identity_is_skipped_changed_setting_is_a_new_trial(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.jsonl")
    assert store.append(_record(0)) and not store.append(_record(0))
    assert store.append(_record(0, lr=1e-3))
    assert len(store.records()) == 2


def test_validation_names_what_is_wrong() -> None:
    rec = _record(0)
    assert rec["schema"] == SCHEMA
    validate_record(rec)
    bad = dict(rec, result=dict(rec["result"], savings=float("nan")))
    with pytest.raises(RecordError, match="savings"):
        validate_record(bad)
    with pytest.raises(RecordError, match="lacks fields"):
        validate_record({"scenario": "A1"})
    with pytest.raises(RecordError, match="schema"):
        validate_record(dict(rec, schema="other/2"))
    with pytest.raises(RecordError, match="seed"):
        validate_record(dict(rec, seed=True))
    with pytest.raises(TypeError, match="cannot put"):
        canonical({"f": object()})


def test_published_results_follow_the_schema() -> None:
    from baselines.grid import PUBLISHED

    recs = read_records(PUBLISHED)
    assert recs, "the published results are empty"
    ids = [r["trial_id"] for r in recs]
    assert len(ids) == len(set(ids))
    assert not [r for r in recs if str(r.get("preset") or "").startswith("smoke")]
    assert all(r["status"] == "finished" for r in recs)


def test_archived_curves_belong_to_published_trials() -> None:
    from baselines.curve_archive import read_curve
    from baselines.grid import PUBLISHED

    recs = {r["trial_id"]: r for r in read_records(PUBLISHED)}
    for f in sorted((PUBLISHED.parent / "curves").glob("*")):
        assert f.suffix == ".csv" and f.stem in recs, f"{f.name} is not the curve of a published trial"
        rows = read_curve(f)  # columns, finite numbers, episodes never decreasing
        res = recs[f.stem]["result"]
        assert rows and rows[-1]["episodes"] <= res["episodes"], f"{f.name} runs past its trial's budget"
        assert min(r["eval_cost"] for r in rows) >= 0


def test_published_heldout_rows_belong_to_published_trials() -> None:
    from baselines.grid import HELDOUT_FILE, PUBLISHED
    from baselines.heldout import HELDOUT_SEED, read_heldout

    recs = {r["trial_id"]: r for r in read_records(PUBLISHED)}
    rows = read_heldout(PUBLISHED.parent / HELDOUT_FILE)  # columns, finite numbers, one row per trial
    for row in rows:
        rec = recs.get(row["trial_id"])
        assert rec is not None, f"{row['trial_id']} has a held-out row but no published record"
        assert (row["scenario"], row["model"]) == (rec["scenario"], rec["model"])
        assert row["recorded_savings"] == rec["result"]["savings"]
        assert row["seed"] == HELDOUT_SEED and row["episodes"] >= 100
        assert row["heldout_savings"] == pytest.approx(1 - row["heldout_cost"] / row["heldout_da_cost"], rel=1e-9)


def test_published_base_stock_heldout_rows_are_the_table_s_policies_on_the_trials_draws() -> None:
    import csv

    from baselines.grid import HELDOUT_FILE, HEURISTICS, PUBLISHED
    from baselines.heldout import read_heldout
    from baselines.heldout_base import BASE_FILE, paired_base_costs, read_base_stock_heldout

    trials = read_heldout(PUBLISHED.parent / HELDOUT_FILE)
    base = read_base_stock_heldout(PUBLISHED.parent / BASE_FILE)  # columns, known scenarios, one row each
    with HEURISTICS.open(newline="") as fh:
        levels = {(r["scenario"], r["method"]): r["levels"] for r in csv.DictReader(fh)}
    for b in base:
        assert levels.get((b["scenario"], b["method"])) == b["levels"], f"{b['scenario']} {b['method']}: stale levels"
    costs = paired_base_costs(trials, base)  # raises where DA differs from the trials' DA on the same draws
    assert set(costs) == {t["scenario"] for t in trials}, "every scenario with held-out trials has base-stock rows"


def test_published_heldout_means_have_their_per_episode_costs() -> None:
    from baselines.grid import HELDOUT_FILE, PUBLISHED
    from baselines.heldout import read_heldout
    from baselines.heldout_base import BASE_FILE, read_base_stock_heldout
    from baselines.heldout_episodes import EPISODES_FILE, paired_vs_base, read_episode_costs

    trials = read_heldout(PUBLISHED.parent / HELDOUT_FILE)
    base = read_base_stock_heldout(PUBLISHED.parent / BASE_FILE)
    eps = read_episode_costs(PUBLISHED.parent / EPISODES_FILE)  # columns, one finite cost per episode
    pairs = paired_vs_base(trials, base, eps)  # raises where stored costs do not give the means beside them
    assert {t["trial_id"] for t in trials} == {tid for tid, _ in pairs}, "a held-out row without per-episode costs"
    for t in trials:  # against DA, the pair is the row's own saving and standard error
        assert pairs[(t["trial_id"], "DA")] == (pytest.approx(t["heldout_savings"], rel=1e-6, abs=1e-9),
                                                pytest.approx(t["heldout_savings_se"], rel=1e-5, abs=1e-9))


def test_atomic_write_gives_new_files_normal_permissions_and_keeps_existing_ones(tmp_path) -> None:
    import os

    from baselines.common.files import atomic_write_text

    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "t.md", "a\n")
        assert (tmp_path / "t.md").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(tmp_path / "t.md", 0o640)
        atomic_write_text(tmp_path / "t.md", "b\n")
        assert (tmp_path / "t.md").stat().st_mode & 0o777 == 0o640 and (tmp_path / "t.md").read_text() == "b\n"
    finally:
        os.umask(mask)
