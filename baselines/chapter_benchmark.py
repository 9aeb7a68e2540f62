"""Benchmark for ``MEIO-Chapter2L-v0``: an (s, S) policy per warehouse searched on the simulator.

With fixed ordering costs a base-stock policy (order every period) pays the fixed cost every
period; an (s, S) policy orders only when the inventory position IP (on hand + in transit +
ordered and not shipped - owed) has fallen to ``s`` or below, and then orders up to ``S``.

Two variants:

* ``"continuous"`` (unconstrained): every warehouse with ``IP <= s`` orders
  ``min(S - IP, XL)`` in the same period (the continuous action allows it).
* ``"discrete"`` (the chapter's constraint: at most one warehouse orders per period, one of four
  sizes): among the warehouses with ``IP <= s`` the one with the largest deficit ``s - IP``,
  measured in periods of its mean demand, orders; it orders the size closest to ``S - IP``
  (ties go to the larger size). The others wait for a later period.

The six parameters ``(s_w, Q_w = S_w - s_w)`` are found by :func:`heuristics.coordinate_search`
(the discrete variant from two starts: the textbook levels of :func:`initial_levels` and the
continuous variant's optimum; the better one is kept)
with common random numbers: every candidate is simulated on the same ``SEARCH_EPISODES``
episodes (seeds disjoint from the evaluation seeds), all candidates of a round in one batch of
the shared core. ``python -m baselines.chapter_benchmark`` re-runs the search and evaluates the
result with the chapter's protocol (:func:`meio_envs.envs.chapter.evaluate_chapter`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping

import numpy as np

from heuristics import coordinate_search
from meio_envs.core import dynamics
from meio_envs.envs.chapter import ActionType, ChapterBatch, ChapterParams, evaluate_chapter
from meio_envs.evaluation import EvalResult
from meio_envs.scaling import orders_to_action

__all__ = [
    "SEARCHED_LEVELS",
    "benchmark_result",
    "search_ss",
    "ss_actions",
    "ss_policy",
]

SEARCH_SEED = 20_240_808  # copies SEARCH_SEED .. + SEARCH_EPISODES - 1 (disjoint from EVAL_SEED's range)
SEARCH_EPISODES = 400

# Result of ``search_ss`` with the default ChapterParams (see docs/chapter_env.md): (s, S) per
# warehouse in order M1, L1, L2, stored so that the A2C runs compare against it without searching.
SEARCHED_LEVELS: dict[str, tuple[tuple[int, int], ...]] = {
    "discrete": ((18, 128), (30, 91), (18, 69)),
    "continuous": ((16, 126), (27, 88), (16, 67)),
}


def _mean_demand(cp: ChapterParams) -> np.ndarray:
    leaves = np.asarray([d.mean for d in cp.demand], dtype=np.float64)
    return np.concatenate([[leaves.sum()], leaves])


def ss_actions(ip: np.ndarray, s: np.ndarray, S: np.ndarray, cp: ChapterParams, action_type: ActionType) -> np.ndarray:
    """(s, S) decisions for inventory positions ``ip`` (B, 3) and levels ``s``, ``S`` (B, 3) or (3,).

    Returns integer orders (B, 3) for ``"continuous"`` and discrete actions (B,) in 0..12 for
    ``"discrete"`` (see the module docstring for the one-order-per-period rule).
    """
    s = np.broadcast_to(s, ip.shape)
    S = np.broadcast_to(S, ip.shape)
    trig = ip <= s
    if action_type == "continuous":
        return np.where(trig, np.clip(S - ip, 0, cp.xl), 0).astype(np.int64)
    deficit = np.where(trig, (s - ip) / _mean_demand(cp), -np.inf)
    w = np.argmax(deficit, axis=1)
    rows = np.arange(ip.shape[0])
    any_trig = trig.any(axis=1)
    want = (S - ip)[rows, w]
    sizes = cp.sizes[w]  # (B, 4)
    dist = np.abs(sizes - want[:, None]).astype(np.float64) - 1e-3 * np.arange(4)  # ties -> larger
    k = np.argmin(dist, axis=1)
    return np.where(any_trig, 1 + 4 * w + k, 0).astype(np.int64)


def ss_policy(levels: np.ndarray, cp: ChapterParams | None = None, action_type: ActionType = "discrete"):  # noqa: ANN201
    """A policy ``(obs, info) -> actions`` for :func:`evaluate_chapter` from levels (3, 2) = (s, S) rows."""
    cp = ChapterParams() if cp is None else cp
    lv = np.asarray(levels, dtype=np.int64).reshape(3, 2)

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        a = ss_actions(np.asarray(info["inventory_position"]), lv[:, 0], lv[:, 1], cp, action_type)
        return a if action_type == "discrete" else orders_to_action(a, cp.xl)

    return act


def _cost_fn(cp: ChapterParams, action_type: ActionType, episodes: int, seed: int):  # noqa: ANN202
    """Batched cost of candidates x (K, 6) = (s_M, Q_M, s_L1, Q_L1, s_L2, Q_L2), CRN across candidates."""

    def cost(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.int64)
        K = x.shape[0]
        s = np.repeat(x[:, 0::2], episodes, axis=0)
        S = s + np.repeat(x[:, 1::2], episodes, axis=0)
        batch = ChapterBatch(cp, num_envs=K * episodes)
        st = batch.core.state
        st.keys[:] = dynamics.rng.copy_keys(np.tile(seed + np.arange(episodes), K))
        st.episode[:] = 0
        dynamics.reset_copies(batch.core.params, st, np.ones(K * episodes, bool), next_episode=False)
        total = np.zeros(K * episodes)
        for _ in range(cp.episode_length):
            a = ss_actions(batch.core.inventory_position(), s, S, cp, action_type)
            q = batch.discrete_to_orders(a) if action_type == "discrete" else a
            total += batch.step_orders(q).total
        per = total.reshape(K, episodes)
        return per.mean(axis=1), per.std(axis=1, ddof=1) / np.sqrt(episodes)

    return cost


def initial_levels(cp: ChapterParams) -> np.ndarray:
    """Start of the search (3, 2): s = mean demand over lead time + review + a safety margin,
    S = s + EOQ (rounded)."""
    d = _mean_demand(cp)
    lt = np.asarray([cp.lead_time[0].mean, cp.lead_time[1].mean + 1, cp.lead_time[2].mean + 1])
    h = cp.k_holding * np.asarray(cp.price)
    eoq = np.sqrt(2 * np.asarray(cp.fixed_order_cost) * d / h)
    s = np.rint(d * (lt + 1) + 2 * np.sqrt(d * (lt + 1)))
    return np.stack([s, s + np.rint(eoq)], axis=1).astype(np.int64)


def search_ss(
    cp: ChapterParams | None = None,
    action_type: ActionType = "discrete",
    episodes: int = SEARCH_EPISODES,
    seed: int = SEARCH_SEED,
    x0: np.ndarray | None = None,
    steps: tuple[int, ...] = (16, 8, 4, 2, 1),
) -> tuple[np.ndarray, float, float, int]:
    """Coordinate search of (s, S) per warehouse; returns (levels (3, 2), mean, se, evaluations)."""
    cp = ChapterParams() if cp is None else cp
    lv0 = initial_levels(cp) if x0 is None else np.asarray(x0, dtype=np.int64).reshape(3, 2)
    start = np.stack([lv0[:, 0], lv0[:, 1] - lv0[:, 0]], axis=1).reshape(-1)  # (s, Q) interleaved
    lower = np.asarray([-50, 1] * 3)
    upper = np.asarray([400, 400] * 3)
    res = coordinate_search(_cost_fn(cp, action_type, episodes, seed), start, lower, upper, steps=steps)
    x = res.best_levels.reshape(3, 2)
    levels = np.stack([x[:, 0], x[:, 0] + x[:, 1]], axis=1)
    return levels, res.best_cost, res.best_se, res.evaluations


def benchmark_result(action_type: ActionType = "discrete", cp: ChapterParams | None = None,
                     episodes: int = 100) -> EvalResult:
    """Evaluation (chapter protocol, evaluation seeds) of the stored searched levels, or of a fresh
    search when none are stored for ``action_type`` or ``cp`` is not the default."""
    default = cp is None or cp == ChapterParams()
    cp = ChapterParams() if cp is None else cp
    if default and action_type in SEARCHED_LEVELS:
        levels = np.asarray(SEARCHED_LEVELS[action_type])
    else:
        levels = search_ss(cp, action_type)[0]
    return evaluate_chapter(ss_policy(levels, cp, action_type), cp, action_type, episodes=episodes)


def main(argv: list[str] | None = None) -> dict:
    """Search both variants, evaluate them and print (optionally write) a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=SEARCH_EPISODES, help="search episodes per candidate")
    ap.add_argument("--out", default=None, help="JSON file to write")
    args = ap.parse_args(argv)
    cp = ChapterParams()
    out: dict = {"scenario": "Chapter2L", "search_seed": SEARCH_SEED, "search_episodes": args.episodes}
    for at in ("continuous", "discrete"):
        t0 = time.perf_counter()
        levels, mean, se, n = search_ss(cp, at, episodes=args.episodes)
        if at == "discrete":  # second start: the unconstrained optimum (the search is local)
            lv2, m2, se2, n2 = search_ss(cp, at, episodes=args.episodes, x0=np.asarray(out["continuous"]["levels"]))
            n += n2
            if m2 < mean:
                levels, mean, se = lv2, m2, se2
        ev = evaluate_chapter(ss_policy(levels, cp, at), cp, at)
        out[at] = dict(levels=levels.tolist(), search_cost=mean, search_se=se, evaluations=n,
                       eval_cost=ev.mean, eval_se=ev.se, breakdown=ev.breakdown,
                       wall_s=round(time.perf_counter() - t0, 1))
        x0 = initial_levels(cp)
        out[at]["initial_levels"] = x0.tolist()
        out[at]["initial_eval_cost"] = evaluate_chapter(ss_policy(x0, cp, at), cp, at).mean
    print(json.dumps(out, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
