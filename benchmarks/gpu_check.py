"""GPU check: short seed-batched MAPPO and IMARL, and SARL+GNN, on CPU and on a GPU, with where the time goes.

For each model it trains the same short run (K seeds batched for marl/imarl; one SB3 PPO run for
sarl-gnn) once per device and prints wall time, env steps/s, the GPU/CPU ratio and the phase split
(rollout / update / eval / other; the update timer synchronises the GPU). Rollouts stay on the CPU
by design (the simulator is NumPy), so the GPU only speeds up network updates. Without CUDA it runs
the CPU rows only and says so; it never runs in CI.

    python benchmarks/gpu_check.py                        # A1 and D1, K = 10, cpu and cuda when present
    python benchmarks/gpu_check.py --scenarios D1 --trials 32 --rollouts 6 --devices cuda
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def time_sarl_gnn(scenario: str, rollouts: int, device: str) -> dict[str, float]:
    """SB3 PPO with the GAT critic: ``learn`` of ``rollouts`` rollouts after one warm-up rollout."""
    import torch

    from baselines.sarl import Args, make_model
    from meio_envs.adapters.sb3 import MEIOSB3VecEnv

    args = Args(scenario=scenario, model="sarl-gnn", progress=False, device=device)
    m = make_model(args, MEIOSB3VecEnv(scenario, args.n_envs), device)
    per = args.n_envs * args.n_steps
    m.learn(per)
    spent = {"rollout": 0.0, "update": 0.0}
    collect, train = m.collect_rollouts, m.train

    def timed(fn, phase):  # noqa: ANN001, ANN202
        def inner(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            t = time.perf_counter()
            out = fn(*a, **kw)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            spent[phase] += time.perf_counter() - t
            return out
        return inner

    m.collect_rollouts, m.train = timed(collect, "rollout"), timed(train, "update")
    t = time.perf_counter()
    m.learn(per * rollouts, reset_num_timesteps=False)
    wall = time.perf_counter() - t
    spent["other"] = max(0.0, wall - spent["rollout"] - spent["update"])
    return {"wall_s": wall, "steps_per_s": per * rollouts / wall, "phases": spent}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["A1", "D1"])
    ap.add_argument("--models", nargs="+", default=["marl", "imarl", "sarl-gnn"],
                    choices=["marl", "marl-gnn", "imarl", "sarl-gnn"])
    ap.add_argument("--trials", type=int, default=10, help="K seeds batched (marl, marl-gnn, imarl)")
    ap.add_argument("--rollouts", type=int, default=6, help="rollouts (updates) per seed")
    ap.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    a = ap.parse_args()

    import torch

    from trainer_timing import phase_text, run

    torch.set_num_threads(1)
    devices = [d for d in a.devices if d == "cpu" or torch.cuda.is_available()]
    if "cuda" in a.devices and "cuda" not in devices:
        print("no CUDA device here: CPU rows only (run this script on a machine with a GPU for the ratio)")
    elif "cuda" in devices:
        print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    rows = []
    for sc in a.scenarios:
        for model in a.models:
            res = {}
            for dev in devices:
                if model == "sarl-gnn":
                    res[dev] = time_sarl_gnn(sc, a.rollouts, dev)
                else:
                    res[dev] = run(model, sc, list(range(a.trials)), a.rollouts, device=dev)
                r = res[dev]
                print(f"  {sc} {model} {dev}: {r['wall_s']:.1f} s, {r['steps_per_s']:,.0f} env steps/s; "
                      f"{phase_text(r['phases'])}", flush=True)
            rows.append((sc, model, res))
    print(f"\n{a.rollouts} rollouts per seed of 4 copies x 256 steps; K = {a.trials} seeds for marl/imarl, "
          "1 for sarl-gnn; one CPU thread\n")
    cols = " | ".join(f"{d}: wall s | {d}: phases" for d in devices)
    print(f"| scenario | model | {cols} | cuda / cpu wall |")
    print("|---|---|" + "---|---|" * len(devices) + "---|")
    for sc, model, res in rows:
        cells = " | ".join(f"{res[d]['wall_s']:.1f} | {phase_text(res[d]['phases'])}" for d in devices)
        ratio = f"{res['cuda']['wall_s'] / res['cpu']['wall_s']:.2f}" if {"cpu", "cuda"} <= set(res) else "-"
        print(f"| {sc} | {model} | {cells} | {ratio} |")


if __name__ == "__main__":
    main()
