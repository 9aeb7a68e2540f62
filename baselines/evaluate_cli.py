"""``meio evaluate CHECKPOINT``: any grid model's saved policy under the grid protocol, next to DA.

One command and one output for SARL, SARL+GNN, MARL, MARL+GNN and IMARL: a line of text for
people, or ``--json`` for scripts, with the savings in percent in both; ``--plot`` also draws the
learned policy. (A2C on Chapter2L has its own protocol and benchmark: ``baselines.chapter_a2c``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from baselines.saved_policies import SavedPolicy
from meio_envs.evaluation import EVAL_SEED

__all__ = ["evaluate_checkpoint_cli", "evaluation_result"]


def _parser(path: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"meio evaluate {path}",
                                 description="Evaluate a saved model with the grid protocol, next to DA.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--scenario", default=None,
                    help="evaluate on this scenario instead of the one trained on (same network needed)")
    ap.add_argument("--episodes", type=int, default=100, help="evaluation episodes")
    ap.add_argument("--periods", type=int, default=75, help="periods per episode")
    ap.add_argument("--warmup", type=int, default=25, help="warm-up periods not scored")
    ap.add_argument("--seed", type=int, default=EVAL_SEED, help="first evaluation seed (copy i: seed + i)")
    ap.add_argument("--current", action="store_true",
                    help="MARL: the latest weights of a checkpoint.pt instead of its best weights")
    ap.add_argument("--device", default="cpu", help="device for the SB3 model (cpu, cuda, auto)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a line of text")
    ap.add_argument("--plot", default=None, metavar="PNG",
                    help="also write the learned-policy plot (order vs inventory position per stock point)")
    ap.add_argument("--plot-periods", type=int, default=20_000, help="periods simulated for the policy plot")
    return ap


def evaluation_result(path: str, saved: SavedPolicy, scenario: str | None = None, episodes: int = 100,
                      periods: int = 75, warmup: int = 25, seed: int = EVAL_SEED) -> dict:
    """Cost of the policy ``saved`` (loaded from ``path``) and of DA on the same episodes, and the savings."""
    from meio_envs.envs.batch import resolve_params
    from meio_envs.evaluation import da_policy, evaluate

    sc = scenario or saved.scenario
    kw = {"episodes": episodes, "periods": periods, "warmup": warmup, "seed": seed}
    res = evaluate(saved.policy, sc, **kw)
    da = evaluate(da_policy(resolve_params(sc)[0]), sc, **kw)
    return {"checkpoint": str(path), "model": saved.model, "scenario": sc, "cost": res.mean, "se": res.se,
            "heuristic_cost": da.mean, "savings": res.savings_vs(da), "episodes": episodes}


def evaluate_checkpoint_cli(path: str, argv: Sequence[str]) -> int:
    """Parse the options, evaluate, print (text or JSON); exit code 2 with one line for bad input."""
    import torch

    from baselines.common.trial import evaluation_line
    from baselines.saved_policies import load_policy
    from meio_envs.validation import MEIOInputError

    a = _parser(path).parse_args(list(argv))
    torch.set_num_threads(1)
    try:
        saved = load_policy(path, current=a.current, device=a.device)
        out = evaluation_result(path, saved, a.scenario, a.episodes, a.periods, a.warmup, a.seed)
    except (ValueError, FileNotFoundError, MEIOInputError) as e:
        print(f"meio evaluate: {e}", file=sys.stderr)
        return 2
    if a.plot:
        from baselines.policy_plots import plot_policy

        plot_policy(saved.policy, out["scenario"], a.plot, periods=a.plot_periods,
                    title=f"{out['model']} on {out['scenario']}")
        out["plot"] = a.plot
    print(json.dumps(out) if a.json else evaluation_line(out) + (f"; policy plot: {a.plot}" if a.plot else ""))
    return 0
