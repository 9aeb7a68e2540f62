"""Results records of training trials: one JSON object per line, appended atomically.

The grid runner and the figures read these files. Every write rewrites the whole file to a
temporary file in the same folder and renames it over the old one (``os.replace`` is atomic), so a
run killed mid-write leaves either the old or the new file, never a torn line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["RESULT_FIELDS", "append_result", "atomic_write_text", "read_results"]

RESULT_FIELDS = (
    "scenario", "model", "seed", "best_cost", "heuristic_cost", "savings", "wall_time_s",
    "env_steps", "episodes", "device",
)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a results file (empty list if it does not exist)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def append_result(path: str | os.PathLike[str], record: Mapping[str, Any]) -> None:
    """Append one record; it must carry at least the fields in :data:`RESULT_FIELDS`."""
    missing = [k for k in RESULT_FIELDS if k not in record]
    if missing:
        raise ValueError(f"results record lacks fields {missing}; required: {list(RESULT_FIELDS)}")
    p = Path(path)
    old = p.read_text() if p.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    atomic_write_text(p, old + json.dumps(dict(record), sort_keys=True, default=float) + "\n")
