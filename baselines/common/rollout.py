"""Rollout storage and collection for the multi-agent trainers (MAPPO, IMARL).

Everything is a preallocated array over all B copies: no per-copy Python objects. The buffer
stores *joint* observations (what :meth:`BatchedMEIO.observe` returns); each agent's observation
is a slice of it (``BatchedMultiAgent.obs_index``), so actors, centralised critics and graph
critics all read the same array.

Episodes are truncated (never terminated). ``next_obs[t]`` is the observation the step led to,
*before* any reset, so a truncated step can be bootstrapped with ``V(next_obs[t])``
(:func:`baselines.common.gae.compute_gae`).

Training resets are seeded: the k-th batch of episodes (all B copies restart together, since they
share the episode length) uses seed ``seed_offset + k * B`` (copy i gets ``+ i``), so a resumed run
continues with exactly the episodes an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from meio_envs.envs.batched_ma import BatchedMultiAgent

__all__ = ["ActFn", "RolloutBuffer", "RolloutState", "collect_rollout", "train_seed_offset"]

# act(joint_obs (B, obs_dim) float32, info) -> (env_actions (B, P) in [-1, 1],
#                                              stored actions (B, A) unclipped, log-probs (B, A))
ActFn = Callable[[np.ndarray, Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray, np.ndarray]]


def train_seed_offset(seed: int) -> int:
    """Base of the training reset seeds of a run; far from the evaluation seeds (~1e6)."""
    return (int(seed) + 1) * 100_000_000


@dataclass
class RolloutBuffer:
    """T steps x B copies of one rollout; A = stored action columns, K = reward columns."""

    obs: np.ndarray  # (T, B, obs_dim) float32 joint observation before the step
    next_obs: np.ndarray  # (T, B, obs_dim) float32 joint observation after the step, before any reset
    actions: np.ndarray  # (T, B, A) float32 unclipped sampled actions of the learning agents
    logprobs: np.ndarray  # (T, B, A) float32 log-probabilities of those (unclipped) samples
    rewards: np.ndarray  # (T, B, K) float32 scaled rewards, one column per value stream
    episode_end: np.ndarray  # (T, B) bool, the step ended its episode (truncation)

    @classmethod
    def allocate(cls, T: int, B: int, obs_dim: int, A: int, K: int) -> RolloutBuffer:
        """Zeroed buffer."""
        f = np.float32
        return cls(
            obs=np.zeros((T, B, obs_dim), f), next_obs=np.zeros((T, B, obs_dim), f),
            actions=np.zeros((T, B, A), f), logprobs=np.zeros((T, B, A), f),
            rewards=np.zeros((T, B, K), f), episode_end=np.zeros((T, B), bool),
        )

    @property
    def num_steps(self) -> int:
        """T."""
        return self.obs.shape[0]

    @property
    def num_envs(self) -> int:
        """B."""
        return self.obs.shape[1]


@dataclass
class RolloutState:
    """Where collection stands between rollouts (current observation, episode counters)."""

    seed_offset: int
    episode_batches: int = 0  # batches of B episodes started so far (the next reset uses this index)
    episodes_done: int = 0  # finished training episodes (B per finished batch)
    obs: np.ndarray | None = field(default=None, repr=False)  # (B, obs_dim) current joint observation
    ip: np.ndarray | None = field(default=None, repr=False)  # (B, P) current raw inventory positions

    def start_batch(self, ma: BatchedMultiAgent) -> None:
        """Reset all copies to the next seeded batch of episodes."""
        ma.reset(seed=self.seed_offset + self.episode_batches * ma.num_envs)
        self.episode_batches += 1
        self.ip = ma.core.inventory_position()
        self.obs = ma.core.observe(self.ip)


def collect_rollout(
    ma: BatchedMultiAgent,
    buf: RolloutBuffer,
    state: RolloutState,
    act: ActFn,
    reward_columns: np.ndarray | slice = slice(None),
) -> int:
    """Fill ``buf`` with T steps of all B copies; returns the number of episodes finished.

    ``reward_columns`` picks the agents whose reward streams are stored (all for MAPPO, the active
    agent for IMARL). All copies share the episode length, so they are truncated (and reset)
    together.
    """
    finished = 0
    for t in range(buf.num_steps):
        if state.obs is None:  # lazily: a checkpoint taken between rollouts sits at a batch boundary
            state.start_batch(ma)
        obs, ip = state.obs, state.ip
        assert obs is not None and ip is not None
        info = ma.core.info(None, ip)
        env_actions, raw, logp = act(obs, info)
        _, rewards, truncated, step_info = ma.step(env_actions)
        ip = step_info["inventory_position"]
        nobs = ma.core.observe(ip)
        buf.obs[t] = obs
        buf.next_obs[t] = nobs
        buf.actions[t] = raw
        buf.logprobs[t] = logp
        buf.rewards[t] = rewards[:, reward_columns]
        buf.episode_end[t] = truncated
        state.obs, state.ip = nobs, ip
        if truncated.all():
            finished += ma.num_envs
            state.obs = state.ip = None
        elif truncated.any():  # cannot happen with one shared episode length; kept as a guard
            raise RuntimeError("copies truncated at different periods; the trainers assume they stay in step")
    state.episodes_done += finished
    return finished
