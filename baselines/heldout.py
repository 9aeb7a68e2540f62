"""Held-out evaluation of published trials: how much of a recorded saving survives fresh demand draws.

The grid's protocol (the report's) takes a trial's result as its *best* evaluation, and every
evaluation of a trial uses the same 100 episodes (seeds ``EVAL_SEED`` ...). Picking the best of
many evaluations on one set of draws favours a policy that happens to suit those draws, so the
recorded saving is optimistic; the base-stock levels of the heuristics table are searched on other
draws and are not. To measure the optimism, ``meio grid publish`` evaluates each published
trial's best model and DA once more, on :data:`HELDOUT_EPISODES` episodes the trial never saw
(seeds :data:`HELDOUT_SEED` ...; paired: both see the same draws), and keeps one row per trial in
``heldout.csv`` next to the published records. ``meio grid report`` shows the recorded and the
held-out savings side by side.

Rows are computed once per trial and never change; like the records, the file is checked when
read (size, columns, finite numbers, plain trial ids, one row per trial).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from baselines.common.files import atomic_write_text
from baselines.common.records import RecordError, code_version
from baselines.curve_archive import find_run_file, plain_trial_id

__all__ = ["COLUMNS", "HELDOUT_EPISODES", "HELDOUT_SEED", "HeldoutError", "add_heldout", "evaluate_heldout",
           "check_against_records", "evaluating_code", "heldout_table", "paired_savings", "read_heldout"]

HELDOUT_SEED = 3_000_017
"""First seed of the held-out episodes: copies use HELDOUT_SEED .. HELDOUT_SEED + episodes - 1, apart from
the evaluation seeds (1,000,003 ...), the base-stock search's (7,000,001 ...) and training's (small)."""
HELDOUT_EPISODES = 500
"""Held-out episodes per trial (75 periods, 25 warm-up, as the protocol): five times the protocol's 100."""
COLUMNS = ("trial_id", "scenario", "model", "preset", "seed", "episodes", "recorded_savings", "heldout_cost",
           "heldout_da_cost", "heldout_savings", "heldout_savings_se", "git_commit")
_NUMBERS = ("recorded_savings", "heldout_cost", "heldout_da_cost", "heldout_savings", "heldout_savings_se")
MAX_EPISODES = 100_000  # copies HELDOUT_SEED .. + 99,999 stay clear of the search seeds (7,000,001 ...)
MAX_BYTES = 8 * 2**20  # ~150 bytes a row: tens of thousands of trials


class HeldoutError(RecordError):
    """A held-out file that is not of the expected form."""


def paired_savings(costs: np.ndarray, ref_costs: np.ndarray) -> tuple[float, float]:
    """(saving, standard error) of a policy with per-episode ``costs`` against ``ref_costs`` on the same
    episodes: ``(mean(ref) - mean(costs)) / mean(ref)`` and the standard error of the mean paired
    difference, divided by ``mean(ref)``."""
    c, r = np.asarray(costs, np.float64), np.asarray(ref_costs, np.float64)
    if c.shape != r.shape or c.ndim != 1 or c.size < 1:
        raise ValueError(f"paired costs need two equal 1-D arrays, got shapes {c.shape} and {r.shape}")
    ref = float(r.mean())
    d = r - c
    se = float(d.std(ddof=1) / math.sqrt(d.size)) / ref if d.size > 1 else 0.0
    return float(d.mean()) / ref, se


def _evaluate(record: Mapping[str, Any], roots: Sequence[Path], episodes: int, seed: int,
              archives: Sequence[Path] = ()) -> tuple[Any, Any] | None:
    """``record``'s best model and DA on the held-out episodes (two ``EvalResult``), None without a model file
    (``archives``: curve archives a re-run's folder must match, :func:`~baselines.curve_archive.find_run_file`)."""
    from baselines.saved_policies import GRID_POLICY_MODELS, load_policy
    from meio_envs.envs.batch import resolve_params
    from meio_envs.evaluation import da_policy, evaluate

    res = record.get("result") or {}
    if record.get("status") != "finished" or record.get("model") not in GRID_POLICY_MODELS or not res.get("best_model"):
        return None
    path = find_run_file(res["best_model"], roots, record, archives)
    if path is None:
        return None
    saved = load_policy(path)
    sc = record["scenario"]
    if (saved.model, saved.scenario) != (record["model"], sc):
        raise HeldoutError(f"{record['trial_id']}: its model file {path} holds a {saved.model} policy for "
                           f"{saved.scenario}, not {record['model']} for {sc}")
    return (evaluate(saved.policy, sc, episodes=episodes, seed=seed),
            evaluate(da_policy(resolve_params(sc)[0]), sc, episodes=episodes, seed=seed))


def _row(record: Mapping[str, Any], model: Any, da: Any, seed: int, code: str) -> dict[str, Any]:
    savings, se = paired_savings(model.episode_costs, da.episode_costs)
    return {"trial_id": record["trial_id"], "scenario": record["scenario"], "model": record["model"],
            "preset": str(record.get("preset") or ""), "seed": int(seed), "episodes": int(model.episode_costs.size),
            "recorded_savings": float(record["result"]["savings"]), "heldout_cost": model.mean,
            "heldout_da_cost": da.mean, "heldout_savings": savings, "heldout_savings_se": se, "git_commit": code}


def evaluate_heldout(record: Mapping[str, Any], roots: Sequence[Path], episodes: int = HELDOUT_EPISODES,
                     seed: int = HELDOUT_SEED, code: str | None = None) -> dict[str, Any] | None:
    """One row: ``record``'s best model and DA on ``episodes`` held-out episodes (None without a model file).

    ``heldout_savings`` is (DA - model) / DA on the held-out draws and ``heldout_savings_se`` its
    standard error from the paired per-episode differences (:func:`paired_savings`); ``code`` labels
    the evaluating code (default :func:`evaluating_code` now).
    """
    ev = _evaluate(record, roots, episodes, seed)
    return None if ev is None else _row(record, *ev, seed, evaluating_code() if code is None else code)


def evaluating_code() -> str:
    """The evaluating code's commit, ``-dirty`` when the tree had uncommitted changes ("" outside git).

    ``meio grid publish`` takes it before it writes anything: its own additions to the published
    files are not a change of the code."""
    v = code_version()
    return str(v["git_commit"] or "") + ("-dirty" if v["git_dirty"] else "")


def csv_rows(path: Path, columns: Sequence[str], max_bytes: int, what: str) -> list[dict[str, str]]:
    """The raw rows of a CSV file with exactly ``columns`` (empty when there is none); refuses a file
    over ``max_bytes`` before reading it. Raises :class:`HeldoutError` naming the file and ``what`` it is."""
    if not path.exists():
        return []
    if path.stat().st_size > max_bytes:
        raise HeldoutError(f"{path}: {path.stat().st_size} bytes; {what} is at most {max_bytes} bytes")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != tuple(columns):
            raise HeldoutError(f"{path}: columns {reader.fieldnames}, expected {list(columns)}")
        return list(reader)


def read_heldout(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a held-out file (empty when there is none), checked; raises :class:`HeldoutError`."""
    p = Path(path)
    rows, seen = [], set()
    for i, raw in enumerate(csv_rows(p, COLUMNS, MAX_BYTES, "a held-out file"), start=2):
        try:
            plain_trial_id(raw["trial_id"], "a held-out row")
        except RecordError as e:
            raise HeldoutError(f"{p}, line {i}: {e}") from None
        if raw["trial_id"] in seen:
            raise HeldoutError(f"{p}, line {i}: a second row for {raw['trial_id']}")
        seen.add(raw["trial_id"])
        row: dict[str, Any] = dict(raw)
        try:
            row["seed"], row["episodes"] = int(raw["seed"]), int(raw["episodes"])
            for k in _NUMBERS:
                row[k] = float(raw[k])
        except (TypeError, ValueError) as e:
            raise HeldoutError(f"{p}, line {i}: {e}") from None
        if not all(math.isfinite(row[k]) for k in _NUMBERS) or row["episodes"] < 2:
            raise HeldoutError(f"{p}, line {i}: numbers must be finite and episodes >= 2")
        rows.append(row)
    return rows


def check_against_records(rows: Iterable[Mapping[str, Any]], records: Iterable[Mapping[str, Any]]) -> None:
    """Raise :class:`HeldoutError` where a held-out row names a finished record's trial but not its run: another
    scenario or model, or another recorded saving (the row was computed from another run of that trial)."""
    recs = {r["trial_id"]: r for r in records if r.get("status") == "finished"}
    for h in rows:
        r = recs.get(h["trial_id"])
        if r is None:
            continue
        if (h["scenario"], h["model"]) != (r["scenario"], r["model"]) or h["recorded_savings"] != r["result"]["savings"]:
            raise HeldoutError(f"{h['trial_id']}: its held-out row records {h['model']} on {h['scenario']} with a saving "
                               f"of {h['recorded_savings']}, its record {r['model']} on {r['scenario']} with "
                               f"{r['result']['savings']}: the row was computed from another run of the trial")


def add_heldout(records: Iterable[Mapping[str, Any]], roots: Sequence[Path], path: str | Path,
                episodes: int = HELDOUT_EPISODES, seed: int = HELDOUT_SEED,
                code: str | None = None) -> tuple[int, list[str]]:
    """Evaluate the records not in ``path`` yet and add their rows; returns (rows added, trial ids of
    finished grid records without a model file). Safe under concurrent callers (a lock file).

    Each evaluated trial's per-episode costs go to :data:`~baselines.heldout_episodes.EPISODES_FILE`
    beside ``path``. A trial that has a row but no per-episode costs there (a row older than that file)
    is evaluated again on its row's draws when its model file is found, and refused with
    :class:`HeldoutError` if the costs do not give its recorded mean: a row is never changed."""
    from baselines.heldout_episodes import EPISODES_FILE, add_episode_costs, episode_row, read_episode_costs

    if isinstance(episodes, bool) or not isinstance(episodes, int) or not 2 <= episodes <= MAX_EPISODES:
        raise HeldoutError(f"held-out episodes must be a whole number from 2 to {MAX_EPISODES:,} (a standard error "
                           f"needs two; more would reach the base-stock search's seeds), got {episodes!r}")
    p = Path(path)
    added, missing, costs = 0, [], []
    with FileLock(str(p) + ".lock"):
        rows = read_heldout(p)
        old = {r["trial_id"]: r for r in rows}
        have_costs = read_episode_costs(p.parent / EPISODES_FILE)
        for rec in records:
            tid = rec["trial_id"]
            prev = old.get(tid)
            if rec.get("status") != "finished" or (prev is not None and (rec["scenario"], tid) in have_costs):
                continue
            s, n = (prev["seed"], prev["episodes"]) if prev is not None else (seed, episodes)
            ev = _evaluate(rec, roots, n, s, [p.parent / "curves"])  # the curves archived beside the file
            if ev is None:
                if prev is None and (rec.get("result") or {}).get("best_model"):
                    missing.append(tid)
                continue
            label = evaluating_code() if code is None else code
            if prev is None:
                row = _row(rec, *ev, s, label)
                rows.append(row)
                old[tid] = row
                added += 1
            elif not math.isclose(ev[0].mean, prev["heldout_cost"], rel_tol=1e-9):
                raise HeldoutError(f"{tid}: its model costs {ev[0].mean} on the held-out episodes now, but "
                                   f"{prev['heldout_cost']} in {p} (evaluated by {prev['git_commit'] or 'unknown code'}): "
                                   "the model file or the simulator changed since")
            costs.append(episode_row(rec["scenario"], tid, "", s, ev[0].episode_costs, label))
        if added:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(sorted(rows, key=lambda r: r["trial_id"]))
            atomic_write_text(p, buf.getvalue())
        add_episode_costs(p.parent / EPISODES_FILE, costs)
    return added, missing


def heldout_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: per cell (scenario, model, preset) the mean recorded and held-out savings and their gap,
    then the gap over all trials (mean and its standard error)."""
    if not rows:
        return ""
    cells: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        cells[(r["scenario"], r["model"], r["preset"])].append(r)
    def gap(rs: Sequence[Mapping[str, Any]]) -> tuple[float, float, float]:
        g = [100 * (r["recorded_savings"] - r["heldout_savings"]) for r in rs]
        mean = sum(g) / len(g)
        sd = math.sqrt(sum((x - mean) ** 2 for x in g) / (len(g) - 1)) if len(g) > 1 else 0.0
        return mean, sd / math.sqrt(len(g)), max(g)

    mean, se, top = gap(rows)
    ahead = [r for r in rows if r["recorded_savings"] > 0]
    # trials far behind DA swing by points either way on fresh draws and drown the selection effect
    part = (f" Over the {len(ahead)} trials that beat DA on the protocol it is {gap(ahead)[0]:+.2f} points "
            f"(standard error {gap(ahead)[1]:.2f})." if ahead else "")
    lines = ["## Recorded and held-out savings", "",
             f"Each trial's best model and DA on {rows[0]['episodes']} held-out episodes (seeds from "
             f"{rows[0]['seed']:,}; the recorded saving is the best of the trial's evaluations, all on the "
             "protocol's 100 episodes). Over "
             f"{len(rows)} trials the recorded saving exceeds the held-out one by {mean:+.2f} points on "
             f"average (standard error {se:.2f}; largest {top:+.2f})." + part, "",
             "| scenario | model | preset | trials | recorded savings (mean) | held-out savings (mean) | gap (points) | "
             "held-out SE (mean) |", "|---|---|---|---|---|---|---|---|"]
    for (sc, model, preset), rs in sorted(cells.items()):
        n = len(rs)
        rec = sum(r["recorded_savings"] for r in rs) / n
        held = sum(r["heldout_savings"] for r in rs) / n
        se = sum(r["heldout_savings_se"] for r in rs) / n
        lines.append(f"| {sc} | {model} | {preset or '-'} | {n} | {100 * rec:+.2f} % | {100 * held:+.2f} % | "
                     f"{100 * (rec - held):+.2f} | {100 * se:.2f} |")
    return "\n".join(lines) + "\n"
