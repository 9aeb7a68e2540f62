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
    assert "Over the 3 trials that beat DA on the protocol it is +0.33 points (standard error 0.67)." in text
    # a trial far behind DA: counted overall, not among those that beat DA
    text = heldout_table([row("a", "B3", 0.12, 0.11), row("b", "B3", 0.10, 0.09), row("d", "D1", -5.0, -4.0)])
    assert "Over 3 trials the recorded saving exceeds the held-out one by -32.67 points" in text
    assert "Over the 2 trials that beat DA on the protocol it is +1.00 points (standard error 0.00)." in text
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
    table, _, _ = _heuristics_table(tmp_path / "heuristics.csv")
    assert grid.grid_cli(["publish", "--results", str(store), "--to", str(pub), "--allow-dirty",
                          "--heuristics", str(table)]) == 0
    (row,) = read_heldout(pub.parent / "heldout.csv")
    assert row["trial_id"] == rec["trial_id"] and row["episodes"] == heldout.HELDOUT_EPISODES
    assert written["yes"] and row["git_commit"] == "c" * 40
    assert heldout.evaluating_code() == "c" * 40 + "-dirty"
    write_report(read_records(pub), tmp_path / "rep", tmp_path / "none.csv", heldout=[row])
    md = (tmp_path / "rep" / "grid.md").read_text()
    assert "## Recorded and held-out savings" in md and "| A1 | marl | custom | 1 |" in md
    # the searched policies went onto the same held-out episodes; the report puts the trial against them
    from baselines.grid_report import report_cli
    from baselines.heldout_base import read_base_stock_heldout

    base = {r["method"]: r for r in read_base_stock_heldout(pub.parent / "heldout_base_stock.csv")}
    assert sorted(base) == ["DA", "echelon", "searched"] and base["DA"]["heldout_cost"] == row["heldout_da_cost"]
    assert base["searched"]["git_commit"] == "c" * 40
    assert report_cli(["--results", str(pub), "--out", str(tmp_path / "rep2"), "--heuristics", str(table),
                       "--heldout", str(pub.parent / "heldout.csv")]) == 0
    md = (tmp_path / "rep2" / "grid.md").read_text()
    ech = (base["echelon"]["heldout_cost"] - row["heldout_cost"]) / base["echelon"]["heldout_cost"]
    # the per-episode costs behind both means: the standard error of the paired saving, computed here by hand
    from baselines.heldout_episodes import read_episode_costs

    eps = read_episode_costs(pub.parent / "heldout_episodes.csv")
    assert sorted(eps) == sorted([("A1", rec["trial_id"]), ("A1", "DA"), ("A1", "searched"), ("A1", "echelon")])
    pol = load_policy(root / rec["result"]["best_model"]).policy
    mine = evaluate(pol, "A1", episodes=heldout.HELDOUT_EPISODES, seed=heldout.HELDOUT_SEED).episode_costs
    np.testing.assert_allclose(eps[("A1", rec["trial_id"])]["costs"], mine, rtol=1e-9)
    theirs = eps[("A1", "echelon")]["costs"]
    assert eps[("A1", "echelon")]["levels"] == base["echelon"]["levels"]
    d = theirs - mine
    se = d.std(ddof=1) / math.sqrt(d.size) / theirs.mean()
    assert "## The best trial on held-out episodes, against the base-stock policies" in md
    assert f"| {100 * ech:+.1f} % ({100 * se:.1f}) |" in md.split("against the base-stock policies")[1]


def test_the_report_refuses_a_malformed_heldout_file_with_its_reason(trial, tmp_path: Path, capsys) -> None:
    from baselines.grid_report import report_cli

    rec, root = trial
    bad = _write(tmp_path / "h.csv", [GOOD, GOOD])
    assert report_cli(["--results", str(root / "runs" / "results.jsonl"), "--out", str(tmp_path / "rep"),
                       "--heldout", str(bad)]) == 2
    assert "a second row for marl-A1-s0-abc" in capsys.readouterr().err
    # a row of another run of the trial (another recorded saving) is not shown as this record's
    row = evaluate_heldout(rec, [root], episodes=10)
    other = [str(row[c]) for c in heldout.COLUMNS]
    other[heldout.COLUMNS.index("recorded_savings")] = repr(rec["result"]["savings"] + 0.01)
    assert report_cli(["--results", str(root / "runs" / "results.jsonl"), "--out", str(tmp_path / "rep"),
                       "--heldout", str(_write(tmp_path / "h2.csv", [other]))]) == 2
    assert "the row was computed from another run of the trial" in capsys.readouterr().err
    ok = [str(row[c]) for c in heldout.COLUMNS]
    assert report_cli(["--results", str(root / "runs" / "results.jsonl"), "--out", str(tmp_path / "rep"),
                       "--heldout", str(_write(tmp_path / "h3.csv", [ok]))]) == 0


# ---------------------------------------------------------------- base-stock policies on the same draws
def _heuristics_table(path: Path, bump: int = 1) -> tuple[Path, np.ndarray, np.ndarray]:
    """A heuristics table for A1 as `meio heuristic` writes it: DA, a 'searched' vector and echelon levels."""
    from meio_envs.base_stock_search import echelon_matrix
    from meio_envs.heuristic_levels import da_levels

    params = resolve_params("A1")[0]
    da = np.asarray(da_levels(params.network))
    local = da + bump
    ech = local @ echelon_matrix(params)
    lines = ["scenario,method,levels,mean_cost,ci_low,ci_high,seconds"]
    for method, lv in (("DA", da), ("searched", local), ("echelon", ech)):
        lines.append(f"A1,{method},{' '.join(str(int(x)) for x in lv)},1.0,1.0,1.0,0.0")
    path.write_text("\n".join(lines) + "\n")
    return path, local, ech


def test_base_stock_rows_are_the_searched_policies_on_the_trials_held_out_draws(trial, tmp_path: Path) -> None:
    from baselines.heldout_base import add_base_stock_heldout, paired_base_costs, read_base_stock_heldout
    from meio_envs.evaluation import base_stock_policy, echelon_base_stock_policy

    rec, root = trial
    table, local, ech = _heuristics_table(tmp_path / "h.csv")
    path = tmp_path / "base.csv"
    assert add_base_stock_heldout(["A1", "B1"], path, table, episodes=20, code="c0") == 3  # B1: not in the table
    rows = {r["method"]: r for r in read_base_stock_heldout(path)}
    params = resolve_params("A1")[0]
    seed = heldout.HELDOUT_SEED
    assert rows["searched"]["heldout_cost"] == evaluate(base_stock_policy(local, params.max_order), "A1",
                                                        episodes=20, seed=seed).mean
    assert rows["echelon"]["heldout_cost"] == evaluate(echelon_base_stock_policy(ech, params), "A1",
                                                       episodes=20, seed=seed).mean
    # DA here and DA in a trial's row are one evaluation of the same draws
    (trow,) = [evaluate_heldout(rec, [root], episodes=20)]
    assert rows["DA"]["heldout_cost"] == trow["heldout_da_cost"]
    costs = paired_base_costs([trow], rows.values())
    assert costs == {"A1": {m: rows[m]["heldout_cost"] for m in ("DA", "searched", "echelon")}}
    # other draws are not paired with the trial: left out
    assert paired_base_costs([dict(trow, episodes=21)], rows.values()) == {}
    with pytest.raises(HeldoutError, match="DA costs .* but .* in trial"):
        paired_base_costs([dict(trow, heldout_da_cost=trow["heldout_da_cost"] + 1)], rows.values())
    # computed once; a changed searched vector is costed again, and only that row
    first = path.read_text()
    assert add_base_stock_heldout(["A1"], path, table, episodes=20, code="c1") == 0 and path.read_text() == first
    _heuristics_table(table, bump=2)
    assert add_base_stock_heldout(["A1"], path, table, episodes=20, code="c1") == 2  # searched, echelon
    again = {r["method"]: r for r in read_base_stock_heldout(path)}
    assert again["DA"] == rows["DA"] and again["searched"]["git_commit"] == "c1"
    assert again["searched"]["levels"] == " ".join(str(int(x)) for x in local + 1)


@pytest.mark.parametrize("row, match", [
    ("Z9,DA,1 2,3000017,500,10.0,c", "must be a scenario id as the package writes it .* one of DA, searched, echelon"),
    ("a1,DA,1 2,3000017,500,10.0,c", "must be a scenario id as the package writes it"),
    ("A1,greedy,1 2,3000017,500,10.0,c", "must be a scenario id .* and one of"),
    ("A1,DA,1 2,3000017,500,inf,c", "finite"),
    ("A1,DA,1 2,3000017,x,10.0,c", "line 2"),
])
def test_malformed_base_stock_files_are_refused(tmp_path: Path, row: str, match: str) -> None:
    from baselines.heldout_base import BASE_COLUMNS, read_base_stock_heldout

    p = tmp_path / "b.csv"
    p.write_text(",".join(BASE_COLUMNS) + "\n" + row + "\n")
    with pytest.raises(HeldoutError, match=match):
        read_base_stock_heldout(p)
    p.write_text(",".join(BASE_COLUMNS) + "\n" + "A1,DA,1 2,3000017,500,10.0,c\n" * 2)
    with pytest.raises(HeldoutError, match="a second row for A1 DA"):
        read_base_stock_heldout(p)
    p.write_text("scenario,method\nA1,DA\n")
    with pytest.raises(HeldoutError, match="columns"):
        read_base_stock_heldout(p)
    p.write_text(",".join(BASE_COLUMNS) + "\n" + "A1-LostSales,DA,1 2,3000017,500,10.0,c\n")  # an example id
    assert read_base_stock_heldout(p)[0]["scenario"] == "A1-LostSales"


def test_levels_that_do_not_fit_the_network_are_refused(tmp_path: Path) -> None:
    from baselines.heldout_base import add_base_stock_heldout

    table = tmp_path / "h.csv"
    table.write_text("scenario,method,levels,mean_cost,ci_low,ci_high,seconds\nA1,searched,1 2,1,1,1,0\n")
    with pytest.raises(HeldoutError, match="A1 searched: 2 levels for 4 stock points"):
        add_base_stock_heldout(["A1"], tmp_path / "b.csv", table, episodes=4)
    table.write_text("scenario,method,levels,mean_cost,ci_low,ci_high,seconds\nA1,searched,1 2 x 4,1,1,1,0\n")
    with pytest.raises(HeldoutError, match="not whole numbers"):
        add_base_stock_heldout(["A1"], tmp_path / "b.csv", table, episodes=4)
    assert not (tmp_path / "b.csv").exists()


def test_the_best_trial_is_judged_against_each_policy_on_held_out_draws() -> None:
    from baselines.grid_findings import clear_wins, findings_table
    from baselines.grid_report import _heldout_markdown, table_rows

    def rec(seed: int, best: float) -> dict:
        return {"trial_id": f"imarl-B1-s{seed}-x", "scenario": "B1", "model": "imarl", "experiment_id": "e",
                "preset": "quick", "seed": seed, "status": "finished", "config": {"episodes": 10},
                "result": {"savings": (100 - best) / 100, "best_cost": best, "heuristic_cost": 100.0},
                "provenance": {"wall_time_s": 1.0}}

    recs = [rec(0, 90.0), rec(1, 85.0)]  # seed 1 is the protocol's best trial
    held = [{"trial_id": "imarl-B1-s1-x", "heldout_cost": 88.0, "heldout_da_cost": 110.0},
            {"trial_id": "imarl-B1-s0-x", "heldout_cost": 80.0, "heldout_da_cost": 110.0}]
    base = {"B1": {"DA": 110.0, "searched": 95.0, "echelon": 87.0}}
    (row,) = table_rows(recs, {"B1": {"searched": 92.0, "echelon": 84.0}}, held, base)
    assert row["best_trial"] == "imarl-B1-s1-x"  # chosen on the protocol, not on held-out draws
    assert row["heldout_best_savings_vs_DA"] == pytest.approx(22 / 110)
    assert row["heldout_best_savings_vs_searched"] == pytest.approx(7 / 95)
    assert row["heldout_best_savings_vs_echelon"] == pytest.approx(-1 / 87)
    assert row["best_savings_vs_echelon"] == pytest.approx(-1 / 84)
    md = _heldout_markdown([row])
    assert "beats the searched echelon policy in 0 of 1 cells" in md
    assert "| B1 | imarl | quick | imarl-B1-s1-x | +15.0 % | +20.0 % | +7.6 % | +7.4 % | -1.2 % | -1.1 % |" in md
    (plain,) = table_rows(recs, {"B1": {"searched": 92.0, "echelon": 84.0}})
    assert plain["heldout_best_savings_vs_DA"] is None and _heldout_markdown([plain]) == ""
    text = findings_table([row], "quick")
    assert "on held-out episodes it beats it in 0 of the 1 scenarios evaluated there (median -1.1 %)" in text
    assert "standard errors" not in text and "standard errors" not in md
    # with the paired standard errors: a +7.4 % saving with SE 4 points is not two of them, with SE 1 it is
    for se, clear in ((0.04, 0), (0.01, 1)):
        paired = {("imarl-B1-s1-x", "searched"): (7 / 95, se), ("imarl-B1-s1-x", "echelon"): (-1 / 87, 0.004)}
        (row,) = table_rows(recs, {"B1": {"searched": 92.0, "echelon": 84.0}}, held, base, paired)
        assert row["heldout_best_savings_vs_searched_se"] == se and row["heldout_best_savings_vs_echelon_se"] == 0.004
        assert clear_wins([row], "searched") == (clear, 1) and clear_wins([row]) == (0, 1)
        md = _heldout_markdown([row])
        assert f"| +7.6 % | +7.4 % ({100 * se:.1f}) | -1.2 % | -1.1 % (0.4) |" in md
        assert "in 0 of 1 cells, by more than two standard errors in 0 of the 1 cells with per-episode costs" in md
    assert "by more than two standard errors in 0 of the 1 with per-episode costs" in findings_table([row], "quick")
    # a pair for another trial than the cell's best is not this cell's
    (row,) = table_rows(recs, {"B1": {}}, held, base, {("imarl-B1-s0-x", "echelon"): (0.1, 0.01)})
    assert row["heldout_best_savings_vs_echelon_se"] is None


# ---------------------------------------------------------------- per-episode costs: standard errors
def test_paired_savings_by_hand() -> None:
    # reference costs 2, 2, 5 (mean 3); the policy's 1, 2, 3: differences 1, 0, 2 (mean 1, sd 1)
    saving, se = heldout.paired_savings(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0]))
    assert saving == pytest.approx(1 / 3) and se == pytest.approx(1 / math.sqrt(3) / 3)
    assert heldout.paired_savings(np.array([4.0]), np.array([5.0])) == (pytest.approx(0.2), 0.0)
    with pytest.raises(ValueError, match="two equal 1-D arrays"):
        heldout.paired_savings(np.ones(3), np.ones(4))


def test_rows_older_than_the_episode_file_get_their_costs_and_are_checked(trial, tmp_path: Path) -> None:
    from baselines.heldout_base import add_base_stock_heldout, read_base_stock_heldout
    from baselines.heldout_episodes import EPISODES_FILE, read_episode_costs

    rec, root = trial
    path = tmp_path / "heldout.csv"
    table, _, _ = _heuristics_table(tmp_path / "h.csv")
    assert add_heldout([rec], [root], path, episodes=20, code="c0") == (1, [])
    assert add_base_stock_heldout(["A1"], tmp_path / "heldout_base_stock.csv", table, episodes=20, code="c0") == 3
    eps_path = tmp_path / EPISODES_FILE
    first = read_episode_costs(eps_path)
    (row,) = read_heldout(path)
    assert first[("A1", rec["trial_id"])]["costs"].mean() == pytest.approx(row["heldout_cost"], rel=1e-9)
    # as a row written before the file existed: its costs are evaluated again on the row's own draws
    held_text, base_text = path.read_text(), (tmp_path / "heldout_base_stock.csv").read_text()
    eps_path.unlink()
    assert add_heldout([rec], [root], path, episodes=50, code="c1") == (0, [])
    assert add_base_stock_heldout(["A1"], tmp_path / "heldout_base_stock.csv", table, episodes=20, code="c1") == 0
    assert path.read_text() == held_text and (tmp_path / "heldout_base_stock.csv").read_text() == base_text
    again = read_episode_costs(eps_path)
    assert sorted(again) == sorted(first) and again[("A1", rec["trial_id"])]["episodes"] == 20
    for k in first:
        np.testing.assert_array_equal(again[k]["costs"], first[k]["costs"])
        assert again[k]["git_commit"] == "c1"
    # a mean its costs do not reproduce is refused, not overwritten
    eps_path.unlink()
    path.write_text(held_text.replace(repr(row["heldout_cost"]), repr(row["heldout_cost"] + 1)))
    with pytest.raises(HeldoutError, match=r"its model costs .* now, but .*\(evaluated by c0\)"):
        add_heldout([rec], [root], path, episodes=20)
    assert not eps_path.exists()
    base_rows = {r["method"]: r for r in read_base_stock_heldout(tmp_path / "heldout_base_stock.csv")}
    ech = base_rows["echelon"]["heldout_cost"]
    (tmp_path / "heldout_base_stock.csv").write_text(base_text.replace(repr(ech), repr(ech * 1.01)))
    with pytest.raises(HeldoutError, match=r"A1 echelon: costs .* now, but .*\(evaluated by c0\)"):
        add_base_stock_heldout(["A1"], tmp_path / "heldout_base_stock.csv", table, episodes=20)


def test_the_report_checks_the_episodes_against_the_means(trial, tmp_path: Path) -> None:
    from baselines.heldout_base import add_base_stock_heldout, read_base_stock_heldout
    from baselines.heldout_episodes import EPISODES_FILE, add_episode_costs, paired_vs_base, read_episode_costs

    rec, root = trial
    path = tmp_path / "heldout.csv"
    table, _, _ = _heuristics_table(tmp_path / "h.csv")
    add_heldout([rec], [root], path, episodes=20, code="c0")
    add_base_stock_heldout(["A1"], tmp_path / "heldout_base_stock.csv", table, episodes=20, code="c0")
    held, base = read_heldout(path), read_base_stock_heldout(tmp_path / "heldout_base_stock.csv")
    eps = read_episode_costs(tmp_path / EPISODES_FILE)
    pairs = paired_vs_base(held, base, eps)
    assert sorted(pairs) == sorted((rec["trial_id"], m) for m in ("DA", "searched", "echelon"))
    # against DA it is the row's own paired saving
    assert pairs[(rec["trial_id"], "DA")][0] == pytest.approx(held[0]["heldout_savings"], rel=1e-6)
    assert pairs[(rec["trial_id"], "DA")][1] == pytest.approx(held[0]["heldout_savings_se"], rel=1e-6)
    # levels searched again since: those episodes are of other levels, so no pair
    moved = [dict(b, levels="1 1 1 1") if b["method"] == "echelon" else b for b in base]
    assert (rec["trial_id"], "echelon") not in paired_vs_base(held, moved, eps)
    # costs that do not average to the recorded mean: the files do not describe one experiment
    bad = dict(eps[("A1", "searched")], costs=eps[("A1", "searched")]["costs"] + 1.0)
    add_episode_costs(tmp_path / EPISODES_FILE, [bad])
    with pytest.raises(HeldoutError, match="A1 searched: its per-episode held-out costs .* do not average"):
        paired_vs_base(held, base, read_episode_costs(tmp_path / EPISODES_FILE))
    bad = dict(eps[("A1", rec["trial_id"])], costs=eps[("A1", rec["trial_id"])]["costs"] * 2)
    with pytest.raises(HeldoutError, match="do not average to its held-out cost"):
        paired_vs_base(held, base, {("A1", rec["trial_id"]): bad})


EP_GOOD = ["A1", "echelon", "1 2 3 4", "3000017", "3", "1.5 2 2.5", "c"]


@pytest.mark.parametrize("rows, match", [
    ([EP_GOOD, EP_GOOD], "a second row for A1 echelon"),
    ([EP_GOOD[:5] + ["1.5 2"] + EP_GOOD[6:]], "one finite cost for each .*2 costs"),
    ([EP_GOOD[:5] + ["1.5 nan 2"] + EP_GOOD[6:]], "finite"),
    ([EP_GOOD[:5] + ["1.5 x 2"] + EP_GOOD[6:]], "line 2"),
    ([EP_GOOD[:3] + ["3000017", "1", "1.5"] + EP_GOOD[6:]], "needs 2 to 100,000 episodes"),
    ([EP_GOOD[:1] + ["../../etc/passwd"] + EP_GOOD[2:]], "cannot name a held-out episodes row"),
])
def test_malformed_episode_files_are_refused(tmp_path: Path, rows, match) -> None:
    from baselines.heldout_episodes import EPISODE_COLUMNS, read_episode_costs

    with pytest.raises(HeldoutError, match=match):
        read_episode_costs(_write(tmp_path / "e.csv", rows, EPISODE_COLUMNS))
    assert read_episode_costs(_write(tmp_path / "ok.csv", [EP_GOOD], EPISODE_COLUMNS))[("A1", "echelon")][
        "costs"].tolist() == [1.5, 2.0, 2.5]


def test_an_oversized_episode_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    from baselines import heldout_episodes

    p = _write(tmp_path / "e.csv", [EP_GOOD], heldout_episodes.EPISODE_COLUMNS)
    monkeypatch.setattr(heldout_episodes, "MAX_BYTES", 50)
    with pytest.raises(HeldoutError, match="at most 50 bytes"):
        heldout_episodes.read_episode_costs(p)
