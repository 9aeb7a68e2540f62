"""Time DA on every grid scenario and compare its reconstructed options by simulation.

Prints, per scenario: DA wall time (uncached, median of 5), and the evaluated cost (grid protocol,
fixed evaluation seeds) of DA levels under matching="smallest" (default) vs "nearest" and
ltd_model="compound" (default) vs "crossing".

    python benchmarks/heuristic_speed.py            # all 30 scenarios
    python benchmarks/heuristic_speed.py A1 D4      # some
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from heuristics import da  # noqa: E402
from meio_envs.envs.batch import resolve_params  # noqa: E402
from meio_envs.evaluation import base_stock_policy, evaluate  # noqa: E402
from meio_envs.scenarios import SCENARIO_IDS  # noqa: E402

OPTIONS = {
    "smallest": dict(matching="smallest"),
    "nearest": dict(matching="nearest"),
    "crossing": dict(ltd_model="crossing"),
}


def main(sids: list[str]) -> None:
    print(f"{'scen':5} {'DA ms':>7} " + " ".join(f"{k:>10}" for k in OPTIONS) + "  (evaluated mean cost; lowest marked *)")
    wins = dict.fromkeys(OPTIONS, 0)
    for sid in sids:
        params, _ = resolve_params(sid)
        plain = params.network.to_plain()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            da(plain)
            times.append(time.perf_counter() - t0)
        costs = {}
        for name, kw in OPTIONS.items():
            levels = da(plain, **kw).local
            costs[name] = evaluate(base_stock_policy(np.asarray(levels), params.max_order), params).mean
        best = min(costs, key=costs.get)
        wins[best] += 1
        cells = " ".join(f"{costs[k]:>9.1f}{'*' if k == best else ' '}" for k in OPTIONS)
        print(f"{sid:5} {1e3 * float(np.median(times)):7.2f} {cells}", flush=True)
    print("lowest cost count:", wins)


if __name__ == "__main__":
    main([s.upper() for s in sys.argv[1:]] or list(SCENARIO_IDS))
