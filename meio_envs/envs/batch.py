"""The stateful shell around the batched core that every env view shares.

:class:`BatchedMEIO` owns the parameters and the state of B copies, turns seeds into per-copy
random streams, converts actions into orders and builds observations and info arrays. The
Gymnasium single env, the native vector env, the multi-agent interface and the SB3 adapter are all
thin views of it, so the dynamics exist once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from meio_envs.core import dynamics
from meio_envs.core.params import CostVariation, SimParams
from meio_envs.distributions import Distribution
from meio_envs.network import NetworkSpec
from meio_envs.scaling import action_to_orders, scale_ip, validate_action
from meio_envs.scenarios import make_scenario
from meio_envs.validation import (
    MAX_EPISODE_LENGTH, MEIOInputError, choice, exact_int, finite_float, int_array, seed_value,
)

MAX_NUM_ENVS = 1 << 22  # copies in one batch: far beyond any machine's memory for the smallest network

__all__ = ["INFO_KEYS", "BatchedMEIO", "resolve_params"]

SeedMode = Literal["advance", "repeat"]


def resolve_params(
    scenario: str | None = None,
    *,
    network: NetworkSpec | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    base_stock: Sequence[int] | np.ndarray | None = None,
    demand_profiles: Sequence[Distribution] | None = None,
    lead_time_profiles: Sequence[Distribution] | None = None,
    cost_variation: CostVariation | Literal["auto"] | None = "auto",
) -> tuple[SimParams, str]:
    """Simulation parameters from a grid id or a user network (a spec, a dict or a file path)."""
    if network is not None:
        if isinstance(network, NetworkSpec):
            net = network
        elif isinstance(network, Mapping):
            net = NetworkSpec.from_dict(network)
        elif isinstance(network, (str, os.PathLike)):
            net = NetworkSpec.from_file(network)
        else:
            raise MEIOInputError(f"network must be a NetworkSpec, a dict or a file path, got {type(network).__name__}")
        for name_, given in (("demand_profiles", demand_profiles), ("lead_time_profiles", lead_time_profiles)):
            if given is not None:
                raise MEIOInputError(f"{name_} are for grid scenarios; a user network gives its profiles in its "
                                     "stock points (docs/networks.md)")
        cv = None if cost_variation == "auto" else cost_variation
        name = net.name
    else:
        if scenario is None:
            raise ValueError("give a scenario id (e.g. 'B4') or a network")
        sc = make_scenario(scenario, demand_profiles=demand_profiles, lead_time_profiles=lead_time_profiles)
        net = sc.network
        cv = sc.cost_variation if cost_variation == "auto" else cost_variation
        name = sc.scenario_id
    return SimParams.from_network(net, base_stock, cv), name  # base_stock is checked there, exactly


class BatchedMEIO:
    """B independent copies of one inventory network, stepped together."""

    def __init__(
        self,
        scenario: str | None = None,
        *,
        num_envs: int = 1,
        network: NetworkSpec | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        episode_length: int = 128,
        base_stock: Sequence[int] | np.ndarray | None = None,
        demand_profiles: Sequence[Distribution] | None = None,
        lead_time_profiles: Sequence[Distribution] | None = None,
        cost_variation: CostVariation | Literal["auto"] | None = "auto",
        observe_cost_factors: bool | None = None,
        reward_scale: float = 1e-3,
        seed_mode: SeedMode = "advance",
        params: SimParams | None = None,
        track_open_orders: bool = False,
        observe_phase: bool = False,
    ) -> None:
        if params is None:
            params, name = resolve_params(
                scenario, network=network, base_stock=base_stock, demand_profiles=demand_profiles,
                lead_time_profiles=lead_time_profiles, cost_variation=cost_variation,
            )
        else:
            name = params.network.name
        num_envs = exact_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        episode_length = exact_int("episode_length", episode_length, 1, MAX_EPISODE_LENGTH)
        seed_mode = choice("seed_mode", seed_mode, ("advance", "repeat"))  # type: ignore[assignment]
        reward_scale = finite_float("reward_scale", reward_scale, 0.0, 1e6, lo_open=True)
        self.params = params
        self.name = name
        self.num_envs = int(num_envs)
        self.episode_length = int(episode_length)
        self.reward_scale = float(reward_scale)
        self.seed_mode: SeedMode = seed_mode
        self.observe_cost_factors = (
            params.cost_variation is not None if observe_cost_factors is None else bool(observe_cost_factors)
        )
        if self.observe_cost_factors and params.cost_variation is None:
            raise ValueError("observe_cost_factors=True needs a cost_variation (scenario level 5 or your own)")
        if not isinstance(observe_phase, bool):
            raise MEIOInputError(f"observe_phase must be True or False, got {type(observe_phase).__name__}")
        # One (sin, cos) pair per distinct (season_length, season_phase) of the retailers' patterns.
        self._phases = sorted({(sp.demand_pattern.season_length, sp.demand_pattern.season_phase)
                               for sp in params.network.stock_points
                               if sp.demand_pattern is not None and sp.demand_pattern.season_length})
        if observe_phase and not self._phases:
            raise ValueError("observe_phase=True needs a seasonal demand pattern (a retailer's demand_pattern "
                             "with season_length > 0)")
        self.observe_phase = observe_phase
        self._seeded = False
        self.track_open_orders = bool(track_open_orders)  # see meio_envs.core.open_orders
        self.state = dynamics.new_state(params, np.arange(self.num_envs), track_open_orders=self.track_open_orders)
        # Per-step scratch of the action and observation scaling (never returned to a caller).
        B, P = self.num_envs, params.num_nodes
        self._max_order_f = params.max_order.astype(np.float64)
        self._ip_span = params.ip_high - params.ip_low
        self._act_work = np.empty((B, P))
        self._obs_work = np.empty((B, P))
        if self.observe_cost_factors:
            cv = params.cost_variation
            self._cf_low = np.asarray([cv.holding[0], cv.backorder[0]])  # type: ignore[union-attr]
            hi = np.asarray([cv.holding[1], cv.backorder[1]])  # type: ignore[union-attr]
            self._cf_span = np.where(hi > self._cf_low, hi - self._cf_low, 1.0)

    # ------------------------------------------------------------------ sizes
    @property
    def num_nodes(self) -> int:
        """P, the number of stock points (= action dimension)."""
        return self.params.num_nodes

    @property
    def obs_dim(self) -> int:
        """Observation length: P scaled IPs, plus 2 cost factors and 2 per season phase when observed."""
        return (self.num_nodes + (2 if self.observe_cost_factors else 0)
                + (2 * len(self._phases) if self.observe_phase else 0))

    # ------------------------------------------------------------------ episodes
    def reset(self, seed: int | np.ndarray | None = None, mask: np.ndarray | None = None) -> None:
        """Reset all copies (or those in ``mask``).

        With an integer ``seed`` copy i is keyed by ``seed + i`` and starts its episode 0; an
        array of B integers keys each copy directly (e.g. the same seeds for several candidate
        policies: common random numbers). Without a seed, copies move to their next episode
        (``seed_mode="advance"``) or replay the current one (``"repeat"``); a never-seeded batch
        draws a random base seed first.
        """
        B = self.num_envs
        m = np.ones(B, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if seed is None and not self._seeded:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        if seed is not None:
            if isinstance(seed, np.ndarray) and seed.ndim == 1:
                if seed.shape != (B,) or seed.dtype.kind not in "iu":
                    raise MEIOInputError(f"per-copy seeds must be {B} integers, got {seed.dtype} {seed.shape}")
                seeds = int_array("seed", seed, (B,), 0, 2**63 - 1)
            elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise MEIOInputError(f"seed must be an int, an array of {B} ints, or None; got {type(seed).__name__}")
            else:
                seeds = seed_value("seed", seed, B) + np.arange(B)
            self.state.keys[m] = dynamics.rng.copy_keys(seeds)[m]
            self.state.episode[m] = 0
            self._seeded = True
            dynamics.reset_copies(self.params, self.state, m, next_episode=False)
        else:
            dynamics.reset_copies(self.params, self.state, m, next_episode=self.seed_mode == "advance")

    def truncated(self) -> np.ndarray:
        """(B,) bool: the copy has reached the episode length."""
        return self.state.period >= self.episode_length

    # ------------------------------------------------------------------ stepping
    def actions_to_orders(self, actions: object) -> np.ndarray:
        """Validate (B, P) actions in [-1, 1] and convert them to integer orders (a new array)."""
        a = validate_action(actions, (self.num_envs, self.num_nodes), "actions")
        return action_to_orders(a, self._max_order_f, self._act_work)

    def advance(self, orders: np.ndarray) -> tuple[dynamics.PeriodCosts, np.ndarray]:
        """The lean step of the env views: one period, then the (B, P) inventory positions after it.

        ``orders`` must be integer orders in [0, max_order], as :meth:`actions_to_orders` returns
        them; they are not checked or clipped (use :meth:`step_orders` for orders of any other
        origin). Equivalent to ``step_orders(orders)`` followed by :meth:`inventory_position`, and
        cheaper. Both results are new arrays.
        """
        return dynamics.advance(self.params, self.state, orders)

    def step_orders(self, orders: np.ndarray) -> dynamics.PeriodCosts:
        """Advance all copies one period with integer orders (B, P), clipped to [0, max_order].

        Integer arrays take the fast path; float arrays must hold finite whole numbers (1.7, NaN or
        inf are errors, never silently an order of 1 or 0). The state is unchanged when they raise.
        """
        a = np.asarray(orders)
        shape = (self.num_envs, self.num_nodes)
        if a.shape != shape:
            raise MEIOInputError(f"orders must have shape {shape} (copies, stock points), got {a.shape}")
        if a.dtype.kind not in "iu":
            if a.dtype.kind not in "f" or not np.isfinite(a).all() or (a != np.floor(a)).any():
                raise MEIOInputError("orders must be whole numbers of units (an integer array, or floats without "
                                     f"fractions, NaN or inf); got dtype {a.dtype}")
            a = np.clip(a, 0, self.params.max_order)
        q = np.clip(a.astype(np.int64, copy=False), 0, self.params.max_order)
        return dynamics.step(self.params, self.state, q)

    def inventory_position(self) -> np.ndarray:
        """(B, P) raw inventory positions."""
        return dynamics.inventory_position(self.params, self.state)

    def observe(self, ip: np.ndarray | None = None) -> np.ndarray:
        """(B, obs_dim) float32 observations in [-1, 1] (a new array)."""
        ip = self.inventory_position() if ip is None else ip
        work = self._obs_work if ip.shape == self._obs_work.shape else None
        obs = scale_ip(ip, self.params.ip_low, self.params.ip_high, self._ip_span, work)
        if self.observe_cost_factors:
            f = 2.0 * (self.state.cost_factors - self._cf_low) / self._cf_span - 1.0
            obs = np.concatenate([obs, f.astype(np.float32)], axis=1)
        if self.observe_phase:
            obs = np.concatenate([obs, self.phase_features()], axis=1)
        return obs

    def phase_features(self) -> np.ndarray:
        """(B, 2 * seasons) float32: sin and cos of the season's angle in the period about to be played."""
        t = self.state.period.astype(np.float64)
        cols = []
        for length, phase in self._phases:
            angle = 2.0 * np.pi * (t + phase) / length
            cols += [np.sin(angle), np.cos(angle)]
        return np.stack(cols, axis=1).astype(np.float32)

    def info(
        self, costs: dynamics.PeriodCosts | None, ip: np.ndarray, sums: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Per-copy diagnostics: unscaled cost and breakdown, raw IPs, on hand, backorders, factors.

        The keys are :data:`INFO_KEYS` with or without ``costs``; without them (at reset) the cost
        entries are zeros, so reset and step infos have the same keys, shapes and dtypes. Every
        value is an array the caller owns: copies of the state, ``ip`` itself and the cost arrays
        of this period (``sums``: ``costs.sums()`` when the caller already has it).
        """
        st = self.state
        out: dict[str, np.ndarray] = {
            "period": st.period.copy(),
            "inventory_position": ip,
            "on_hand": st.on_hand.copy(),
            "market_backorders": st.market_backorder.copy(),
            "cost_factors": st.cost_factors.copy(),
        }
        if costs is not None:
            s = costs.sums() if sums is None else sums
            out["cost"] = s[3]
            out["node_costs"] = costs.per_node
            out["holding_cost"] = s[0]
            out["backorder_cost"] = s[1]
            out["ordering_cost"] = s[2]
            out["lost_sales_cost"] = s[4] if len(s) > 4 else np.zeros(self.num_envs)
            out["lost_units"] = _lost_units(costs, self.num_envs)
        else:
            B = self.num_envs
            out["cost"] = np.zeros(B)
            out["node_costs"] = np.zeros((B, self.num_nodes))
            for k in ("holding_cost", "backorder_cost", "ordering_cost", "lost_sales_cost"):
                out[k] = np.zeros(B)
            out["lost_units"] = np.zeros(B, np.int64)
        return out

    def info_one(self, costs: dynamics.PeriodCosts | None, ip: np.ndarray, i: int = 0) -> dict[str, Any]:
        """:meth:`info` of copy ``i``: the same flat keys, (P,) arrays and NumPy scalars of that copy."""
        st = self.state
        out: dict[str, Any] = {
            "period": st.period[i],
            "inventory_position": ip[i],
            "on_hand": st.on_hand[i].copy(),
            "market_backorders": st.market_backorder[i].copy(),
            "cost_factors": st.cost_factors[i].copy(),
        }
        if costs is not None:
            holding, backorder, ordering, total, lost_cost = costs.sums()[:, i]
            out["cost"] = total
            out["node_costs"] = costs.per_node[i]
            lost_units = _lost_units(costs, self.num_envs)[i]
        else:
            holding = backorder = ordering = lost_cost = np.float64(0.0)
            out["cost"] = np.float64(0.0)
            out["node_costs"] = np.zeros(self.num_nodes)
            lost_units = np.int64(0)
        out["holding_cost"] = holding
        out["backorder_cost"] = backorder
        out["ordering_cost"] = ordering
        out["lost_sales_cost"] = lost_cost
        out["lost_units"] = lost_units
        return out


def _lost_units(costs: dynamics.PeriodCosts, B: int) -> np.ndarray:
    """(B,) int64 units of market demand lost in the period (zeros when not known)."""
    return costs.lost_units if costs.lost_units is not None else np.zeros(B, np.int64)


INFO_KEYS: tuple[str, ...] = (
    "period", "inventory_position", "on_hand", "market_backorders", "cost_factors",
    "cost", "node_costs", "holding_cost", "backorder_cost", "ordering_cost", "lost_sales_cost", "lost_units",
)
"""Info keys of the single and vector envs, at reset and at every step (:meth:`BatchedMEIO.info`)."""
