"""SB3 actor-critic policy for SARL+GNN: MLP actor on the flat observation, GAT critic.

The actor is SARL's: an MLP (256, 256) on the flat observation. The critic reads the graph-attention
embedding of the network (:class:`baselines.gnn.GATEncoder`, 3 ``GATConv`` layers of 16) whose
nodes are the stock points with the node features of :func:`meio_envs.envs.batched_ma.graph_inputs`
(scaled IP, scaled echelon, retailer flag, level-5 cost factors) and whose edges are the directed
supply edges; the flattened node embeddings (B, P * 16) then go through the value MLP (256, 256).
The whole minibatch is one batched PyG forward pass.

Node features are built on the torch side from the observation: a (P, F) static template from
``graph_inputs`` with the observation's IP (column 0) and cost factors (columns 3:) written in.
At construction the template is checked against ``graph_inputs`` on random observations, so the
features always equal the shared builder's.

Use through ``policy_kwargs``::

    kw = graph_policy_kwargs(core)                 # core: a BatchedMEIO of the scenario
    PPO(GraphCriticPolicy, venv, policy_kwargs=kw, ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from baselines.gnn import GATEncoder
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import graph_inputs

__all__ = ["GraphCriticPolicy", "GraphFeaturesExtractor", "graph_policy_kwargs"]


def graph_policy_kwargs(core: BatchedMEIO, gat_hidden: Sequence[int] = (16, 16, 16), heads: int = 1,
                        net_arch: dict[str, list[int]] | None = None) -> dict[str, Any]:
    """``policy_kwargs`` for :class:`GraphCriticPolicy` on ``core``'s network (plain, picklable data)."""
    P = core.num_nodes
    zero = np.zeros((1, core.obs_dim), np.float32)
    static, edge_index = graph_inputs(core, zero)
    template = static[0].copy()  # (P, F)
    # check the obs -> node feature mapping used on the torch side against the shared builder
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (5, core.obs_dim)).astype(np.float32)
    ref, _ = graph_inputs(core, obs)
    mine = _node_features_np(obs, template, P)
    if not np.allclose(ref, mine):
        raise RuntimeError("graph_inputs changed: update GraphFeaturesExtractor's obs -> node mapping")
    return {
        "net_arch": net_arch or {"pi": [256, 256], "vf": [256, 256]},
        "activation_fn": nn.ReLU,
        "gnn_kwargs": {
            "node_template": template.tolist(), "edge_index": edge_index.tolist(), "num_nodes": P,
            "gat_hidden": list(gat_hidden), "heads": int(heads),
        },
    }


def _node_features_np(obs: np.ndarray, template: np.ndarray, P: int) -> np.ndarray:
    x = np.broadcast_to(template, (obs.shape[0], *template.shape)).copy()
    x[:, :, 0] = obs[:, :P]
    if obs.shape[1] > P:
        x[:, :, 3:] = obs[:, None, P:]
    return x


class GraphFeaturesExtractor(BaseFeaturesExtractor):
    """Flat observation (B, obs_dim) -> GAT embedding (B, P * gat_hidden[-1])."""

    def __init__(
        self, observation_space: gym.spaces.Box, node_template: list[list[float]],
        edge_index: list[list[int]], num_nodes: int, gat_hidden: Sequence[int] = (16, 16, 16), heads: int = 1,
    ) -> None:
        template = torch.as_tensor(np.asarray(node_template, np.float32))
        P, F = template.shape
        if P != num_nodes:
            raise ValueError(f"node_template has {P} rows, expected num_nodes={num_nodes}")
        encoder = GATEncoder(F, hidden=gat_hidden, heads=heads)
        super().__init__(observation_space, encoder.output_dim(P))
        self.num_nodes = P
        self.encoder = encoder
        self.register_buffer("template", template)
        self.register_buffer("edge_index", torch.as_tensor(np.asarray(edge_index, np.int64)).reshape(2, -1))

    def node_features(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, obs_dim) -> (B, P, F), equal to ``graph_inputs(core, obs)[0]``."""
        B, P = obs.shape[0], self.num_nodes
        x = self.template.expand(B, -1, -1).clone()
        x[:, :, 0] = obs[:, :P]
        if obs.shape[1] > P:
            x[:, :, 3:] = obs[:, None, P:]
        return x

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """One batched GAT pass over the minibatch."""
        return self.encoder(self.node_features(observations), self.edge_index)


class _SplitMlpExtractor(nn.Module):
    """SB3's MlpExtractor with different input sizes for the actor and the critic."""

    def __init__(self, pi_dim: int, vf_dim: int, net_arch: dict[str, list[int]],
                 activation_fn: type[nn.Module]) -> None:
        super().__init__()

        def mlp(d: int, sizes: Sequence[int]) -> tuple[nn.Sequential, int]:
            layers: list[nn.Module] = []
            for s in sizes:
                layers += [nn.Linear(d, s), activation_fn()]
                d = s
            return nn.Sequential(*layers), d

        self.policy_net, self.latent_dim_pi = mlp(pi_dim, net_arch.get("pi", []))
        self.value_net, self.latent_dim_vf = mlp(vf_dim, net_arch.get("vf", []))

    def forward(self, features: tuple[torch.Tensor, torch.Tensor] | torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        pi, vf = features if isinstance(features, tuple) else (features, features)
        return self.forward_actor(pi), self.forward_critic(vf)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.policy_net(features)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.value_net(features)


class GraphCriticPolicy(ActorCriticPolicy):
    """``ActorCriticPolicy`` with a flat-observation actor and a GAT-embedding critic.

    Extra argument ``gnn_kwargs`` (from :func:`graph_policy_kwargs`): ``node_template`` (P, F),
    ``edge_index`` (2, E), ``num_nodes``, ``gat_hidden``, ``heads``. ``net_arch`` must be a dict
    ``{"pi": [...], "vf": [...]}``; features are never shared.
    """

    def __init__(self, *args: Any, gnn_kwargs: dict[str, Any], **kwargs: Any) -> None:
        self._gnn_kwargs = dict(gnn_kwargs)  # needed by _build, which the parent __init__ calls
        kwargs["share_features_extractor"] = False
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        self.vf_features_extractor = GraphFeaturesExtractor(self.observation_space, **self._gnn_kwargs)
        super()._build(lr_schedule)

    def _build_mlp_extractor(self) -> None:
        arch = self.net_arch if isinstance(self.net_arch, dict) else {"pi": self.net_arch, "vf": self.net_arch}
        self.mlp_extractor = _SplitMlpExtractor(
            self.features_dim, self.vf_features_extractor.features_dim, arch, self.activation_fn
        ).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["gnn_kwargs"] = self._gnn_kwargs
        data.pop("share_features_extractor", None)
        return data
