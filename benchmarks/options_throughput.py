"""Time per step of D1 at B = 1024 with each option of issue 16 on vs off, in one run.

    python benchmarks/options_throughput.py [--batch 1024] [--steps 200] [--repeats 5]

Variants (same D1 network, same random actions): ``off`` (the grid's D1), ``lost sales`` (every
retailer loses unmet demand, docs/options.md), ``seasonal`` (every retailer's demand x a season and
a shock), ``disrupted`` (the D1-Disrupted example: F2 and F1's external supply down in random
spells, rerouting) and ``all three``. Each line times ``MEIOVectorEnv.step`` (the whole env step)
and the core period alone (``BatchedMEIO.advance``); repeats are interleaved across the variants
and the minimum is kept, so a busy machine slows every variant alike; times are the process's
CPU time (``time.process_time``), which another job on the same cores disturbs less than wall
time. Ratios are to ``off``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402

from meio_envs import MEIOVectorEnv, NetworkSpec  # noqa: E402
from meio_envs.demand_patterns import DemandPattern  # noqa: E402
from meio_envs.example_scenarios import example_network  # noqa: E402
from meio_envs.scenarios import make_scenario  # noqa: E402


def variants() -> dict[str, NetworkSpec]:
    """The D1 network with each option on."""
    d1 = make_scenario("D1").network

    def each_retailer(net: NetworkSpec, **ch: object) -> NetworkSpec:
        return NetworkSpec(tuple(replace(sp, **ch) if sp.demand is not None else sp for sp in net.stock_points),
                           name=net.name)

    pattern = DemandPattern(season_length=32, season_amplitude=0.5, shocks=((80, 1.25),))
    disrupted = example_network("D1-Disrupted", d1)
    return {
        "off": d1,
        "lost sales": each_retailer(d1, lost_sales_cost=19.0, backorder_fraction=0.0),
        "seasonal": each_retailer(d1, demand_pattern=pattern),
        "disrupted": disrupted,
        "all three": each_retailer(disrupted, lost_sales_cost=19.0, backorder_fraction=0.0, demand_pattern=pattern),
    }


def time_env(env: MEIOVectorEnv, actions: np.ndarray) -> tuple[float, float]:
    """(seconds per env step, seconds per core period) over ``len(actions)`` steps each."""
    env.reset(seed=0)
    t0 = time.process_time()
    for a in actions:
        env.step(a)
    t_env = (time.process_time() - t0) / len(actions)
    core = env.core
    core.reset(seed=0)
    orders = [core.actions_to_orders(a) for a in actions]
    t0 = time.process_time()
    for q in orders:
        core.advance(q)
    return t_env, (time.process_time() - t0) / len(actions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    envs = {k: MEIOVectorEnv(network=net, num_envs=args.batch, episode_length=128) for k, net in variants().items()}
    P = next(iter(envs.values())).core.num_nodes
    actions = np.random.default_rng(0).uniform(-1, 1, (args.steps, args.batch, P)).astype(np.float32)
    for env in envs.values():  # compile and warm up
        time_env(env, actions[:5])
    best = {k: [np.inf, np.inf] for k in envs}
    for _ in range(args.repeats):
        for k, env in envs.items():
            te, tc = time_env(env, actions)
            best[k] = [min(best[k][0], te), min(best[k][1], tc)]
    e0, c0 = best["off"]
    print(f"D1, B = {args.batch}, {args.steps} steps, best of {args.repeats}")
    print(f"{'variant':<12} {'env step ms':>12} {'ratio':>6} {'core period ms':>15} {'ratio':>6}")
    for k, (te, tc) in best.items():
        print(f"{k:<12} {te * 1e3:12.3f} {te / e0:6.2f} {tc * 1e3:15.3f} {tc / c0:6.2f}")


if __name__ == "__main__":
    main()
