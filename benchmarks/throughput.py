"""Simulator throughput: the package's vector env and core vs a bare NumPy kernel vs stockpyl.

For B in {1, 64, 1024, 4096} on A1, B4 and D1 it prints env steps/s and stock-point steps/s of
  * ``vector``: ``MEIOVectorEnv.step`` (action validation, scaling, observation, info, autoreset),
  * ``core``: ``BatchedMEIO.step_orders`` + inventory positions (the batched period only),
  * ``ref``: a minimal reference kernel below (same period, no API layer, one Generator),
and their ratios, all in the same run. Then stockpyl's simulator on A1 with a base-stock policy
(network-periods/s; needs the separate numpy<2 venv ``.venv-stockpyl``, skipped if absent) and
the ratio of the vector env at B=4096 to it.

    python benchmarks/throughput.py [--seconds 1.0]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from meio_envs import MEIOVectorEnv  # noqa: E402
from meio_envs.core.params import SimParams  # noqa: E402
from meio_envs.envs.batch import BatchedMEIO  # noqa: E402


class ReferenceKernel:
    """The period of docs/environments.md written as plainly as possible on (B, ...) arrays.

    Independent of the package's code paths except for reading the parameters; random numbers
    come from one ``numpy.random.Generator`` through inverse-CDF tables.
    """

    def __init__(self, p: SimParams, B: int, seed: int = 0) -> None:
        self.p, self.B, self.rng = p, B, np.random.default_rng(seed)
        P, E, H = p.num_nodes, p.num_edges, p.horizon_slots
        self.inv = np.tile(p.base_stock, (B, 1))
        self.pipe = np.zeros((B, P, H), np.int64)
        self.bo = np.zeros((B, E), np.int64)
        self.new = np.zeros((B, E), np.int64)
        self.mbo = np.zeros((B, len(p.retailers)), np.int64)
        self.mnew = np.zeros_like(self.mbo)
        self.t = 0
        cdf = lambda pm: np.cumsum(pm) / np.sum(pm)  # noqa: E731
        self.dcdf = [cdf(p.network.stock_points[r].demand.pmf()) for r in p.retailers]
        self.lcdf = [cdf(sp.lead_time.pmf()) for sp in p.network.stock_points]
        self.cust = [np.nonzero(p.edges[:, 0] == u)[0] for u in range(P)]
        self.sup_edges = [np.nonzero(p.edges[:, 1] == c)[0] for c in range(P)]

    def ip(self) -> np.ndarray:
        p = self.p
        ip = self.inv + self.pipe.sum(-1)
        owed = self.bo + self.new
        for e, (u, c) in enumerate(p.edges):
            ip[:, c] += owed[:, e]
            ip[:, u] -= owed[:, e]
        ip[:, p.retailers] -= self.mbo + self.mnew
        return ip

    def step(self, q: np.ndarray) -> np.ndarray:
        p, B, H, rng = self.p, self.B, self.p.horizon_slots, self.rng
        rows = np.arange(B)
        s = self.t % H
        self.inv += self.pipe[:, :, s]
        self.pipe[:, :, s] = 0
        owed = self.mbo + self.mnew
        ship = np.minimum(self.inv[:, p.retailers], owed)
        self.inv[:, p.retailers] -= ship
        self.mbo, self.mnew = owed - ship, np.zeros_like(owed)
        ip = self.ip()
        for u, es in enumerate(self.cust):
            if es.size == 0:
                continue
            order = np.argsort(ip[:, p.edges[es, 1]], axis=1, kind="stable")
            avail = self.inv[:, u].copy()
            sent = np.zeros((B, es.size), np.int64)
            for want in (self.bo, self.new):
                for k in range(es.size):
                    col = order[:, k]
                    w = want[rows, es[col]]
                    x = np.minimum(w, avail)
                    sent[rows, col] += x
                    avail -= x
            self.inv[:, u] = avail
            self.bo[:, es] = self.bo[:, es] + self.new[:, es] - sent
            self.new[:, es] = 0
            for k, e in enumerate(es):
                c = p.edges[e, 1]
                lam = np.searchsorted(self.lcdf[c], rng.random(B), side="right")
                self.pipe[rows, c, (self.t + lam) % H] += sent[:, k]
        cost = self.inv @ p.holding + self.mbo @ p.backorder
        for c, es in enumerate(self.sup_edges):
            if es.size:
                pick = (rng.random(B) * es.size).astype(np.int64)
                for k, e in enumerate(es):
                    self.new[:, e] = np.where(pick == k, q[:, c], 0)
            else:
                lam = np.searchsorted(self.lcdf[c], rng.random(B), side="right")
                self.pipe[rows, c, (self.t + lam) % H] += q[:, c]
        for i, cdf in enumerate(self.dcdf):
            self.mnew[:, i] = np.searchsorted(cdf, rng.random(B), side="right")
        self.t += 1
        return cost


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def stockpyl_rate(periods: int = 3000) -> float | None:
    """Network-periods/s of stockpyl's simulator on A1 with base-stock levels (None if unavailable)."""
    py = Path(__file__).resolve().parents[1] / ".venv-stockpyl" / "bin" / "python"
    if not py.exists():
        return None
    code = f"""
import time, warnings
warnings.filterwarnings('ignore')
from stockpyl.supply_chain_network import network_from_edges
from stockpyl.sim import simulation
net = network_from_edges(edges=[(0,1),(0,2),(0,3)], node_order_in_lists=[0,1,2,3],
    local_holding_cost=[0.6,1,1,1], stockout_cost=[0,19,19,19], shipment_lead_time=[1,1,1,1],
    demand_type=[None,'P','P','P'], mean=[None,10,10,10], policy_type='BS', base_stock_level=[27,34,34,34])
t0 = time.perf_counter(); simulation(net, {periods}, rand_seed=1, progress_bar=False, consistency_checks='N')
print({periods} / (time.perf_counter() - t0))
"""
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print("stockpyl run failed:", out.stderr[-500:], file=sys.stderr)
        return None


def single_env_rate(env_id: str, seconds: float) -> float:
    """Steps/s of one ``gym.make`` env with a fixed action, resetting at episode ends."""
    return rate(_stepper(env_id), seconds)


def floor_rate(path: Path, B: int = 1024) -> float:
    """Env steps/s of the floor script's minimal kernel at batch ``B`` (runs its kernel section)."""
    import json

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(path), "kernel"], capture_output=True, text=True, env=env, check=True)
    for line in out.stdout.splitlines():
        row = json.loads(line)
        if row["what"].startswith(f"NumPy kernel minimal B={B} "):
            return float(row["median"])
    raise RuntimeError(f"{path}: no 'minimal B={B}' line in its output")


def _stepper(env_id: str):
    """A zero-argument function taking one step of a ``gym.make`` env (resetting at episode ends)."""
    import gymnasium as gym

    import meio_envs  # noqa: F401  (registers the ids)

    env = gym.make(env_id)
    env.reset(seed=0)
    action = env.action_space.sample() * 0 if env_id.startswith("MEIO") else 0

    def one() -> None:
        _, _, term, trunc, _ = env.step(action)
        if term or trunc:
            env.reset()

    return one


def interleaved_rates(ids: list[str], seconds: float, rounds: int = 10) -> dict[str, list[float]]:
    """Steps/s of each env in ``rounds`` alternating slices of ``seconds / rounds``.

    On a shared machine the load drifts within seconds; alternating short slices puts every env
    under the same load, so the per-round ratios are comparable even when the rates are not.
    """
    steppers = {i: _stepper(i) for i in ids}
    out: dict[str, list[float]] = {i: [] for i in ids}
    for _ in range(rounds):
        for i in ids:
            out[i].append(rate(steppers[i], seconds / rounds))
    return out


def goals(seconds: float, floor: Path | None) -> None:
    """The lean-core ratios: single env vs CartPole-v1, D1 at B=1024 vs the NumPy floor."""
    rates = interleaved_rates(["CartPole-v1", "MEIO-A1-v0", "MEIO-D1-v0"], 3 * seconds)
    cart = rates["CartPole-v1"]
    print(f"CartPole-v1 (gym.make)      {np.median(cart):12,.0f} steps/s (median of {len(cart)} interleaved slices)")
    for sid in ("A1", "D1"):
        r = rates[f"MEIO-{sid}-v0"]
        ratio = np.median(np.asarray(cart) / np.asarray(r))  # per slice: the same load for both
        print(f"MEIO-{sid}-v0 (gym.make)      {np.median(r):12,.0f} steps/s   = 1/{ratio:.1f} of CartPole-v1"
              + ("   (goal: at least 1/8)" if sid == "A1" else "") + " (median of per-slice ratios)")
    core = BatchedMEIO("D1", num_envs=1024, episode_length=100_000)
    core.reset(0)
    q = np.full((1024, core.num_nodes), 10, np.int64)
    r_core = rate(lambda: core.advance(q), seconds) * 1024
    print(f"D1 core B=1024 (advance)    {r_core:12,.0f} env steps/s")
    if floor is None:
        print("NumPy floor: pass --floor PATH to the floor script to print the ratio")
        return
    r_floor = floor_rate(floor)
    r_core2 = rate(lambda: core.advance(q), seconds) * 1024  # again after the floor: same minute
    print(f"NumPy floor minimal B=1024  {r_floor:12,.0f} env steps/s")
    print(f"D1 core / floor: {r_core / r_floor:.2f} before, {r_core2 / r_floor:.2f} after the floor run "
          "(goal: at least 0.3)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--sizes", default="1,64,1024,4096")
    ap.add_argument("--goals", action="store_true", help="only the lean-core goal ratios")
    ap.add_argument("--floor", type=Path, default=None, help="path of the bare NumPy floor script")
    args = ap.parse_args()
    if args.goals:
        goals(args.seconds, args.floor)
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"{'scen':4} {'B':>5} | {'vector env st/s':>15} {'core st/s':>12} {'ref st/s':>12} | "
          f"{'vector node-st/s':>16} | {'vector/ref':>10} {'core/ref':>9}")
    vec_a1_4096 = None
    for sid in ("A1", "B4", "D1"):
        for B in sizes:
            venv = MEIOVectorEnv(sid, B, episode_length=100_000)
            venv.reset(seed=0)
            acts = np.zeros((B, venv.core.num_nodes), np.float32)
            r_vec = rate(lambda: venv.step(acts), args.seconds) * B
            core = BatchedMEIO(sid, num_envs=B, episode_length=100_000)
            core.reset(0)
            q = np.full((B, core.num_nodes), 10, np.int64)
            r_core = rate(lambda: (core.step_orders(q), core.inventory_position()), args.seconds) * B
            ref = ReferenceKernel(core.params, B)
            r_ref = rate(lambda: (ref.step(q), ref.ip()), args.seconds) * B
            P = core.num_nodes
            print(f"{sid:4} {B:5d} | {r_vec:15,.0f} {r_core:12,.0f} {r_ref:12,.0f} | {r_vec * P:16,.0f} | "
                  f"{r_vec / r_ref:10.2f} {r_core / r_ref:9.2f}", flush=True)
            if sid == "A1" and B == 4096:
                vec_a1_4096 = r_vec
    sp = stockpyl_rate()
    if sp is None:
        print("stockpyl: not available (create .venv-stockpyl as in README to include it)")
    else:
        print(f"stockpyl simulator, A1 network, base-stock: {sp:,.0f} network-periods/s")
        if vec_a1_4096:
            print(f"vector env A1 B=4096 / stockpyl: {vec_a1_4096 / sp:,.0f}x")


if __name__ == "__main__":
    main()
