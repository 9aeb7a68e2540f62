"""Re-runs of published trials: the curve digest in records, publishing that lends a published trial
nothing from a run that reached the same numbers along another curve, and ``meio grid compare``."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from baselines import grid
from baselines.common.records import ResultsStore, read_records, reproduces
from baselines.curve_archive import curve_text, find_run_file
from baselines.grid_compare import compare_reruns, curve_parting
from baselines.grid_runner import TrialSpec, run_trials

FAKE = "tests.baselines.grid_fake"


def grid_fake_identity():
    from tests.baselines.grid_fake import make_args

    return make_args("fake", "A1", 7).identity()
NONE = ["--heuristics", "no-such-table.csv"]


def _run(work: Path, seeds: tuple[int, ...] = (0, 1)) -> list[dict]:
    """Fake trials trained under ``work/runs``, their records with run paths relative to ``work``."""
    store = work / "runs" / "grid" / "results.jsonl"
    run_trials([TrialSpec("fake", "A1", s, {}, str(work / "runs"), "quick", module=FAKE) for s in seeds],
               ResultsStore(store), use_ray=False, live=False, say=lambda s: None)
    out = []
    for r in read_records(store):
        rel = Path(r["result"]["curve"]).relative_to(work)
        out.append(dict(r, result=dict(r["result"], curve=str(rel), run_dir=str(rel.parent)),
                        provenance=dict(r["provenance"], git_dirty=False)))  # as if run from a clean clone
    return out


def _store(path: Path, records: list[dict]) -> Path:
    for r in records:
        ResultsStore(path).append(r)
    return path


def _bump_middle_eval(curve: Path) -> None:
    """The same end, another path: the second evaluation's cost changed in the last digits."""
    lines = curve.read_text().splitlines()
    head, row = lines[0].split(","), lines[2].split(",")
    c = head.index("eval_cost")
    row[c] = repr(float(row[c]) + 1e-9)
    lines[2] = ",".join(row)
    curve.write_text("\n".join(lines) + "\n")


def test_curve_parting_by_hand() -> None:
    a = [{"episodes": e, "eval_cost": c} for e, c in [(10, 5.0), (20, 4.0), (30, 3.0)]]
    assert curve_parting(a, [dict(r) for r in a]) is None
    assert curve_parting(a, [a[0], {"episodes": 20, "eval_cost": 4.000001}, a[2]]) == 2
    assert curve_parting(a, [a[0], {"episodes": 21, "eval_cost": 4.0}, a[2]]) == 2  # evaluated elsewhere
    assert curve_parting(a, a[:2]) == 3 and curve_parting(a[:1], a) == 2  # one stops early


def test_finished_record_carries_its_curve_digest_and_reproduces_needs_it(tmp_path: Path) -> None:
    rec = _run(tmp_path, seeds=(0,))[0]
    curve = tmp_path / rec["result"]["curve"]
    text = curve_text(curve)
    assert text.splitlines()[0] == "episodes,env_steps,eval_cost,best_cost" and len(text.splitlines()) == 4
    assert "wall_time_s" not in text  # the digest covers only what the run computed
    assert rec["result"]["curve_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    # a re-run that ends at the same numbers along another curve is another run
    other = dict(rec, result=dict(rec["result"], curve_sha256="0" * 64),
                 provenance=dict(rec["provenance"], started_at="2099-01-01T00:00:00+00:00"))
    assert not reproduces(other, rec)
    assert reproduces(dict(other, result=dict(rec["result"])), rec)

    # a curve the archive would refuse leaves the digest out; it never fails a trial that trained to the end
    from baselines.common.trial import finish

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "curve.csv").write_text("episodes,env_steps,eval_cost,best_cost\n10,1280,inf,5.0\n")
    ident = grid_fake_identity()
    res = {k: v for k, v in rec["result"].items() if k != "curve_sha256"}
    out = finish(bad, ident, dict(res, curve=str(bad / "curve.csv")), "cpu", rec["provenance"]["started_at"], 1.0)
    assert out["status"] == "finished" and "curve_sha256" not in out["result"]


def test_publish_lends_nothing_from_a_rerun_with_the_same_numbers_but_another_curve(tmp_path: Path, capsys) -> None:
    # records of code older than curve_sha256: the numbers alone cannot tell the runs apart
    old = [dict(r, result={k: v for k, v in r["result"].items() if k != "curve_sha256"}) for r in _run(tmp_path / "a")]
    for r in old:  # the run folder's own copy says the same
        (tmp_path / "a" / r["result"]["run_dir"] / "result.json").write_text(json.dumps(r))
    pub = tmp_path / "pub" / "results.jsonl"
    assert grid.grid_cli(["publish", "--results", str(_store(tmp_path / "a" / "first.jsonl", old)), "--to", str(pub),
                          *NONE]) == 0
    archive = tmp_path / "pub" / "curves"
    kept = {f.name: f.read_text() for f in archive.glob("*.csv")}
    assert len(kept) == 2
    # a re-run at the same commit under another root: trial 0 along another curve, trial 1 exactly
    shutil.copytree(tmp_path / "a" / "runs", tmp_path / "b" / "runs")
    rerun = [dict(r, provenance=dict(r["provenance"], started_at="2099-01-01T00:00:00+00:00")) for r in old]
    for r in rerun:
        (tmp_path / "b" / r["result"]["run_dir"] / "result.json").write_text(json.dumps(r))
    _bump_middle_eval(tmp_path / "b" / rerun[0]["result"]["curve"])
    assert reproduces(rerun[0], old[0])  # by the numbers
    roots, arch = [tmp_path / "b", tmp_path / "a"], [archive]
    rel = old[0]["result"]["curve"]
    assert find_run_file(rel, roots, old[0]) == tmp_path / "b" / rel  # without the archive: taken
    assert find_run_file(rel, roots, old[0], arch) == tmp_path / "a" / rel  # with it: passed over
    assert find_run_file(old[1]["result"]["curve"], roots, old[1], arch) == tmp_path / "b" / old[1]["result"]["curve"]
    capsys.readouterr()
    again = _store(tmp_path / "b" / "again.jsonl", rerun)
    assert grid.grid_cli(["publish", "--results", str(again), "--to", str(pub), "--runs", str(tmp_path / "b"),
                          *NONE]) == 0
    out = capsys.readouterr().out
    assert f"left out 1 records of trials published with another result ({old[0]['trial_id']})" in out
    assert {f.name: f.read_text() for f in archive.glob("*.csv")} == kept

    # meio grid compare: the verdicts, where the curves part, and --strict
    differ = dict(rerun[1], trial_id=rerun[1]["trial_id"],
                  result=dict(rerun[1]["result"], best_cost=rerun[1]["result"]["best_cost"] + 1.0,
                              savings=rerun[1]["result"]["savings"] - 0.01))
    rows, unpublished = compare_reruns([rerun[0], rerun[1], differ, dict(rerun[1], trial_id="fake-A1-s9-x")],
                                       read_records(pub), roots, arch)
    assert [(r["verdict"], r["curve"]) for r in rows] == [
        ("same result", "parts at evaluation 2 of 3"), ("reproduced", "identical"),
        ("differs", "-")]  # the folder under its run path holds another run: its curve is not this record's
    assert abs(rows[2]["delta_points"] - (-1.0)) < 1e-9 and unpublished == ["fake-A1-s9-x"]
    cpu = rerun[1]["provenance"]["cpu"]  # both records name the machine's CPU
    if cpu["model"]:
        assert rows[1]["rerun_cpu"].startswith(cpu["model"]) and rows[1]["published_cpu"] == rows[1]["rerun_cpu"]
    capsys.readouterr()
    assert grid.grid_cli(["compare", "--results", str(again), "--published", str(pub), "--runs", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 re-runs of published trials: 1 reproduced, 1 same result, 0 differs.")
    assert "| fake | A1 | quick | 2 | +0.00 | +0.00 | 2 |" in out
    assert grid.grid_cli(["compare", "--results", str(again), "--published", str(pub), "--runs", str(tmp_path / "b"),
                          "--strict"]) == 1  # a curve parts
