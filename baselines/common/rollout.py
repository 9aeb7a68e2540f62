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

Several trials (seeds) can share one env: with ``seed_offset`` an array of K offsets the env holds
K x B copies, trial k's copies are ``k*B .. (k+1)*B - 1`` and are seeded exactly as the copies of
that trial run alone (copy i of batch j: ``seed_offset[k] + j * B + i``); ``episodes_done`` counts
the episodes of one trial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from meio_envs.envs.batched_ma import BatchedMultiAgent

__all__ = ["ActFn", "RolloutBuffer", "RolloutState", "collect_rollout", "per_copy", "per_trial", "train_seed_offset"]

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

    seed_offset: int | np.ndarray  # one offset, or one per trial (K,)
    episode_batches: int = 0  # batches of B episodes started so far (the next reset uses this index)
    episodes_done: int = 0  # finished training episodes of one trial (B per finished batch)
    obs: np.ndarray | None = field(default=None, repr=False)  # (K*B, obs_dim) current joint observation
    ip: np.ndarray | None = field(default=None, repr=False)  # (K*B, P) current raw inventory positions

    @property
    def num_trials(self) -> int:
        """K, the trials sharing the env."""
        return int(np.size(self.seed_offset))

    def copy_seeds(self, num_envs: int) -> np.ndarray:
        """Reset seeds of the next batch, one per copy (trial k's B copies as if alone)."""
        K = self.num_trials
        if num_envs % K:
            raise ValueError(f"{num_envs} copies do not split into {K} trials")
        B = num_envs // K
        offsets = np.asarray(self.seed_offset, dtype=np.int64).reshape(K, 1)
        return (offsets + self.episode_batches * B + np.arange(B, dtype=np.int64)).reshape(-1)

    def start_batch(self, ma: BatchedMultiAgent) -> None:
        """Reset all copies to the next seeded batch of episodes."""
        ma.reset(seed=self.copy_seeds(ma.num_envs))
        self.episode_batches += 1
        self.ip = ma.core.inventory_position()
        self.obs = ma.core.observe(self.ip)


def collect_rollout(
    ma: BatchedMultiAgent,
    buf: RolloutBuffer,
    state: RolloutState,
    act: ActFn,
    reward_columns: np.ndarray | slice | list[int] = slice(None),
) -> int:
    """Fill ``buf`` with T steps of all copies; returns the number of episodes finished (of one trial).

    ``reward_columns`` picks the agents whose reward streams are stored (all for MAPPO, the active
    agent for IMARL): the same columns for every copy, or a (copies, A) int array of columns per
    copy (trials training different agents). All copies share the episode length, so they are
    truncated (and reset) together.
    """
    per_copy = isinstance(reward_columns, np.ndarray) and reward_columns.ndim == 2
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
        buf.rewards[t] = np.take_along_axis(rewards, reward_columns, axis=1) if per_copy \
            else rewards[:, reward_columns]
        buf.episode_end[t] = truncated
        state.obs, state.ip = nobs, ip
        if truncated.all():
            finished += ma.num_envs // state.num_trials
            state.obs = state.ip = None
        elif truncated.any():  # cannot happen with one shared episode length; kept as a guard
            raise RuntimeError("copies truncated at different periods; the trainers assume they stay in step")
    state.episodes_done += finished
    return finished


def per_trial(x: np.ndarray, trials: int) -> np.ndarray:
    """(T, K*B, ...) rollout arrays -> (K, T*B, ...): trial k's samples in the order of its solo run (t, b)."""
    T, KB = x.shape[:2]
    return np.ascontiguousarray(x.reshape(T, trials, KB // trials, *x.shape[2:]).swapaxes(0, 1)).reshape(
        trials, -1, *x.shape[2:])


def per_copy(x: np.ndarray, num_steps: int) -> np.ndarray:
    """Inverse of :func:`per_trial`: (K, T*B, ...) -> (T, K*B, ...)."""
    K, N = x.shape[:2]
    return np.ascontiguousarray(x.reshape(K, num_steps, N // num_steps, *x.shape[2:]).swapaxes(0, 1)).reshape(
        num_steps, -1, *x.shape[2:])
