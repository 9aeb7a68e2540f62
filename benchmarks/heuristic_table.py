"""Markdown table of ``meio heuristic --all`` results (DA vs searched vs Clark-Scarf) from its CSV.

    python benchmarks/heuristic_table.py benchmarks/results/heuristics_all.csv
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict


def main(path: str) -> None:
    rows = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        rows[r["scenario"]][r["method"]] = r
    print("| scenario | DA cost [95% CI] | local searched [95% CI] | gap DA vs local | echelon searched [95% CI] "
          "| gap DA vs echelon | Clark-Scarf | local search s | local levels | echelon levels |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for sid, m in rows.items():
        da, se, ec = m.get("DA"), m.get("searched"), m.get("echelon")
        cs = m.get("clark-scarf") or m.get("clark-scarf~")
        fmt = lambda r: f"{float(r['mean_cost']):.0f} [{float(r['ci_low']):.0f}, {float(r['ci_high']):.0f}]" if r else "-"  # noqa: E731
        def gap(r: dict | None) -> str:
            return f"{(float(da['mean_cost']) - float(r['mean_cost'])) / float(da['mean_cost']):.1%}" if da and r else "-"

        csx = "-" if not cs else f"{float(cs['mean_cost']):.0f}{' (approx.)' if cs['method'].endswith('~') else ' (exact)'}"
        print(f"| {sid} | {fmt(da)} | {fmt(se)} | {gap(se)} | {fmt(ec)} | {gap(ec)} | {csx} | "
              f"{se['seconds'] if se else '-'} | {se['levels'] if se else '-'} | {ec['levels'] if ec else '-'} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/heuristics_all.csv")
