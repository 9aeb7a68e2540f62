"""Learned-policy plots (the report's Figure 10): order quantity against inventory position per stock point.

Any joint policy ``policy(obs, info) -> actions (B, P)`` (the evaluation protocol's policy type: a
MAPPO or IMARL joint policy, SARL wrapped the same way, or a base-stock policy) is simulated over a
long run (``periods`` network-periods in total, spread over ``copies`` batched copies); every
(IP, order) pair of every stock point is recorded and drawn as a scatter, next to the DA heuristic's
base-stock line ``order = clip(S - IP, 0, max_order)``.

    from baselines.policy_plots import plot_policy
    plot_policy(policy, "A1", "runs/A1_policy.png")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from meio_envs.core.params import SimParams
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.heuristic_levels import da_levels

__all__ = ["plot_policy", "simulate_policy"]



def simulate_policy(policy: Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray],
                    scenario: str | SimParams, periods: int = 100_000, copies: int = 100, seed: int = 0,
                    warmup: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Raw IPs (N, P) seen before each decision and the integer orders (N, P) placed, N ~ ``periods``.

    ``copies`` episodes of ``periods / copies + warmup`` periods run side by side; the first ``warmup``
    periods of each (the start from the base-stock state) are dropped.
    """
    length = max(1, -(-periods // copies)) + warmup
    core = BatchedMEIO(params=scenario, num_envs=copies, episode_length=length) if isinstance(scenario, SimParams) \
        else BatchedMEIO(scenario, num_envs=copies, episode_length=length)
    core.reset(seed)
    ips, orders = [], []
    for t in range(length):
        ip = core.inventory_position()
        q = core.actions_to_orders(np.asarray(policy(core.observe(ip), core.info(None, ip))))
        if t >= warmup:
            ips.append(ip.copy())
            orders.append(q)
        core.step_orders(q)
    return np.concatenate(ips), np.concatenate(orders)


def plot_policy(policy: Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray], scenario: str | SimParams,
                path: str | Path, periods: int = 100_000, copies: int = 100, seed: int = 0,
                title: str | None = None, heuristic: bool = True, max_points: int = 20_000) -> dict[str, Any]:
    """Draw one panel per stock point (order vs IP, heuristic line) to ``path`` (PNG, matplotlib Agg).

    Returns the simulated ``ip`` and ``orders`` arrays and the heuristic ``levels``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = scenario if isinstance(scenario, SimParams) else BatchedMEIO(scenario).params
    ip, q = simulate_policy(policy, params, periods, copies, seed)
    net = params.network
    levels = da_levels(net) if heuristic else None
    P = net.num_nodes
    ncols = min(P, 6)
    nrows = -(-P // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.8 * ncols, 2.5 * nrows), squeeze=False)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(ip), size=min(max_points, len(ip)), replace=False)
    for i in range(P):
        ax = axes[i // ncols][i % ncols]
        ax.scatter(ip[pick, i], q[pick, i], s=3, alpha=0.25, color="tab:blue", label="policy", rasterized=True)
        if levels is not None:
            lo, hi = min(ip[:, i].min(), levels[i] - params.max_order[i]), max(ip[:, i].max(), levels[i]) + 5
            x = np.linspace(lo, hi, 200)
            ax.plot(x, np.clip(levels[i] - x, 0, params.max_order[i]), color="tab:red", lw=1.2,
                    label=f"DA base stock S={levels[i]}")
        ax.set_title(net.names[i], fontsize=9)
        ax.set_xlabel("inventory position", fontsize=8)
        ax.set_ylabel("order quantity", fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=6, loc="upper right")
    for j in range(P, nrows * ncols):
        axes[j // ncols][j % ncols].axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"ip": ip, "orders": q, "levels": levels}
