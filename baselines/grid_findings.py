"""The report's findings next to ours, computed from the grid table (``meio grid report --findings``).

Each finding of the report is restated as a rule on the grid table (best and mean trial savings
against DA per model and scenario, within one budget preset), evaluated on the cells that have
records, and given a verdict: ``agrees``, ``disagrees`` or ``open`` (too few cells to say). The
table is written between two markers of a page (docs/findings.md), so the hand-written discussion
around it stays and the numbers always come from the records.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.common.files import atomic_write_text
from meio_envs.scenarios import REPORT_SCENARIOS

__all__ = ["BEGIN", "END", "FINDINGS", "Finding", "clear_wins", "findings_table", "write_findings"]

BEGIN = "<!-- findings:begin (made by meio grid report --findings; do not edit by hand) -->"
END = "<!-- findings:end -->"
THREE_ECHELONS = ("C", "D")

Cells = Mapping[str, Mapping[str, Mapping[str, Any]]]  # scenario -> model -> table row


@dataclass(frozen=True)
class Finding:
    """One claim of the report, and how to check it on the grid."""

    claim: str
    report: str
    check: Callable[[Cells], tuple[str, str]]  # -> (what we measured, verdict)


def _pct(v: float) -> str:
    return f"{100 * v:+.1f} %"


def _imarl_beats_da(cells: Cells) -> tuple[str, str]:
    rows = [m["imarl"] for m in cells.values() if "imarl" in m]
    if not rows:
        return "no IMARL cells yet", "open"
    best = sum(r["best_savings"] > 0 for r in rows)
    mean = sum(r["mean_savings"] > 0 for r in rows)
    miss = [r["scenario"] for r in rows if r["best_savings"] <= 0]
    text = f"best trial beats DA in {best} of {len(rows)} scenarios, mean of trials in {mean} of {len(rows)}"
    if miss:
        text += f" (not in {', '.join(miss)})"
    if best < len(rows) or mean < len(rows):
        return text, "disagrees"  # one scenario where IMARL does not beat DA settles it
    return text, "agrees" if len(rows) >= 3 else "open"


def _imarl_best_model(cells: Cells) -> tuple[str, str]:
    full = {s: m for s, m in cells.items() if "imarl" in m and len(m) >= 3}
    if not full:
        return "no scenario with IMARL and at least two other models yet", "open"
    wins = [s for s, m in full.items() if max(m.values(), key=lambda r: r["best_savings"])["model"] == "imarl"]
    text = (f"IMARL's best trial is the best of the models present in {len(wins)} of {len(full)} scenarios "
            f"with at least three models ({', '.join(sorted(full))})")
    share = len(wins) / len(full)
    return text, ("agrees" if share >= 0.6 else "disagrees") if len(full) >= 3 else "open"


def _imarl_range(cells: Cells) -> tuple[str, str]:
    sav = {s: m["imarl"]["best_savings"] for s, m in cells.items() if "imarl" in m}
    if not sav:
        return "no IMARL cells yet", "open"
    inside = [s for s, v in sav.items() if 0.06 <= v <= 0.14]
    text = (f"IMARL best savings {_pct(min(sav.values()))} to {_pct(max(sav.values()))}, median "
            f"{_pct(statistics.median(sav.values()))}; within 6-14 % in {len(inside)} of {len(sav)}")
    return text, ("agrees" if len(inside) > len(sav) / 2 else "disagrees") if len(sav) >= 3 else "open"


def _sarl_behind(cells: Cells) -> tuple[str, str]:
    gaps: dict[bool, list[float]] = defaultdict(list)  # three echelons? -> SARL's gap to the best model
    for s, m in cells.items():
        if "sarl" in m and len(m) >= 2:
            gaps[s[0] in THREE_ECHELONS].append(max(r["best_savings"] for r in m.values()) - m["sarl"]["best_savings"])
    if not gaps[True] or not gaps[False]:
        have = ", ".join(sorted(s for s, m in cells.items() if "sarl" in m and len(m) >= 2)) or "none"
        return f"needs SARL and another model in both 2- and 3-echelon scenarios (have: {have})", "open"
    two, three = statistics.mean(gaps[False]), statistics.mean(gaps[True])
    text = (f"SARL's best trial trails the best model by {100 * two:.1f} points in 2-echelon scenarios "
            f"({len(gaps[False])}) and {100 * three:.1f} points in 3-echelon ones ({len(gaps[True])})")
    return text, "agrees" if three > two else "disagrees"


def _marl_vs_sarl(cells: Cells) -> tuple[str, str]:
    pairs = {s: m for s, m in cells.items() if "marl" in m and "sarl" in m}
    if not pairs:
        return "no scenario with both MARL and SARL yet", "open"
    better = [s for s, m in pairs.items() if m["marl"]["best_savings"] > m["sarl"]["best_savings"]]
    diff = statistics.mean(m["marl"]["best_savings"] - m["sarl"]["best_savings"] for m in pairs.values())
    text = (f"MARL's best trial beats SARL's in {len(better)} of {len(pairs)} scenarios (mean difference "
            f"{100 * diff:+.1f} points)")
    return text, ("agrees" if len(better) > len(pairs) / 2 else "disagrees") if len(pairs) >= 3 else "open"


def _gnn_twins(cells: Cells) -> tuple[str, str]:
    parts, close, total = [], 0, 0
    for plain, gnn in (("sarl", "sarl-gnn"), ("marl", "marl-gnn")):
        d = [m[gnn]["best_savings"] - m[plain]["best_savings"] for m in cells.values() if plain in m and gnn in m]
        if d:
            parts.append(f"{gnn} - {plain}: mean {100 * statistics.mean(d):+.1f} points over {len(d)} scenarios, "
                         f"largest {100 * max(d, key=abs):+.1f}")
            close += sum(abs(x) <= 0.03 for x in d)
            total += len(d)
    if not total:
        return "no scenario with a model and its GNN twin yet", "open"
    text = "; ".join(parts) + f"; within 3 points in {close} of {total} pairs"
    return text, ("agrees" if close > total / 2 else "disagrees") if total >= 3 else "open"


def clear_wins(rows: Sequence[Mapping[str, Any]], name: str = "echelon") -> tuple[int, int]:
    """(cells whose best trial beats the ``name`` policy on held-out episodes by more than two standard
    errors, cells where that standard error is known)."""
    se = [r for r in rows if r.get(f"heldout_best_savings_vs_{name}_se") is not None
          and r.get(f"heldout_best_savings_vs_{name}") is not None]
    return sum(r[f"heldout_best_savings_vs_{name}"] > 2 * r[f"heldout_best_savings_vs_{name}_se"] for r in se), len(se)


def _echelon(cells: Cells) -> tuple[str, str]:
    rows = [max(m.values(), key=lambda r: r["best_savings"]) for m in cells.values()]
    rows = [r for r in rows if r.get("best_savings_vs_echelon") is not None]
    if not rows:
        return "no cells with an echelon base-stock cost", "open"
    beats = [r["scenario"] for r in rows if r["best_savings_vs_echelon"] > 0]
    gap = statistics.median(r["best_savings_vs_echelon"] for r in rows)
    text = (f"the best RL trial beats the searched echelon base-stock policy in {len(beats)} of {len(rows)} "
            f"scenarios (median {_pct(gap)} against it)")
    held = [r for r in rows if r.get("heldout_best_savings_vs_echelon") is not None]
    if held:  # the same trials on draws they were not selected on (baselines.heldout_base)
        hb = sum(r["heldout_best_savings_vs_echelon"] > 0 for r in held)
        hgap = statistics.median(r["heldout_best_savings_vs_echelon"] for r in held)
        text += (f"; on held-out episodes it beats it in {hb} of the {len(held)} scenarios evaluated there "
                 f"(median {_pct(hgap)})")
        clear, known = clear_wins(held)
        if known:
            text += f", by more than two standard errors in {clear} of the {known} with per-episode costs"
    return text, "ours"


FINDINGS: tuple[Finding, ...] = (
    Finding("IMARL beats the DA heuristic in every scenario (best and mean of trials)", "13 of 13", _imarl_beats_da),
    Finding("IMARL is the best of the five models", "10 of 13 scenarios", _imarl_best_model),
    Finding("IMARL saves 6-14 % against DA in most scenarios", "6-14 % in most", _imarl_range),
    Finding("SARL falls behind from three echelons on (C, D)", "falls behind in C and D", _sarl_behind),
    Finding("MARL is better than SARL in most scenarios", "most scenarios", _marl_vs_sarl),
    Finding("The GNN variants are about equal to their twins", "about equal", _gnn_twins),
    Finding("(ours) An echelon base-stock policy sees what the RL agents see: how far do they get beyond it?",
            "not studied", _echelon),
)


def _cells(rows: Sequence[Mapping[str, Any]], preset: str) -> dict[str, dict[str, Mapping[str, Any]]]:
    cells: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
    for r in rows:
        if str(r.get("preset")) == preset and r["scenario"] in REPORT_SCENARIOS:
            cells[r["scenario"]][r["model"]] = r
    return dict(cells)


def findings_table(rows: Sequence[Mapping[str, Any]], preset: str) -> str:
    """The findings as a Markdown table, from :func:`baselines.grid_report.table_rows` at one preset."""
    cells = _cells(rows, preset)
    n = sum(len(m) for m in cells.values())
    lines = [f"Budget preset `{preset}`: {n} of 65 model x scenario cells have records "
             f"({len(cells)} of 13 scenarios).", "",
             "| finding | report | ours | verdict |", "|---|---|---|---|"]
    for f in FINDINGS:
        ours, verdict = f.check(cells)
        lines.append(f"| {f.claim} | {f.report} | {ours} | {verdict} |")
    return "\n".join(lines) + "\n"


def write_findings(page: str | Path, rows: Sequence[Mapping[str, Any]], presets: Sequence[str]) -> Path:
    """Replace the generated part of ``page`` (between :data:`BEGIN` and :data:`END`) with the tables.

    A page without the markers gets them appended, so the hand-written text is never overwritten.
    """
    p = Path(page)
    text = p.read_text() if p.exists() else "# Findings\n\n"
    body = "\n".join(f"### Preset `{pr}`\n\n{findings_table(rows, pr)}" for pr in presets)
    block = f"{BEGIN}\n{body}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    atomic_write_text(p, text)
    return p
