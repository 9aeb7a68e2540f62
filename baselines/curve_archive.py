"""Learning curves kept next to the published records, so the grid's learning-curve figures can be
redrawn from the repository alone.

A trial's ``curve.csv`` lives in its run folder, which exists only on the machine that trained it.
``meio grid publish`` therefore copies the deterministic columns of each published trial's curve
(:data:`COLUMNS`; wall time is left out) to ``<published store's folder>/curves/<trial id>.csv``,
and ``meio grid report`` reads a trial's curve from there first and from its run folder second.
An archived curve never changes: publishing a different curve under the same trial id is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from baselines.common.files import atomic_write_text
from baselines.common.records import RecordError, reproduces, same_run

__all__ = ["COLUMNS", "CurveError", "archive_curves", "archived_curve", "curve_sha256", "curve_text", "find_run_file",
           "parts_from_archive", "plain_trial_id", "read_curve", "trial_curve"]

COLUMNS = ("episodes", "env_steps", "eval_cost", "best_cost")
MAX_BYTES = 4 * 2**20  # a report-budget curve is ~100 kB; anything far larger is not a curve
_TRIAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class CurveError(RecordError):
    """A curve file that is not a learning curve of the expected form, or conflicts with the archive."""


def plain_trial_id(trial_id: str, what: str = "a curve file") -> str:
    """``trial_id`` if it can name a file (letters, digits, '.', '_', '-'; no '..'), else :class:`CurveError`."""
    if not isinstance(trial_id, str) or not _TRIAL_ID.match(trial_id) or ".." in trial_id:
        raise CurveError(f"trial id {trial_id!r} cannot name {what}: letters, digits, '.', '_' and '-' only")
    return trial_id


def archived_curve(trial_id: str, archive: str | Path) -> Path:
    """The archive path of ``trial_id``'s curve (the id must be a plain file name)."""
    return Path(archive) / f"{plain_trial_id(trial_id)}.csv"


def _of_record(path: Path, record: Mapping[str, Any] | None, archives: Sequence[Path] = ()) -> bool:
    """Whether the run folder holding ``path`` is ``record``'s run: True where there is no record to check
    against or the folder has no finished record of its own (``result.json``); else the folder's record
    must :func:`~baselines.common.records.reproduces` ``record`` (other roots can hold another run of the
    same trial under the same relative path), and a re-run must have the trial's archived learning curve
    where one of ``archives`` holds it (records older than ``curve_sha256`` cannot say it themselves,
    and an IMARL trial can end with the same numbers after another training run)."""
    own = path.parent / "result.json"
    if record is None or not own.is_file():
        return True
    if own.stat().st_size > MAX_BYTES:
        return False
    try:
        mine = json.loads(own.read_text())
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(mine, dict) or not reproduces(mine, record):
        return False
    if same_run(mine, record):
        return True
    arch = next((p for a in archives if (p := archived_curve(record["trial_id"], a)).is_file()), None)
    if arch is None:
        return True
    try:
        return (path.parent / "curve.csv").is_file() and curve_text(path.parent / "curve.csv") == arch.read_text()
    except CurveError:
        return False


def find_run_file(rel: str, roots: Sequence[Path], record: Mapping[str, Any] | None = None,
                  archives: Sequence[Path] = ()) -> Path | None:
    """``rel`` (a record's run path) under the first of ``roots`` that has it; absolute paths as they are.
    With ``record``, a run folder that holds another run of that trial is passed over (``archives``:
    curve archives whose copy of the trial's curve a re-run's folder must match)."""
    p = Path(rel)
    cands = [p] if p.is_absolute() else [r / p for r in roots]
    return next((c for c in cands if c.is_file() and _of_record(c, record, archives)), None)


def read_curve(path: str | Path) -> list[dict[str, float]]:
    """The rows of a curve CSV (columns :data:`COLUMNS`, extra columns dropped), checked.

    Refused with :class:`CurveError`: files over 4 MiB, a missing column, a value that is not a
    finite number, negative or decreasing episode counts.
    """
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise CurveError(f"{p}: {size} bytes; a learning curve is at most {MAX_BYTES} bytes")
    reader = csv.DictReader(io.StringIO(p.read_text()))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CurveError(f"{p}: no column {', '.join(missing)}; a learning curve has {', '.join(COLUMNS)}")
    rows: list[dict[str, float]] = []
    for i, raw in enumerate(reader, start=2):
        try:
            row = {c: float(raw[c]) for c in COLUMNS}
        except (TypeError, ValueError):
            raise CurveError(f"{p}, line {i}: {', '.join(COLUMNS)} must be numbers, got "
                             f"{[raw.get(c) for c in COLUMNS]}") from None
        if not all(math.isfinite(v) for v in row.values()):
            raise CurveError(f"{p}, line {i}: values must be finite, got {row}")
        if row["episodes"] < 0 or (rows and row["episodes"] < rows[-1]["episodes"]):
            raise CurveError(f"{p}, line {i}: episodes must be >= 0 and never decrease, got {row['episodes']:g}")
        rows.append(row)
    return rows


def curve_text(path: str | Path) -> str:
    """A curve file's deterministic columns (:data:`COLUMNS`) as the archive stores them."""
    return _csv(read_curve(path))


def curve_sha256(path: str | Path) -> str:
    """SHA-256 of :func:`curve_text`: what a finished record says of its learning curve (``curve_sha256``)."""
    return hashlib.sha256(curve_text(path).encode()).hexdigest()


def _csv(rows: Iterable[Mapping[str, float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([int(r[c]) if c in ("episodes", "env_steps") else repr(float(r[c])) for c in COLUMNS])
    return buf.getvalue()


def parts_from_archive(record: Mapping[str, Any], roots: Sequence[Path], archive: str | Path) -> bool:
    """Whether ``record``'s own learning curve (in its run folder) differs from the curve archived for its
    trial id; False where either is missing."""
    arch = archived_curve(record["trial_id"], archive)
    rel = (record.get("result") or {}).get("curve")
    src = find_run_file(rel, roots, record) if rel and arch.is_file() else None
    if src is None:
        return False
    try:
        return curve_text(src) != arch.read_text()
    except CurveError:
        return True


def archive_curves(records: Iterable[Mapping[str, Any]], roots: Sequence[Path],
                   archive: str | Path) -> tuple[int, list[str]]:
    """Copy the curves of finished ``records`` found under ``roots`` into ``archive``.

    Returns (curves newly archived, trial ids whose curve was in none of the roots). A curve that
    is archived already must be the same; a different one raises :class:`CurveError`.
    """
    added, missing = 0, []
    for r in records:
        if r.get("status") != "finished" or not r.get("result", {}).get("curve"):
            continue
        dest = archived_curve(r["trial_id"], archive)
        src = find_run_file(r["result"]["curve"], roots, r, [Path(archive)])
        if src is None:
            if not dest.is_file():
                missing.append(r["trial_id"])
            continue
        text = curve_text(src)
        if dest.is_file():
            if dest.read_text() != text:
                raise CurveError(f"{dest} holds another curve for trial {r['trial_id']} than {src}; "
                                 "an archived curve never changes")
            continue
        atomic_write_text(dest, text)
        added += 1
    return added, missing


def trial_curve(record: Mapping[str, Any], roots: Sequence[Path],
                archives: Sequence[Path]) -> list[dict[str, float]] | None:
    """A finished record's learning curve: from the first archive that has it, else its run folder."""
    for a in archives:
        p = archived_curve(record["trial_id"], a)
        if p.is_file():
            return read_curve(p)
    rel = record.get("result", {}).get("curve")
    p = find_run_file(rel, roots, record, archives) if rel else None
    return read_curve(p) if p is not None else None
