"""Stable-Baselines3 ``VecEnv`` over the batched core (not a ``DummyVecEnv`` of single envs).

SB3's contract differs from Gymnasium's: ``step`` returns 4 values ``(obs, rewards, dones,
infos)``, a finished copy is reset inside ``step``, the returned observation is the new episode's
first one and the last observation of the old episode is in ``infos[i]["terminal_observation"]``.
Episodes here never terminate; they are truncated after ``episode_length`` periods, so at a
truncation ``dones[i]`` is True and ``infos[i]["TimeLimit.truncated"] = True``: SB3's on-policy
algorithms then add ``gamma * V(terminal_observation)`` to the last reward (bootstrapping through
the cut, which an infinite-horizon inventory problem needs).

Seeding follows SB3: ``venv.seed(s)`` (called by ``PPO(..., seed=s)``) keys copy i with ``s + i``
at the next ``reset()``, exactly like a ``DummyVecEnv`` whose i-th ``MEIOEnv`` is reset with
``seed=s + i``; later resets (auto-resets included) move each copy to its next episode stream. The
two are step-for-step identical under the same actions (tests/baselines/test_sb3_adapter.py).

Per-step infos: ``cost`` (unscaled period cost of the copy); at a truncation also
``terminal_observation``, ``TimeLimit.truncated`` and ``episode`` (``r`` return, ``l`` length,
``t`` seconds since creation, ``cost`` the episode's unscaled cost), which SB3 logs as
``rollout/ep_rew_mean``.

    >>> from meio_envs.adapters.sb3 import MEIOSB3VecEnv
    >>> venv = MEIOSB3VecEnv("A1", num_envs=4)
    >>> venv.seed(0)  # doctest: +ELLIPSIS
    [...]
    >>> venv.reset().shape
    (4, 4)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from meio_envs.envs.batch import BatchedMEIO

__all__ = ["BatchView", "MEIOSB3VecEnv"]


class BatchView(Protocol):
    """What an alternative observation/action view of the core provides (e.g. the chapter env)."""

    observation_space: gym.spaces.Space
    action_space: gym.spaces.Space

    def observe(self) -> np.ndarray:
        """(B, ...) observations of the current state."""

    def actions_to_orders(self, actions: np.ndarray) -> np.ndarray:
        """(B, P) integer orders for a batch of actions (validated)."""


class MEIOSB3VecEnv(VecEnv):
    """``num_envs`` copies of a scenario as one SB3 ``VecEnv`` backed by :class:`BatchedMEIO`.

    Args:
        scenario: Grid id, e.g. ``"A1"`` (or give ``core``).
        num_envs: Number of copies B.
        core: An existing :class:`BatchedMEIO` to wrap (then ``scenario``/``num_envs``/kwargs are ignored).
        view: Another observation and action view of ``core`` (:class:`BatchView`); default: the
            grid's scaled inventory positions and per-stock-point orders in [-1, 1].
        **env_kwargs: Passed to :class:`BatchedMEIO` (``episode_length``, ``network``, ...).
    """

    def __init__(
        self, scenario: str | None = None, num_envs: int = 4, *, core: BatchedMEIO | None = None,
        view: BatchView | None = None, **env_kwargs: Any,
    ) -> None:
        self.core = core if core is not None else BatchedMEIO(scenario, num_envs=num_envs, **env_kwargs)
        self.render_mode = None
        self.view = view
        if view is None:
            obs_space = gym.spaces.Box(-1.0, 1.0, (self.core.obs_dim,), np.float32)
            act_space = gym.spaces.Box(-1.0, 1.0, (self.core.num_nodes,), np.float32)
        else:
            obs_space, act_space = view.observation_space, view.action_space
        super().__init__(self.core.num_envs, obs_space, act_space)
        self._actions: np.ndarray | None = None
        self._t0 = time.time()
        self._ep_return = np.zeros(self.num_envs)
        self._ep_cost = np.zeros(self.num_envs)

    # ------------------------------------------------------------------ VecEnv contract
    def reset(self) -> np.ndarray:
        """Reset every copy; uses the seeds set by :meth:`seed` once (copy i: ``seed + i``)."""
        seeds = self._seeds
        if all(s is None for s in seeds):
            self.core.reset(None)
        elif any(s is None for s in seeds):
            raise ValueError(f"seed all copies or none, got {seeds}")
        else:
            self.core.reset(np.asarray(seeds, dtype=np.int64))
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._ep_return[:] = 0.0
        self._ep_cost[:] = 0.0
        self._actions = None
        return self._observe()

    def _observe(self) -> np.ndarray:
        return self.core.observe() if self.view is None else self.view.observe()

    def step_async(self, actions: np.ndarray) -> None:
        """Store (B, P) actions in [-1, 1] for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step all copies; truncated copies are reset and flagged as described in the module doc."""
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(actions)")
        core = self.core
        if self.view is None:
            costs, ip = core.advance(core.actions_to_orders(self._actions))
        else:
            costs, ip = core.step_orders(self.view.actions_to_orders(self._actions)), None
        self._actions = None
        cost = costs.total
        rewards = -core.reward_scale * cost
        self._ep_return += rewards
        self._ep_cost += cost
        obs = core.observe(ip) if ip is not None else self._observe()
        dones = core.truncated()
        infos: list[dict[str, Any]] = [{"cost": c} for c in cost.tolist()]
        if dones.any():
            t = round(time.time() - self._t0, 6)
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = obs[i].copy()
                infos[i]["TimeLimit.truncated"] = True
                infos[i]["episode"] = {
                    "r": float(self._ep_return[i]), "l": int(core.episode_length), "t": t,
                    "cost": float(self._ep_cost[i]),
                }
            self._ep_return[dones] = 0.0
            self._ep_cost[dones] = 0.0
            core.reset(None, mask=dones)
            obs = self._observe()
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Nothing to release (no subprocesses)."""

    # ------------------------------------------------------------------ attribute access
    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return list(indices) if isinstance(indices, Iterable) else [indices]

    def _target(self, name: str) -> Any:
        if name in self.__dict__ or hasattr(type(self), name):
            return self
        return self.core

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute (of the adapter, else of the core) once per requested copy."""
        value = getattr(self._target(attr_name), attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute shared by all copies (per-copy values are not supported)."""
        idx = list(self._indices(indices))
        if len(idx) != self.num_envs:
            raise ValueError("the copies share one core: set_attr applies to all copies (indices=None)")
        setattr(self._target(attr_name), attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the core once and return its result for each requested copy."""
        out = getattr(self.core, method_name)(*method_args, **method_kwargs)
        return [out for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """The copies are never wrapped."""
        return [False for _ in self._indices(indices)]
