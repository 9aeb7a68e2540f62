"""Native vector env: B copies on one batched core (``gym.make_vec("MEIO-B4-v0", num_envs=1024)``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from meio_envs.core.params import CostVariation
from meio_envs.distributions import Distribution
from meio_envs.envs.batch import BatchedMEIO, SeedMode
from meio_envs.network import NetworkSpec

__all__ = ["MEIOVectorEnv"]


class MEIOVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~meio_envs.envs.single.MEIOEnv` stepped as arrays.

    Seeding: ``reset(seed=s)`` keys copy i with ``s + i``, so copy i follows exactly the
    trajectory of a single env reset with ``seed=s + i`` under the same actions (the draws are a
    function of the copy's key, episode and period only, see :mod:`meio_envs.core.rng`). Later
    unseeded resets and autoresets move each copy to its next episode stream.

    Autoreset: ``autoreset_mode`` is ``NEXT_STEP`` (Gymnasium's default: the step after a
    truncation resets the copy and returns reward 0) or ``SAME_STEP`` (the truncating step returns
    the new episode's first observation, the last one in ``info["final_obs"]``). All copies share
    the episode length, so they truncate together.

    Infos are a dict of arrays with a leading batch axis: ``cost`` (unscaled), ``holding_cost``,
    ``backorder_cost``, ``ordering_cost``, ``node_costs`` (B, P), ``inventory_position`` (B, P),
    ``on_hand``, ``market_backorders``, ``cost_factors``, ``period``.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        scenario: str | None = None,
        num_envs: int = 1,
        *,
        network: NetworkSpec | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        episode_length: int = 128,
        base_stock: Sequence[int] | np.ndarray | None = None,
        demand_profiles: Sequence[Distribution] | None = None,
        lead_time_profiles: Sequence[Distribution] | None = None,
        cost_variation: CostVariation | Literal["auto"] | None = "auto",
        seed_mode: SeedMode = "advance",
        reward_scale: float = 1e-3,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.core = BatchedMEIO(
            scenario, num_envs=num_envs, network=network, episode_length=episode_length,
            base_stock=base_stock, demand_profiles=demand_profiles,
            lead_time_profiles=lead_time_profiles, cost_variation=cost_variation,
            seed_mode=seed_mode, reward_scale=reward_scale,
        )
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode must be NEXT_STEP or SAME_STEP, got {mode}")
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.num_envs = self.core.num_envs
        P = self.core.num_nodes
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (P,), np.float32)
        self.single_observation_space = gym.spaces.Box(-1.0, 1.0, (self.core.obs_dim,), np.float32)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.node_names = self.core.params.network.names
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._reset_pending = False  # == self._needs_reset.any(), kept as a flag (cheaper to test)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every copy; copy i is keyed by ``seed + i`` when a seed is given."""
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
        self.core.reset(seed)
        self._needs_reset[:] = False
        self._reset_pending = False
        ip = self.core.inventory_position()
        return self.core.observe(ip), self.core.info(None, ip)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step all copies with actions (B, P) in [-1, 1]."""
        core = self.core
        orders = core.actions_to_orders(actions)
        B = self.num_envs
        mask = None
        if self._reset_pending:  # NEXT_STEP: these copies reset instead of stepping
            mask = self._needs_reset.copy()
            core.reset(None, mask=mask)
            orders[mask] = 0
            self._needs_reset[:] = False
            self._reset_pending = False
            keep = {k: v.copy() for k, v in core.state.__dict__.items() if isinstance(v, np.ndarray)}
            costs = core.step_orders(orders)
            for k, v in keep.items():  # undo the step for the copies that only reset
                getattr(core.state, k)[mask] = v[mask]
            for arr in (costs.holding, costs.backorder, costs.ordering):
                arr[mask] = 0.0
            ip = core.inventory_position()
        else:
            costs, ip = core.advance(orders)
        sums = costs.sums()
        rewards = -core.reward_scale * sums[3]
        truncated = core.truncated()
        if mask is not None:
            truncated &= ~mask
        terminated = np.zeros(B, dtype=bool)
        infos = core.info(costs, ip, sums)
        obs = core.observe(ip)
        if truncated.any():
            if self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP:
                infos["final_obs"] = obs.copy()
                infos["final_info"] = {k: v.copy() for k, v in infos.items() if k != "final_obs"}
                core.reset(None, mask=truncated)
                obs = core.observe()
            else:
                self._needs_reset |= truncated
                self._reset_pending = True
        return obs, rewards, terminated, truncated, infos
