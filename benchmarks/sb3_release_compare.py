"""SB3 SARL ``learn()`` on a scenario: this tree vs an earlier commit, timed in the same run.

The earlier commit (default ``edb1da4``, the last one before the seed-batching and lean-core work)
is checked out into a temporary git worktree; each repeat times ``PPO.learn`` with the SARL
settings of the report (4 copies x 256 steps, 16 minibatches, 10 epochs, one torch thread) once in
a fresh interpreter of each tree, alternating so machine drift hits both. Prints env steps/s per
tree (median over repeats, per wall and per CPU second) and their ratios (goal: at least 1.5x). The worktree is removed at the end.

    python benchmarks/sb3_release_compare.py                          # A1, 20,480 steps, 3 repeats
    python benchmarks/sb3_release_compare.py --scenario D1 --model sarl-gnn --baseline HEAD~5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs inside each tree: both trees have baselines.sarl.Args/make_model and MEIOSB3VecEnv.
TIMER = """
import json, sys, time
import torch
torch.set_num_threads(1)
from baselines.sarl import Args, make_model
from meio_envs.adapters.sb3 import MEIOSB3VecEnv
scenario, model, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
args = Args(scenario=scenario, model=model, progress=False)
m = make_model(args, MEIOSB3VecEnv(scenario, args.n_envs), "cpu")
m.learn(args.n_envs * args.n_steps)  # warm-up rollout and update: imports, allocations
t, c = time.perf_counter(), time.process_time()
m.learn(steps, reset_num_timesteps=False)
print(json.dumps({"steps_per_s": steps / (time.perf_counter() - t), "cpu_steps_per_s": steps / (time.process_time() - c)}))
"""


def time_tree(tree: Path, scenario: str, model: str, steps: int) -> dict[str, float]:
    """Env steps per wall second and per CPU second of ``learn(steps)`` in a fresh interpreter importing
    the package from ``tree`` (one thread, so CPU seconds do not count time lost to other jobs)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", TIMER, scenario, model, str(steps)], cwd=tree, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"timing failed in {tree}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="edb1da4", help="earlier commit to compare against")
    ap.add_argument("--scenario", default="A1")
    ap.add_argument("--model", default="sarl", choices=["sarl", "sarl-gnn"])
    ap.add_argument("--steps", type=int, default=20_480, help="timed env steps per run (after one warm-up rollout)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.steps < 1024 or a.repeats < 1:
        raise SystemExit("--steps must be >= 1024 (one rollout) and --repeats >= 1")
    rev = subprocess.run(["git", "rev-parse", "--short", a.baseline], cwd=ROOT, capture_output=True, text=True)
    if rev.returncode != 0:
        raise SystemExit(f"unknown commit {a.baseline!r}: {rev.stderr.strip()}")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix="meio-release-"))
    old = tmp / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(old), rev.stdout.strip()], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        res: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for _ in range(a.repeats):
            res["old"].append(time_tree(old, a.scenario, a.model, a.steps))
            res["new"].append(time_tree(ROOT, a.scenario, a.model, a.steps))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False,
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.model} on {a.scenario}: PPO.learn({a.steps}) env steps/s, median of {a.repeats} alternating repeats")
    print("| tree | steps/s (wall) | runs | steps/s (CPU) | runs |\n|---|---:|---|---:|---|")
    med = {}
    for key, name in (("old", f"{rev.stdout.strip()} (baseline)"), ("new", f"{head.strip()} (this tree)")):
        w = [r["steps_per_s"] for r in res[key]]
        c = [r["cpu_steps_per_s"] for r in res[key]]
        med[key] = (statistics.median(w), statistics.median(c))
        print(f"| {name} | {med[key][0]:,.0f} | {', '.join(f'{x:,.0f}' for x in w)} | {med[key][1]:,.0f} | "
              f"{', '.join(f'{x:,.0f}' for x in c)} |")
    print(f"ratio this / baseline: {med['new'][0] / med['old'][0]:.2f}x wall, {med['new'][1] / med['old'][1]:.2f}x CPU "
          "(goal >= 1.5x; on a shared machine the CPU ratio is the one to read)")

if __name__ == "__main__":
    main()
