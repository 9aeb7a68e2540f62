"""The ``meio`` command: heuristics, training, evaluation and the grid runner.

``meio heuristic B4`` / ``meio heuristic --all``  DA vs searched base-stock levels and costs
``meio train <model> <scenario> [options]``       train a baseline (``meio train sarl A1 --help``)
``meio evaluate <checkpoint>``                    evaluate a saved model with the grid protocol
``meio grid run|status|summary|publish``          scenarios x models x seeds on Ray, resumable; records

Each model lives in its own module exposing ``train_cli(model, argv)``; this file only dispatches,
so adding a model means adding one line to :data:`TRAINERS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["TRAINERS", "main"]

# model name -> module with train_cli(model: str, argv: list[str]) -> int and evaluate_cli(path, argv) -> int
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
    mod = importlib.import_module(TRAINERS[model])
    return int(mod.train_cli(model, rest) or 0)


def _evaluate(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="meio evaluate", description="Evaluate a checkpoint with the grid protocol.")
    ap.add_argument("checkpoint")
    args, rest = ap.parse_known_args(argv)
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
    mod = importlib.import_module(TRAINERS[model])
    return int(mod.evaluate_cli(args.checkpoint, rest) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``meio`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
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
    print(f"meio: unknown command {cmd!r}; commands: heuristic, train, evaluate, grid", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
