"""Wall and CPU seconds a trial has spent, carried across kills and resumes.

Wall time is what a trial occupies (one core for that long, however busy the machine); CPU time is
what its process actually computed (user + system time of all its threads, ``time.process_time``).
On a dedicated core the two agree; on an oversubscribed machine wall time overstates the work, so
records carry both. A trial runs in one process at a time (a Ray task or the local runner), so the
process's CPU time since the clock started is the trial's; seed-batched trials share it.

A checkpoint saves :meth:`TrialClock.state`; a resumed trial starts its clock from it. A checkpoint
written before CPU time was recorded has no ``cpu_time_s``: the trial's CPU time is then unknown
(``None``), never a silent undercount.

    >>> c = TrialClock.from_state({"wall_time_s": 10.0, "cpu_time_s": 4.0})
    >>> c.wall() >= 10.0 and c.cpu() >= 4.0
    True
    >>> TrialClock.from_state({"wall_time_s": 10.0}).cpu() is None
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["TrialClock"]


class TrialClock:
    """Running wall and CPU clocks of one trial, started at ``wall_s`` / ``cpu_s`` seconds already spent.

    ``cpu_s=None`` means the CPU time spent before this process is unknown; :meth:`cpu` is then None.
    """

    def __init__(self, wall_s: float = 0.0, cpu_s: float | None = 0.0) -> None:
        wall_s = float(wall_s)
        if not math.isfinite(wall_s) or wall_s < 0:
            raise ValueError(f"wall_s must be a finite number >= 0, got {wall_s!r}")
        if cpu_s is not None:
            cpu_s = float(cpu_s)
            if not math.isfinite(cpu_s) or cpu_s < 0:
                raise ValueError(f"cpu_s must be a finite number >= 0 or None, got {cpu_s!r}")
        self._wall0 = time.perf_counter() - wall_s
        self._cpu0 = None if cpu_s is None else time.process_time() - cpu_s

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TrialClock:
        """The clock of a checkpoint's :meth:`state` (``cpu_time_s`` missing or None: CPU time unknown)."""
        return cls(state.get("wall_time_s", 0.0), state.get("cpu_time_s"))

    def wall(self) -> float:
        """Wall seconds spent, this process included."""
        return time.perf_counter() - self._wall0

    def cpu(self) -> float | None:
        """CPU seconds spent, this process included; None when part of it is unknown."""
        return None if self._cpu0 is None else time.process_time() - self._cpu0

    def state(self) -> dict[str, float | None]:
        """``{"wall_time_s", "cpu_time_s"}`` now, for a checkpoint."""
        return {"wall_time_s": self.wall(), "cpu_time_s": self.cpu()}
