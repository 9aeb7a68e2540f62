"""Trials a grid started and has not finished: what ``meio grid status`` lists under the records.

A grid trial's run folder (``<out>/<model>/<scenario>/<trial id>/``) gets its ``config.json`` when
the trial starts, checkpoints while it trains and ``result.json`` when it is done. A folder with a
config and no result is a trial that is training now, or was stopped (killed, machine gone) and
resumes from its last checkpoint when the same ``meio grid run`` is given again. For each such
folder this module reads how far the learning curve got, when the folder was last written, and the
code the trial has trained under (from its checkpoint): resuming under other code makes a record
that ``meio grid publish`` refuses without ``--allow-dirty``, so the status says when that would happen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from baselines.common.checkpoint import CheckpointError, load_checkpoint
from baselines.common.records import RecordError, code_version
from baselines.common.trial import CONFIG_FILE, RESULT_FILE
from baselines.curve_archive import read_curve

__all__ = ["format_open_trials", "open_trials"]

_MAX_CONFIG_BYTES = 2**20  # a config.json is a few kB


def _code_of(ck: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The code history a trainer saved in its checkpoint (SARL at the top, MARL/IMARL in ``state``)."""
    if not isinstance(ck, Mapping):
        return []
    code = ck.get("code")
    if code is None and isinstance(ck.get("state"), Mapping):
        code = ck["state"].get("code")
    return [dict(c) for c in code] if isinstance(code, list) else []


def open_trials(root: str | Path, with_code: bool = True) -> list[dict[str, Any]]:
    """One row per started, unfinished trial under ``root`` (folders ``<model>/<scenario>/<trial id>``).

    Row: trial id, model, scenario, seed, budget (``config.episodes``), episodes and best cost so far
    (the learning curve's last row; None before the first evaluation), seconds since the folder was
    last written, and the commits its checkpoint says it trained under (``with_code``; [] when unknown).
    """
    rows = []
    for cfg in sorted(Path(root).glob(f"*/*/*/{CONFIG_FILE}")):
        d = cfg.parent
        if (d / RESULT_FILE).exists() or cfg.stat().st_size > _MAX_CONFIG_BYTES:
            continue
        try:
            ident = json.loads(cfg.read_text())
            curve = read_curve(d / "curve.csv") if (d / "curve.csv").is_file() else []
        except (ValueError, RecordError):
            continue  # not a run folder of this package, or one being written: nothing to report
        if not isinstance(ident, dict) or not isinstance(ident.get("config", {}), dict):
            continue
        files = [p for p in (d / "checkpoint.pt", d / "curve.csv", d / "iterations.csv", cfg) if p.is_file()]
        code: list[dict[str, Any]] = []
        if with_code and (d / "checkpoint.pt").is_file():
            try:
                code = _code_of(load_checkpoint(d / "checkpoint.pt"))
            except CheckpointError:
                code = []
        rows.append({
            "trial_id": ident.get("trial_id", d.name), "model": ident.get("model"), "scenario": ident.get("scenario"),
            "seed": ident.get("seed"), "budget": (ident.get("config") or {}).get("episodes"),
            "episodes": int(curve[-1]["episodes"]) if curve else 0,
            "best_cost": float(curve[-1]["best_cost"]) if curve else None,
            "idle_s": time.time() - max(p.stat().st_mtime for p in files),
            "commits": [str(c.get("git_commit")) + ("-dirty" if c.get("git_dirty") else "") for c in code],
            "run_dir": str(d),
        })
    return rows


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def format_open_trials(rows: Iterable[Mapping[str, Any]], current: str | None = None) -> list[str]:
    """Lines for ``meio grid status``: each unfinished trial's progress, idle time and code; ``current``
    (default: this code's commit) is compared with the code each trial trained under."""
    rows = list(rows)
    if not rows:
        return []
    if current is None:
        v = code_version()
        current = str(v["git_commit"]) + ("-dirty" if v["git_dirty"] else "")
    lines = [f"{len(rows)} trials started and not finished (training now, or stopped: the same `meio grid run` "
             "resumes them from their last checkpoint):"]
    for r in rows:
        budget = f" of {r['budget']:,}" if isinstance(r["budget"], int) else ""
        best = "no evaluation yet" if r["best_cost"] is None else f"best {r['best_cost']:.1f}"
        code = ", ".join(c[:10] for c in r["commits"]) or "unknown"
        warn = ""
        if r["commits"] and r["commits"][-1] != current:
            warn = (f"; resuming under this code ({current[:10]}) would mix versions: resume it from a checkout of "
                    f"{r['commits'][-1][:10]}")
        lines.append(f"  {r['trial_id']}: {r['episodes']:,}{budget} episodes, {best}, last written "
                     f"{_age(r['idle_s'])} ago, code {code}{warn}")
    return lines
