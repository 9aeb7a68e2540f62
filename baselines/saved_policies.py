"""A trained model's policy from its saved file, for every grid model: one loader for evaluation and plots.

``best.pt`` and ``checkpoint.pt`` of SARL / SARL+GNN (an SB3 model), MARL / MARL+GNN (the actors)
and IMARL (the accepted joint policy) all load to an evaluation-protocol policy
``(obs, info) -> actions`` together with the model name and the scenario it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GRID_POLICY_MODELS", "SavedPolicy", "load_policy"]

GRID_POLICY_MODELS = ("sarl", "sarl-gnn", "marl", "marl-gnn", "imarl")


@dataclass(frozen=True)
class SavedPolicy:
    """A loaded policy and what it was trained for."""

    policy: Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]
    model: str
    scenario: str


def load_policy(path: str | Path, current: bool = False, device: str = "cpu") -> SavedPolicy:
    """Load the policy saved at ``path``; ``current``: a checkpoint's latest weights, not its best (MARL).

    Raises ``FileNotFoundError`` when there is no file and ``ValueError`` for a file of another model.
    """
    from baselines.common.checkpoint import load_checkpoint

    payload: Mapping[str, Any] | None = load_checkpoint(path)
    if payload is None:
        raise FileNotFoundError(f"no model file at {path}")
    model = payload.get("model")
    if model in ("sarl", "sarl-gnn"):
        if "sb3_zip" not in payload:
            raise ValueError(f"{path}: a {model} file without its SB3 model")
        from baselines.sarl import load_model, sb3_policy

        return SavedPolicy(sb3_policy(load_model(payload, device)), model, payload["scenario"])
    if model in ("marl", "marl-gnn"):
        from baselines.mappo import joint_policy, load_actor

        actor, _ = load_actor(payload, current)
        return SavedPolicy(joint_policy(actor), model, payload["args"]["scenario"])
    if model == "imarl":
        from baselines.imarl import load_joint_policy

        pol, args, _ = load_joint_policy(str(path))
        return SavedPolicy(pol, model, args.scenario)
    raise ValueError(f"{path}: model {model!r} has no grid policy; models: {', '.join(GRID_POLICY_MODELS)}")
