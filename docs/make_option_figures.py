"""Draw one trajectory of each option example (docs/options.md) under the DA base-stock policy.

Usage::

    python docs/make_option_figures.py

Writes ``docs/figures/options_lost_sales.png``, ``options_seasonal.png`` and ``options_disrupted.png``:
one episode of 128 periods, seed 0, every stock point ordering up to its DA base-stock level (the
same policy the grid's savings are measured against), next to the same episode without the option.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DOCS = Path(__file__).resolve().parent
if str(DOCS.parent) not in sys.path:
    sys.path.insert(0, str(DOCS.parent))

from meio_envs.envs.batch import BatchedMEIO  # noqa: E402
from meio_envs.evaluation import da_policy  # noqa: E402

FIG_DIR = DOCS / "figures"
DPI = 80
T = 128


def trajectory(scenario: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Per period (T, ...) arrays of one DA-policy episode: on hand, market owed, demand, lost, down."""
    core = BatchedMEIO(scenario, num_envs=1, episode_length=T)
    policy = da_policy(core.params)
    core.reset(seed=seed)
    rec: dict[str, list] = {k: [] for k in ("on_hand", "backorders", "demand", "lost", "down", "cost")}
    ip = core.inventory_position()
    for _ in range(T):
        act = policy(core.observe(ip), core.info(None, ip))
        costs = core.step_orders(core.actions_to_orders(act))
        st = core.state
        rec["on_hand"].append(st.on_hand[0].copy())
        rec["backorders"].append(st.market_backorder[0].sum())
        rec["demand"].append(st.market_new[0].sum())
        rec["lost"].append(int(costs.lost_units[0]))
        rec["down"].append(st.down[0].copy())
        rec["cost"].append(float(costs.total[0]))
        ip = core.inventory_position()
    out = {k: np.asarray(v) for k, v in rec.items()}
    out["names"] = np.asarray(core.params.network.names)
    return out


def _shade(ax, mask: np.ndarray, color: str, label: str) -> None:
    t = np.arange(len(mask))
    ax.fill_between(t, 0, 1, where=mask, color=color, alpha=0.25, step="mid", transform=ax.get_xaxis_transform(),
                    label=label)


def lost_sales() -> None:
    on, off = trajectory("A1-LostSales"), trajectory("A1")
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    t = np.arange(T)
    r = [i for i, n in enumerate(on["names"]) if n.startswith("R")]
    axes[0].plot(t, on["on_hand"][:, r].sum(1), label="retail on hand, lost sales")
    axes[0].plot(t, off["on_hand"][:, r].sum(1), "--", label="retail on hand, backorders (A1)")
    axes[0].set_ylabel("units")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].bar(t, on["lost"], color="tab:red", label="units lost (A1-LostSales)")
    axes[1].plot(t, off["backorders"], color="tab:gray", label="units backordered (A1)")
    axes[1].set_ylabel("units")
    axes[1].set_xlabel("period")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle("MEIO-A1-LostSales-v0 under DA base stock, seed 0")
    fig.tight_layout()
    fig.savefig(FIG_DIR / "options_lost_sales.png", dpi=DPI)
    plt.close(fig)


def seasonal() -> None:
    on, off = trajectory("B4-Seasonal"), trajectory("B4")
    from meio_envs.scenarios import make_scenario

    net = make_scenario("B4-Seasonal").network
    base_mean = sum(sp.demand.mean for sp in net.stock_points if sp.demand is not None)
    m = next(sp.demand_pattern for sp in net.stock_points if sp.demand is not None).multiplier(np.arange(T))
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    t = np.arange(T)
    axes[0].plot(t, on["demand"], label="market demand, B4-Seasonal")
    axes[0].plot(t, off["demand"], alpha=0.6, label="market demand, B4")
    axes[0].plot(t, m * base_mean, "k--", label="m(t) x mean demand")
    axes[0].set_ylabel("units / period")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].plot(t, on["backorders"], label="units owed to the market, B4-Seasonal")
    axes[1].plot(t, off["backorders"], alpha=0.6, label="units owed to the market, B4")
    axes[1].set_ylabel("units")
    axes[1].set_xlabel("period")
    axes[1].legend(loc="upper left", fontsize=8)
    fig.suptitle("MEIO-B4-Seasonal-v0 under DA base stock (stationary levels), seed 0")
    fig.tight_layout()
    fig.savefig(FIG_DIR / "options_seasonal.png", dpi=DPI)
    plt.close(fig)


def disrupted() -> None:
    on, off = trajectory("D1-Disrupted"), trajectory("D1")
    names = list(on["names"])
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    t = np.arange(T)
    for n in ("F1", "F2"):
        axes[0].plot(t, on["on_hand"][:, names.index(n)], label=f"{n} on hand")
    _shade(axes[0], on["down"][:, 0], "tab:red", "F1's external supply down")
    _shade(axes[0], on["down"][:, 1], "tab:purple", "F2 down")
    axes[0].set_ylabel("units")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(t, on["backorders"], label="units owed to the market, D1-Disrupted")
    axes[1].plot(t, off["backorders"], alpha=0.6, label="units owed to the market, D1")
    _shade(axes[1], on["down"].any(1), "tab:gray", "something down")
    axes[1].set_ylabel("units")
    axes[1].set_xlabel("period")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle("MEIO-D1-Disrupted-v0 under DA base stock, seed 0")
    fig.tight_layout()
    fig.savefig(FIG_DIR / "options_disrupted.png", dpi=DPI)
    plt.close(fig)


def main() -> None:
    FIG_DIR.mkdir(exist_ok=True)
    lost_sales()
    seasonal()
    disrupted()
    for n in ("lost_sales", "seasonal", "disrupted"):
        print(FIG_DIR / f"options_{n}.png")


if __name__ == "__main__":
    main()
