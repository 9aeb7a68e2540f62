"""``meio grid``: run scenarios x models x seeds on Ray, summarise the records, publish chosen ones.

    meio grid run --scenarios A1 B1 --models sarl imarl --seeds 0 1 2 --preset quick
    meio grid run --scenarios A1 --models marl --seeds 0 --set episodes=2000 num_envs=64
    meio grid run --scenarios B1 --models imarl --seeds 0 1 2 3 --batch-seeds 2   # two tasks of 2 seeds
    meio grid run ... --address auto        # join a running Ray cluster (``ray start --head`` first)
    meio grid status  --results runs/grid/results.jsonl     # also the trials started and not finished
    meio grid summary --results runs/grid/results.jsonl [--csv summary.csv]
    meio grid publish --results runs/grid/results.jsonl --models imarl --preset quick
    meio grid verify  --results runs/grid/results.jsonl     # re-evaluate each trial's best model file
    meio grid compare --results ../at-commit/runs/grid/results.jsonl   # re-runs against the published records
    meio grid plan    --preset quick --seeds 0 1 2          # what is not published yet, its cost, the commands
    meio grid heldout --results benchmarks/results/results.jsonl --runs runs/grid   # held-out rows of older trials
    meio grid report  --results benchmarks/results/results.jsonl runs/grid/results.jsonl --out docs/grid

Trials go to ``--out`` (default ``runs/grid``): run folders ``<out>/<model>/<scenario>/<trial id>``
and the results store ``<out>/results.jsonl``. The published results in
``benchmarks/results/results.jsonl`` change only through ``meio grid publish``, which first checks
each record against its best model file (:mod:`baselines.record_check`), then copies each
published trial's learning curve to ``benchmarks/results/curves/<trial id>.csv`` and evaluates its
best model and DA on held-out episodes into ``benchmarks/results/heldout.csv`` (:mod:`baselines.heldout`),
and the searched base-stock policies on the same episodes into ``heldout_base_stock.csv``
(:mod:`baselines.heldout_base`), with the per-episode costs behind both in ``heldout_episodes.csv``
(:mod:`baselines.heldout_episodes`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from baselines.common.files import atomic_write_text
from baselines.common.records import RUN_FACTS, RecordError, ResultsStore, read_records, reproduces  # noqa: F401
from baselines.curve_archive import archive_curves, parts_from_archive
from baselines.grid_progress import format_open_trials, open_trials
from baselines.grid_runner import GRID_MODELS, GridAborted, TrialSpec, run_trials
from baselines.heldout import HELDOUT_EPISODES, add_heldout, evaluating_code, read_heldout
from baselines.heldout_base import BASE_FILE, add_base_stock_heldout
from baselines.heldout_episodes import EPISODES_FILE
from baselines.presets import MODELS, PRESETS, preset_options
from baselines.record_check import check_records
from meio_envs.scenarios import REPORT_SCENARIOS

__all__ = ["PUBLISHED", "grid_cli", "parse_sets", "summarise", "trial_core_hours", "trial_cpu_hours"]

PUBLISHED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "results.jsonl"
HELDOUT_FILE = "heldout.csv"  # next to the published store
HEURISTICS = PUBLISHED.parent / "heuristics_all.csv"  # the base-stock table (meio heuristic --all)


def parse_sets(items: Iterable[str]) -> dict[str, Any]:
    """``["episodes=2000", "hidden=[32,32]", "order=greedy"]`` -> options (values read as JSON, else text)."""
    out: dict[str, Any] = {}
    for it in items:
        key, sep, raw = it.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set takes KEY=VALUE with a trainer option as KEY, got {it!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def trial_core_hours(record: Mapping[str, Any]) -> float:
    """A trial's share of the core-hours of its task: one core for its wall time, divided among the
    trials of a seed-batched task (``result.batched_trials``), which share that wall time."""
    k = max(1, int((record.get("result") or {}).get("batched_trials") or 1))
    return float(record["provenance"]["wall_time_s"]) / k / 3600.0


def trial_cpu_hours(record: Mapping[str, Any]) -> float | None:
    """A trial's share of the CPU time its task's process used (``provenance.cpu_time_s``, shared among
    the trials of a seed-batched task like the wall time), in hours; None where it was not measured
    (records of older code, or a trial resumed from an older checkpoint)."""
    cpu = record["provenance"].get("cpu_time_s")
    if cpu is None:
        return None
    k = max(1, int((record.get("result") or {}).get("batched_trials") or 1))
    return float(cpu) / k / 3600.0


def summarise(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Best trial savings (effectiveness) and mean over trials (reliability) per experiment.

    An experiment is one scenario, model and setting (``experiment_id``: the identity without the
    seed), so trials at different budgets are never mixed.
    """
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        if r["status"] == "finished":
            groups[(r["scenario"], r["model"], r["experiment_id"])].append(r)
    rows = []
    for (sid, model, exp), rs in sorted(groups.items()):
        sav = [float(r["result"]["savings"]) for r in rs]
        cpu = [trial_cpu_hours(r) for r in rs]
        cfg = rs[0]["config"]
        cfg = cfg.get("recorded_settings", cfg)  # migrated schema-0 records keep what they stated there
        budget = cfg.get("episodes") or cfg.get("timesteps")
        rows.append({
            "scenario": sid, "model": model, "experiment_id": exp, "preset": rs[0].get("preset"),
            "episodes": budget, "episodes_per_iteration": cfg.get("episodes_per_iteration"), "trials": len(rs),
            "seeds": " ".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"])),
            "best_savings": max(sav), "mean_savings": sum(sav) / len(sav),
            "best_cost": min(float(r["result"]["best_cost"]) for r in rs),
            "best_trial": min(rs, key=lambda r: (float(r["result"]["best_cost"]), r["seed"]))["trial_id"],
            "heuristic_cost": float(rs[0]["result"]["heuristic_cost"]),
            "core_hours": sum(trial_core_hours(r) for r in rs),
            "cpu_hours": sum(h for h in cpu if h is not None), "cpu_measured": sum(h is not None for h in cpu),
        })
    return rows


def _print_summary(rows: list[dict[str, Any]]) -> None:
    print(f"{'scenario':8} {'model':12} {'preset':7} {'budget':>8} {'trials':>6} {'best sav.':>10} "
          f"{'mean sav.':>10} {'best cost':>10} {'DA cost':>10} {'core-h':>7} {'CPU-h':>7}  experiment")
    for r in rows:
        print(f"{r['scenario']:8} {r['model']:12} {str(r['preset'] or '-'):7} {str(r['episodes']):>8} "
              f"{r['trials']:>6} {r['best_savings']:>10.2%} {r['mean_savings']:>10.2%} {r['best_cost']:>10.1f} "
              f"{r['heuristic_cost']:>10.1f} {r['core_hours']:>7.3f} "
              f"{(format(r['cpu_hours'], '7.3f') if r['cpu_measured'] == r['trials'] else '-'):>7}  {r['experiment_id']}")


def _specs(args: argparse.Namespace) -> list[TrialSpec]:
    from meio_envs.scenarios import parse_scenario_id

    sets = parse_sets(args.set or [])
    specs = []
    for sc in args.scenarios:
        s, lvl = ("Chapter", "2L") if sc.lower() == "chapter2l" else parse_scenario_id(sc)
        for model in args.models:
            opts: dict[str, Any] = {}
            if args.preset:
                opts.update(preset_options(args.preset, model.replace("imarl-random", "imarl"), f"{s}{lvl}"))
            opts.update(sets)
            for seed in args.seeds:
                specs.append(TrialSpec(model, f"{s}{lvl}", int(seed), opts, args.out,
                                       args.preset if not sets else f"{args.preset or 'custom'}+set"))
    return specs


def _run(args: argparse.Namespace) -> int:
    for m in args.models:
        if m not in GRID_MODELS:
            print(f"meio grid: unknown model {m!r}; the grid runs {sorted(GRID_MODELS)}", file=sys.stderr)
            return 2
    if args.batch_seeds < 0:
        print(f"meio grid: --batch-seeds must be >= 0 (0 = all seeds of a setting), got {args.batch_seeds}",
              file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"meio grid: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    try:
        specs = _specs(args)
        for s in specs:
            s.args()  # validate every trial's options before anything runs
    except (ValueError, TypeError) as e:
        print(f"meio grid: {e}", file=sys.stderr)
        return 2
    use_ray = not args.no_ray
    if use_ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            if args.address:
                print("meio grid: --address needs Ray: pip install 'meio-envs[distributed]'", file=sys.stderr)
                return 2
            print("meio grid: Ray is not installed (pip install 'meio-envs[distributed]'); running the trials "
                  "one after another in this process (one local worker)", file=sys.stderr)
            use_ray = False
    if not use_ray:
        print("meio grid: no Ray: one local worker, trials run one after another")
    store = ResultsStore(Path(args.results) if args.results else Path(args.out) / "results.jsonl")
    if args.dry_run:
        for s in specs:
            print(f"{s.identity().trial_id}  {s.model} {s.scenario} seed {s.seed}  {dict(s.options)}")
        return 0
    try:
        counts = run_trials(specs, store, workers=args.workers, use_ray=use_ray, address=args.address,
                            gpus_per_trial=args.gpus_per_trial, live=not args.no_live,
                            batch_seeds=args.batch_seeds or None)
    except GridAborted as e:
        print(f"meio grid: {e}", file=sys.stderr)
        return 3
    except ConnectionError as e:
        print(f"meio grid: cannot join the Ray cluster at {args.address}: {str(e).splitlines()[0]} "
              "(is `ray start --head` running there, and is the address the one it printed?)", file=sys.stderr)
        return 2
    print(f"grid: {counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped; records in "
          f"{store.path}, run folders under {args.out}")
    return 1 if counts["failed"] else 0


def _status(args: argparse.Namespace) -> int:
    recs = read_records(args.results)
    fin = {r["trial_id"] for r in recs if r["status"] == "finished"}
    failed = {r["trial_id"]: r for r in recs if r["status"] == "failed" and r["trial_id"] not in fin}
    print(f"{args.results}: {len(recs)} records, {len(fin)} finished trials, {len(failed)} failed and not rerun")
    for tid, r in failed.items():
        print(f"  failed {tid}: {r['error']['type']}: {r['error']['message'][:160]}")
    runs = Path(args.runs) if args.runs else Path(args.results).parent
    for line in format_open_trials(t for t in open_trials(runs) if t["trial_id"] not in fin):
        print(line)
    return 0


def _summary(args: argparse.Namespace) -> int:
    rows = summarise(r for p in args.results for r in read_records(p))
    if not rows:
        print(f"no finished trials in {', '.join(args.results)}")
        return 0
    _print_summary(rows)
    if args.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(args.csv, buf.getvalue())
        print(f"wrote {args.csv}")
    return 0


def publish(records: Iterable[Mapping[str, Any]], to: str | Path, *, allow_dirty: bool = False) -> tuple[int, int]:
    """Copy finished records into ``to`` (validated, deduplicated); returns (added, already there)."""
    store = ResultsStore(to)
    added = dup = 0
    for r in records:
        if r["status"] != "finished":
            continue
        if str(r.get("preset") or "").startswith("smoke"):
            raise RecordError(f"{r['trial_id']} ran the smoke budget: smoke records only check the pipeline")
        if len(r["provenance"].get("code_history") or []) > 1 and not allow_dirty:
            commits = ", ".join(str(c.get("git_commit"))[:10] for c in r["provenance"]["code_history"])
            raise RecordError(f"{r['trial_id']} was resumed under other code than it started with ({commits}); "
                              "pass --allow-dirty to publish it anyway")
        if r["provenance"].get("git_dirty") and not allow_dirty:
            raise RecordError(f"{r['trial_id']} ran from a git tree with uncommitted changes (commit "
                              f"{r['provenance'].get('git_commit')}): its code cannot be recovered; "
                              "pass --allow-dirty to publish it anyway")
        if store.append(r):
            added += 1
        else:
            dup += 1
    return added, dup


def _publish(args: argparse.Namespace) -> int:
    recs = [r for p in args.results for r in read_records(p)]
    pick = [r for r in recs
            if (not args.scenarios or r["scenario"] in {s.upper() for s in args.scenarios})
            and (not args.models or r["model"] in args.models)
            and (not args.preset or r.get("preset") == args.preset)
            and (not args.trial_ids or r["trial_id"] in args.trial_ids)]
    roots = _run_roots(args)
    archive = Path(args.to).parent / "curves"
    finished = [r for r in pick if r["status"] == "finished"]
    code = evaluating_code()  # before this command changes the published files
    # a published trial's curve, model and held-out row come only from its own run or an exact re-run
    seen = {r["trial_id"]: r for r in read_records(args.to)} if Path(args.to).exists() else {}
    keep: list[Mapping[str, Any]] = []
    other: set[str] = set()
    for r in finished:  # against the published record, or the first of several stores'
        first = seen.setdefault(r["trial_id"], r)
        # the same numbers are not enough where the published run's curve is archived: it must be that curve
        if first is r or (reproduces(r, first) and not parts_from_archive(r, roots, archive)):
            keep.append(r)
        else:
            other.add(r["trial_id"])
    finished = keep
    if other:
        print(f"left out {len(other)} records of trials published with another result ({', '.join(sorted(other)[:5])}"
              f"{', ...' if len(other) > 5 else ''}): they are other runs of those trials (another commit, seed "
              "batch, CPU, result or learning curve), so their curves, model files and held-out evaluations are not the published "
              "trials'; to fill a published trial's files, re-run it from its record's commit with its seed batch on a "
              "CPU like its record's (provenance.cpu)")
    try:
        if not args.no_verify:
            verified, no_model = check_records(finished, roots)
            print(f"verified {verified} records against their model files (re-evaluated: same cost)"
                  + _missing_note(no_model, "model file"))
        added, dup = publish(pick, args.to, allow_dirty=args.allow_dirty)
        curves, no_curve = archive_curves(finished, roots, archive)
        held, _ = add_heldout(finished, roots, Path(args.to).parent / HELDOUT_FILE, code=code)
        base = add_base_stock_heldout({r["scenario"] for r in finished}, Path(args.to).parent / BASE_FILE,
                                      args.heuristics, code=code)
    except RecordError as e:
        print(f"meio grid publish: {e}", file=sys.stderr)
        return 2
    print(f"published {added} new records into {args.to} ({dup} were there already); "
          f"archived {curves} learning curves in {archive}" + _missing_note(no_curve, "curve file")
          + f"; evaluated {held} trials on held-out episodes into {Path(args.to).parent / HELDOUT_FILE}"
          + f" and {base} base-stock policies on the same episodes into {Path(args.to).parent / BASE_FILE}"
          + f" (per-episode costs in {Path(args.to).parent / EPISODES_FILE})")
    return 0


def _heldout(args: argparse.Namespace) -> int:
    recs = [r for p in args.results for r in read_records(p)]
    try:
        held, no_model = add_heldout(recs, _run_roots(args), args.to, args.episodes)
        have = {r["trial_id"] for r in read_heldout(args.to)}
        base = add_base_stock_heldout({r["scenario"] for r in recs if r["trial_id"] in have},
                                      Path(args.to).parent / BASE_FILE, args.heuristics, args.episodes)
    except RecordError as e:
        print(f"meio grid heldout: {e}", file=sys.stderr)
        return 2
    print(f"evaluated {held} trials on held-out episodes into {args.to}" + _missing_note(no_model, "model file")
          + f"; {base} base-stock policies on the same episodes into {Path(args.to).parent / BASE_FILE}"
          + f" (per-episode costs in {Path(args.to).parent / EPISODES_FILE})")
    return 0


def _run_roots(args: argparse.Namespace) -> list[Path]:
    """``--runs``, else every folder above each ``--results`` store (``meio grid run`` puts the run folders there)."""
    if args.runs:
        return [Path(r) for r in args.runs]
    return [a for p in args.results for a in Path(p).resolve().parents]


def _missing_note(ids: Sequence[str], what: str) -> str:
    if not ids:
        return ""
    return (f"; no {what} found for {len(ids)} records ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}): "
            "pass --runs with the folder their run paths start from")


def _plan(args: argparse.Namespace) -> int:
    from baselines.grid_plan import format_plan, plan_rows

    recs = [r for p in args.results for r in read_records(p)]
    try:
        rows = plan_rows(recs, args.models, [s.upper() for s in args.scenarios], args.seeds, args.preset)
    except ValueError as e:
        print(f"meio grid plan: {e}", file=sys.stderr)
        return 2
    print(format_plan(rows, args.preset), end="")
    return 0


def _verify(args: argparse.Namespace) -> int:
    recs = [r for p in args.results for r in read_records(p)]
    try:
        verified, no_model = check_records(recs, _run_roots(args))
    except RecordError as e:
        print(f"meio grid verify: {e}", file=sys.stderr)
        return 2
    print(f"verified {verified} of {len(recs)} records against their model files" + _missing_note(no_model, "model file"))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from baselines.grid_compare import compare_reruns, format_comparison

    recs = [r for p in args.results for r in read_records(p)]
    published = read_records(args.published)
    rows, unpublished = compare_reruns(recs, published, _run_roots(args), [Path(args.published).parent / "curves"])
    print(format_comparison(rows, published, unpublished), end="")
    if args.strict and any(r["verdict"] == "differs" or r["curve"].startswith("parts") for r in rows):
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="meio grid", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the trials that are not finished yet",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    r.add_argument("--scenarios", nargs="+", default=["A1"], help="grid ids, e.g. A1 B4 D1")
    r.add_argument("--models", nargs="+", default=["sarl"], help=f"of {sorted(GRID_MODELS)}")
    r.add_argument("--seeds", nargs="+", type=int, default=list(range(10)), help="trial seeds")
    r.add_argument("--preset", choices=PRESETS, default=None,
                   help="budget preset (report = the report's Table B.3, quick = 1/10 of it, smoke = tiny)")
    r.add_argument("--set", nargs="+", metavar="KEY=VALUE", help="trainer options, e.g. episodes=2000 num_envs=64")
    r.add_argument("--out", default="runs/grid", help="run folders and the default results store")
    r.add_argument("--results", default=None, help="results store (default OUT/results.jsonl)")
    r.add_argument("--workers", type=int, default=None, help="tasks at a time (default: one per CPU)")
    r.add_argument("--batch-seeds", type=int, default=0, metavar="K",
                   help="seeds of one setting trained as one batched task (marl, marl-gnn, imarl): "
                        "at most K per task; 0 = all seeds of the setting, 1 = one task per trial")
    r.add_argument("--address", default=None, help="Ray cluster to join ('auto' or host:port); default: local")
    r.add_argument("--gpus-per-trial", type=float, default=None, help="GPU fraction per trial (default: GPUs / workers)")
    r.add_argument("--no-ray", action="store_true", help="run in this process, one trial after another")
    r.add_argument("--no-live", action="store_true", help="no live progress view (log lines only)")
    r.add_argument("--dry-run", action="store_true", help="list the trials and their ids, run nothing")
    st = sub.add_parser("status", help="finished and failed trials of a results store, and the trials "
                                       "started and not finished")
    st.add_argument("--results", default="runs/grid/results.jsonl")
    st.add_argument("--runs", default=None, metavar="DIR",
                    help="the grid's run folders (<model>/<scenario>/<trial id>); default: the store's folder")
    sm = sub.add_parser("summary", help="best and mean savings per experiment")
    sm.add_argument("--results", nargs="+", default=[str(PUBLISHED)])
    sm.add_argument("--csv", default=None, help="also write the table as CSV here")
    pb = sub.add_parser("publish", help="copy chosen finished records into the published results")
    pb.add_argument("--results", nargs="+", required=True, help="stores to publish from")
    pb.add_argument("--to", default=str(PUBLISHED))
    pb.add_argument("--scenarios", nargs="+")
    pb.add_argument("--models", nargs="+")
    pb.add_argument("--preset", choices=PRESETS)
    pb.add_argument("--trial-ids", nargs="+")
    pb.add_argument("--runs", nargs="+", metavar="DIR",
                    help="folders the records' run paths start from, for their model files and learning "
                         "curves (default: the folders above each --results store)")
    pb.add_argument("--no-verify", action="store_true",
                    help="skip re-evaluating each record's model file (e.g. files trained on another platform)")
    pb.add_argument("--allow-dirty", action="store_true", help="publish records run from an uncommitted tree, or resumed under other code than they started with")
    ho = sub.add_parser("heldout", help="evaluate trials' best models and DA on held-out episodes (once per trial)")
    ho.add_argument("--results", nargs="+", default=[str(PUBLISHED)], help="stores whose trials to evaluate")
    ho.add_argument("--to", default=str(PUBLISHED.parent / HELDOUT_FILE), help="the held-out file to add rows to")
    ho.add_argument("--runs", nargs="+", metavar="DIR",
                    help="folders the records' run paths start from (default: the folders above each --results store)")
    ho.add_argument("--episodes", type=int, default=HELDOUT_EPISODES, help="held-out episodes per trial")
    for p in (pb, ho):
        p.add_argument("--heuristics", default=str(HEURISTICS),
                       help=f"the base-stock table whose searched levels to cost on the same held-out episodes "
                            f"(into {BASE_FILE} beside the held-out file)")
    pl = sub.add_parser("plan", help="the trials of a preset not published yet, their estimated cost, the commands",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    pl.add_argument("--preset", choices=[p for p in PRESETS if p != "smoke"], default="quick")
    pl.add_argument("--models", nargs="+", default=list(MODELS))
    pl.add_argument("--scenarios", nargs="+", default=list(REPORT_SCENARIOS))
    pl.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    pl.add_argument("--results", nargs="+", default=[str(PUBLISHED)], help="stores whose finished trials count")
    vf = sub.add_parser("verify", help="re-evaluate each record's best model file and compare with the record")
    vf.add_argument("--results", nargs="+", required=True, help="stores to check")
    vf.add_argument("--runs", nargs="+", metavar="DIR",
                    help="folders the records' run paths start from (default: the folders above each store)")
    cp = sub.add_parser("compare", help="re-runs of published trials against the published records: reproduced, "
                                        "same result or differs, where their learning curves part, the CPUs")
    cp.add_argument("--results", nargs="+", required=True, help="stores holding the re-runs")
    cp.add_argument("--published", default=str(PUBLISHED), help="the published store (its curves/ folder beside it)")
    cp.add_argument("--runs", nargs="+", metavar="DIR",
                    help="folders the re-runs' run paths start from (default: the folders above each store)")
    cp.add_argument("--strict", action="store_true",
                    help="exit 1 when a re-run's result differs or its learning curve parts from the published one")
    sub.add_parser("report", help="the grid's tables and figures from records (meio grid report --help)",
                   add_help=False)
    return ap


def grid_cli(argv: Sequence[str]) -> int:
    """Parse arguments and run a ``meio grid`` subcommand."""
    argv = list(argv)
    if argv and argv[0] == "report":
        from baselines.grid_report import report_cli

        return report_cli(argv[1:])
    args = _parser().parse_args(argv)
    return {"run": _run, "status": _status, "summary": _summary, "publish": _publish,
            "verify": _verify, "plan": _plan, "heldout": _heldout, "compare": _compare}[args.cmd](args)
