"""Non-stationary demand at a retailer: a multiplier of the period (season, trend, step shocks).

A :class:`DemandPattern` scales a retailer's demand draw ``d`` of period ``t`` (periods counted from
0 in each episode) by

    m(t) = (1 + amplitude * sin(2 pi (t + phase) / season_length))
           * max(0, 1 + trend * t)
           * product of k over the shocks (start, k) with t >= start

and rounds stochastically: the demand is ``floor(d * m(t) + u)`` with ``u`` a uniform of its own
random slot, so its mean is exactly ``m(t)`` times the mean of ``d`` and a copy's demand stays a
pure function of its seed. The three parts compose by multiplication; each is off at its default.
See docs/options.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from meio_envs.validation import MAX_EPISODE_LENGTH, MEIOInputError, exact_int, field_mapping, finite_float, show

__all__ = ["MAX_SHOCKS", "DemandPattern"]

MAX_SHOCKS = 64  # step shocks of one retailer
MAX_SHOCK_FACTOR = 100.0
_FIELDS = ("season_length", "season_amplitude", "season_phase", "trend", "shocks")


@dataclass(frozen=True)
class DemandPattern:
    """Multiplier of a retailer's demand by period (all parts off by default).

    Attributes:
        season_length: Periods of one seasonal cycle (>= 2), or 0 for no season.
        season_amplitude: Relative amplitude of the season in [0, 1]: the multiplier swings
            between ``1 - amplitude`` and ``1 + amplitude``.
        season_phase: Periods the cycle is shifted by (``t + phase`` enters the sine).
        trend: Relative change of the mean per period in [-1, 1] (linear: ``1 + trend * t``,
            never below 0).
        shocks: ``(start, k)`` pairs: from period ``start`` on the mean is multiplied by
            ``k >= 0`` (several shocks multiply).
    """

    season_length: int = 0
    season_amplitude: float = 0.0
    season_phase: int = 0
    trend: float = 0.0
    shocks: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        put = lambda attr, v: object.__setattr__(self, attr, v)  # noqa: E731 - frozen dataclass
        n = exact_int("demand_pattern: season_length", self.season_length, 0, MAX_EPISODE_LENGTH)
        if n == 1:
            raise MEIOInputError("demand_pattern: season_length must be 0 (no season) or >= 2 periods, got 1")
        put("season_length", n)
        put("season_amplitude", finite_float("demand_pattern: season_amplitude", self.season_amplitude, 0.0, 1.0))
        put("season_phase", exact_int("demand_pattern: season_phase", self.season_phase, 0, MAX_EPISODE_LENGTH))
        put("trend", finite_float("demand_pattern: trend", self.trend, -1.0, 1.0))
        raw = self.shocks
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence) or len(raw) > MAX_SHOCKS:
            raise MEIOInputError(
                f"demand_pattern: shocks must be a list of at most {MAX_SHOCKS} [start, k] pairs, got {show(raw)}"
            )
        shocks = []
        for i, pair in enumerate(raw):
            if isinstance(pair, Mapping):
                pair = (pair.get("start"), pair.get("k"))
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise MEIOInputError(f"demand_pattern: shocks[{i}] must be a pair [start, k], got {show(pair)}")
            start = exact_int(f"demand_pattern: shocks[{i}] start", pair[0], 0, MAX_EPISODE_LENGTH)
            k = finite_float(f"demand_pattern: shocks[{i}] k", pair[1], 0.0, MAX_SHOCK_FACTOR)
            shocks.append((start, k))
        put("shocks", tuple(shocks))

    @property
    def is_stationary(self) -> bool:
        """True when the multiplier is 1 in every period (the pattern changes nothing)."""
        return (self.season_length == 0 or self.season_amplitude == 0.0) and self.trend == 0.0 and all(
            k == 1.0 for _, k in self.shocks
        )

    def multiplier(self, t: int | np.ndarray) -> np.ndarray:
        """``m(t)`` for periods ``t`` (float64): the table the compiled period reads."""
        t = np.asarray(t, dtype=np.int64)
        m = np.ones(t.shape)
        if self.season_length:
            m = m * (1.0 + self.season_amplitude * np.sin(2.0 * np.pi * (t + self.season_phase) / self.season_length))
        if self.trend:
            m = m * np.maximum(0.0, 1.0 + self.trend * t)
        for start, k in self.shocks:
            m = m * np.where(t >= start, k, 1.0)
        return m

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (only the parts that are on)."""
        d: dict[str, Any] = {}
        if self.season_length:
            d.update(season_length=self.season_length, season_amplitude=self.season_amplitude,
                     season_phase=self.season_phase)
        if self.trend:
            d["trend"] = self.trend
        if self.shocks:
            d["shocks"] = [[s, k] for s, k in self.shocks]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | DemandPattern) -> DemandPattern:
        """Build from ``{season_length, season_amplitude, season_phase, trend, shocks}`` (all optional)."""
        if isinstance(data, DemandPattern):
            return data
        return cls(**field_mapping("demand_pattern", data, _FIELDS))
