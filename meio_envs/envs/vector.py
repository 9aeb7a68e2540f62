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
from meio_envs.registration import EpisodeLengthSpec, resolve_episode_length
from meio_envs.rendering import RENDER_MODES, check_render_mode, frame_of, render_frame

__all__ = ["MEIOVectorEnv"]


class MEIOVectorEnv(EpisodeLengthSpec, VectorEnv):
    """``num_envs`` copies of :class:`~meio_envs.envs.single.MEIOEnv` stepped as arrays.

    Seeding: ``reset(seed=s)`` keys copy i with ``s + i``, so copy i follows exactly the
    trajectory of a single env reset with ``seed=s + i`` under the same actions (the draws are a
    function of the copy's key, episode and period only, see :mod:`meio_envs.core.rng`). Later
    unseeded resets and autoresets move each copy to its next episode stream.

    Autoreset: ``autoreset_mode`` is ``NEXT_STEP`` (Gymnasium's default: the step after a
    truncation resets the copy and returns reward 0) or ``SAME_STEP`` (the truncating step returns
    the new episode's first observation, the last one in ``info["final_obs"]``). All copies share
    the episode length, so they truncate together.

    Infos follow Gymnasium's vector convention: a dict of arrays with a leading batch axis, each
    key ``k`` with a (B,) bool mask ``_k`` (all True: every copy reports every key). The keys are
    the single env's (:data:`~meio_envs.envs.batch.INFO_KEYS`) at reset and at every step: ``cost``
    (unscaled), ``holding_cost``, ``backorder_cost``, ``ordering_cost``, ``lost_sales_cost``,
    ``lost_units``, ``node_costs`` (B, P),
    ``inventory_position`` (B, P), ``on_hand``, ``market_backorders``, ``cost_factors``, ``period``;
    costs are 0 at reset. ``SAME_STEP`` adds ``final_obs`` / ``final_info`` on truncating steps.

    ``render_mode`` (``"ansi"`` | ``"rgb_array"``): ``render()`` returns a tuple with one frame per
    copy (see :class:`~meio_envs.envs.single.MEIOEnv`); None without a render mode.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        scenario: str | None = None,
        num_envs: int = 1,
        *,
        network: NetworkSpec | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        episode_length: int | None = None,
        base_stock: Sequence[int] | np.ndarray | None = None,
        demand_profiles: Sequence[Distribution] | None = None,
        lead_time_profiles: Sequence[Distribution] | None = None,
        cost_variation: CostVariation | Literal["auto"] | None = "auto",
        seed_mode: SeedMode = "advance",
        reward_scale: float = 1e-3,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        observe_phase: bool = False,
    ) -> None:
        self.render_mode = check_render_mode(render_mode)
        episode_length = resolve_episode_length(episode_length, max_episode_steps, 128)
        self.core = BatchedMEIO(
            scenario, num_envs=num_envs, network=network, episode_length=episode_length,
            base_stock=base_stock, demand_profiles=demand_profiles,
            lead_time_profiles=lead_time_profiles, cost_variation=cost_variation,
            seed_mode=seed_mode, reward_scale=reward_scale, observe_phase=observe_phase,
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
        self._last_orders: np.ndarray | None = None  # for render(): None until the first step
        self._last_costs: np.ndarray | None = None

    def _episode_length(self) -> int:
        return self.core.episode_length

    def _set_episode_length(self, n: int) -> None:  # pragma: no cover - only gym.make (not make_vec) sets it
        self.core.episode_length = int(n)

    def _with_masks(self, infos: dict[str, Any]) -> dict[str, Any]:
        for k in [k for k in infos if not k.startswith("_")]:
            infos[f"_{k}"] = np.ones(self.num_envs, dtype=bool)
        return infos

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every copy; copy i is keyed by ``seed + i`` when a seed is given."""
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
        self.core.reset(seed)
        self._needs_reset[:] = False
        self._reset_pending = False
        self._last_orders = self._last_costs = None
        ip = self.core.inventory_position()
        return self.core.observe(ip), self._with_masks(self.core.info(None, ip))

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
            for arr in (costs.holding, costs.backorder, costs.ordering, costs.lost_sales, costs.lost_units):
                if arr is not None:
                    arr[mask] = 0
            ip = core.inventory_position()
        else:
            costs, ip = core.advance(orders)
        sums = costs.sums()
        rewards = -core.reward_scale * sums[3]
        truncated = core.truncated()
        if mask is not None:
            truncated &= ~mask
        terminated = np.zeros(B, dtype=bool)
        infos = self._with_masks(core.info(costs, ip, sums))
        self._last_orders, self._last_costs = orders, infos["node_costs"]
        obs = core.observe(ip)
        if truncated.any():
            if self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP:
                infos["final_info"] = {k: v.copy() for k, v in infos.items()}
                infos["final_obs"] = obs.copy()
                infos["_final_obs"] = truncated.copy()
                infos["_final_info"] = truncated.copy()
                core.reset(None, mask=truncated)
                obs = core.observe()
            else:
                self._needs_reset |= truncated
                self._reset_pending = True
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """One frame per copy in ``render_mode`` (a text table or an image), or None without one."""
        if self.render_mode is None:
            return None
        return tuple(
            render_frame(self.render_mode, frame_of(
                self.core, i,
                None if self._last_orders is None else self._last_orders[i],
                None if self._last_costs is None else self._last_costs[i],
            ))
            for i in range(self.num_envs)
        )
