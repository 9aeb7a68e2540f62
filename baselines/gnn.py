"""Graph-attention (GAT) encoder of an inventory network, shared by SARL+GNN and MARL+GNN.

Nodes are stock points with their part of the state as features (``graph_inputs`` in
:mod:`meio_envs.envs.batched_ma`); edges are the directed supply edges supplier -> customer. A
batch of B copies of the same network is run as ONE PyTorch Geometric forward pass over a
block-diagonal graph of B * P nodes (``edge_index`` offset by ``b * P`` for copy b), which is
exactly the same as B separate forward passes (tests/baselines/test_sarl.py checks this).

PyG's ``GATConv`` passes messages from ``edge_index[0]`` (source) to ``edge_index[1]`` (target),
so with supply edges information flows downstream (supplier -> customer); every node also keeps a
self loop. ``direction="both"`` adds the reversed edges as well (not the report's setting).

The self loops are added once per batch size, exactly as ``GATConv`` would add them on every call
(its own self-loop step is switched off): the same edge list in the same order, so the same
numbers to the last bit, at about two thirds of the time of a rollout step's forward pass.

    >>> import torch
    >>> enc = GATEncoder(in_dim=3)
    >>> x = torch.zeros(8, 4, 3)                     # B=8 copies of a 4-node network
    >>> ei = torch.tensor([[0, 0, 0], [1, 2, 3]])    # node 0 supplies 1, 2, 3
    >>> enc(x, ei).shape                              # (B, P * hidden[-1])
    torch.Size([8, 64])
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv
from torch_geometric.utils import add_self_loops, remove_self_loops

__all__ = ["GATEncoder", "StackedGATConv", "StackedGATEncoder", "batch_edge_index", "gat_edges"]


def batch_edge_index(edge_index: torch.Tensor, batch_size: int, num_nodes: int) -> torch.Tensor:
    """(2, E) edges of one graph -> (2, B * E) edges of B disjoint copies (block-diagonal batch)."""
    offsets = torch.arange(batch_size, device=edge_index.device, dtype=edge_index.dtype) * num_nodes
    return (edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)


def gat_edges(edge_index: torch.Tensor, batch_size: int, num_nodes: int,
              direction: Literal["supply", "both"] = "supply") -> torch.Tensor:
    """The edge list a ``GATConv`` layer works on for B copies of a graph: the batched edges (reversed
    ones added for ``direction="both"``), self loops dropped, then one self loop per node appended:
    what ``GATConv(add_self_loops=True)`` does on every call, in the same order."""
    ei = edge_index.long()
    if direction == "both":
        ei = torch.cat([ei, ei.flip(0)], dim=1)
    big, _ = remove_self_loops(batch_edge_index(ei, batch_size, num_nodes))
    big, _ = add_self_loops(big, num_nodes=batch_size * num_nodes)
    return big


class GATEncoder(nn.Module):
    """Stack of ``GATConv`` layers (default 3 x 16, the report's Appendix B) over B copies of a graph.

    Args:
        in_dim: Node feature size F.
        hidden: Output size of each GAT layer (per head; heads are averaged after the last layer
            and concatenated before it).
        heads: Attention heads per layer.
        activation: Module class applied after every layer (after the last one only when
            ``activate_last``, default True because the embedding feeds an MLP).
        pool: ``"flatten"`` (default): output (B, P * hidden[-1]), the node embeddings in node
            order; ``"mean"`` / ``"sum"``: (B, hidden[-1]) pooled over nodes; ``"none"``:
            (B, P, hidden[-1]).
        direction: ``"supply"`` (messages supplier -> customer, as given) or ``"both"``.

    ``forward(x, edge_index)``: ``x`` (B, P, F) float tensor, ``edge_index`` (2, E) long tensor
    of ONE graph (node ids in [0, P)); the same graph is used for all B copies.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (16, 16, 16),
        heads: int = 1,
        activation: type[nn.Module] = nn.ELU,
        activate_last: bool = True,
        pool: Literal["flatten", "mean", "sum", "none"] = "flatten",
        direction: Literal["supply", "both"] = "supply",
    ) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("hidden needs at least one layer size")
        if pool not in ("flatten", "mean", "sum", "none"):
            raise ValueError(f"pool must be flatten, mean, sum or none, got {pool!r}")
        if direction not in ("supply", "both"):
            raise ValueError(f"direction must be 'supply' or 'both', got {direction!r}")
        self.in_dim, self.hidden, self.heads = int(in_dim), tuple(int(h) for h in hidden), int(heads)
        self.pool, self.direction, self.activate_last = pool, direction, activate_last
        layers = []
        d = self.in_dim
        for k, h in enumerate(self.hidden):
            last = k == len(self.hidden) - 1
            layers.append(GATConv(d, h, heads=self.heads, concat=not last, add_self_loops=False))  # see _edges
            d = h if last else h * self.heads
        self.convs = nn.ModuleList(layers)
        self.act = activation()
        self._cache: tuple[int, int, int, torch.Tensor, torch.Tensor] | None = None

    @property
    def node_dim(self) -> int:
        """Size of one node's embedding (hidden[-1])."""
        return self.hidden[-1]

    def output_dim(self, num_nodes: int) -> int:
        """Size of the output per copy for a graph of ``num_nodes`` nodes."""
        return self.node_dim * num_nodes if self.pool == "flatten" else self.node_dim

    def _edges(self, edge_index: torch.Tensor, B: int, P: int) -> torch.Tensor:
        key = (B, P, edge_index.data_ptr())
        if self._cache is not None and self._cache[:3] == key and self._cache[3].device == edge_index.device:
            return self._cache[4]
        big = gat_edges(edge_index, B, P, self.direction)
        self._cache = (*key, edge_index, big)
        return big

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Embed B graphs in one pass; see the class doc for the output shape."""
        if x.dim() != 3:
            raise ValueError(f"x must be (B, P, F), got {tuple(x.shape)}")
        B, P, F = x.shape
        if F != self.in_dim:
            raise ValueError(f"x has {F} node features, the encoder was built for {self.in_dim}")
        h = x.reshape(B * P, F)
        ei = self._edges(edge_index, B, P)
        for k, conv in enumerate(self.convs):
            h = conv(h, ei)
            if k < len(self.convs) - 1 or self.activate_last:
                h = self.act(h)
        h = h.reshape(B, P, self.node_dim)
        if self.pool == "flatten":
            return h.reshape(B, P * self.node_dim)
        if self.pool == "mean":
            return h.mean(dim=1)
        if self.pool == "sum":
            return h.sum(dim=1)
        return h


class StackedGATConv(nn.Module):
    """K trials' ``GATConv`` layers as one: node features (K, M, F) -> (K, M, out), the same graph for all K.

    The computation of PyG's ``GATConv`` (self loops added, LeakyReLU(0.2) attention logits, softmax
    over each node's incoming edges, weighted sum of the transformed source features, bias), written
    with a leading trial axis (:mod:`baselines.common.stacked`) so that trial k's result does not
    depend on K. Parameters keep ``GATConv``'s names and order (att_src, att_dst, bias, lin.weight).
    """

    def __init__(self, convs: Sequence[GATConv]) -> None:
        super().__init__()
        from baselines.common.stacked import StackedLinear

        c0 = convs[0]
        if c0.lin is None or c0.res is not None or c0.lin_edge is not None or c0.bias is None:
            raise ValueError("StackedGATConv supports GATConv(in, out, heads, concat) with bias and no edge features")
        self.heads, self.out_channels, self.concat = c0.heads, c0.out_channels, c0.concat
        self.negative_slope = float(c0.negative_slope)
        self.att_src = nn.Parameter(torch.stack([c.att_src.detach() for c in convs]))  # (K, 1, H, C)
        self.att_dst = nn.Parameter(torch.stack([c.att_dst.detach() for c in convs]))
        self.bias = nn.Parameter(torch.stack([c.bias.detach() for c in convs]))  # (K, H*C or C)
        self.lin = StackedLinear.from_weights(torch.stack([c.lin.weight.detach() for c in convs]))

    def forward(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        """``x`` (K, M, F); ``src``/``dst`` (E,) edges of one graph including the self loops."""
        K, M, _ = x.shape
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(K, M, H, C)
        a_src = (h * self.att_src).sum(-1)  # (K, M, H)
        a_dst = (h * self.att_dst).sum(-1)
        logits = F.leaky_relu(a_src[:, src] + a_dst[:, dst], self.negative_slope)  # (K, E, H)
        idx = dst.view(1, -1, 1).expand(K, -1, H)
        top = logits.new_zeros(K, M, H).scatter_reduce(1, idx, logits.detach(), "amax", include_self=False)
        w = (logits - top[:, dst]).exp()
        total = w.new_zeros(K, M, H).index_add(1, dst, w) + 1e-16
        alpha = w / total[:, dst]
        out = h.new_zeros(K, M, H, C).index_add(1, dst, alpha.unsqueeze(-1) * h[:, src])
        out = out.reshape(K, M, H * C) if self.concat else out.mean(dim=2)
        return out + self.bias.unsqueeze(1)


class StackedGATEncoder(nn.Module):
    """K trials' :class:`GATEncoder` as one: ``x`` (K, B, P, F) -> (K, B, P * hidden[-1]) (or pooled).

    Built from K encoders (their initialisation is PyG's); trial k computes what the stacked encoder of
    trial k alone computes, bit for bit, for any K.
    """

    def __init__(self, encoders: Sequence[GATEncoder]) -> None:
        super().__init__()
        e0 = encoders[0]
        self.in_dim, self.hidden, self.heads = e0.in_dim, e0.hidden, e0.heads
        self.pool, self.direction, self.activate_last = e0.pool, e0.direction, e0.activate_last
        self.convs = nn.ModuleList(StackedGATConv([e.convs[k] for e in encoders]) for k in range(len(e0.convs)))
        self.act = copy.deepcopy(e0.act)
        self._cache: tuple[tuple[int, int, int, str], torch.Tensor, torch.Tensor] | None = None

    @property
    def node_dim(self) -> int:
        """Size of one node's embedding (hidden[-1])."""
        return self.hidden[-1]

    def output_dim(self, num_nodes: int) -> int:
        """Size of the output per copy for a graph of ``num_nodes`` nodes."""
        return self.node_dim * num_nodes if self.pool == "flatten" else self.node_dim

    def _edges(self, edge_index: torch.Tensor, B: int, P: int) -> tuple[torch.Tensor, torch.Tensor]:
        key = (B, P, edge_index.data_ptr(), str(edge_index.device))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        src, dst = gat_edges(edge_index, B, P, self.direction)
        self._cache = (key, src, dst)
        return src, dst

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Embed K x B graphs in one pass."""
        if x.dim() != 4:
            raise ValueError(f"x must be (K, B, P, F), got {tuple(x.shape)}")
        K, B, P, F_ = x.shape
        if F_ != self.in_dim:
            raise ValueError(f"x has {F_} node features, the encoder was built for {self.in_dim}")
        src, dst = self._edges(edge_index, B, P)
        h = x.reshape(K, B * P, F_)
        for k, conv in enumerate(self.convs):
            h = conv(h, src, dst)
            if k < len(self.convs) - 1 or self.activate_last:
                h = self.act(h)
        h = h.reshape(K, B, P, self.node_dim)
        if self.pool == "flatten":
            return h.reshape(K, B, P * self.node_dim)
        if self.pool == "mean":
            return h.mean(dim=2)
        if self.pool == "sum":
            return h.sum(dim=2)
        return h
