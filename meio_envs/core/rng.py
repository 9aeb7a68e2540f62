"""Counter-based random numbers for the batched simulator.

Every draw is a pure function of (copy key, episode, period, slot): ``u = mix(stream + counter)``
with the SplitMix64 finaliser. A copy's trajectory therefore depends only on its own seed, never
on the batch size or on the other copies, so copy ``i`` of a vector env seeded with ``s`` equals a
single env seeded with ``s + i`` (the Gymnasium convention), and whole batches are drawn with a
handful of vectorised integer operations (no per-copy generator objects).
"""

from __future__ import annotations

import numpy as np

__all__ = ["copy_keys", "episode_streams", "uniforms"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
SLOTS_PER_PERIOD_MAX = 1 << 16  # counter layout: period * this + slot
RESET_PERIOD = (1 << 40) - 1  # counter period reserved for draws made at episode start


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


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
    p = np.asarray(period).astype(np.int64).view(np.uint64)
    counter = p[:, None] * np.uint64(SLOTS_PER_PERIOD_MAX) + np.arange(n, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = _mix(streams[:, None] + counter * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT
