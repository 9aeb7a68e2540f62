"""Simulation optimisation of integer base-stock levels by batched coordinate search.

The search never touches a simulator itself: the caller passes ``cost_fn``,
which evaluates a batch of K level vectors with common random numbers and
returns their mean costs and standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

__all__ = ["SearchResult", "coordinate_search"]

CostFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`coordinate_search`."""

    best_levels: np.ndarray
    best_cost: float
    best_se: float
    history: list[dict] = field(default_factory=list)
    evaluations: int = 0  # number of level vectors evaluated (sum of batch sizes)


def _call(cost_fn: CostFn, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = cost_fn(batch)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("cost_fn must return a pair (means (K,), standard errors (K,))")
    means = np.asarray(out[0], dtype=np.float64).reshape(-1)
    ses = np.asarray(out[1], dtype=np.float64).reshape(-1)
    if means.shape != (len(batch),) or ses.shape != (len(batch),):
        raise ValueError(f"cost_fn returned shapes {means.shape}, {ses.shape}; expected ({len(batch)},) each")
    if not np.all(np.isfinite(means)):
        raise ValueError("cost_fn returned non-finite mean costs")
    return means, ses


def coordinate_search(
    cost_fn: CostFn,
    x0: Sequence[int],
    lower: Sequence[int] | int | None = None,
    upper: Sequence[int] | int | None = None,
    steps: Sequence[int] = (8, 4, 2, 1),
    max_rounds: int = 50,
    threshold: float = 1e-9,
    se_mult: float = 0.0,
    groups: Sequence[Sequence[int]] | None = None,
    verify: bool = True,
) -> SearchResult:
    """Coordinate descent over integer level vectors with shrinking step sizes.

    Each round evaluates the incumbent and every neighbour ``x +/- step`` on one
    group of coordinates (default: each coordinate alone; pass ``groups`` to move
    e.g. identical retailers together) in a single batched ``cost_fn`` call, so
    the comparison is paired under common random numbers. The best neighbour
    is accepted only if its mean is below the incumbent's by more than
    ``threshold + se_mult * se_neighbour``; otherwise the step shrinks to the
    next entry of ``steps``. The search ends when the last step finds nothing or
    after ``max_rounds`` rounds. With ``verify`` the final answer and ``x0`` are
    re-evaluated together and ``x0`` is returned unless the answer still wins,
    so the result is never worse than the start.
    """
    x0 = np.asarray(x0)
    if x0.ndim != 1 or x0.size == 0 or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be a non-empty 1-D vector of finite levels, got shape {x0.shape}")
    x0 = np.rint(x0).astype(np.int64)
    P = x0.size
    lo = np.full(P, np.iinfo(np.int64).min // 4) if lower is None else np.broadcast_to(np.asarray(lower, np.int64), (P,))
    hi = np.full(P, np.iinfo(np.int64).max // 4) if upper is None else np.broadcast_to(np.asarray(upper, np.int64), (P,))
    if np.any(lo > hi):
        raise ValueError("lower must be <= upper in every coordinate")
    if np.any(x0 < lo) or np.any(x0 > hi):
        raise ValueError("x0 must lie within [lower, upper]")
    steps = [int(s) for s in steps]
    if not steps or any(s <= 0 for s in steps):
        raise ValueError(f"steps must be a non-empty sequence of positive integers, got {steps}")
    if max_rounds < 0 or threshold < 0 or se_mult < 0:
        raise ValueError("max_rounds, threshold and se_mult must be >= 0")
    if groups is None:
        grp = [np.array([i]) for i in range(P)]
    else:
        grp = []
        for g in groups:
            g = np.asarray(list(g), dtype=np.int64)
            if g.size == 0 or np.any(g < 0) or np.any(g >= P):
                raise ValueError(f"each group must be a non-empty list of coordinate indices in 0..{P - 1}, got {g}")
            grp.append(g)

    x = x0.copy()
    history: list[dict] = []
    evaluations = 0
    cost = se = np.nan
    step_i = 0
    for rnd in range(max_rounds):
        step = steps[step_i]
        cands = [x]
        seen = {x.tobytes()}
        for g in grp:
            for sign in (1, -1):
                c = x.copy()
                c[g] = np.clip(c[g] + sign * step, lo[g], hi[g])
                if c.tobytes() not in seen:
                    seen.add(c.tobytes())
                    cands.append(c)
        batch = np.stack(cands)
        means, ses = _call(cost_fn, batch)
        evaluations += len(batch)
        cost, se = float(means[0]), float(ses[0])
        j = int(np.argmin(means[1:])) + 1 if len(batch) > 1 else 0
        accepted = j > 0 and means[j] < cost - threshold - se_mult * ses[j]
        history.append(
            dict(round=rnd, step=step, levels=x.copy(), cost=cost, se=se, candidates=len(batch) - 1,
                 best_candidate=batch[j].copy(), best_candidate_cost=float(means[j]), accepted=bool(accepted))
        )
        if accepted:
            x, cost, se = batch[j].copy(), float(means[j]), float(ses[j])
        elif step_i + 1 < len(steps):
            step_i += 1
        else:
            break

    if max_rounds == 0 or (verify and not np.array_equal(x, x0)):
        means, ses = _call(cost_fn, np.stack([x0, x]))
        evaluations += 2
        if np.array_equal(x, x0) or not means[1] < means[0] - threshold:
            x, cost, se = x0.copy(), float(means[0]), float(ses[0])
        else:
            cost, se = float(means[1]), float(ses[1])
    return SearchResult(x, cost, se, history, evaluations)
