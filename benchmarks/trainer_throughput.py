"""Seed batching: one seed vs K seeds trained as one batch, for marl, marl-gnn and imarl.

Each row trains 1 seed, then K seeds batched (``run_trials``: one env of K x B copies, stacked
networks, one batched evaluation), for the same number of rollouts per seed with the report's batch
(4 copies x 256 steps) and its evaluation schedule (every 100 episodes, 100 x 75 periods; a row of
13 rollouts = 104 episodes has the initial, one scheduled and no extra evaluation). It prints the
wall time of 1 seed, of K seeds, their ratio (goal: K = 10 within 2x of one seed), the same ratio
in CPU time of this process (one thread, so it does not count time lost to other jobs on a shared
machine), env steps per second (all trials) and where the time goes. One torch thread; compare rows
of the same run only.

    python benchmarks/trainer_throughput.py                       # A1 and D1, K = 10
    python benchmarks/trainer_throughput.py --scenarios B1 --models marl --trials 5 --rollouts 6
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["A1", "D1"])
    ap.add_argument("--models", nargs="+", default=["marl", "marl-gnn", "imarl"])
    ap.add_argument("--trials", type=int, default=10, help="K, seeds in the batch")
    ap.add_argument("--rollouts", type=int, default=13, help="rollouts (updates) per seed")
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()

    import torch

    from trainer_timing import phase_text, run

    torch.set_num_threads(1)
    rows = []
    for sc in a.scenarios:
        for model in a.models:
            one = run(model, sc, [0], a.rollouts, a.num_envs, device=a.device)
            many = run(model, sc, list(range(a.trials)), a.rollouts, a.num_envs, device=a.device)
            assert many["best"][0] == one["best"][0], "trial 0 of the batch must equal the solo run"
            rows.append((sc, model, one, many))
            print(f"  {sc} {model}: 1 seed {one['wall_s']:.1f} s, {a.trials} seeds {many['wall_s']:.1f} s "
                  f"(x{many['wall_s'] / one['wall_s']:.2f}; CPU x{many['cpu_s'] / one['cpu_s']:.2f}); 1: {phase_text(one['phases'])}; "
                  f"{a.trials}: {phase_text(many['phases'])}", flush=True)
    K = a.trials
    print(f"\n{a.rollouts} rollouts of {a.num_envs} copies x 256 steps per seed, evaluation every 100 episodes, "
          f"device {a.device}, 1 thread\n")
    print(f"| scenario | model | 1 seed: wall s | env steps/s | {K} seeds: wall s | env steps/s | ratio "
          f"| CPU ratio | per-seed speed-up | {K} seeds: rollout / update / eval / other |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for sc, model, one, many in rows:
        r = many["wall_s"] / one["wall_s"]
        print(f"| {sc} | {model} | {one['wall_s']:.1f} | {one['steps_per_s']:,.0f} | {many['wall_s']:.1f} | "
              f"{many['steps_per_s']:,.0f} | {r:.2f} | {many['cpu_s'] / one['cpu_s']:.2f} | {K / r:.1f}x | {phase_text(many['phases'])} |")


if __name__ == "__main__":
    main()
