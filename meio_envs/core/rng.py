"""Counter-based random numbers for the batched simulator.

Every draw is a pure function of (copy key, episode, period, slot): ``u = mix(stream + counter)``
with the SplitMix64 finaliser. A copy's trajectory therefore depends only on its own seed, never
on the batch size or on the other copies, so copy ``i`` of a vector env seeded with ``s`` equals a
single env seeded with ``s + i`` (the Gymnasium convention), and whole batches are drawn with a
handful of vectorised integer operations (no per-copy generator objects).
"""

from __future__ import annotations

import numpy as np

__all__ = ["UniformBlock", "copy_keys", "episode_streams", "uniforms"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
SLOTS_PER_PERIOD_MAX = 1 << 16  # counter layout: period * this + slot
RESET_PERIOD = (1 << 40) - 1  # counter period reserved for draws made at episode start


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic), as a new array."""
    z = np.array(z, dtype=np.uint64)
    _mix_into(z, np.empty_like(z))
    return z


# 0-d array operands: NumPy's ufuncs take them faster than scalars on tiny arrays.
_S11, _S27, _S30, _S31 = (np.array(k, dtype=np.uint64) for k in (11, 27, 30, 31))
_M1_0D, _M2_0D = np.array(_M1), np.array(_M2)
_UNIT_0D = np.array(_TO_UNIT)
with np.errstate(over="ignore"):
    _PERIOD_STEP = np.array(np.uint64(SLOTS_PER_PERIOD_MAX) * _GOLDEN)  # counter step of one period, premixed


def _mix_into(z: np.ndarray, tmp: np.ndarray) -> None:
    """:func:`_mix` in place on ``z``, with ``tmp`` (same shape) as scratch."""
    np.right_shift(z, _S30, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _M1_0D, out=z)
    np.right_shift(z, _S27, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _M2_0D, out=z)
    np.right_shift(z, _S31, out=tmp)
    np.bitwise_xor(z, tmp, out=z)


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
    streams = np.asarray(streams, dtype=np.uint64)
    return UniformBlock(np.arange(n), streams.shape[0])(streams, np.asarray(period)).copy()


class UniformBlock:
    """The uniforms of a fixed set of slots for B copies, computed into reused buffers.

    ``block(streams, period)[:, j]`` is the uniform of slot ``slots[j]`` of each copy's period,
    the same number :func:`uniforms` gives for that slot. The period function draws only the
    slots it needs (no draw for a deterministic lead time or a single supplier), and the returned
    array is overwritten by the next call.
    """

    def __init__(self, slots: np.ndarray, batch: int) -> None:
        s = np.asarray(slots, dtype=np.int64)
        if s.ndim != 1 or (s.size and (s.min() < 0 or s.max() >= SLOTS_PER_PERIOD_MAX)):
            raise ValueError(f"slots must be a 1-D array of integers in [0, {SLOTS_PER_PERIOD_MAX})")
        with np.errstate(over="ignore"):
            # counter * GOLDEN = period * (SLOTS * GOLDEN) + slot * GOLDEN  (mod 2**64)
            self._slot_step = s.astype(np.uint64) * _GOLDEN
        self._base = np.empty(batch, dtype=np.uint64)
        self._z = np.empty((batch, s.size), dtype=np.uint64)
        self._tmp = np.empty_like(self._z)
        self._u = np.empty((batch, s.size), dtype=np.float64)

    def __call__(self, streams: np.ndarray, period: np.ndarray) -> np.ndarray:
        """(B, len(slots)) float64 uniforms; a view of this block's buffer."""
        p = period if period.dtype == np.int64 else period.astype(np.int64)
        base, z = self._base, self._z
        np.multiply(p.view(np.uint64), _PERIOD_STEP, out=base)
        np.add(base, streams, out=base)
        np.add(base[:, None], self._slot_step, out=z)
        _mix_into(z, self._tmp)
        np.right_shift(z, _S11, out=z)
        np.copyto(self._u, z)  # exact: the values have 53 bits
        np.multiply(self._u, _UNIT_0D, out=self._u)
        return self._u
