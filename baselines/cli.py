"""The ``meio`` command: heuristics, training, evaluation and the grid runner.

Each model lives in its own module exposing ``train_cli(model, argv)``; ``meio evaluate`` is one
command for every grid model (:mod:`baselines.evaluate_cli`; A2C keeps its Chapter2L
``evaluate_cli``). This file only dispatches, so adding a model means adding one line to
:data:`TRAINERS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["TRAINERS", "main"]

USAGE = """usage: meio <command> [options]

commands:
  heuristic SCENARIO... | --all     DA, searched local and echelon base-stock levels and their costs
  train MODEL SCENARIO [options]    train a baseline (meio train sarl --help for its options)
  evaluate CHECKPOINT [options]     evaluate a saved model (best.pt / checkpoint.pt) next to DA
  grid run|status|summary|publish|report
                                    scenarios x models x seeds on Ray; trial records; figures
  benchmark MODULE:FUNCTION ...     your own policy under the grid protocol, recorded beside the baselines

models: sarl, sarl-gnn, marl, marl-gnn, imarl, a2c (Chapter2L only)
docs: docs/index.md"""

# model name -> module with train_cli(model: str, argv: list[str]) -> int
TRAINERS: dict[str, str] = {
    "sarl": "baselines.sarl",
    "sarl-gnn": "baselines.sarl",
    "marl": "baselines.mappo",
    "marl-gnn": "baselines.mappo",
    "imarl": "baselines.imarl",
    "a2c": "baselines.chapter_a2c",
}


def _train(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: meio train {{{','.join(TRAINERS)}}} <scenario> [options]\n"
              "       meio train <model> --help   for the model's options")
        return 0 if argv else 2
    model, rest = argv[0], argv[1:]
    if model not in TRAINERS:
        print(f"meio train: unknown model {model!r}; choose from {sorted(TRAINERS)}", file=sys.stderr)
        return 2
    if model != "a2c" and rest and not rest[0].startswith("-"):
        from meio_envs.scenarios import parse_scenario_id

        try:
            parse_scenario_id(rest[0])  # one line for a bad id, before the option parser's box
        except ValueError as e:
            print(f"meio train {model}: {e}", file=sys.stderr)
            return 2
    mod = _import(TRAINERS[model], f"meio train {model}")
    if mod is None:
        return 2
    return int(mod.train_cli(model, rest) or 0)


def _import(module: str, who: str):  # noqa: ANN202
    """The trainer module, or None after one line saying which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = "gnn" if "torch_geometric" in str(e) else "rl"
        print(f"{who}: needs {e.name or 'a missing package'}; install it with: pip install \"meio-envs[{extra}]\"",
              file=sys.stderr)
        return None


def _evaluate(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="meio evaluate", add_help=False,
        description="Evaluate a saved model (best.pt or checkpoint.pt of any model) with the grid protocol "
                    "(100 episodes x 75 periods, 25 warm-up, fixed seeds), next to the DA heuristic.",
        epilog="The options depend on the model: meio evaluate CHECKPOINT --help lists them.")
    ap.add_argument("checkpoint", nargs="?")
    args, rest = ap.parse_known_args(argv)
    if args.checkpoint is None:
        ap.print_help()
        return 0 if argv else 2
    from baselines.common.checkpoint import CheckpointError, load_checkpoint

    try:
        payload = load_checkpoint(args.checkpoint)
    except CheckpointError as e:
        print(f"meio evaluate: {e}", file=sys.stderr)
        return 2
    if payload is None:
        print(f"meio evaluate: no checkpoint at {args.checkpoint}", file=sys.stderr)
        return 2
    model = payload.get("model")
    if model not in TRAINERS:
        print(f"meio evaluate: checkpoint has unknown model {model!r}", file=sys.stderr)
        return 2
    mod = _import(TRAINERS[model], "meio evaluate")
    if mod is None:
        return 2
    if model == "a2c":  # Chapter2L: its own protocol and benchmark
        return int(mod.evaluate_cli(args.checkpoint, rest) or 0)
    from baselines.evaluate_cli import evaluate_checkpoint_cli

    return evaluate_checkpoint_cli(args.checkpoint, rest)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``meio`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "heuristic":
        from baselines.heuristic_cli import heuristic_cli

        return heuristic_cli(rest)
    if cmd == "train":
        return _train(rest)
    if cmd == "evaluate":
        return _evaluate(rest)
    if cmd == "grid":
        from baselines.grid import grid_cli

        return int(grid_cli(rest) or 0)
    if cmd == "benchmark":
        from baselines.benchmark_cli import benchmark_cli

        return int(benchmark_cli(rest) or 0)
    print(f"meio: unknown command {cmd!r}; commands: heuristic, train, evaluate, grid, benchmark", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
