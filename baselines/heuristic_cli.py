"""``meio heuristic``: DA levels, searched levels and (serial) exact levels with evaluated costs.

For each scenario it prints the DA local base-stock levels, the levels found by the simulation
search started from DA, and for the serial structures (S, L) Clark-Scarf's exact optimum, each
evaluated with the grid protocol (100 episodes x 75 periods, 25 warm-up, fixed evaluation seeds),
and writes one CSV row per scenario and method to ``--out`` (default ``runs/heuristics_<ids>.csv``).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["heuristic_cli", "run_scenario"]

FIELDS = ["scenario", "method", "levels", "mean_cost", "ci_low", "ci_high", "seconds"]


LEGEND = """meio heuristic: base-stock policies for each scenario, every one evaluated with the grid protocol
(100 episodes x 75 periods, first 25 not scored, fixed seeds, so all rows face the same demand):
  DA        the decomposition-aggregation heuristic, the report's benchmark (the savings of RL are against it)
  searched  local base-stock levels found by simulation search, started from DA
  echelon   echelon base-stock levels found by simulation search (sees downstream positions, like SARL)
  clark-scarf  the exact serial optimum (S and L structures; '~': approximate with random lead times)
columns: mean cost per episode | its 95 % confidence interval | seconds to compute the levels | the levels
(one per stock point, upstream to downstream)"""


def run_scenario(sid: str, *, search: bool, episodes: int, search_episodes: int,
                 on_row: Callable[[dict[str, object]], None] | None = None,
                 say: Callable[[str], None] | None = None) -> list[dict[str, object]]:
    """Rows (one per method) for one grid scenario; ``on_row`` sees each row as soon as it is done."""
    tell = say or (lambda s: None)
    from heuristics import solve_serial_network
    from meio_envs.base_stock_search import search_base_stock
    from meio_envs.envs.batch import resolve_params
    from meio_envs.evaluation import base_stock_policy, da_policy, echelon_base_stock_policy, evaluate
    from meio_envs.heuristic_levels import da_levels

    params, _ = resolve_params(sid)
    net = params.network
    rows: list[dict[str, object]] = []

    def row(method: str, levels: np.ndarray | str, res, seconds: float) -> None:  # noqa: ANN001
        lo, hi = res.ci95
        lv = levels if isinstance(levels, str) else " ".join(str(int(x)) for x in levels)
        rows.append(dict(scenario=sid, method=method, levels=lv, mean_cost=round(res.mean, 2),
                         ci_low=round(lo, 2), ci_high=round(hi, 2), seconds=round(seconds, 3)))
        if on_row is not None:
            on_row(rows[-1])

    t0 = time.perf_counter()
    da = da_levels(net)
    t_da = time.perf_counter() - t0
    res_da = evaluate(da_policy(params), params, episodes=episodes)
    row("DA", da if params.cost_variation is None else "DA per cost draw", res_da, t_da)
    if search:
        tell(f"  {sid}: searching local base-stock levels ({search_episodes} episodes per candidate) ...")
        t0 = time.perf_counter()
        found = search_base_stock(params, da, episodes=search_episodes)
        t_s = time.perf_counter() - t0
        res_s = evaluate(base_stock_policy(found.result.best_levels, params.max_order), params, episodes=episodes)
        row("searched", found.result.best_levels, res_s, t_s)
        # echelon base stock, started from DA's echelon equivalents: a wider policy class
        from meio_envs.base_stock_search import echelon_matrix

        tell(f"  {sid}: searching echelon base-stock levels ...")
        t0 = time.perf_counter()
        start_e = np.asarray(found.result.best_levels) @ echelon_matrix(params)
        found_e = search_base_stock(params, start_e, episodes=search_episodes, kind="echelon")
        t_e = time.perf_counter() - t0
        res_e = evaluate(echelon_base_stock_policy(found_e.result.best_levels, params), params, episodes=episodes)
        row("echelon", found_e.result.best_levels, res_e, t_e)
    if sid[0] in "SL" and params.cost_variation is None:
        t0 = time.perf_counter()
        exact = solve_serial_network(net.to_plain(), method="clark_scarf")
        t_cs = time.perf_counter() - t0
        res_cs = evaluate(base_stock_policy(np.asarray(exact.local), params.max_order), params, episodes=episodes)
        # exact only with deterministic lead times (levels 1, 2); with random ones each stage uses its
        # own lead-time demand, an approximation
        name = "clark-scarf" if params.network.stock_points[0].lead_time.max_value == params.network.stock_points[0].lead_time.min_value else "clark-scarf~"
        row(name, np.asarray(exact.local), res_cs, t_cs)
    return rows


def heuristic_cli(argv: Sequence[str]) -> int:
    """Parse ``meio heuristic`` arguments, run, print a table and write the CSV."""
    from meio_envs.scenarios import SCENARIO_IDS, canonical_scenario_id

    ap = argparse.ArgumentParser(prog="meio heuristic", description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", help="grid or example ids, e.g. A1 B4 A1-LostSales (default: A1)")
    ap.add_argument("--all", action="store_true", help="all 30 scenarios")
    ap.add_argument("--no-search", action="store_true", help="skip the simulation search (fast)")
    ap.add_argument("--episodes", type=int, default=100, help="evaluation episodes (protocol: 100)")
    ap.add_argument("--search-episodes", type=int, default=200, help="episodes per candidate in the search")
    ap.add_argument("--quick", action="store_true",
                    help="a coarser search (50 episodes per candidate): about a minute for A1 B4 D1; the published "
                         "table uses the default")
    ap.add_argument("--out", default=None,
                    help="CSV to write atomically (default runs/heuristics_<ids|all>.csv)")
    args = ap.parse_args(list(argv))
    if args.quick:
        args.search_episodes = 50
    for name in ("episodes", "search_episodes"):
        if getattr(args, name) < 2:
            ap.error(f"--{name.replace('_', '-')} must be >= 2, got {getattr(args, name)}")
    try:
        sids = list(SCENARIO_IDS) if args.all else [canonical_scenario_id(s) for s in (args.scenarios or ["A1"])]
    except ValueError as e:
        ap.error(str(e))
    if args.out is None:
        args.out = f"runs/heuristics_{'all' if args.all else '-'.join(sids)}.csv"
    from baselines.common.files import atomic_write_text

    all_rows: list[dict[str, object]] = []
    print(LEGEND, flush=True)
    print(f"\n{'scenario':8} {'method':12} {'mean cost':>10} {'95% CI':>21} {'seconds':>8}  levels", flush=True)
    t_start = time.perf_counter()

    def show(r: dict[str, object]) -> None:
        print(f"{r['scenario']:8} {r['method']:12} {r['mean_cost']:>10} "
              f"[{r['ci_low']:>9}, {r['ci_high']:>9}] {r['seconds']:>8}  {r['levels']}", flush=True)

    for k, sid in enumerate(sids, 1):
        print(f"[{k}/{len(sids)}] {sid} ({time.perf_counter() - t_start:.0f} s so far)", flush=True)
        rows = run_scenario(sid, search=not args.no_search, episodes=args.episodes,
                            search_episodes=args.search_episodes, on_row=show,
                            say=lambda m: print(m, flush=True))
        all_rows += rows
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(all_rows)
        atomic_write_text(Path(args.out), buf.getvalue())  # rewritten after each scenario: nothing lost
    print(f"done in {time.perf_counter() - t_start:.0f} s; wrote {args.out}")
    return 0
