"""Counter-based random numbers for the batched simulator.

Every draw is a pure function of (copy key, episode, period, slot): ``u = mix(stream + counter)``
with the SplitMix64 finaliser, counter = period * SLOTS_PER_PERIOD_MAX + slot. A copy's trajectory
therefore depends only on its own seed, never on the batch size or on the other copies, so copy
``i`` of a vector env seeded with ``s`` equals a single env seeded with ``s + i`` (the Gymnasium
convention). The mixing itself lives in :mod:`meio_envs.core.kernel`, where the period draws its
uniforms; this module derives the keys and streams from seeds.
"""

from __future__ import annotations

import numpy as np

from meio_envs.core.kernel import SLOTS_PER_PERIOD_MAX, mix_array, uniforms_array

__all__ = ["RESET_PERIOD", "SLOTS_PER_PERIOD_MAX", "copy_keys", "episode_streams", "uniforms"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
RESET_PERIOD = (1 << 40) - 1  # counter period reserved for draws made at episode start


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of every element (a new uint64 array of z's shape)."""
    z = np.ascontiguousarray(z, dtype=np.uint64)
    return mix_array(z.reshape(-1)).reshape(z.shape)


def copy_keys(seeds: np.ndarray) -> np.ndarray:
    """One 64-bit key per copy from integer seeds (any int, negative allowed)."""
    s = np.asarray(seeds).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(s * _GOLDEN + np.uint64(0x632BE59BD9B4E019))


def episode_streams(keys: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Per-copy stream origin for a given episode number of that copy."""
    e = np.asarray(episodes).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(keys ^ _mix(e + _GOLDEN))


def uniforms(streams: np.ndarray, period: np.ndarray, n: int) -> np.ndarray:
    """(B, n) uniforms in [0, 1) for slots 0..n-1 of ``period`` (per copy) of each stream."""
    s = np.ascontiguousarray(streams, dtype=np.uint64).reshape(-1)
    p = np.ascontiguousarray(np.broadcast_to(np.asarray(period, dtype=np.int64), s.shape))
    return uniforms_array(s, p, int(n))
