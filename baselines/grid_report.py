"""``meio grid report``: the report's grid figures and tables, made from trial records.

From one or more results stores (default: the published ``benchmarks/results/results.jsonl``) and
the base-stock table (``benchmarks/results/heuristics_all.csv``) it writes into ``--out``:

- ``figures.md``: a page showing every figure in the folder;
- ``grid.csv`` and ``grid.md``: the totals per budget preset (cells filled, trials, core-hours,
  CPU-hours), then one row per experiment (scenario x model x setting): trials, seeds,
  budget, best and mean savings against DA, best cost, and next to it the DA, the searched local and
  the searched echelon base-stock costs with the savings the best trial makes against each,
  core-hours (wall time) and CPU-hours (process CPU time, where the records measured it); below
  it, where trials were evaluated on held-out episodes (:mod:`baselines.heldout`), their recorded
  and held-out savings per cell;
- ``savings_best.png`` / ``savings_mean.png``: heatmaps of the best and of the mean savings per
  model and scenario (the report's Figures 5 and 6), one pair per budget preset;
- ``trials.png``: every trial's cost relative to DA, per scenario and model (the report's Figure 7);
- with ``--findings PAGE``: the report's findings next to ours, as rules on this table
  (:mod:`baselines.grid_findings`), written between the page's markers;
- with ``--policies PERIODS``: ``policy_<scenario>_<model>_<preset>.png``, the best trial's learned
  policy (order against inventory position per stock point, next to DA's base-stock line; the
  report's Figure 10), where the trial's model file is present;
- ``curves_<scenario>_<model>.png`` and ``curves_<scenario>.png``: a cell's and a scenario's learning
  curves (evaluation cost against training episodes, one line per trial, colour per model, line
  style per budget preset; the report's Figure 8 and Appendix C), from the
  curves that ``meio grid publish`` archived next to the records (:mod:`baselines.curve_archive`)
  or from the trials' run folders. A figure is not redrawn with fewer trials than it should show.

Every figure and table says which budget (preset and episodes) each cell used.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from baselines.common.files import atomic_write_text
from baselines.common.records import RecordError, read_records
from baselines.curve_archive import archived_curve, find_run_file, trial_curve
from baselines.grid import HELDOUT_FILE, HEURISTICS, PUBLISHED, summarise
from baselines.grid_findings import clear_wins
from baselines.heldout import check_against_records, heldout_table, read_heldout
from baselines.heldout_base import BASE_FILE, paired_base_costs, read_base_stock_heldout
from baselines.heldout_episodes import EPISODES_FILE, paired_vs_base, read_episode_costs
from meio_envs.scenarios import REPORT_SCENARIOS

LEADERBOARD_HEAD = """# Leaderboard

Every finished experiment in {sources}: one row per scenario, model and setting (budget preset and
episodes), with the best and the mean trial's savings against the DA heuristic, and the same best
trial against the searched local and the searched echelon base-stock policies. All rows use the
grid's evaluation protocol (100 episodes x 75 periods, 25 warm-up, fixed seeds). Add your own
algorithm with `meio benchmark` (benchmark.md). Made by `meio grid report --leaderboard`; do not
edit by hand. Rows with preset `legacy` were recorded before the record format had the full
settings (experiments.md); `smoke` rows are never published.

"""

__all__ = ["LEADERBOARD_HEAD", "MODEL_ORDER", "base_stock_costs", "report_cli", "write_report"]

CURVES = PUBLISHED.parent / "curves"
MODEL_ORDER = ("sarl", "sarl-gnn", "marl", "marl-gnn", "imarl", "imarl-random", "a2c")


def base_stock_costs(path: str | Path = HEURISTICS) -> dict[str, dict[str, float]]:
    """scenario -> {"DA", "searched", "echelon"} mean costs under the protocol (empty if no table)."""
    p = Path(path)
    if not p.exists():
        return {}
    out: dict[str, dict[str, float]] = defaultdict(dict)
    with p.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["method"] in ("DA", "searched", "echelon"):
                out[row["scenario"]][row["method"]] = float(row["mean_cost"])
    return dict(out)


def _scenario_key(s: str) -> tuple[int, str]:
    order = "SLABCD"
    return (order.index(s[0]) if len(s) == 2 and s[0] in order else len(order), s)


def _model_key(m: str) -> tuple[int, str]:
    return (MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER), m)


def table_rows(records: Iterable[Mapping[str, Any]], base: Mapping[str, Mapping[str, float]],
               heldout: Sequence[Mapping[str, Any]] = (),
               heldout_base: Mapping[str, Mapping[str, float]] | None = None,
               heldout_paired: Mapping[tuple[str, str], tuple[float, float]] | None = None) -> list[dict[str, Any]]:
    """The grid table: :func:`baselines.grid.summarise` plus the base-stock costs beside each row.

    With ``heldout`` (rows of :func:`baselines.heldout.read_heldout`) and ``heldout_base`` (scenario ->
    method -> cost on the same held-out episodes), a row whose best trial was evaluated on held-out
    episodes also gets that trial's held-out savings against DA, the searched local and the searched
    echelon policy (``heldout_best_savings_vs_<DA|searched|echelon>``): the protocol picks the trial,
    fresh draws judge it. ``heldout_paired`` ((trial id, method) -> (saving, standard error), from
    :func:`baselines.heldout_episodes.paired_vs_base`) adds the standard errors of the last two as
    ``heldout_best_savings_vs_<searched|echelon>_se`` (None where the per-episode costs are missing)."""
    held = {h["trial_id"]: h for h in heldout}
    rows = []
    for r in summarise(records):
        b = base.get(r["scenario"], {})
        row = dict(r)
        for name in ("searched", "echelon"):
            c = b.get(name)
            row[f"{name}_cost"] = c
            row[f"best_savings_vs_{name}"] = (c - r["best_cost"]) / c if c else None
        h = held.get(r["best_trial"])
        hb = (heldout_base or {}).get(r["scenario"], {})
        for name in ("DA", "searched", "echelon"):
            c = h["heldout_da_cost"] if h is not None and name == "DA" else hb.get(name)
            row[f"heldout_best_savings_vs_{name}"] = (c - h["heldout_cost"]) / c if h is not None and c else None
        for name in ("searched", "echelon"):
            pair = (heldout_paired or {}).get((r["best_trial"], name)) if h is not None and hb.get(name) else None
            row[f"heldout_best_savings_vs_{name}_se"] = None if pair is None else pair[1]
        rows.append(row)
    rows.sort(key=lambda r: (_scenario_key(r["scenario"]), _model_key(r["model"]), str(r["preset"])))
    return rows


def _pct(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:+.1f} %"


def _cpu(hours: float, measured: int, trials: int) -> str:
    """CPU-hours with how many trials measured them (records of older code did not)."""
    if not measured:
        return "-"
    return f"{hours:.2f}" + ("" if measured == trials else f" ({measured} of {trials} trials)")


def _totals(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per budget preset: cells filled on the report's grid and beyond it, trials, core-hours, CPU-hours."""
    lines = ["| preset | cells of the report's grid (5 models x 13 scenarios) | other cells | trials | core-h | CPU-h |",
             "|---|---|---|---|---|---|"]
    for preset in sorted({str(r["preset"]) for r in rows}):
        sub = [r for r in rows if str(r["preset"]) == preset]
        grid = {(r["scenario"], r["model"]) for r in sub
                if r["scenario"] in REPORT_SCENARIOS and r["model"] in MODEL_ORDER[:5]}
        other = {(r["scenario"], r["model"]) for r in sub} - grid
        lines.append(f"| {preset} | {len(grid)} of 65 | {len(other)} | {sum(r['trials'] for r in sub)} | "
                     f"{sum(r['core_hours'] for r in sub):.1f} | "
                     f"{_cpu(sum(r['cpu_hours'] for r in sub), sum(r['cpu_measured'] for r in sub), sum(r['trials'] for r in sub))} |")
    return lines + [""]


def _markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    head = ("| scenario | model | preset | budget (episodes) | trials | best savings vs DA | mean savings vs DA | "
            "best cost | DA | searched local | best vs local | searched echelon | best vs echelon | core-h | CPU-h |")
    lines = _totals(rows) + [head, "|" + "|".join(["---"] * 15) + "|"]
    for r in rows:
        def c(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f}"
        lines.append(
            f"| {r['scenario']} | {r['model']} | {r['preset'] or '-'} | {r['episodes'] or '-'} | {r['trials']} | "
            f"{_pct(r['best_savings'])} | {_pct(r['mean_savings'])} | {r['best_cost']:.0f} | "
            f"{r['heuristic_cost']:.0f} | {c(r['searched_cost'])} | {_pct(r['best_savings_vs_searched'])} | "
            f"{c(r['echelon_cost'])} | {_pct(r['best_savings_vs_echelon'])} | {r['core_hours']:.2f} | "
            f"{_cpu(r['cpu_hours'], r['cpu_measured'], r['trials'])} |")
    return "\n".join(lines) + "\n"


def _pct_se(v: float | None, se: float | None) -> str:
    return _pct(v) if v is None or se is None else f"{_pct(v)} ({100 * se:.1f})"


def _heldout_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The cells whose best trial has a held-out row: recorded against held-out savings, against each policy."""
    sub = [r for r in rows if r.get("heldout_best_savings_vs_DA") is not None]
    if not sub:
        return ""
    beats = [r for r in sub if (r["heldout_best_savings_vs_echelon"] or -1.0) > 0]
    have = [r for r in sub if r["heldout_best_savings_vs_echelon"] is not None]
    clear, known = clear_wins(sub)
    lines = ["## The best trial on held-out episodes, against the base-stock policies", "",
             "Each cell's best trial by its recorded cost (the protocol's choice), then costed with DA and the "
             "searched local and echelon base-stock policies on the same held-out episodes, so neither side "
             "was selected on the draws that judge it. Where a policy has no held-out cost the column says -; "
             "in brackets, the standard error of the held-out saving in points, from the paired per-episode "
             "costs (where they are stored). "
             f"On held-out episodes the best trial beats the searched echelon policy in {len(beats)} of "
             f"{len(have)} cells" + (f", by more than two standard errors in {clear} of the {known} cells "
                                     "with per-episode costs" if known else "") + ".", "",
             "| scenario | model | preset | best trial | vs DA: recorded | held-out | vs searched local: recorded | "
             "held-out (SE) | vs searched echelon: recorded | held-out (SE) |", "|" + "|".join(["---"] * 10) + "|"]
    for r in sub:
        lines.append(f"| {r['scenario']} | {r['model']} | {r['preset'] or '-'} | {r['best_trial']} | "
                     f"{_pct(r['best_savings'])} | {_pct(r['heldout_best_savings_vs_DA'])} | "
                     f"{_pct(r['best_savings_vs_searched'])} | "
                     f"{_pct_se(r['heldout_best_savings_vs_searched'], r.get('heldout_best_savings_vs_searched_se'))} | "
                     f"{_pct(r['best_savings_vs_echelon'])} | "
                     f"{_pct_se(r['heldout_best_savings_vs_echelon'], r.get('heldout_best_savings_vs_echelon_se'))} |")
    return "\n".join(lines) + "\n"


HEATMAP_LIMIT = 30.0
"""Savings beyond +-this many percent get the end colours of the heatmaps (their numbers are printed as they are)."""


def _heatmap(rows: Sequence[Mapping[str, Any]], key: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    scen = sorted({r["scenario"] for r in rows}, key=_scenario_key)
    models = sorted({r["model"] for r in rows}, key=_model_key)
    grid = np.full((len(models), len(scen)), np.nan)
    for r in rows:
        grid[models.index(r["model"]), scen.index(r["scenario"])] = 100 * r[key]
    # Colours span the range where savings differ in practice (the report's are within +-15 %); a
    # trial 40x worse than DA would otherwise wash every other cell out. The numbers are not clipped.
    lim = min(HEATMAP_LIMIT, max(5.0, float(np.nanmax(np.abs(grid))))) if np.isfinite(grid).any() else 5.0
    fig, ax = plt.subplots(figsize=(2.5 + 0.8 * len(scen), 1.5 + 0.5 * len(models)))
    im = ax.imshow(np.clip(grid, -lim, lim), cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(models)):
        for j in range(len(scen)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(scen)), scen)
    ax.set_yticks(range(len(models)), models)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=f"savings vs DA [%] (colours clipped at +-{lim:g})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _trials_plot(records: Sequence[Mapping[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fin = [r for r in records if r["status"] == "finished"]
    scen = sorted({r["scenario"] for r in fin}, key=_scenario_key)
    models = sorted({r["model"] for r in fin}, key=_model_key)
    fig, ax = plt.subplots(figsize=(1.5 + 0.9 * len(scen), 3.5))
    width = 0.8 / max(len(models), 1)
    for k, m in enumerate(models):
        xs, ys = [], []
        for r in fin:
            if r["model"] == m:
                xs.append(scen.index(r["scenario"]) - 0.4 + (k + 0.5) * width)
                ys.append(r["result"]["best_cost"] / r["result"]["heuristic_cost"])
        ax.scatter(xs, ys, s=14, label=m)
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="DA")
    ax.set_xticks(range(len(scen)), scen)
    ax.set_ylabel("trial's best cost / DA cost")
    ax.legend(fontsize=7, ncol=min(4, len(models) + 1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


_PRESET_STYLE = {"report": "-", "quick": "--", "legacy": ":"}


def _curves(records: Sequence[Mapping[str, Any]], scenario: str, models: Sequence[str], path: Path,
            roots: Sequence[Path], archives: Sequence[Path]) -> str:
    """Draw the learning curves of ``models`` (every preset) on ``scenario`` into ``path``.

    Returns "drawn", "none" (no trial's curve at hand) or "kept": some trials' curves are at hand but
    not all, and ``path`` exists already; it then stays as it was rather than lose lines.
    """
    trials = [r for r in records if r["status"] == "finished" and r["scenario"] == scenario and r["model"] in models
              and (r["result"].get("curve") or any(archived_curve(r["trial_id"], a).is_file() for a in archives))]
    found = [(r, c) for r in trials if (c := trial_curve(r, roots, archives))]
    if not found:
        return "none"
    if len(found) < len(trials) and path.exists():
        return "kept"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labelled: set[tuple[str, str]] = set()
    for r, rows in sorted(found, key=lambda x: (_model_key(x[0]["model"]), str(x[0].get("preset")), x[0]["seed"])):
        key = (r["model"], str(r.get("preset")))
        colour = f"C{MODEL_ORDER.index(key[0])}" if key[0] in MODEL_ORDER else "C7"
        ax.plot([x["episodes"] for x in rows], [x["eval_cost"] for x in rows], color=colour, lw=0.8, alpha=0.8,
                ls=_PRESET_STYLE.get(key[1], "-."), label=None if key in labelled else ", ".join(key))
        labelled.add(key)
    ax.axhline(found[0][0]["result"]["heuristic_cost"], color="k", ls=(0, (1, 1)), lw=1.2, label="DA")
    ax.set_xlabel("training episodes")
    ax.set_ylabel("evaluation cost (log scale)")
    ax.set_yscale("log")  # early evaluations cost 10-100x DA; a linear axis would hide the end
    missing = f", {len(trials) - len(found)} more without curve" if len(found) < len(trials) else ""
    what = models[0] if len(models) == 1 else "all models"
    ax.set_title(f"{scenario}, {what}: learning curves ({len(found)} trials{missing})", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return "drawn"


def _policy_plots(records: Sequence[Mapping[str, Any]], out: Path,
                  roots: Sequence[Path], periods: int, archives: Sequence[Path] = ()) -> list[Path]:
    """The best trial's learned policy per scenario, model and preset, where its model file is present."""
    from baselines.policy_plots import plot_policy
    from baselines.saved_policies import load_policy

    best: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for r in records:
        if r["status"] != "finished" or not r["result"].get("best_model") or r["model"] not in MODEL_ORDER[:5]:
            continue
        key = (r["scenario"], r["model"], str(r.get("preset")))
        if key not in best or r["result"]["best_cost"] < best[key]["result"]["best_cost"]:
            best[key] = r
    written = []
    for (sc, model, preset), r in sorted(best.items()):
        f = find_run_file(r["result"]["best_model"], roots, r, archives)
        if f is None:
            continue
        p = out / f"policy_{sc}_{model}_{preset}.png"
        plot_policy(load_policy(f).policy, sc, p, periods=periods,
                    title=f"{model} on {sc} ({preset}, seed {r['seed']}, {100 * r['result']['savings']:+.1f} % vs DA)")
        written.append(p)
    return written


def write_report(records: Sequence[Mapping[str, Any]], out: str | Path, heuristics: str | Path = HEURISTICS,
                 root: str | Path | Sequence[str | Path] = ".", policies: int = 0,
                 archives: Sequence[str | Path] = (CURVES,), say: Callable[[str], None] = print,
                 heldout: Sequence[Mapping[str, Any]] = (),
                 heldout_base: Mapping[str, Mapping[str, float]] | None = None,
                 heldout_paired: Mapping[tuple[str, str], tuple[float, float]] | None = None) -> list[Path]:
    """Write the tables and figures into ``out``; returns the files written.

    ``heldout``: rows of :func:`baselines.heldout.read_heldout`; those of the records' trials are
    shown in grid.md below the table (recorded against held-out savings). ``heldout_base``
    (scenario -> method -> cost on the same held-out episodes, :mod:`baselines.heldout_base`) adds
    each cell's best trial against the base-stock policies on those episodes, ``heldout_paired``
    (:func:`baselines.heldout_episodes.paired_vs_base`) the standard errors of those savings.

    Learning curves come from ``archives`` (folders of curves kept by ``meio grid publish``) first,
    then from the run folders: ``root`` is the folder (or folders, searched in order) that the
    records' relative run paths (``result.curve``, ``result.best_model``) start from. A trial whose
    files are in none of them has no curve or policy plot; a cell's curve figure that exists already
    is not redrawn with fewer trials than the cell has. ``policies`` > 0 also draws the best trial's
    learned policy per scenario, model and preset (the report's Figure 10), simulated for that many
    periods.
    """
    roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = table_rows(records, base_stock_costs(heuristics), heldout, heldout_base, heldout_paired)
    written: list[Path] = []
    if not rows:
        return written
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(out / "grid.csv", buf.getvalue())
    ids = {r["trial_id"] for r in records}
    held = heldout_table([h for h in heldout if h["trial_id"] in ids])
    vs_base = _heldout_markdown(rows)
    atomic_write_text(out / "grid.md", _markdown(rows) + "".join("\n" + t for t in (held, vs_base) if t))
    written += [out / "grid.csv", out / "grid.md"]
    for preset in sorted({str(r["preset"]) for r in rows}):
        sub = [r for r in rows if str(r["preset"]) == preset]
        for key, what in (("best_savings", "best"), ("mean_savings", "mean")):
            p = out / f"savings_{what}_{preset}.png"
            _heatmap(sub, key, f"{what} trial vs DA [%], {preset}", p)
            written.append(p)
    p = out / "trials.png"
    _trials_plot(records, p)
    written.append(p)
    arch = [Path(a) for a in archives]
    for sc in sorted({r["scenario"] for r in rows}, key=_scenario_key):
        models = sorted({r["model"] for r in rows if r["scenario"] == sc}, key=_model_key)
        # one figure per cell, and the scenario's models side by side (the report's Figure 8)
        for name, which in [(f"curves_{sc}_{m}.png", [m]) for m in models] + [(f"curves_{sc}.png", models)]:
            p = out / name
            done = _curves(records, sc, which, p, roots, arch)
            if done == "drawn":
                written.append(p)
            elif done == "kept":
                say(f"kept {p}: some of its trials' curves are neither archived nor under "
                    f"{', '.join(map(str, roots))}")
    if policies > 0:
        written += _policy_plots(records, out, roots, policies, arch)
    p = out / "figures.md"
    atomic_write_text(p, _figures_page(out))
    written.append(p)
    return written


def _figures_page(out: Path) -> str:
    """A page showing every figure in ``out``, this run's and earlier runs' (curves and policy plots
    are only redrawn where the run folders are at hand, so older ones stay as they were)."""
    lines = ["# Grid figures", "",
             "Made by `meio grid report` from the trial records; the table is in [grid.md](grid.md).", ""]
    def cell_curves(f: Path) -> bool:
        return f.stem.count("_") >= 2

    sections = (("Savings against DA (report Figures 5 and 6)", "savings_*.png", None, ""),
                ("Trials against the benchmark (report Figure 7)", "trials.png", None, ""),
                ("Learning curves per scenario (report Figure 8)", "curves_*.png", lambda f: not cell_curves(f),
                 "All models of a scenario in one panel. A figure is redrawn only when the curves of all the "
                 "scenario's trials are at hand (archived with the records, or in run folders); until then it "
                 "shows the trials it was last drawn with, as its title says."),
                ("Learning curves per model and scenario (report Appendix C)", "curves_*.png", cell_curves, ""),
                ("Learned policies (report Figure 10, Appendix D)", "policy_*.png", None, ""))
    for title, pattern, keep, intro in sections:
        files = sorted((f for f in out.glob(pattern) if keep is None or keep(f)),
                       key=lambda f: [_scenario_key(x) if i == 1 else _model_key(x) if i == 2 else x
                                      for i, x in enumerate(f.stem.split("_"))])
        if not files:
            continue
        lines += [f"## {title}", ""] + ([intro, ""] if intro else [])
        lines += [f"![{f.stem}]({f.name})" + "\n" for f in files]
    return "\n".join(lines)


def report_cli(argv: Sequence[str]) -> int:
    """``meio grid report [--results FILE ...] [--out DIR] [--preset P]``."""
    ap = argparse.ArgumentParser(prog="meio grid report", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--results", nargs="+", default=[str(PUBLISHED)], help="results stores to read")
    ap.add_argument("--out", default="runs/report", help="folder for the tables and figures")
    ap.add_argument("--heuristics", default=str(HEURISTICS), help="the base-stock table (meio heuristic --all)")
    ap.add_argument("--preset", default=None, help="only experiments run with this budget preset")
    ap.add_argument("--runs", nargs="+", default=["."], metavar="DIR",
                    help="folders the records' run paths start from, searched in order (for learning curves "
                         "that are not archived, and for model files)")
    ap.add_argument("--curves", nargs="+", default=[str(CURVES)], metavar="DIR",
                    help="folders of archived learning curves (<trial id>.csv), searched before --runs")
    ap.add_argument("--policies", type=int, default=0, metavar="PERIODS",
                    help="also plot each cell's best learned policy (order vs inventory position), simulated "
                         "for PERIODS periods (e.g. 20000), where its model file is under --runs")
    ap.add_argument("--heldout", default=str(PUBLISHED.parent / HELDOUT_FILE),
                    help="held-out evaluations of the trials (meio grid publish / heldout) to show beside the table; "
                         f"the base-stock policies' costs on the same episodes are read from {BASE_FILE} beside it, "
                         f"and the per-episode costs behind both (for standard errors) from {EPISODES_FILE}")
    ap.add_argument("--leaderboard", default=None, help="also write the table as a leaderboard page here")
    ap.add_argument("--findings", default=None, metavar="PAGE",
                    help="also write the report's findings next to ours into PAGE (between its markers)")
    a = ap.parse_args(list(argv))
    recs = [r for p in a.results for r in read_records(p)]
    if a.preset:
        recs = [r for r in recs if r.get("preset") == a.preset]
    try:
        held = read_heldout(a.heldout)
        check_against_records(held, recs)
        base_rows = read_base_stock_heldout(Path(a.heldout).parent / BASE_FILE)
        held_base = paired_base_costs(held, base_rows)
        held_paired = paired_vs_base(held, base_rows, read_episode_costs(Path(a.heldout).parent / EPISODES_FILE))
    except RecordError as e:
        print(f"meio grid report: {e}", file=sys.stderr)
        return 2
    files = write_report(recs, a.out, a.heuristics, a.runs, a.policies, archives=a.curves, heldout=held,
                         heldout_base=held_base, heldout_paired=held_paired)
    if files and a.leaderboard:
        atomic_write_text(a.leaderboard, LEADERBOARD_HEAD.format(sources=", ".join(f"`{p}`" for p in a.results))
                          + (Path(a.out) / "grid.md").read_text())
        files.append(Path(a.leaderboard))
    if files and a.findings:
        from baselines.grid_findings import write_findings

        rows = table_rows(recs, base_stock_costs(a.heuristics), held, held_base, held_paired)
        presets = [p for p in ("report", "quick") if any(r["preset"] == p for r in rows)]
        files.append(write_findings(a.findings, rows, presets))
    if not files:
        print(f"no finished trials in {', '.join(a.results)}")
        return 0
    print(f"wrote {len(files)} files into {a.out}: " + ", ".join(f.name for f in files))
    return 0
