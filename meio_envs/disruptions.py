"""Disruptions: a stock point or a supply edge that is down for spells of periods.

A :class:`Disruption` says when something is down: random spells (in each period that is not
already in a spell, a spell starts with probability ``start_probability`` and lasts a number of
periods drawn from ``spell_length``, at least 1), a fixed ``schedule`` of ``[start, end)``
windows of periods, or both (down when either says so). Random spells draw from their own random
slots, so they are a pure function of the copy's seed and leave every other draw unchanged.

What "down" does depends on where the disruption is given (see docs/options.md):

* ``StockPoint.disruption``: the stock point ships nothing (to its customers and, for a retailer,
  to its market); it still receives shipments and places orders.
* ``StockPoint.supply_disruptions[supplier]``: the edge from ``supplier`` (a stock point name or
  ``"external"``) ships nothing; orders on it wait as backorders (the external supplier keeps
  them in a backlog and ships them all once the edge is up again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from meio_envs.distributions import Distribution, Fixed, check_pmf, distribution_from_dict
from meio_envs.validation import MAX_EPISODE_LENGTH, MEIOInputError, exact_int, field_mapping, finite_float, show

__all__ = ["MAX_WINDOWS", "Disruption"]

MAX_WINDOWS = 1024  # schedule windows of one disruption
MAX_SPELL = MAX_EPISODE_LENGTH
_FIELDS = ("start_probability", "spell_length", "schedule")


@dataclass(frozen=True)
class Disruption:
    """When a stock point or supply edge is down.

    Attributes:
        start_probability: Probability in [0, 1] that a random spell starts in a period that is
            not already in one (0: no random spells).
        spell_length: Distribution of a spell's length in periods (every value >= 1).
        schedule: ``(start, end)`` windows: down in periods ``start <= t < end``.
    """

    start_probability: float = 0.0
    spell_length: Distribution = field(default_factory=lambda: Fixed(1))
    schedule: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        put = lambda attr, v: object.__setattr__(self, attr, v)  # noqa: E731 - frozen dataclass
        put("start_probability", finite_float("disruption: start_probability", self.start_probability, 0.0, 1.0))
        try:
            dist = distribution_from_dict(self.spell_length)
        except MEIOInputError as exc:
            raise MEIOInputError(f"disruption: spell_length: {exc}") from None
        pmf = check_pmf(dist.pmf(), "disruption: spell_length")
        if pmf[0] > 0:
            raise MEIOInputError("disruption: spell_length: spells last >= 1 period; the distribution puts mass on 0")
        if pmf.size - 1 > MAX_SPELL:
            raise MEIOInputError(f"disruption: spell_length: values must be <= {MAX_SPELL}, got up to {pmf.size - 1}")
        put("spell_length", dist)
        raw = self.schedule
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence) or len(raw) > MAX_WINDOWS:
            raise MEIOInputError(
                f"disruption: schedule must be a list of at most {MAX_WINDOWS} [start, end] windows, got {show(raw)}"
            )
        windows = []
        for i, w in enumerate(raw):
            if isinstance(w, (str, bytes, Mapping)) or not isinstance(w, Sequence) or len(w) != 2:
                raise MEIOInputError(f"disruption: schedule[{i}] must be a window [start, end], got {show(w)}")
            lo = exact_int(f"disruption: schedule[{i}] start", w[0], 0, MAX_EPISODE_LENGTH)
            hi = exact_int(f"disruption: schedule[{i}] end", w[1], 0, MAX_EPISODE_LENGTH)
            if hi <= lo:
                raise MEIOInputError(f"disruption: schedule[{i}]: need start < end (down for start <= t < end), "
                                     f"got [{lo}, {hi}]")
            windows.append((lo, hi))
        put("schedule", tuple(windows))
        if self.start_probability == 0.0 and not windows:
            raise MEIOInputError("disruption: give start_probability > 0, a schedule, or both (this one is never down)")

    def scheduled(self, t: int | np.ndarray) -> np.ndarray:
        """Bool: period(s) ``t`` fall in a schedule window."""
        t = np.asarray(t, dtype=np.int64)
        out = np.zeros(t.shape, dtype=bool)
        for lo, hi in self.schedule:
            out |= (t >= lo) & (t < hi)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        d: dict[str, Any] = {}
        if self.start_probability:
            d["start_probability"] = self.start_probability
            d["spell_length"] = self.spell_length.to_dict()
        if self.schedule:
            d["schedule"] = [[lo, hi] for lo, hi in self.schedule]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Disruption) -> Disruption:
        """Build from ``{start_probability, spell_length, schedule}`` (at least one of the first or last)."""
        if isinstance(data, Disruption):
            return data
        return cls(**field_mapping("disruption", data, _FIELDS))
