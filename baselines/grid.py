"""``meio grid``: run scenarios x models x seeds, resumably, and summarise the results file.

Each trial calls the model's ``train_cli`` with ``<scenario> --seed S --results FILE`` plus the
options given after ``--``. Trials whose (scenario, model, seed) already has a record in the results
file are skipped, so a killed grid run picks up where it stopped. ``--summary`` prints the best and
mean savings per model and scenario (the report's two heatmaps as a table) and writes them as CSV.

    meio grid --scenarios A1 B1 --models sarl imarl --seeds 0 1 2 -- --episodes 2000
    meio grid --summary
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from baselines.common.results import atomic_write_text, read_results

__all__ = ["grid_cli", "summarise"]

DEFAULT_RESULTS = "benchmarks/results/results.jsonl"


def summarise(records: list[dict]) -> list[dict[str, object]]:
    """Best trial savings (effectiveness) and mean over trials (reliability) per scenario and model."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[(str(r["scenario"]), str(r["model"]))].append(r)
    rows = []
    for (sid, model), rs in sorted(groups.items()):
        sav = [float(r["savings"]) for r in rs]
        rows.append(dict(scenario=sid, model=model, trials=len(rs), best_savings=max(sav),
                         mean_savings=sum(sav) / len(sav),
                         best_cost=min(float(r["best_cost"]) for r in rs),
                         heuristic_cost=float(rs[0]["heuristic_cost"])))
    return rows


def grid_cli(argv: Sequence[str]) -> int:
    """Parse arguments and run the grid or print the summary."""
    argv = list(argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(prog="meio grid", description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["A1"])
    ap.add_argument("--models", nargs="+", default=["sarl"])
    ap.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    ap.add_argument("--results", default=DEFAULT_RESULTS)
    ap.add_argument("--summary", action="store_true", help="only summarise the results file")
    ap.add_argument("--summary-csv", default="benchmarks/results/grid_summary.csv")
    args = ap.parse_args(argv)
    from baselines.cli import TRAINERS
    from meio_envs.scenarios import parse_scenario_id

    if not args.summary:
        for m in args.models:
            if m not in TRAINERS:
                ap.error(f"unknown model {m!r}; choose from {sorted(TRAINERS)}")
        for s in args.scenarios:
            parse_scenario_id(s)
        done = {(str(r["scenario"]), str(r["model"]), int(r["seed"])) for r in read_results(args.results)}
        for sid in (s.upper() for s in args.scenarios):
            for model in args.models:
                for seed in args.seeds:
                    if (sid, model, seed) in done:
                        print(f"skip {sid} {model} seed {seed}: already in {args.results}")
                        continue
                    print(f"run  {sid} {model} seed {seed}", flush=True)
                    mod = importlib.import_module(TRAINERS[model])
                    mod.train_cli(model, [sid, "--seed", str(seed), "--results", args.results, *extra])
    rows = summarise(read_results(args.results))
    if not rows:
        print(f"no results in {args.results}")
        return 0
    print(f"{'scenario':8} {'model':9} {'trials':>6} {'best savings':>13} {'mean savings':>13} {'best cost':>10} {'DA cost':>10}")
    for r in rows:
        print(f"{r['scenario']:8} {r['model']:9} {r['trials']:>6} {r['best_savings']:>13.2%} "
              f"{r['mean_savings']:>13.2%} {r['best_cost']:>10.1f} {r['heuristic_cost']:>10.1f}")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(Path(args.summary_csv), buf.getvalue())
    return 0
