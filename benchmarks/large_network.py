"""The largest networks that build and step: build time, step time and peak memory.

Each case runs in its own process (so peak RSS is that case's alone) and prints one JSON line;
the default sweep ends with a markdown table for docs/reliability.md:

    python benchmarks/large_network.py                 # the sweep
    python benchmarks/large_network.py --kind divergent --points 10000 --lead-max 1000 --num-envs 4

Kinds: ``divergent`` (1 factory, sqrt(P) warehouses, the rest retailers), ``general`` (three
layers, every retailer with three suppliers), ``serial`` (a chain). Lead times of every stock
point are U{1..lead_max}, so the pipeline holds lead_max + 1 slots. Base-stock levels are given
(``--da`` times the DA heuristic instead). Build = ``NetworkSpec.from_dict`` + ``SimParams``;
step = one ``BatchedMEIO.step_orders`` with random orders, averaged.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

SWEEP = [
    ("divergent", 1_000, 10, 1, False),
    ("divergent", 10_000, 10, 1, False),
    ("divergent", 10_000, 1_000, 1, False),
    ("divergent", 10_000, 1_000, 4, False),
    ("general", 10_000, 10, 1, False),
    ("serial", 10_000, 10, 1, False),
    ("divergent", 1_000, 5, 1, True),
    ("divergent", 10_000, 1, 1, True),
    ("serial", 500, 1, 1, True),
]


def network(kind: str, points: int, lead_max: int) -> dict[str, Any]:
    """A network dict of ``points`` stock points."""
    lead = {"type": "uniform_int", "low": 1, "high": lead_max} if lead_max > 1 else 1
    demand = {"type": "poisson", "mu": 10.0}
    sp = lambda name, sups, **kw: {  # noqa: E731
        "name": name, "suppliers": sups, "holding": kw.pop("holding", 1.0), "max_order": 200,
        "ip_bounds": [-1000, 500], "lead_time": lead, **kw,
    }
    if kind == "serial":
        pts = [sp("N0", ["external"], holding=0.5)] + [sp(f"N{i}", [f"N{i - 1}"]) for i in range(1, points)]
        pts[-1].update(backorder=19.0, demand=demand)
    else:
        w = max(1, int(math.sqrt(points)) - 1)
        tops = [sp("F1", ["external"], holding=0.4)] if kind == "divergent" else [
            sp(f"F{i}", ["external"], holding=0.4) for i in range(1, 4)]
        mids = [sp(f"W{i}", ["F1"] if kind == "divergent" else [f"F{1 + i % 3}"], holding=0.6) for i in range(1, w + 1)]
        n_ret = points - len(tops) - len(mids)
        rets = [
            sp(f"R{j}", [f"W{1 + j % w}"] if kind == "divergent" else [f"W{1 + (j + k) % w}" for k in range(3)],
               backorder=19.0, demand=demand)
            for j in range(n_ret)
        ]
        pts = tops + mids + rets
    return {"name": f"{kind}-{points}", "stock_points": pts}


def run_case(kind: str, points: int, lead_max: int, num_envs: int, da: bool, periods: int) -> dict[str, Any]:
    from meio_envs.core.params import SimParams
    from meio_envs.envs.batch import BatchedMEIO
    from meio_envs.network import NetworkSpec

    data = network(kind, points, lead_max)
    t0 = time.perf_counter()
    net = NetworkSpec.from_dict(data)
    t1 = time.perf_counter()
    params = SimParams.from_network(net, None if da else np.full(net.num_nodes, 50))
    t2 = time.perf_counter()
    b = BatchedMEIO(params=params, num_envs=num_envs)
    b.reset(0)
    rng = np.random.default_rng(0)
    q = rng.integers(0, params.max_order + 1, size=(periods, num_envs, net.num_nodes))
    b.step_orders(q[0])  # first period outside the timing (allocation)
    t3 = time.perf_counter()
    for t in range(1, periods):
        b.step_orders(q[t])
    t4 = time.perf_counter()
    st = b.state
    assert np.array_equal(st.external_in, st.on_hand.sum(1) + st.in_transit.sum(1) + st.delivered)
    return {
        "kind": kind, "stock_points": net.num_nodes, "edges": params.num_edges, "lead_time_max": lead_max,
        "pipeline_slots": params.horizon_slots, "num_envs": num_envs, "base_stock": "DA" if da else "given",
        "spec_s": round(t1 - t0, 3), "params_s": round(t2 - t1, 3), "build_s": round(t2 - t0, 3),
        "step_ms": round(1000 * (t4 - t3) / max(1, periods - 1), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["divergent", "general", "serial"])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--lead-max", type=int, default=10)
    ap.add_argument("--num-envs", type=int, default=1)
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--da", action="store_true", help="DA base-stock levels instead of given ones")
    a = ap.parse_args()
    if a.kind:
        print(json.dumps(run_case(a.kind, a.points, a.lead_max, a.num_envs, a.da, a.periods)), flush=True)
        return
    rows = []
    for kind, points, lead, envs, da in SWEEP:
        cmd = [sys.executable, __file__, "--kind", kind, "--points", str(points), "--lead-max", str(lead),
               "--num-envs", str(envs), "--periods", str(a.periods)] + (["--da"] if da else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(f"{kind} {points}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print("\n| kind | stock points | edges | lead time max | B | base stock | build s | step ms | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['kind']} | {r['stock_points']} | {r['edges']} | {r['lead_time_max']} | {r['num_envs']} | "
              f"{r['base_stock']} | {r['build_s']} | {r['step_ms']} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
