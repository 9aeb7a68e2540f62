"""``meio grid compare``: how re-runs of published trials compare with the published records.

A re-run is a finished record whose trial id is published: the same scenario, model, seed and
settings, trained again (from a checkout of the record's commit, on this or another machine). Each
gets a verdict:

- ``reproduced``: the published run itself, or an exact re-run of it
  (:func:`~baselines.common.records.reproduces`: the same clean commit, settings, seed batch and
  every result number; and the same learning curve where both curves are at hand);
- ``same result``: every result number equal, but from other code, a dirty tree, another seed
  batch or along another learning curve, so not the same training run (or not known to be);
- ``differs``: another result; the difference in savings against DA is given in points.

Where both learning curves can be read (the published one from the curve archive, the re-run's
from its run folder), the row also says whether they are identical or at which evaluation they
part. Rows name both records' CPUs (``provenance.cpu``, recorded since 2026-12-08): training
reproduces to the bit only where the float kernels are the same. A summary per cell sets the
mean change against the spread of the published seeds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from baselines.common.records import RUN_FACTS, reproduces
from baselines.curve_archive import CurveError, find_run_file, read_curve, trial_curve

__all__ = ["VERDICTS", "compare_reruns", "curve_parting", "format_comparison"]

VERDICTS = ("reproduced", "same result", "differs")


def curve_parting(published: Sequence[Mapping[str, float]], rerun: Sequence[Mapping[str, float]]) -> int | None:
    """None if two curves are identical (every evaluation's episodes and cost), else the 1-based number of
    the first evaluation where they part (one curve ending early counts as parting after its last row)."""
    for i, (a, b) in enumerate(zip(published, rerun), start=1):
        if (a["episodes"], a["eval_cost"]) != (b["episodes"], b["eval_cost"]):
            return i
    return None if len(published) == len(rerun) else min(len(published), len(rerun)) + 1


def _outcome(r: Mapping[str, Any]) -> dict[str, Any]:
    """The result numbers (the seed batch and the curve's digest aside: the curve column reports the curve)."""
    skip = {*RUN_FACTS, "batched_trials", "curve_sha256"}
    return {k: v for k, v in (r.get("result") or {}).items() if k not in skip}


def _cpu(r: Mapping[str, Any]) -> str:
    cpu = (r.get("provenance") or {}).get("cpu")
    if not isinstance(cpu, Mapping):
        return "-"
    parts = [str(cpu[k]) for k in ("model", "isa") if cpu.get(k)]
    if cpu.get("threads"):
        parts.append(f"{cpu['threads']} thread{'s' if cpu['threads'] != 1 else ''}")
    return " / ".join(parts) or "-"


def _curves(pub: Mapping[str, Any], rerun: Mapping[str, Any], roots: Sequence[Path],
            archives: Sequence[Path]) -> tuple[str, bool | None]:
    """(what the learning curves show, whether they are identical; None where one is missing)."""
    try:
        a = trial_curve(pub, roots, archives)
        rel = (rerun.get("result") or {}).get("curve")
        p = find_run_file(rel, roots, rerun) if rel else None
        b = read_curve(p) if p is not None else None
    except CurveError as e:
        return f"unreadable ({e})", None
    if a is None or b is None:
        return "-", None
    k = curve_parting(a, b)
    return ("identical", True) if k is None else (f"parts at evaluation {k} of {len(a)}", False)


def compare_reruns(reruns: Iterable[Mapping[str, Any]], published: Iterable[Mapping[str, Any]],
                   roots: Sequence[Path] = (), archives: Sequence[Path] = ()) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per finished re-run of a published trial, and the ids of finished records not published.

    ``roots``: folders the records' run paths start from (for the re-runs' curves); ``archives``:
    curve archives of the published records (``benchmarks/results/curves``). ``reproduced`` needs
    the learning curves to be identical too where both are at hand.
    """
    pub = {r["trial_id"]: r for r in published if r.get("status") == "finished"}
    rows, unpublished = [], []
    for r in reruns:
        if r.get("status") != "finished":
            continue
        p = pub.get(r["trial_id"])
        if p is None:
            unpublished.append(r["trial_id"])
            continue
        note, same_curve = _curves(p, r, roots, archives)
        if reproduces(r, p) and same_curve is not False:
            verdict = "reproduced"
        elif _outcome(r) == _outcome(p):
            verdict = "same result"
        else:
            verdict = "differs"
        sp, sr = p["result"].get("savings"), r["result"].get("savings")
        rows.append({
            "trial_id": r["trial_id"], "model": r["model"], "scenario": r["scenario"], "preset": r.get("preset"),
            "seed": r["seed"], "verdict": verdict, "published_savings": sp, "rerun_savings": sr,
            "delta_points": None if sp is None or sr is None else 100.0 * (sr - sp),
            "curve": note, "published_cpu": _cpu(p), "rerun_cpu": _cpu(r),
            "published_commit": str((p.get("provenance") or {}).get("git_commit") or "-")[:7],
            "rerun_commit": str((r.get("provenance") or {}).get("git_commit") or "-")[:7],
        })
    return rows, unpublished


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.2f} %"


def format_comparison(rows: Sequence[Mapping[str, Any]], published: Iterable[Mapping[str, Any]],
                      unpublished: Sequence[str] = ()) -> str:
    """Markdown: a verdict count, a table per trial, and a table per cell (model, scenario, preset)."""
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    lines = [f"{len(rows)} re-runs of published trials: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + "."]
    if unpublished:
        lines.append(f"{len(unpublished)} finished records are not published trials ({', '.join(unpublished[:5])}"
                     f"{', ...' if len(unpublished) > 5 else ''}) and are not compared.")
    if not rows:
        return "\n".join(lines) + "\n"
    lines += ["", "| trial | verdict | savings published | savings re-run | change (points) | learning curves "
                  "| commit (published / re-run) | CPU (published / re-run) |",
              "|---|---|---:|---:|---:|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["model"], r["scenario"], str(r["preset"]), r["seed"])):
        d = "-" if r["delta_points"] is None else f"{r['delta_points']:+.2f}"
        lines.append(f"| {r['trial_id']} | {r['verdict']} | {_pct(r['published_savings'])} | "
                     f"{_pct(r['rerun_savings'])} | {d} | {r['curve']} | {r['published_commit']} / "
                     f"{r['rerun_commit']} | {r['published_cpu']} / {r['rerun_cpu']} |")
    # per cell: the re-runs' mean change against the spread of all published seeds of the cell
    seeds: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for p in published:
        if p.get("status") == "finished" and p.get("result", {}).get("savings") is not None:
            seeds[(p["model"], p["scenario"], p.get("preset"))].append(100.0 * p["result"]["savings"])
    cells: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for r in rows:
        if r["delta_points"] is not None:
            cells[(r["model"], r["scenario"], r["preset"])].append(r["delta_points"])
    lines += ["", "| model | scenario | preset | re-runs | mean change (points) | largest change | "
                  "published seeds | their standard deviation (points) |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for key in sorted(cells, key=str):
        ds, ss = cells[key], seeds.get(key, [])
        sd = f"{statistics.stdev(ss):.2f}" if len(ss) > 1 else "-"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {len(ds)} | {statistics.fmean(ds):+.2f} | "
                     f"{max(ds, key=abs):+.2f} | {len(ss)} | {sd} |")
    return "\n".join(lines) + "\n"
