"""What the report's grid costs: core-hours per trial at Table B.3's budgets, from short timed runs.

For each model and each measured scenario it trains two short trials (``--short`` episodes, e.g.
104 and 312) with the trainer's defaults and the report's evaluation schedule, and takes the CPU
time (this process, one torch thread) per training episode from their difference, so the start-up
cost (env and network construction, the first evaluation) drops out. That slope times the
``report`` preset's episodes is the extrapolated cost of one trial; IMARL's is per agent-iteration
times the preset's cap of agent-iterations. Scenarios not measured take the figure of the measured
scenario of their structure and level group (the budget rows of Table B.3: levels 1-2 and 3-4), as
their networks are the same. CPU time, not wall time, so that a loaded machine does not inflate it.

It prints a Markdown table of core-hours per trial for the report's 13 scenarios x 5 models, the
total of the 13 x 5 x 10-seed grid, and its wall time on 1, 2, 16 and 64 cores (perfect packing,
one trial per core; the Ray grid on this machine reached 1.64x on 2 cores, see docs/performance.md).

    python benchmarks/grid_cost.py                             # A1 A3 B1 B3 C1 C3 D1, all five models
    python benchmarks/grid_cost.py --scenarios A1 --models marl --short 104 208
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

MEASURED = ("A1", "A3", "B1", "B3", "C1", "C3", "D1")
MODELS = ("sarl", "sarl-gnn", "marl", "marl-gnn", "imarl")


def cpu_seconds(model: str, scenario: str, episodes: int, out: str) -> float:
    """CPU seconds of one solo trial of ``episodes`` training episodes (IMARL: one agent-iteration)."""
    from baselines.grid_runner import TrialSpec

    opts: dict = {"results": None} if model.startswith("sarl") else {"results": None, "tensorboard": False}
    if model == "imarl":
        opts.update(episodes_per_iteration=episodes, max_agent_iterations=1, episodes=episodes)
    else:
        opts["episodes"] = episodes
    spec = TrialSpec(model, scenario, seed=0, options=opts, out=out)
    args = spec.args()
    t = time.process_time()
    rec = spec.trainer.run_trial(args)
    spent = time.process_time() - t
    if rec is None or rec.get("status", "finished") != "finished":
        raise RuntimeError(f"{model} {scenario}: the short trial did not finish")
    return spent


def group_of(scenario: str) -> tuple[str, str]:
    from meio_envs.scenarios import parse_scenario_id

    structure, level = parse_scenario_id(scenario)
    return structure, "12" if level <= 2 else "34"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=list(MEASURED))
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--short", nargs=2, type=int, default=[104, 312], metavar=("E1", "E2"),
                    help="the two short budgets (episodes; multiples of 8 fill whole rollouts)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per cell of the full grid")
    a = ap.parse_args()
    e1, e2 = a.short
    if not 0 < e1 < e2:
        ap.error("--short: need 0 < E1 < E2")

    import torch

    from baselines.presets import preset_options
    from meio_envs.scenarios import REPORT_SCENARIOS

    torch.set_num_threads(1)
    slope: dict[tuple[str, str], float] = {}  # (model, scenario) -> CPU s per training episode
    with tempfile.TemporaryDirectory() as tmp:
        for sc in a.scenarios:
            for model in a.models:
                c1 = cpu_seconds(model, sc, e1, os.path.join(tmp, "a"))
                c2 = cpu_seconds(model, sc, e2, os.path.join(tmp, "b"))
                slope[(model, sc)] = (c2 - c1) / (e2 - e1)
                print(f"  {sc} {model}: {c1:.1f} s CPU for {e1} episodes, {c2:.1f} s for {e2}: "
                      f"{1000 * slope[(model, sc)]:.1f} ms per episode", flush=True)

    by_group = {(m, group_of(sc)): s for (m, sc), s in slope.items()}
    print(f"\nCore-hours per trial at the report preset (slope between {e1} and {e2} episodes; "
          "* = taken from the measured scenario of the same structure and level group)\n")
    print("| scenario | " + " | ".join(a.models) + " |")
    print("|---|" + "---:|" * len(a.models))
    total = 0.0
    missing = []
    for sc in REPORT_SCENARIOS:
        cells = []
        for model in a.models:
            s = slope.get((model, sc))
            star = ""
            if s is None:
                s, star = by_group.get((model, group_of(sc))), "*"
            if s is None:
                cells.append("n/a")
                missing.append(f"{model} {sc}")
                continue
            h = s * preset_options("report", model, sc)["episodes"] / 3600
            total += h * a.seeds
            cells.append(f"{h:.2f}{star}")
        print(f"| {sc} | " + " | ".join(cells) + " |")
    print(f"\n13 scenarios x {len(a.models)} models x {a.seeds} seeds: {total:,.0f} core-hours"
          + (f" (without {len(missing)} cells not measured)" if missing else ""))
    print("| cores | 1 | 2 | 16 | 64 |\n|---|---:|---:|---:|---:|")
    print("| wall time, days (perfect packing) | " + " | ".join(f"{total / n / 24:,.1f}" for n in (1, 2, 16, 64)) + " |")


if __name__ == "__main__":
    main()
