"""Generalised advantage estimation (GAE) with truncation bootstrapping.

Our inventory episodes never *terminate*; they are *truncated* after 128 periods. At a truncation the
return must be bootstrapped with the value of the true next state (the last observation of the
episode, before the reset), and the lambda-chain must stop there (the next stored step belongs to a
new episode). This module therefore takes the values of the *next* states explicitly instead of
shifting ``values`` by one step::

    delta_t = r_t + gamma * (1 - terminated_t) * V(s'_t) - V(s_t)
    A_t     = delta_t + gamma * lambda * (1 - episode_end_t) * A_{t+1}

``s'_t`` is the state reached by step t (for a truncated step: the final state of its episode), and
``episode_end_t = terminated_t or truncated_t``. With ``terminated`` left out (our case) every step
bootstraps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["compute_gae"]


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    episode_end: np.ndarray,
    gamma: float = 0.99,
    lam: float = 0.95,
    terminated: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns (= advantages + values) of a rollout.

    Args:
        rewards: (T, B, ...) rewards of each step (trailing axes, e.g. one column per agent, are
            carried through).
        values: (T, B, ...) V(s_t).
        next_values: (T, B, ...) V(s'_t), the value of the state each step led to (before any reset).
        episode_end: (T, B) bool, the episode ended at step t (truncated or terminated).
        gamma: Discount factor.
        lam: GAE lambda.
        terminated: (T, B) bool, true terminal states (no bootstrap); ``None`` = never.

    Returns:
        ``(advantages, returns)``, both shaped like ``rewards``, float32.
    """
    r = np.asarray(rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    nv = np.asarray(next_values, dtype=np.float64)
    if not (r.shape == v.shape == nv.shape):
        raise ValueError(f"rewards {r.shape}, values {v.shape} and next_values {nv.shape} must match")
    end = np.asarray(episode_end, dtype=bool)
    if end.shape != r.shape[:2]:
        raise ValueError(f"episode_end must be (T, B) = {r.shape[:2]}, got {end.shape}")
    extra = (1,) * (r.ndim - 2)  # broadcast (T, B) flags over trailing axes
    cont = (~end).reshape(end.shape + extra).astype(np.float64)
    boot = np.ones_like(cont) if terminated is None else (~np.asarray(terminated, bool)).reshape(end.shape + extra)
    adv = np.zeros_like(r)
    last = np.zeros_like(r[0])
    for t in range(r.shape[0] - 1, -1, -1):
        delta = r[t] + gamma * boot[t] * nv[t] - v[t]
        last = delta + gamma * lam * cont[t] * last
        adv[t] = last
    return adv.astype(np.float32), (adv + v).astype(np.float32)
