"""Trainer throughput of the multi-agent baselines: env steps/s *including* PPO updates.

Runs each trainer (MAPPO marl / marl-gnn, one IMARL agent-iteration) for a fixed number of training
episodes with evaluation switched off (one evaluation at the end remains, a few hundredths of a
second) and prints env steps per second of wall time, for the report's batch (4 copies x 256 steps)
and a large batch (64 copies). One CPU thread; compare rows of the same run only (shared machine).

    python benchmarks/ma_trainer_throughput.py                 # A1 and D1
    python benchmarks/ma_trainer_throughput.py --scenarios A1 --envs 4 64 256
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["A1", "D1"])
    ap.add_argument("--models", nargs="+", default=["marl", "marl-gnn", "imarl"])
    ap.add_argument("--envs", nargs="+", type=int, default=[4, 64])
    ap.add_argument("--rollouts", type=int, default=4, help="rollouts (updates) per measurement")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()

    from baselines import imarl, mappo

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sc in a.scenarios:
            for model in a.models:
                for B in a.envs:
                    episodes = a.rollouts * B * 256 // 128
                    common = dict(num_envs=B, num_steps=256, eval_every=10**9, out=tmp, results=None,
                                  progress=False, tensorboard=False, device=a.device, resume=False)
                    if model == "imarl":
                        s = imarl.run_imarl(imarl.Args(sc, episodes_per_iteration=episodes, max_agent_iterations=1,
                                                       run_name=f"{sc}{model}{B}", **common))
                    else:
                        s = mappo.train(mappo.Args(sc, model=model, episodes=episodes, run_name=f"{sc}{model}{B}",
                                                   **common))
                    rows.append((sc, model, B, s["env_steps"], s["wall_time_s"], s["env_steps"] / s["wall_time_s"]))
                    print(f"  {sc} {model} B={B}: {rows[-1][-1]:,.0f} env steps/s", flush=True)
    print("\n| scenario | model | copies B | env steps | wall s | env steps/s (incl. updates) |")
    print("|---|---|---:|---:|---:|---:|")
    for sc, model, B, n, w, r in rows:
        print(f"| {sc} | {model} | {B} | {n:,} | {w:.1f} | {r:,.0f} |")


if __name__ == "__main__":
    main()
