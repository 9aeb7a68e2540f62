"""The grid runner: presets, summaries, publishing, and trials on a local Ray with 2 workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from baselines import grid
from baselines.common.records import ResultsStore, read_records
from baselines.grid_runner import TrialSpec, run_trials
from baselines.presets import preset_options, report_episodes

ROOT = Path(__file__).resolve().parents[2]
FAKE = "tests.baselines.grid_fake"


def _specs(out: Path, seeds, **opts) -> list[TrialSpec]:
    return [TrialSpec("fake", "A1", s, opts, str(out), "smoke", module=FAKE) for s in seeds]


def test_presets_follow_table_b3() -> None:
    assert report_episodes("sarl", "A1") == 25_000 and report_episodes("sarl-gnn", "B4") == 200_000
    assert report_episodes("sarl", "D1") == 300_000 and report_episodes("marl", "C3") == 20_000
    assert preset_options("quick", "sarl", "B3") == {"episodes": 15_000}
    imarl = preset_options("report", "imarl", "B1")  # 9 stock points, 2 iterations each
    assert imarl == {"episodes_per_iteration": 25_000, "max_agent_iterations": 18, "episodes": 450_000}
    with pytest.raises(ValueError, match="unknown budget preset"):
        preset_options("huge", "sarl", "A1")


def test_parse_sets() -> None:
    assert grid.parse_sets(["episodes=2000", "hidden=[32,32]", "order=greedy", "anneal-lr=true"]) == {
        "episodes": 2000, "hidden": [32, 32], "order": "greedy", "anneal_lr": True}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        grid.parse_sets(["episodes"])


def test_in_process_grid_skips_finished_and_records_failures(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.jsonl")
    c = run_trials(_specs(tmp_path, [0, 1, 13]), store, use_ray=False, live=False, say=lambda s: None)
    assert c == {"done": 2, "failed": 1, "skipped": 0}
    c = run_trials(_specs(tmp_path, [0, 1, 2, 13]), store, use_ray=False, live=False, say=lambda s: None)
    assert c == {"done": 1, "failed": 1, "skipped": 2}  # the failed trial is tried again
    recs = read_records(store.path)
    failed = [r for r in recs if r["status"] == "failed"]
    assert len(failed) == 2 and "fails on purpose" in failed[0]["error"]["message"]
    assert sorted(r["seed"] for r in recs if r["status"] == "finished") == [0, 1, 2]
    rows = grid.summarise(recs)
    assert len(rows) == 1 and rows[0]["trials"] == 3 and rows[0]["best_savings"] == pytest.approx(0.02)
    assert rows[0]["mean_savings"] == pytest.approx(0.01)
    # another setting is another experiment, in its own folder
    run_trials(_specs(tmp_path, [0], episodes=20), store, use_ray=False, live=False, say=lambda s: None)
    assert len(grid.summarise(read_records(store.path))) == 2


def test_publish_validates_and_deduplicates(tmp_path: Path) -> None:
    src = ResultsStore(tmp_path / "r.jsonl")
    run_trials([TrialSpec("fake", "A1", s, {}, str(tmp_path), "quick", module=FAKE) for s in (0, 1)], src,
               use_ray=False, live=False, say=lambda s: None)
    recs = src.records()
    clean = [dict(r, provenance=dict(r["provenance"], git_dirty=False)) for r in recs]
    dest = tmp_path / "published.jsonl"
    assert grid.publish(clean, dest) == (2, 0)
    assert grid.publish(clean, dest) == (0, 2)
    dirty = [dict(r, provenance=dict(r["provenance"], git_dirty=True)) for r in recs]
    with pytest.raises(Exception, match="uncommitted"):
        grid.publish(dirty, tmp_path / "other.jsonl")
    with pytest.raises(Exception, match="smoke"):
        grid.publish([dict(clean[0], preset="smoke")], tmp_path / "other.jsonl")


@pytest.fixture
def ray_env(monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # Ray workers import the fake trainer from tests/
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")


def test_local_ray_two_workers_all_land_once_failure_recorded(tmp_path: Path, ray_env) -> None:
    store = ResultsStore(tmp_path / "r.jsonl")
    c = run_trials(_specs(tmp_path, [0, 1, 2, 13, 4], sleep=0.2), store, workers=2, live=False, say=lambda s: None)
    assert c == {"done": 4, "failed": 1, "skipped": 0}
    recs = read_records(store.path)
    assert sorted(r["seed"] for r in recs if r["status"] == "finished") == [0, 1, 2, 4]
    (failed,) = [r for r in recs if r["status"] == "failed"]
    assert failed["seed"] == 13 and failed["error"]["type"] == "RuntimeError"
    assert len({r["provenance"]["host"] for r in recs}) == 1


DRIVER = textwrap.dedent("""
    import sys
    from baselines.common.records import ResultsStore
    from baselines.grid_runner import TrialSpec, run_trials
    out = sys.argv[1]
    specs = [TrialSpec("fake", "A1", s, {"sleep": 1.5}, out, "smoke", module="tests.baselines.grid_fake")
             for s in range(6)]
    run_trials(specs, ResultsStore(out + "/r.jsonl"), workers=2, live=False)
""")


def test_sigkill_of_the_driver_then_rerun_completes_without_duplicates(tmp_path: Path, ray_env) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", DRIVER, str(tmp_path)]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    store = tmp_path / "r.jsonl"
    t0 = time.time()
    while time.time() - t0 < 120 and p.poll() is None and len(read_records(store)) < 2:
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL)  # the driver only: Ray's own processes notice and end its tasks
    p.wait()
    first = len(read_records(store))
    assert 2 <= first < 6, "the grid ended before it was killed"
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    recs = read_records(store)
    assert sorted(r["seed"] for r in recs) == list(range(6)) and all(r["status"] == "finished" for r in recs)


def test_report_tables_and_figures_from_records(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from baselines.grid_report import write_report

    store = ResultsStore(tmp_path / "r.jsonl")
    run_trials(_specs(tmp_path, [0, 1, 2]), store, use_ray=False, live=False, say=lambda s: None)
    heur = tmp_path / "h.csv"
    heur.write_text("scenario,method,levels,mean_cost,ci_low,ci_high,seconds\n"
                    "A1,DA,1,100.0,99,101,0\nA1,searched,1,99.0,98,100,0\nA1,echelon,1,95.0,94,96,0\n")
    files = write_report(store.records(), tmp_path / "rep", heur)
    names = {f.name for f in files}
    assert {"grid.csv", "grid.md", "savings_best_smoke.png", "savings_mean_smoke.png", "trials.png"} <= names
    md = (tmp_path / "rep" / "grid.md").read_text().splitlines()
    # totals: 'fake' is none of the report's five models, so it fills an "other" cell; 3 trials
    assert md[2].startswith("| smoke | 0 of 65 | 1 | 3 | ") and md[3] == ""
    table = md[4:]
    assert len(table) == 3 and "| A1 | fake | smoke |" in table[2]
    # best trial: cost 98 -> +2 % vs DA, +1.0 % vs searched local (99), -3.2 % vs echelon (95)
    assert "+2.0 %" in table[2] and "+1.0 %" in table[2] and "-3.2 %" in table[2]


def test_group_specs_batches_seeds_of_one_setting_only(tmp_path: Path) -> None:
    from baselines.grid_runner import group_specs

    marl = [TrialSpec("marl", "A1", s, {"episodes": 104}, str(tmp_path), "smoke") for s in range(5)]
    other = [TrialSpec("marl", "A1", 0, {"episodes": 208}, str(tmp_path), "smoke")]
    fake = _specs(tmp_path, [0, 1])  # the fake trainer has no run_trials: one task per trial
    tasks = group_specs(marl + other + fake, None)
    assert [[s.seed for s in t] for t in tasks] == [[0, 1, 2, 3, 4], [0], [0], [1]]
    assert [t[0].options["episodes"] for t in tasks[:2]] == [104, 208]
    assert [[s.seed for s in t] for t in group_specs(marl, 2)] == [[0, 1], [2, 3], [4]]
    assert all(len(t) == 1 for t in group_specs(marl, 1))
    with pytest.raises(ValueError, match="batch_seeds must be >= 1"):
        group_specs(marl, 0)


def test_seed_batched_grid_task_equals_solo_trials_and_shares_core_hours(tmp_path: Path) -> None:
    """Two MARL seeds as one grid task give the records of the same seeds run as tasks of one."""
    opts = {"episodes": 32, "eval_episodes": 5, "num_envs": 4, "num_steps": 128, "eval_every": 16}

    def specs(out: Path) -> list[TrialSpec]:
        return [TrialSpec("marl", "A1", s, opts, str(out), "custom") for s in (0, 1)]

    say: list[str] = []
    batched = ResultsStore(tmp_path / "b.jsonl")
    c = run_trials(specs(tmp_path / "b"), batched, use_ray=False, live=False, say=say.append)
    assert c == {"done": 2, "failed": 0, "skipped": 0} and "as 1 tasks (2 trials seed-batched)" in say[0]
    solo = ResultsStore(tmp_path / "s.jsonl")
    run_trials(specs(tmp_path / "s"), solo, use_ray=False, live=False, say=lambda s: None, batch_seeds=1)
    b, s = sorted(batched.records(), key=lambda r: r["seed"]), sorted(solo.records(), key=lambda r: r["seed"])
    assert [r["trial_id"] for r in b] == [r["trial_id"] for r in s]
    for rb, rs in zip(b, s):
        assert rb["result"]["batched_trials"] == 2 and rs["result"]["batched_trials"] == 1
        assert rb["result"]["best_cost"] == rs["result"]["best_cost"]
        assert rb["result"]["env_steps"] == rs["result"]["env_steps"]
        assert rb["preset"] == "custom"
        assert grid.trial_core_hours(rb) == pytest.approx(rb["provenance"]["wall_time_s"] / 2 / 3600)
    # rerun: both finished, nothing scheduled
    assert run_trials(specs(tmp_path / "b"), batched, use_ray=False, live=False,
                      say=lambda s: None) == {"done": 0, "failed": 0, "skipped": 2}
    # the report draws the best trial's learned policy from its model file (Figure 10)
    pytest.importorskip("matplotlib")
    from baselines.grid_report import write_report

    names = {f.name for f in write_report(b, tmp_path / "rep", tmp_path / "none.csv", policies=300)}
    assert "policy_A1_marl_custom.png" in names and "curves_A1_marl.png" in names
    page = (tmp_path / "rep" / "figures.md").read_text()  # every figure of the folder is shown on one page
    for name in names - {"grid.csv", "grid.md", "figures.md"}:
        assert f"]({name})" in page


def _row(scenario: str, model: str, best: float, mean: float, vs_echelon: float | None = None) -> dict:
    return {"scenario": scenario, "model": model, "preset": "quick", "best_savings": best, "mean_savings": mean,
            "best_savings_vs_echelon": vs_echelon}


def test_findings_rules_on_a_hand_made_grid(tmp_path: Path) -> None:
    from baselines.grid_findings import BEGIN, END, findings_table, write_findings

    rows = []
    for s, (imarl, marl, sarl) in {"A1": (0.10, 0.08, 0.07), "B1": (0.07, 0.09, 0.05),
                                   "C1": (0.12, 0.10, 0.01), "D1": (-0.01, 0.02, -0.05)}.items():
        rows += [_row(s, "imarl", imarl, imarl - 0.01, vs_echelon=imarl - 0.08), _row(s, "marl", marl, marl - 0.02),
                 _row(s, "sarl", sarl, sarl - 0.03), _row(s, "sarl-gnn", sarl + 0.01, sarl)]
    rows.append(dict(_row("A1", "imarl", 0.5, 0.5), preset="report"))  # another preset: never mixed in
    lines = {ln.split(" | ")[0].lstrip("| "): ln for ln in findings_table(rows, "quick").splitlines()}
    assert "16 of 65 model x scenario cells" in findings_table(rows, "quick")
    every = lines["IMARL beats the DA heuristic in every scenario (best and mean of trials)"]
    assert "in 3 of 4 scenarios" in every and "(not in D1)" in every and every.endswith("| disagrees |")
    best = lines["IMARL is the best of the five models"]
    assert "in 2 of 4 scenarios" in best and best.endswith("| disagrees |")  # A1 and C1; B1 and D1 go to MARL
    rng = lines["IMARL saves 6-14 % against DA in most scenarios"]
    assert "-1.0 % to +12.0 %" in rng and "within 6-14 % in 3 of 4" in rng and rng.endswith("| agrees |")
    # SARL's gap to the best: A1 3, B1 4 -> 3.5 points; C1 11, D1 7 -> 9.0 points
    sarl = lines["SARL falls behind from three echelons on (C, D)"]
    assert "by 3.5 points in 2-echelon" in sarl and "9.0 points in 3-echelon" in sarl and sarl.endswith("| agrees |")
    assert "beats SARL's in 4 of 4" in lines["MARL is better than SARL in most scenarios"]
    twins = lines["The GNN variants are about equal to their twins"]
    assert "sarl-gnn - sarl: mean +1.0 points over 4" in twins and twins.endswith("| agrees |")
    page = tmp_path / "findings.md"
    page.write_text("# Findings\n\nintro\n\n" + BEGIN + "\nold\n" + END + "\n\n## Discussion\nkept\n")
    write_findings(page, rows, ["quick"])
    text = page.read_text()
    assert "old" not in text and "intro" in text and "## Discussion\nkept" in text and text.count(BEGIN) == 1


def test_report_finds_learning_curves_under_any_of_several_run_roots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from baselines.grid_report import write_report

    store = ResultsStore(tmp_path / "r.jsonl")
    run_trials(_specs(tmp_path / "a", [0, 1]), store, use_ray=False, live=False, say=lambda s: None)
    recs = [dict(r, result=dict(r["result"], curve=f"runs/s{r['seed']}/curve.csv")) for r in store.records()]
    for seed, root in ((0, tmp_path / "first"), (1, tmp_path / "second")):
        (root / f"runs/s{seed}").mkdir(parents=True)
        (root / f"runs/s{seed}/curve.csv").write_text("episodes,env_steps,eval_cost,best_cost\n0,0,500,500\n"
                                                       "100,800,120,120\n")
    both = [tmp_path / "first", tmp_path / "second"]
    names = {f.name for f in write_report(recs, tmp_path / "rep", tmp_path / "none.csv", both, archives=[])}
    assert "curves_A1_fake.png" in names  # seed 0's curve under the first root, seed 1's under the second
    names = {f.name for f in write_report(recs, tmp_path / "rep2", tmp_path / "none.csv", [tmp_path / "elsewhere"],
                                          archives=[])}
    assert "curves_A1_fake.png" not in names  # no curve file under the given root: no figure, no error


def test_publish_archives_curves_and_report_redraws_from_the_archive_alone(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from baselines.curve_archive import COLUMNS, CurveError, archive_curves, read_curve
    from baselines.grid_report import write_report

    src = tmp_path / "work" / "runs" / "grid" / "results.jsonl"
    run_trials([TrialSpec("fake", "A1", s, {}, str(tmp_path / "work" / "runs"), "quick", module=FAKE)
                for s in (0, 1, 2)], ResultsStore(src), use_ray=False, live=False, say=lambda s: None)
    # run paths relative to the folder the grid ran in, as the real runner writes them
    recs = [dict(r, result=dict(r["result"], curve=str(Path(r["result"]["curve"]).relative_to(tmp_path / "work"))),
                 provenance=dict(r["provenance"], git_dirty=False)) for r in read_records(src)]
    clean = tmp_path / "work" / "clean.jsonl"  # the CLI finds the run folders above the store by default
    for r in recs:
        ResultsStore(clean).append(r)
    pub = tmp_path / "pub" / "results.jsonl"
    assert grid.grid_cli(["publish", "--results", str(clean), "--to", str(pub)]) == 0
    arch = tmp_path / "pub" / "curves"
    files = sorted(arch.glob("*.csv"))
    assert [f.stem for f in files] == sorted(r["trial_id"] for r in recs)
    rows = read_curve(files[0])
    head = files[0].read_text().splitlines()[0]
    assert head == ",".join(COLUMNS)  # wall time left out: the archive is deterministic
    assert [r["episodes"] for r in rows] == [10, 20, 30] and rows[-1]["eval_cost"] in (100.0, 99.0, 98.0)
    # publishing again adds nothing; a different curve under the same trial id is refused
    assert archive_curves(recs, [tmp_path / "work"], arch) == (0, [])
    run = tmp_path / "work" / recs[0]["result"]["curve"]
    run.write_text(run.read_text().replace("\n30,", "\n31,"))
    with pytest.raises(CurveError, match="never changes"):
        archive_curves(recs[:1], [tmp_path / "work"], arch)
    assert archive_curves([dict(recs[0], trial_id="fake-A1-s9-x")], [tmp_path / "nowhere"], arch) == (0, ["fake-A1-s9-x"])

    # the report draws the cell's curves from the archive with no run folder at hand
    rep = tmp_path / "rep"
    names = {f.name for f in write_report(recs, rep, tmp_path / "none.csv", [tmp_path / "nowhere"], archives=[arch])}
    assert {"curves_A1_fake.png", "curves_A1.png"} <= names  # the cell's figure and the scenario's
    before = (rep / "curves_A1_fake.png").read_bytes()
    # one trial's curve gone: the existing figure is kept, not redrawn with fewer lines
    files[0].unlink()
    said: list[str] = []
    names = {f.name for f in write_report(recs, rep, tmp_path / "none.csv", [tmp_path / "nowhere"], archives=[arch],
                                          say=said.append)}
    assert "curves_A1_fake.png" not in names and (rep / "curves_A1_fake.png").read_bytes() == before
    assert any("kept" in s and "curves_A1_fake.png" in s for s in said)
    assert "curves_A1_fake.png" in (rep / "figures.md").read_text()


def test_a_rerun_with_another_result_lends_the_published_trial_nothing(tmp_path: Path, capsys) -> None:
    """Curves and held-out rows of a published trial come from its own run or an exact re-run only."""
    import shutil

    src = tmp_path / "work" / "runs" / "grid" / "results.jsonl"
    run_trials([TrialSpec("fake", "A1", s, {}, str(tmp_path / "work" / "runs"), "quick", module=FAKE)
                for s in (0, 1)], ResultsStore(src), use_ray=False, live=False, say=lambda s: None)
    recs = [dict(r, result=dict(r["result"], curve=str(Path(r["result"]["curve"]).relative_to(tmp_path / "work"))),
                 provenance=dict(r["provenance"], git_dirty=False)) for r in read_records(src)]
    first = tmp_path / "work" / "first.jsonl"
    for r in recs:
        ResultsStore(first).append(r)
    curve1 = tmp_path / "work" / recs[1]["result"]["curve"]
    kept = curve1.read_text()
    curve1.unlink()  # trial 1 is published without its curve
    pub = tmp_path / "pub" / "results.jsonl"
    none = ["--heuristics", str(tmp_path / "none.csv")]
    assert grid.grid_cli(["publish", "--results", str(first), "--to", str(pub), *none]) == 0
    arch = tmp_path / "pub" / "curves"
    assert sorted(f.stem for f in arch.glob("*.csv")) == [recs[0]["trial_id"]]
    # re-runs in another folder: trial 0 with the same result, trial 1 with another one
    again = tmp_path / "work" / "again.jsonl"
    for r, bump in ((recs[0], 0.0), (recs[1], 1.0)):
        old = tmp_path / "work" / Path(r["result"]["curve"]).parent
        new = Path(str(Path(r["result"]["curve"]).parent).replace("runs", "runs2", 1))
        shutil.copytree(old, tmp_path / "work" / new)
        res = dict(r["result"], curve=str(new / "curve.csv"), run_dir=str(new),
                   best_cost=r["result"]["best_cost"] + bump)
        ResultsStore(again).append(dict(r, result=res))
    (tmp_path / "work" / str(recs[1]["result"]["curve"]).replace("runs", "runs2", 1)).write_text(kept)
    assert grid.reproduces(read_records(again)[0], recs[0]) and not grid.reproduces(read_records(again)[1], recs[1])
    # slower, or elsewhere: the same result all the same; batched otherwise: another run
    res0 = dict(recs[0]["result"], time_to_beat_heuristic_s=99.0, run_dir="elsewhere")
    assert grid.reproduces(dict(recs[0], result=res0), recs[0])
    assert not grid.reproduces(dict(recs[0], result=dict(res0, env_steps=1)), recs[0])
    assert not grid.reproduces(dict(recs[0], result=dict(res0, batched_trials=3)), recs[0])
    # a later run with the same numbers from other code, or from a tree with uncommitted changes, is another run
    later = dict(recs[0]["provenance"], started_at="2099-01-01T00:00:00+00:00")
    assert grid.reproduces(dict(recs[0], provenance=later), recs[0])
    assert not grid.reproduces(dict(recs[0], provenance=dict(later, git_commit="f" * 40)), recs[0])
    dirty = dict(recs[0], provenance=dict(later, git_dirty=True))
    assert grid.reproduces(dirty, dict(dirty)) and grid.reproduces(dict(dirty, result=res0), dirty)  # one run
    assert not grid.reproduces(dirty, recs[0]) and not grid.reproduces(recs[0], dirty)
    assert grid.reproduces(recs[0], recs[0])
    capsys.readouterr()
    assert grid.grid_cli(["publish", "--results", str(again), "--to", str(pub), *none]) == 0
    out = capsys.readouterr().out
    assert f"left out 1 records of trials published with another result ({recs[1]['trial_id']})" in out
    assert "(2 were there already)" in out
    assert sorted(f.stem for f in arch.glob("*.csv")) == [recs[0]["trial_id"]]  # nothing lent to trial 1
    assert [r["result"]["best_cost"] for r in read_records(pub)] == [r["result"]["best_cost"] for r in recs]
    # the same holds between two stores published together: the first one's run is the trial's
    other = tmp_path / "pub2" / "results.jsonl"
    assert grid.grid_cli(["publish", "--results", str(again), str(first), "--to", str(other), *none]) == 0
    assert f"left out 1 records of trials published with another result ({recs[1]['trial_id']})" in capsys.readouterr().out
    assert [r["result"]["best_cost"] for r in read_records(other)][1] == recs[1]["result"]["best_cost"] + 1


def test_run_files_of_another_run_of_the_trial_are_passed_over(tmp_path: Path) -> None:
    """Two folders under two roots hold the same trial's relative run path: only its own run's counts."""
    import json

    from baselines.curve_archive import find_run_file

    rec = {"trial_id": "fake-A1-s0-x", "config_hash": "h", "status": "finished",
           "provenance": {"started_at": "2026-12-07T10:00:00+00:00", "host": "vm", "git_commit": "a" * 40},
           "result": {"best_cost": 90.0, "curve": "run/x/curve.csv"}}
    other = dict(rec, provenance=dict(rec["provenance"], started_at="2026-12-08T10:00:00+00:00", git_commit="b" * 40))
    for root, r in (("a", other), ("b", rec), ("c", None)):
        (tmp_path / root / "run" / "x").mkdir(parents=True)
        (tmp_path / root / "run" / "x" / "curve.csv").write_text("x")
        if r is not None:
            (tmp_path / root / "run" / "x" / "result.json").write_text(json.dumps(r))
    roots = [tmp_path / "a", tmp_path / "b"]
    assert find_run_file("run/x/curve.csv", roots) == tmp_path / "a" / "run" / "x" / "curve.csv"  # no record: first
    assert find_run_file("run/x/curve.csv", roots, rec) == tmp_path / "b" / "run" / "x" / "curve.csv"
    # the store's copy of the record carries a preset label and may name its files otherwise: the same run
    assert find_run_file("run/x/curve.csv", roots[1:], dict(rec, preset="quick")) is not None
    # a re-run from the same commit with the same result is as good; one from other code is not
    rerun = dict(other, provenance=dict(other["provenance"], git_commit="a" * 40))
    (tmp_path / "a" / "run" / "x" / "result.json").write_text(json.dumps(rerun))
    assert find_run_file("run/x/curve.csv", roots, rec) == tmp_path / "a" / "run" / "x" / "curve.csv"
    # a folder without a finished record of its own (an older run) is taken as before
    assert find_run_file("run/x/curve.csv", [tmp_path / "c"], rec) == tmp_path / "c" / "run" / "x" / "curve.csv"
    (tmp_path / "b" / "run" / "x" / "result.json").write_text("{not json")
    assert find_run_file("run/x/curve.csv", roots[1:], rec) is None


@pytest.mark.parametrize("text, match", [
    ("episodes,eval_cost\n0,5\n", "no column env_steps, best_cost"),
    ("episodes,env_steps,eval_cost,best_cost\n0,0,nan,1\n", "finite"),
    ("episodes,env_steps,eval_cost,best_cost\n0,0,x,1\n", "must be numbers"),
    ("episodes,env_steps,eval_cost,best_cost\n5,0,1,1\n4,0,1,1\n", "never decrease"),
])
def test_curve_files_are_checked(tmp_path: Path, text: str, match: str) -> None:
    from baselines.curve_archive import CurveError, archived_curve, read_curve

    p = tmp_path / "c.csv"
    p.write_text(text)
    with pytest.raises(CurveError, match=match):
        read_curve(p)
    with pytest.raises(CurveError, match="cannot name a curve file"):
        archived_curve("../../etc/passwd", tmp_path)


def test_grid_totals_count_cells_of_the_report_grid_apart_from_the_rest() -> None:
    from baselines.grid_report import _totals

    def row(sc: str, model: str, preset: str, trials: int, core: float, cpu: float = 0.0, measured: int = 0) -> dict:
        return {"scenario": sc, "model": model, "preset": preset, "trials": trials, "core_hours": core,
                "cpu_hours": cpu, "cpu_measured": measured}

    rows = [row("A1", "marl", "quick", 3, 0.25, 0.2, 3), row("D1", "imarl", "quick", 3, 1.0),
            row("S1", "marl", "quick", 3, 0.05, 0.04, 3), row("A1", "my-algo", "quick", 1, 0.0, 0.01, 1),
            row("A1", "marl", "report", 10, 2.0), row("A1", "marl", "smoke", 2, 0.2, 0.1, 2)]
    lines = _totals(rows)
    assert lines[2] == "| quick | 2 of 65 | 2 | 10 | 1.3 | 0.25 (7 of 10 trials) |"
    assert lines[3] == "| report | 1 of 65 | 0 | 10 | 2.0 | - |"
    assert lines[4] == "| smoke | 1 of 65 | 0 | 2 | 0.2 | 0.10 |"


def test_records_are_checked_against_their_model_files_before_publishing(tmp_path: Path, capsys) -> None:
    """A record's best cost is what its best model file gives under the record's protocol, exactly."""
    from baselines.common.records import RecordError
    from baselines.record_check import check_record

    opts = {"episodes": 32, "eval_episodes": 5, "num_envs": 4, "num_steps": 128, "eval_every": 16}
    store = tmp_path / "work" / "runs" / "results.jsonl"
    run_trials([TrialSpec("marl", "A1", 0, opts, str(tmp_path / "work" / "runs"), "custom")], ResultsStore(store),
               use_ray=False, live=False, say=lambda s: None)
    (rec,) = read_records(store)
    roots = [tmp_path / "work"]
    assert check_record(rec, roots) == "verified"
    res = rec["result"]
    with pytest.raises(RecordError, match="do not belong together"):
        check_record(dict(rec, result=dict(res, best_cost=res["best_cost"] * (1 + 1e-6))), roots)
    with pytest.raises(RecordError, match="holds a marl policy for A1, not marl for A2"):
        check_record(dict(rec, scenario="A2"), roots)
    assert check_record(dict(rec, result=dict(res, best_model="elsewhere/best.pt")), roots) == "no model file"
    assert check_record(dict(rec, model="my-algo"), roots) == "not checkable"

    # publish refuses a store whose record disagrees with its model file, and publishes nothing
    bad = tmp_path / "work" / "bad.jsonl"
    ResultsStore(bad).append(dict(rec, result=dict(res, best_cost=res["best_cost"] + 1.0),
                                  provenance=dict(rec["provenance"], git_dirty=False)))
    pub = tmp_path / "pub" / "results.jsonl"
    assert grid.grid_cli(["publish", "--results", str(bad), "--to", str(pub)]) == 2
    assert "do not belong together" in capsys.readouterr().err and not pub.exists()
    assert grid.grid_cli(["verify", "--results", str(bad)]) == 2
    assert grid.grid_cli(["verify", "--results", str(store)]) == 0
    assert "verified 1 of 1 records" in capsys.readouterr().out


def test_grid_plan_lists_unpublished_trials_with_costs_from_the_records() -> None:
    from baselines.grid_plan import format_plan, plan_rows
    from meio_envs.scenarios import make_scenario

    def rec(model: str, sc: str, seed: int, wall: float, **opts) -> dict:
        o = dict(preset_options("quick", model, sc), **opts)
        tid = TrialSpec(model, sc, seed, o, preset="quick").identity().trial_id
        return {"trial_id": tid, "status": "finished", "model": model, "scenario": sc, "seed": seed,
                "preset": "quick", "result": {"episodes": o["episodes"]}, "provenance": {"wall_time_s": wall}}

    recs = [rec("marl", "A1", 0, 360.0), rec("marl", "A1", 1, 360.0),
            rec("marl", "A1", 2, 360.0, episodes=1000)]  # another setting: not the preset's trial for seed 2
    rows = plan_rows(recs, ["marl", "imarl"], ["A1", "A2", "S1"], [0, 1, 2], "quick")
    by = {(r["model"], r["scenario"]): r for r in rows}
    a1, a2, s1 = by[("marl", "A1")], by[("marl", "A2")], by[("marl", "S1")]
    # 360 s = 0.1 core-hours: 2,000 episodes twice and 1,000 once, so 2/3 * 1e-4 core-hours per episode
    rate = (0.1 / 2000 + 0.1 / 2000 + 0.1 / 1000) / 3
    assert a1["published"] == [0, 1] and a1["missing"] == [2]
    assert a1["core_hours"] == pytest.approx(rate * 2000) and not a1["scaled"]
    assert a2["core_hours"] == pytest.approx(rate * 2000 * 3) and not a2["scaled"]  # same network structure
    nodes = {s: make_scenario(s).network.num_nodes for s in ("A1", "S1")}
    assert s1["scaled"] and s1["core_hours"] == pytest.approx(a2["core_hours"] / nodes["A1"] * nodes["S1"])
    assert by[("imarl", "A1")]["core_hours"] is None
    text = format_plan(rows, "quick")
    assert "meio grid run --preset quick --models marl --scenarios A1 --seeds 2" in text
    assert "meio grid run --preset quick --models marl --scenarios A2 S1 --seeds 0 1 2" in text
    assert "| imarl | A1 | 20000 | - | 0 1 2 | unknown | - |" in text
    assert f"| marl | A1 | 2000 | 0 1 | 2 | {rate * 2000:.2f} | wall |" in text
    assert "Every trial asked for is published" in format_plan([], "quick")


def test_grid_plan_refuses_unknown_models_and_scenarios(capsys) -> None:
    assert grid.grid_cli(["plan", "--models", "my-algo"]) == 2
    assert "no budget presets for model 'my-algo'" in capsys.readouterr().err
    assert grid.grid_cli(["plan", "--scenarios", "Z9"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_grid_status_lists_started_unfinished_trials_with_progress_and_code(tmp_path: Path, capsys) -> None:
    import json as _json

    from baselines.common.checkpoint import save_checkpoint
    from baselines.grid_progress import format_open_trials, open_trials

    root = tmp_path / "runs" / "grid"

    def folder(model: str, sc: str, tid: str, curve: str | None = None, ck: dict | None = None,
               done: bool = False) -> Path:
        d = root / model / sc / tid
        d.mkdir(parents=True)
        (d / "config.json").write_text(_json.dumps({"trial_id": tid, "model": model, "scenario": sc, "seed": 0,
                                                   "config": {"episodes": 2000}}))
        if curve is not None:
            (d / "curve.csv").write_text("episodes,env_steps,eval_cost,best_cost\n" + curve)
        if ck is not None:
            save_checkpoint(d / "checkpoint.pt", ck)
        if done:
            (d / "result.json").write_text("{}")
        return d

    old = [{"git_commit": "a" * 40, "git_dirty": False}]
    folder("sarl", "A1", "sarl-A1-s0-x", "0,0,900.0,900.0\n400,51200,800.0,800.0\n", {"model": "sarl", "code": old})
    folder("marl", "A1", "marl-A1-s0-y", "0,0,950.0,950.0\n", {"state": {"code": old + [{"git_commit": "b" * 40,
                                                                                          "git_dirty": True}]}})
    folder("imarl", "B1", "imarl-B1-s0-z")  # started, killed before its first checkpoint
    folder("marl", "A2", "marl-A2-s0-w", "0,0,1.0,1.0\n", done=True)  # finished: not listed
    bad = root / "marl" / "A3" / "junk"
    bad.mkdir(parents=True)
    (bad / "config.json").write_text("{not json")  # not a run folder of ours: skipped
    (root / "marl" / "A4" / "list").mkdir(parents=True)
    (root / "marl" / "A4" / "list" / "config.json").write_text("[1, 2]")  # JSON, but not a config: skipped
    rows = {r["trial_id"]: r for r in open_trials(root)}
    assert set(rows) == {"sarl-A1-s0-x", "marl-A1-s0-y", "imarl-B1-s0-z"}
    s = rows["sarl-A1-s0-x"]
    assert (s["episodes"], s["best_cost"], s["budget"], s["commits"]) == (400, 800.0, 2000, ["a" * 40])
    assert rows["marl-A1-s0-y"]["commits"] == ["a" * 40, "b" * 40 + "-dirty"]
    assert rows["imarl-B1-s0-z"]["episodes"] == 0 and rows["imarl-B1-s0-z"]["commits"] == []
    lines = format_open_trials(sorted(rows.values(), key=lambda r: r["trial_id"]), current="a" * 40)
    assert lines[0].startswith("3 trials started and not finished")
    by = {ln.split(":")[0].strip(): ln for ln in lines[1:]}
    assert "400 of 2,000 episodes, best 800.0" in by["sarl-A1-s0-x"] and "mix versions" not in by["sarl-A1-s0-x"]
    assert "resume it from a checkout of bbbbbbbbbb" in by["marl-A1-s0-y"]
    assert "no evaluation yet" in by["imarl-B1-s0-z"] and "code unknown" in by["imarl-B1-s0-z"]
    # meio grid status: records first, then the open trials that the store has not finished
    store = root / "results.jsonl"
    ResultsStore(store)  # an empty store
    assert grid.grid_cli(["status", "--results", str(store)]) == 0
    out = capsys.readouterr().out
    assert "0 records" in out and "3 trials started and not finished" in out and "sarl-A1-s0-x" in out
