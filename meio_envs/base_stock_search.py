"""Simulated costs of many base-stock vectors at once, and the simulation-optimised search.

:func:`simulated_costs` runs K candidate level vectors x N episodes as one batch of K*N copies,
candidate k's copy j keyed by ``seed + j`` (common random numbers across candidates), with the
evaluation protocol of docs/evaluation.md. :func:`search_base_stock` feeds it to the generic
:func:`heuristics.coordinate_search`, started from DA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heuristics import SearchResult, coordinate_search
from meio_envs.core.params import SimParams
from meio_envs.envs.batch import BatchedMEIO

__all__ = [
    "SEARCH_SEED",
    "BaseStockSearch",
    "echelon_matrix",
    "search_base_stock",
    "simulated_costs",
]

SEARCH_SEED = 7_000_001  # search episodes use other seeds than the evaluation (no overfitting to them)


def echelon_matrix(params: SimParams) -> np.ndarray:
    """(P, P) 0/1 matrix M with ``ip @ M`` = echelon inventory positions.

    A stock point's echelon IP is its own IP plus the IPs of every stock point downstream of it
    (on general networks a shared customer counts fully for each of its suppliers).
    """
    P = params.num_nodes
    m = np.eye(P, dtype=np.int64)
    for v, down in enumerate(params.network.downstream):
        m[list(down), v] = 1
    return m


def simulated_costs(
    params: SimParams,
    levels: np.ndarray,
    episodes: int = 100,
    periods: int = 75,
    warmup: int = 25,
    seed: int = SEARCH_SEED,
    kind: str = "local",
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the episode score for each of K level vectors (K, P).

    ``kind="local"``: order up to the level on the stock point's own IP (installation base
    stock, DA's policy class); ``"echelon"``: on its echelon IP (:func:`echelon_matrix`).

    Standard errors are of the *difference* to candidate 0 where K > 1 (paired under common random
    numbers), which is what a search compares; for candidate 0 it is its own standard error.
    """
    if kind not in ("local", "echelon"):
        raise ValueError(f"kind must be 'local' or 'echelon', got {kind!r}")
    m = echelon_matrix(params) if kind == "echelon" else None
    lv = np.atleast_2d(np.asarray(levels, dtype=np.int64))
    K, P = lv.shape
    if P != params.num_nodes:
        raise ValueError(f"levels must have {params.num_nodes} columns (one per stock point), got {P}")
    batch = BatchedMEIO(params=params, num_envs=K * episodes, episode_length=periods)
    batch.reset(np.tile(seed + np.arange(episodes, dtype=np.int64), K))
    target = np.repeat(lv, episodes, axis=0)
    score = np.zeros(K * episodes)
    for t in range(periods):
        ip = batch.inventory_position()
        q = np.clip(target - (ip if m is None else ip @ m), 0, params.max_order)
        c = batch.step_orders(q)
        if t >= warmup:
            score += c.total
    s = score.reshape(K, episodes)
    means = s.mean(axis=1)
    diff = s - s[:1]
    ses = diff.std(axis=1, ddof=1) / np.sqrt(episodes)
    ses[0] = s[0].std(ddof=1) / np.sqrt(episodes)
    return means, ses


@dataclass(frozen=True)
class BaseStockSearch:
    """Outcome of :func:`search_base_stock`."""

    start: np.ndarray  # (P,) starting levels (DA)
    result: SearchResult


def search_base_stock(
    params: SimParams,
    start: np.ndarray,
    *,
    episodes: int = 200,
    seed: int = SEARCH_SEED,
    steps: tuple[int, ...] = (8, 4, 2, 1),
    max_rounds: int = 40,
    group_identical: bool = True,
    kind: str = "local",
) -> BaseStockSearch:
    """Coordinate descent over base-stock levels (``kind`` local or echelon), started from ``start``.

    With ``group_identical`` stock points with identical parameters and identical start levels
    (e.g. the retailers of A1) move together, which keeps the search symmetric and cheap.
    """
    start = np.asarray(start, dtype=np.int64)
    net = params.network
    groups: list[list[int]] = []
    if group_identical:
        sig: dict[tuple, list[int]] = {}
        for i, spt in enumerate(net.stock_points):
            key = (spt.suppliers, spt.holding, spt.backorder, spt.max_order, spt.lead_time, spt.demand, int(start[i]),
                   spt.lost_sales_cost, spt.backorder_fraction, spt.demand_pattern, spt.disruption,
                   spt.supply_disruptions, spt.on_disrupted_supplier)
            sig.setdefault(key, []).append(i)
        groups = list(sig.values())
    res = coordinate_search(
        lambda lv: simulated_costs(params, lv, episodes=episodes, seed=seed, kind=kind),
        start,
        lower=0,
        upper=None,
        steps=steps,
        max_rounds=max_rounds,
        groups=groups or None,
    )
    return BaseStockSearch(start=start, result=res)
