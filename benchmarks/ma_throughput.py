"""Throughput of the batched multi-agent interface next to the single-agent vector env.

Prints agent-steps/s of ``BatchedMultiAgent.step`` (both views) and env-steps/s and agent-steps/s
(env steps x P) of ``MEIOVectorEnv`` on the same scenario and batch size, in one run, with the
ratio vector / multi-agent (goal: at most 1.5).

    python benchmarks/ma_throughput.py [--scenario D1] [--num-envs 1024] [--steps 300]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # pin BLAS before numpy is imported

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from meio_envs.envs.batched_ma import BatchedMultiAgent  # noqa: E402
from meio_envs.envs.vector import MEIOVectorEnv  # noqa: E402


def _time(step: Callable[[np.ndarray], object], actions: np.ndarray, steps: int) -> float:
    """Seconds per call of ``step`` over ``steps`` calls (within one episode, no reset)."""
    t0 = time.perf_counter()
    for k in range(steps):
        step(actions[k % len(actions)])
    return (time.perf_counter() - t0) / steps


def main() -> None:
    """Run the comparison and print one line per interface."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="D1")
    ap.add_argument("--num-envs", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=120, help="timed steps per repeat (max 127)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    B = args.num_envs
    steps = min(args.steps, 127)

    vec = MEIOVectorEnv(args.scenario, B)
    P = vec.core.num_nodes
    actions = np.random.default_rng(0).uniform(-1, 1, (16, B, P)).astype(np.float32)

    def vec_step(a: np.ndarray) -> object:
        return vec.step(a)

    results: dict[str, float] = {}
    for r in range(args.repeats):  # interleave so background load hits every interface alike
        vec.reset(seed=r)
        results["vector"] = min(results.get("vector", np.inf), _time(vec_step, actions, steps))
        for view in ("marl", "imarl"):
            ma = BatchedMultiAgent(args.scenario, view=view, num_envs=B)
            ma.reset(seed=r)
            results[view] = min(results.get(view, np.inf), _time(ma.step, actions, steps))

    t_vec = results["vector"]
    threads = os.environ["OMP_NUM_THREADS"]
    print(f"scenario {args.scenario}, B={B}, P={P}, OMP_NUM_THREADS={threads}, "
          f"best of {args.repeats} x {steps} steps")
    head = ("interface", "ms/step", "env-steps/s", "agent-steps/s", "vec/this")
    print(f"{head[0]:<32}{head[1]:>10}{head[2]:>14}{head[3]:>16}{head[4]:>10}")
    rows = [("MEIOVectorEnv.step", t_vec)]
    rows += [(f"BatchedMultiAgent.step ({v})", results[v]) for v in ("marl", "imarl")]
    for name, t in rows:
        print(f"{name:<32}{t * 1e3:>10.3f}{B / t:>14,.0f}{B * P / t:>16,.0f}{t_vec / t:>10.2f}")
    worst = max(results["marl"], results["imarl"]) / t_vec
    print(f"slowest multi-agent view: {worst:.2f}x the vector env's time per step (goal <= 1.5x)")


if __name__ == "__main__":
    main()
