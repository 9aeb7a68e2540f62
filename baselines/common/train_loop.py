"""Training-protocol pieces shared by the baselines (SARL, MAPPO, ...).

docs/evaluation.md: evaluate every ``eval_every`` training episodes with the fixed evaluation seeds,
keep the best model (a trial's result is its best evaluation), write a learning curve (CSV and
TensorBoard), show a progress bar with the current best and the heuristic cost, and checkpoint so
an interrupted run resumes exactly. These pieces know nothing about the algorithm:

- :class:`EvalSchedule`: which training-episode counts are evaluation points.
- :class:`BestTracker`: best (lowest) evaluation cost and when it was reached.
- :class:`LearningCurve`: CSV (rewritten atomically on every row) + TensorBoard scalars; can be
  restored from a checkpoint's rows, purging TensorBoard events written after the checkpoint.
- :func:`make_progress` / :func:`set_costs`: a tqdm bar over env steps whose postfix shows the
  best, last and heuristic cost.
- :func:`rng_state` / :func:`set_rng_state`: Python, NumPy-global and torch (CPU + CUDA) RNG states.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from baselines.common.files import atomic_write_text

__all__ = [
    "CURVE_FIELDS", "BestTracker", "EvalSchedule", "LearningCurve", "make_progress", "rng_state",
    "set_costs", "set_rng_state",
]

CURVE_FIELDS = ("episodes", "env_steps", "wall_time_s", "eval_cost", "best_cost")


@dataclass
class EvalSchedule:
    """Evaluation points every ``every`` training episodes (a training episode = one copy's episode)."""

    every: int
    next_at: int = 0  # episode count of the next evaluation (set on first use)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"eval_every must be >= 1 episode, got {self.every}")
        if self.next_at <= 0:
            self.next_at = self.every

    def due(self, episodes: int) -> bool:
        """True (once per point) when ``episodes`` has reached the next evaluation point."""
        if episodes >= self.next_at:
            self.next_at = (episodes // self.every + 1) * self.every
            return True
        return False


@dataclass
class BestTracker:
    """Lowest evaluation cost so far."""

    best: float = math.inf
    best_episodes: int = -1
    best_env_steps: int = -1
    history: list[dict[str, float]] = field(default_factory=list)

    def update(self, cost: float, episodes: int, env_steps: int) -> bool:
        """Record an evaluation; True when it is a new best."""
        self.history.append({"episodes": episodes, "env_steps": env_steps, "cost": float(cost)})
        if cost < self.best:
            self.best, self.best_episodes, self.best_env_steps = float(cost), int(episodes), int(env_steps)
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint."""
        return {"best": self.best, "best_episodes": self.best_episodes,
                "best_env_steps": self.best_env_steps, "history": list(self.history)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BestTracker:
        """Inverse of :meth:`state_dict`."""
        return cls(float(state["best"]), int(state["best_episodes"]), int(state["best_env_steps"]),
                   list(state["history"]))


class LearningCurve:
    """``<out_dir>/curve.csv`` (columns :data:`CURVE_FIELDS` + extras) and TensorBoard events in
    ``tb_dir`` (default ``<out_dir>/tb``).

    ``log`` appends a row and rewrites the CSV atomically, and writes ``eval/cost`` and
    ``eval/best_cost`` (plus ``eval/<extra>``) at step ``env_steps``. ``rows`` is the checkpointable
    state; ``LearningCurve(out_dir, rows=saved_rows)`` restores it and purges TensorBoard events
    from later steps (written after the checkpoint by a run that was then killed).
    """

    def __init__(self, out_dir: str | os.PathLike[str], rows: list[dict[str, Any]] | None = None,
                 tensorboard: bool = True, filename: str = "curve.csv",
                 tb_dir: str | os.PathLike[str] | None = None) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / filename
        self.rows: list[dict[str, Any]] = [dict(r) for r in (rows or [])]
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: CSV only
                SummaryWriter = None  # noqa: N806
            if SummaryWriter is not None:
                purge = int(self.rows[-1]["env_steps"]) + 1 if self.rows else None
                tb = Path(tb_dir) if tb_dir is not None else self.dir / "tb"
                self._tb = SummaryWriter(str(tb), purge_step=purge)
        self._write_csv()

    def log(self, episodes: int, env_steps: int, wall: float, eval_cost: float, best_cost: float,
            extra: Mapping[str, float] | None = None) -> None:
        """Append one evaluation point."""
        row: dict[str, Any] = {"episodes": int(episodes), "env_steps": int(env_steps),
                               "wall_time_s": round(float(wall), 3), "eval_cost": float(eval_cost),
                               "best_cost": float(best_cost)}
        row.update({k: float(v) for k, v in (extra or {}).items()})
        self.rows.append(row)
        self._write_csv()
        if self._tb is not None:
            self._tb.add_scalar("eval/cost", eval_cost, env_steps)
            self._tb.add_scalar("eval/best_cost", best_cost, env_steps)
            self._tb.add_scalar("eval/episodes", episodes, env_steps)
            for k, v in (extra or {}).items():
                self._tb.add_scalar(f"eval/{k}", float(v), env_steps)
            self._tb.flush()

    def scalar(self, tag: str, value: float, env_steps: int) -> None:
        """Any other TensorBoard scalar (e.g. training losses)."""
        if self._tb is not None:
            self._tb.add_scalar(tag, float(value), int(env_steps))

    def _write_csv(self) -> None:
        cols = list(CURVE_FIELDS) + sorted({k for r in self.rows for k in r} - set(CURVE_FIELDS))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def make_progress(total: int, initial: int = 0, desc: str = "train", disable: bool | None = None) -> Any:
    """tqdm bar over env steps; ``set_costs(bar, best, heuristic)`` updates its postfix."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True,
                disable=disable, smoothing=0.05)


def set_costs(bar: Any, best: float, heuristic: float | None, last: float | None = None) -> None:
    """Show the current best, last evaluation and heuristic cost on a progress bar."""
    post = {"best": f"{best:.1f}" if math.isfinite(best) else "-"}
    if last is not None:
        post["last"] = f"{last:.1f}"
    if heuristic is not None:
        post["heur"] = f"{heuristic:.1f}"
    bar.set_postfix(post, refresh=False)


def rng_state() -> dict[str, Any]:
    """Python ``random``, NumPy global and torch (CPU and every CUDA device) RNG states."""
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
