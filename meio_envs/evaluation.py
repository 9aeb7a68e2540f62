"""The grid's evaluation protocol (docs/evaluation.md) and the base-stock benchmark policies.

``evaluate(policy, "A1")`` runs ``episodes`` copies of the scenario side by side for ``periods``
periods from the standard initial state and scores each episode by the total cost of the periods
after ``warmup``. Copy i is seeded ``seed + i``, so every policy evaluated with the same seed sees
the same demand and lead-time draws (common random numbers).

A *policy* is any callable ``policy(obs, info) -> actions``: ``obs`` is the (B, obs_dim) scaled
observation, ``actions`` (B, P) in [-1, 1]. ``info`` is the documented oracle argument: a dict of
(B, ...) arrays with the raw ``inventory_position`` and the ``cost_factors``; learned policies
ignore it, base-stock policies read the raw inventory position from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heuristics import BaseStockPolicy
from meio_envs.core.params import SimParams
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.heuristic_levels import da_levels
from meio_envs.scaling import orders_to_action

__all__ = [
    "EVAL_SEED",
    "EvalResult",
    "Policy",
    "base_stock_policy",
    "echelon_base_stock_policy",
    "da_policy",
    "evaluate",
    "evaluate_many",
    "make_eval_batch",
]

Policy = Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]
EVAL_SEED = 1_000_003  # fixed evaluation seed: copies use EVAL_SEED .. EVAL_SEED + episodes - 1


@dataclass(frozen=True)
class EvalResult:
    """Scores of one evaluation: per-episode costs and their summary."""

    episode_costs: np.ndarray  # (N,) total cost of periods warmup+1 .. periods per episode
    node_costs: np.ndarray  # (N, P) the same split by stock point
    breakdown: dict[str, float] = field(default_factory=dict)  # mean holding/backorder/ordering per episode

    @property
    def mean(self) -> float:
        """Mean episode score (the grid's metric)."""
        return float(self.episode_costs.mean())

    @property
    def std(self) -> float:
        """Standard deviation of episode scores."""
        return float(self.episode_costs.std(ddof=1)) if self.episode_costs.size > 1 else 0.0

    @property
    def se(self) -> float:
        """Standard error of the mean."""
        return self.std / np.sqrt(self.episode_costs.size)

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal-approximation 95 % confidence interval of the mean."""
        return self.mean - 1.96 * self.se, self.mean + 1.96 * self.se

    def savings_vs(self, benchmark: EvalResult | float) -> float:
        """(C_benchmark - C_self) / C_benchmark."""
        c = benchmark.mean if isinstance(benchmark, EvalResult) else float(benchmark)
        return (c - self.mean) / c


def make_eval_batch(scenario: str | SimParams | BatchedMEIO, episodes: int, **env_kwargs: Any) -> BatchedMEIO:
    """A batch of ``episodes`` copies for a grid id, parameters or an existing batch's parameters."""
    if isinstance(scenario, BatchedMEIO):
        params = scenario.params
        env_kwargs = {"observe_cost_factors": scenario.observe_cost_factors,
                      "observe_phase": scenario.observe_phase, **env_kwargs}
        return BatchedMEIO(params=params, num_envs=episodes, **env_kwargs)
    if isinstance(scenario, SimParams):
        return BatchedMEIO(params=scenario, num_envs=episodes, **env_kwargs)
    return BatchedMEIO(scenario, num_envs=episodes, **env_kwargs)


def evaluate(
    policy: Policy,
    scenario: str | SimParams | BatchedMEIO,
    episodes: int = 100,
    periods: int = 75,
    warmup: int = 25,
    seed: int = EVAL_SEED,
    **env_kwargs: Any,
) -> EvalResult:
    """Evaluate ``policy`` with the grid protocol: mean over episodes of the post-warm-up cost."""
    return evaluate_many(policy, scenario, 1, episodes, periods, warmup, seed, **env_kwargs)[0]


def evaluate_many(
    policy: Policy,
    scenario: str | SimParams | BatchedMEIO,
    trials: int,
    episodes: int = 100,
    periods: int = 75,
    warmup: int = 25,
    seed: int = EVAL_SEED,
    **env_kwargs: Any,
) -> list[EvalResult]:
    """Evaluate K policies side by side in one batch of K x ``episodes`` copies (the protocol of :func:`evaluate`).

    ``policy`` sees all K x episodes rows at once; rows ``k*episodes .. (k+1)*episodes - 1`` belong to
    policy k and are seeded ``seed + i`` like the copies of a solo evaluation. A copy's draws depend only
    on its seed, so result k is exactly ``evaluate`` of policy k alone.
    """
    if not (0 <= warmup < periods):
        raise ValueError(f"need 0 <= warmup < periods, got warmup={warmup}, periods={periods}")
    if episodes < 1 or trials < 1:
        raise ValueError(f"episodes and trials must be >= 1, got episodes={episodes}, trials={trials}")
    batch = make_eval_batch(scenario, trials * episodes, episode_length=periods, **env_kwargs)
    batch.reset(np.tile(seed + np.arange(episodes, dtype=np.int64), trials))
    P = batch.num_nodes
    node_costs = np.zeros((trials * episodes, P))
    names = ("holding", "backorder", "ordering") + (("lost_sales",) if _lost_sales_on(batch) else ())
    parts = [dict.fromkeys(names, 0.0) for _ in range(trials)]
    ip = batch.inventory_position()
    for t in range(periods):
        info = batch.info(None, ip)
        actions = np.asarray(policy(batch.observe(ip), info))
        costs = batch.step_orders(batch.actions_to_orders(actions))
        if t >= warmup:
            node_costs += costs.per_node
            for k, part in enumerate(parts):  # per policy: the sum over its own rows, as alone
                rows = slice(k * episodes, (k + 1) * episodes)
                for name in part:
                    part[name] += float(getattr(costs, name)[rows].sum()) / episodes
        ip = batch.inventory_position()
    out = []
    for k in range(trials):
        nc = node_costs[k * episodes:(k + 1) * episodes]
        out.append(EvalResult(episode_costs=nc.sum(axis=1), node_costs=nc, breakdown=parts[k]))
    return out


def _lost_sales_on(batch: BatchedMEIO) -> bool:
    """Whether the network loses sales (the breakdown then has a ``lost_sales`` part)."""
    from meio_envs.core.plan import StepPlan

    return bool(StepPlan.of(batch.params).options.lost_on)


def base_stock_policy(levels: np.ndarray, max_order: np.ndarray) -> Policy:
    """Fixed local base-stock levels as a policy: order ``clip(level - IP, 0, max_order)``."""
    bsp = BaseStockPolicy(np.asarray(levels), np.asarray(max_order))

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        return orders_to_action(bsp.orders(info["inventory_position"]), bsp.max_order)

    return act


def echelon_base_stock_policy(levels: np.ndarray, params: SimParams) -> Policy:
    """Echelon base stock: each stock point orders up to its level on its echelon IP (own IP plus
    every downstream IP); a wider class than local base stock that a central planner can run."""
    from meio_envs.base_stock_search import echelon_matrix

    m = echelon_matrix(params)
    bsp = BaseStockPolicy(np.asarray(levels), params.max_order)

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        return orders_to_action(bsp.orders(np.asarray(info["inventory_position"]) @ m), bsp.max_order)

    return act


def da_policy(params: SimParams) -> Policy:
    """The benchmark: DA levels, recomputed for each episode's cost factors when costs vary (level 5)."""
    net, mo = params.network, params.max_order
    if params.cost_variation is None:
        return base_stock_policy(da_levels(net), mo)
    cache: dict[tuple[float, float], np.ndarray] = {}

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        f = np.asarray(info["cost_factors"])
        levels = np.empty((f.shape[0], net.num_nodes), dtype=np.int64)
        for i, (fh, fb) in enumerate(f):
            key = (float(fh), float(fb))
            if key not in cache:
                cache[key] = da_levels(net, *key)
            levels[i] = cache[key]
        q = np.clip(levels - info["inventory_position"], 0, mo)
        return orders_to_action(q, mo)

    return act
