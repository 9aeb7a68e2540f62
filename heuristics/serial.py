"""Serial systems: Clark & Scarf (exact, Chen-Zheng recursion) and Shang & Song (newsvendor heuristic).

Stages are numbered 1..N from the customer upstream; index 0 of every array is
stage 1. Lead times are *protection* lead-time PMFs (deterministic L = point
mass at L). Holding costs passed here are echelon costs ``h_j = h'_j - h'_{j+1}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import pmf as P
from .network import PlainNetwork, protection_lead_times

__all__ = [
    "ROUNDINGS",
    "ShangSongResult",
    "ClarkScarfResult",
    "SerialNetworkResult",
    "local_to_echelon_holding",
    "echelon_to_local_holding",
    "echelon_to_local",
    "local_to_echelon",
    "round_levels",
    "shang_song",
    "clark_scarf",
    "clark_scarf_evaluate",
    "solve_serial_network",
]

ROUNDINGS = (None, "up", "down", "nearest")


def _check_inputs(demand: np.ndarray, lead_times: Sequence[np.ndarray], h: np.ndarray, p: float):
    demand = P.validate_pmf(demand, "demand pmf")
    lts = [P.validate_pmf(lt, f"lead-time pmf of stage {j + 1}") for j, lt in enumerate(lead_times)]
    h = np.asarray(h, dtype=np.float64).reshape(-1)
    if len(lts) == 0:
        raise ValueError("serial system needs at least one stage")
    if h.shape != (len(lts),):
        raise ValueError(f"echelon holding costs: expected {len(lts)} values (one per stage), got {h.shape}")
    if not np.all(np.isfinite(h)) or np.any(h < 0):
        raise ValueError(
            f"echelon holding costs must be finite and >= 0 (local holding non-decreasing towards the customer), got {h}"
        )
    if not np.isfinite(p) or p <= 0:
        raise ValueError(f"backorder cost p must be > 0, got {p}")
    return demand, lts, h, float(p)


def local_to_echelon_holding(local: Sequence[float]) -> np.ndarray:
    """``h_j = h'_j - h'_{j+1}`` with ``h'_{N+1} = 0`` (stage 1 first)."""
    hl = np.asarray(local, dtype=np.float64)
    return hl - np.append(hl[1:], 0.0)


def echelon_to_local_holding(echelon: Sequence[float]) -> np.ndarray:
    """``h'_j = sum_{i >= j} h_i`` (stage 1 first)."""
    he = np.asarray(echelon, dtype=np.float64)
    return np.cumsum(he[::-1])[::-1]


def echelon_to_local(S: Sequence[float]) -> np.ndarray:
    """Serial echelon -> local levels: ``S-_j = min_{i>=j} S_i``, ``s_1 = S-_1``, ``s_j = S-_j - S-_{j-1}``."""
    S = np.asarray(S, dtype=np.float64)
    Sm = np.minimum.accumulate(S[::-1])[::-1]
    return np.diff(Sm, prepend=0.0)


def local_to_echelon(s: Sequence[float]) -> np.ndarray:
    """Serial local -> echelon levels: ``S_j = s_1 + ... + s_j``."""
    return np.cumsum(np.asarray(s, dtype=np.float64))


def round_levels(x: np.ndarray, rounding: str | None) -> np.ndarray:
    """Round real levels: None (keep), "up", "down", "nearest" (ties to even, like Python's round)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    x = np.asarray(x, dtype=np.float64)
    if rounding is None:
        return x
    if rounding == "up":
        return np.ceil(x)
    if rounding == "down":
        return np.floor(x)
    return np.round(x)  # numpy rounds half to even


@dataclass(frozen=True)
class ShangSongResult:
    """Shang-Song echelon levels (stage 1 first) and the newsvendor bounds they average."""

    levels: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cumulative_ltd: tuple[np.ndarray, ...]


def shang_song(
    demand: np.ndarray,
    lead_times: Sequence[np.ndarray],
    echelon_holding: Sequence[float],
    p: float,
    *,
    weight: float = 0.5,
    rounding: str | None = None,
    ltd_model: str = "compound",
) -> ShangSongResult:
    """Shang & Song (2003) newsvendor heuristic for a serial system.

    Stage j's bounds are quantiles of the demand over ``L_1 + ... + L_j`` at
    ``(p + h'_{j+1})/(p + h'_j)`` (upper) and ``(p + h'_{j+1})/(p + h'_1)``
    (lower); the level is ``weight*lower + (1-weight)*upper``.
    """
    demand, lts, h, p = _check_inputs(demand, lead_times, echelon_holding, p)
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    hl = echelon_to_local_holding(h)
    N = len(lts)
    lower = np.zeros(N)
    upper = np.zeros(N)
    ltds = []
    for j in range(N):
        ltd = P.lead_time_demand_sum([(demand, lts[: j + 1])], ltd_model)
        ltds.append(ltd)
        pj = p + (hl[j + 1] if j + 1 < N else 0.0)
        upper[j] = P.quantile(ltd, pj / (p + hl[j]))
        lower[j] = P.quantile(ltd, pj / (p + hl[0]))
    levels = weight * lower + (1 - weight) * upper
    return ShangSongResult(round_levels(levels, rounding), lower, upper, tuple(ltds))


@dataclass(frozen=True)
class ClarkScarfResult:
    """Clark-Scarf echelon levels (stage 1 first, integers) and the expected cost per period."""

    levels: np.ndarray
    cost: float


def _recursion(demand, lts, h, p, ltd_model, given: np.ndarray | None):
    stage_ltd = [P.lead_time_demand(demand, lt, ltd_model) for lt in lts]
    hl1 = float(np.sum(h))
    top = sum(len(g) - 1 for g in stage_ltd) + 2
    if given is not None:
        top = max(top, int(np.max(given)) + 2)
    lo = -2  # every function is linear left of 0, so two points below 0 fix the extrapolation
    x = np.arange(lo, top + 1, dtype=np.float64)
    cbar = (p + hl1) * np.maximum(-x, 0.0)
    levels = np.zeros(len(lts), dtype=np.int64)
    cost = 0.0
    for j, g in enumerate(stage_ltd):
        chat = h[j] * x + cbar
        K = len(g) - 1
        slope = chat[1] - chat[0]
        left = chat[0] + slope * np.arange(-K, 0, dtype=np.float64)
        ext = np.concatenate([left, chat])
        # C_j(y) = sum_d g(d) chat(y - d): a 'valid' convolution over the extended grid.
        cj = np.convolve(ext, g, mode="valid")
        if given is None:
            i_star = int(np.argmin(cj))  # first minimiser, like stockpyl
        else:
            i_star = int(given[j]) - lo
            if i_star < 0:
                raise ValueError(f"echelon level of stage {j + 1} must be >= {lo}, got {given[j]}")
        levels[j] = int(x[i_star])
        cost = float(cj[i_star])
        cbar = cj.copy()
        cbar[i_star:] = cj[i_star]
    return levels, cost


def clark_scarf(
    demand: np.ndarray,
    lead_times: Sequence[np.ndarray],
    echelon_holding: Sequence[float],
    p: float,
    *,
    ltd_model: str = "compound",
) -> ClarkScarfResult:
    """Exact optimal echelon base-stock levels of a serial system (Chen-Zheng recursion on the integer grid).

    The cost includes holding on internal pipelines at the sender's local cost
    (docs/heuristics.md). With random lead times each stage uses its own
    lead-time demand under ``ltd_model`` (then the result is an approximation).
    """
    demand, lts, h, p = _check_inputs(demand, lead_times, echelon_holding, p)
    levels, cost = _recursion(demand, lts, h, p, ltd_model, None)
    return ClarkScarfResult(levels, cost)


def clark_scarf_evaluate(
    levels: Sequence[float],
    demand: np.ndarray,
    lead_times: Sequence[np.ndarray],
    echelon_holding: Sequence[float],
    p: float,
    *,
    ltd_model: str = "compound",
) -> float:
    """Expected cost per period of given echelon levels (stage 1 first).

    Non-integer levels are evaluated at the nearest integer, ties up (x.5 -> x+1), as stockpyl does.
    """
    demand, lts, h, p = _check_inputs(demand, lead_times, echelon_holding, p)
    S = np.asarray(levels, dtype=np.float64).reshape(-1)
    if S.shape != (len(lts),):
        raise ValueError(f"levels: expected {len(lts)} echelon levels, got shape {S.shape}")
    S = np.floor(S + 0.5).astype(np.int64)
    return _recursion(demand, lts, h, p, ltd_model, S)[1]


@dataclass(frozen=True)
class SerialNetworkResult:
    """Result of :func:`solve_serial_network`; arrays are in the network's node order."""

    local: np.ndarray
    echelon: np.ndarray
    stages: tuple[int, ...]
    cost_clark_scarf: float
    pipeline_adjustment: float
    cost_simulator: float
    protection_lead_times: tuple[np.ndarray, ...]


def _serial_stages(net: PlainNetwork) -> list[int]:
    if not net.is_serial():
        raise ValueError("solve_serial_network needs a serial network (one chain from one external supplier to one retailer)")
    v = net.retailers[0]
    stages = [v]
    while net.suppliers[v]:
        v = net.suppliers[v][0]
        stages.append(v)
    if len(stages) != net.n:
        raise ValueError("solve_serial_network: the network has nodes outside the chain")
    return stages


def solve_serial_network(
    net: PlainNetwork,
    *,
    convention: str = "meio",
    method: str = "clark_scarf",
    rounding: str | None = "up",
    ltd_model: str = "compound",
) -> SerialNetworkResult:
    """Solve a serial :class:`PlainNetwork` and price the result in both accountings.

    ``method="clark_scarf"`` gives the optimum; ``"shang_song"`` the heuristic
    (rounded with ``rounding`` before evaluation). ``cost_clark_scarf`` includes
    internal pipelines; ``cost_simulator`` subtracts
    ``sum_internal_edges h'_supplier * E[protection] * E[demand]`` (docs/heuristics.md),
    which is what our simulator charges under ``convention="meio"``.
    """
    if method not in ("clark_scarf", "shang_song"):
        raise ValueError(f"method must be 'clark_scarf' or 'shang_song', got {method!r}")
    stages = _serial_stages(net)
    prot = protection_lead_times(net, convention)
    demand = net.demand_pmf[stages[0]]
    lts = [prot[v] for v in stages]
    hloc = net.holding[stages]
    h = local_to_echelon_holding(hloc)
    if np.any(h < 0):
        raise ValueError(
            f"local holding costs must not decrease towards the customer along {[net.names[v] for v in stages]}: {hloc}"
        )
    p = float(net.backorder[stages[0]])
    if method == "clark_scarf":
        res = clark_scarf(demand, lts, h, p, ltd_model=ltd_model)
        S, cost = res.levels.astype(np.float64), res.cost
    else:
        S = shang_song(demand, lts, h, p, rounding=rounding, ltd_model=ltd_model).levels
        cost = clark_scarf_evaluate(S, demand, lts, h, p, ltd_model=ltd_model)
    s = echelon_to_local(S)
    local = np.zeros(net.n)
    echelon = np.zeros(net.n)
    local[stages] = s
    echelon[stages] = local_to_echelon(s)
    ed = P.mean(demand)
    adj = sum(hloc[r + 1] * P.mean(lts[r]) * ed for r in range(len(stages) - 1))
    return SerialNetworkResult(local, echelon, tuple(stages), cost, adj, cost - adj, prot)
