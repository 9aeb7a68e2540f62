"""Multi-agent interface on the batched core: B copies x P agents as arrays (for MAPPO / IMARL).

One agent per stock point; agent i sets the order of node i with an action in [-1, 1]. Two views
(docs/multi_agent.md) differ only in what an agent observes and whose costs it is charged:

| view | agent i observes (scaled IPs) | agent i is charged |
|---|---|---|
| ``"marl"`` | its own | retailer: its own cost; others: the network cost |
| ``"imarl"`` | its own, then every node downstream of it | its own + downstream costs |

At level 5 every agent also observes the two episode cost factors (last two entries).

Both views are index tables over the joint observation :meth:`BatchedMEIO.observe` (``obs_index``)
and a (P, P) 0/1 matrix over the per-node costs (``reward_matrix``), so a step costs one core step,
one matrix product and P array slices::

    ma = BatchedMultiAgent("B4", view="imarl", num_envs=1024)
    obs = ma.reset(seed=0)                       # list of P arrays (B, obs_dims[i])
    obs, rewards, truncated, info = ma.step(actions)   # actions (B, P); rewards (B, P)

:func:`graph_inputs` builds the node features and ``edge_index`` a graph network (PyTorch
Geometric) needs; the PettingZoo env and the baselines share it.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from meio_envs.envs.batch import BatchedMEIO

__all__ = ["GRAPH_FEATURES", "VIEWS", "BatchedMultiAgent", "graph_inputs", "view_tables"]

View = Literal["marl", "imarl"]
VIEWS: tuple[str, ...] = ("marl", "imarl")
GRAPH_FEATURES: tuple[str, ...] = ("scaled_ip", "echelon", "is_retailer")
"""Node feature columns of :func:`graph_inputs`; level 5 appends the two cost factors."""


def view_tables(core: BatchedMEIO, view: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Per-agent observation indices into ``core.observe()`` and the (P, P) reward matrix of a view.

    Column i of the reward matrix marks the nodes whose costs agent i is charged, so
    ``rewards = -core.reward_scale * node_costs @ reward_matrix``.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    net = core.params.network
    P = core.num_nodes
    extra = list(range(P, core.obs_dim))  # cost-factor columns (level 5), empty otherwise
    is_ret = core.params.is_retailer
    R = np.zeros((P, P), dtype=np.float64)
    index = []
    for i in range(P):
        if view == "marl":
            nodes = [i]
            if is_ret[i]:
                R[i, i] = 1.0
            else:
                R[:, i] = 1.0
        else:
            nodes = [i, *net.downstream[i]]  # downstream nodes come after i in node order
            R[nodes, i] = 1.0
        index.append(np.asarray(nodes + extra, dtype=np.int64))
    return tuple(index), R


def graph_inputs(
    core: BatchedMEIO, joint_obs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Node features and supply edges of the network for a graph network (PyTorch Geometric).

    Args:
        core: The batched env.
        joint_obs: (B, obs_dim) joint observations (``core.observe()``); computed from the
            current state when omitted. A 1-D ``(obs_dim,)`` observation is treated as B = 1.

    Returns:
        ``node_features`` (B, P, F) float32 with columns :data:`GRAPH_FEATURES`:
        the node's scaled IP in [-1, 1]; its echelon scaled to [-1, 1] (-1 = retailers,
        +1 = the most upstream echelon; 0 when the network has one echelon); 1.0 for retailers,
        0.0 otherwise; at level 5 two more columns, the episode's holding and backorder cost
        factors scaled to [-1, 1] (the same for every node). ``edge_index`` (2, E) int64, row 0
        the supplier and row 1 the customer of each internal supply edge (``params.edges.T``),
        ready for ``torch.as_tensor(edge_index)``.
    """
    obs = core.observe() if joint_obs is None else np.asarray(joint_obs, dtype=np.float32)
    if obs.ndim == 1:
        obs = obs[None]
    P = core.num_nodes
    if obs.ndim != 2 or obs.shape[1] != core.obs_dim:
        raise ValueError(f"joint_obs: expected shape (B, {core.obs_dim}), got {obs.shape}")
    B = obs.shape[0]
    ech = core.params.network.echelons.astype(np.float32)
    top = float(ech.max())
    ech_scaled = 2.0 * (ech - 1.0) / (top - 1.0) - 1.0 if top > 1 else np.zeros(P, np.float32)
    n_extra = core.obs_dim - P
    feats = np.empty((B, P, 3 + n_extra), dtype=np.float32)
    feats[:, :, 0] = obs[:, :P]
    feats[:, :, 1] = ech_scaled
    feats[:, :, 2] = core.params.is_retailer
    if n_extra:
        feats[:, :, 3:] = obs[:, None, P:]
    edge_index = np.ascontiguousarray(core.params.edges.T, dtype=np.int64)
    return feats, edge_index


class BatchedMultiAgent:
    """B copies of a network with one agent per stock point, as arrays (no per-copy objects).

    Args:
        scenario: Grid id (e.g. ``"B4"``); ignored when ``network=`` or ``core=`` is given.
        view: ``"marl"`` or ``"imarl"`` (see the module docstring).
        num_envs: B, the number of copies.
        core: An existing :class:`BatchedMEIO` to wrap (then ``scenario`` and other keyword
            arguments must be left out).
        **batched_meio_kwargs: Forwarded to :class:`BatchedMEIO` (``network=``,
            ``episode_length=``, ``base_stock=``, ``reward_scale=``, ...).

    Episodes end by truncation only (``truncated`` after ``episode_length`` periods); ``step`` never
    resets: call :meth:`reset` when ``truncated.all()``.
    """

    def __init__(
        self,
        scenario: str | None = None,
        *,
        view: View = "marl",
        num_envs: int = 1,
        core: BatchedMEIO | None = None,
        **batched_meio_kwargs: Any,
    ) -> None:
        if core is None:
            core = BatchedMEIO(scenario, num_envs=num_envs, **batched_meio_kwargs)
        else:
            if not isinstance(core, BatchedMEIO):
                raise TypeError(f"core must be a BatchedMEIO, got {type(core).__name__}")
            if scenario is not None or batched_meio_kwargs:
                raise TypeError("give either core= or scenario/BatchedMEIO keywords, not both")
            if num_envs not in (1, core.num_envs):
                raise ValueError(f"num_envs={num_envs} but core has {core.num_envs} copies")
        self.core: BatchedMEIO = core
        self.view: str = view
        self.agents: tuple[str, ...] = tuple(core.params.network.names)
        self.num_agents: int = core.num_nodes
        self.obs_index, self.reward_matrix = view_tables(core, view)
        self.obs_dims: tuple[int, ...] = tuple(len(ix) for ix in self.obs_index)
        # Contiguous index runs become slices (views, no gather); others stay fancy indices.
        self._take = tuple(
            slice(int(ix[0]), int(ix[-1]) + 1)
            if np.array_equal(ix, np.arange(ix[0], ix[-1] + 1))
            else ix
            for ix in self.obs_index
        )
        P = self.num_agents
        charged = [np.nonzero(self.reward_matrix[:, i])[0] for i in range(P)]
        self._charged: tuple[int | slice | np.ndarray, ...] = tuple(
            int(c[0]) if c.size == 1 else slice(None) if c.size == P else c for c in charged
        )

    @property
    def num_envs(self) -> int:
        """B."""
        return self.core.num_envs

    @property
    def state_dim(self) -> int:
        """Length of :meth:`global_state` (P scaled IPs, + 2 cost factors at level 5)."""
        return self.core.obs_dim

    def agent_obs(self, joint_obs: np.ndarray) -> list[np.ndarray]:
        """Slice joint observations (B, state_dim) into per-agent observations (B, obs_dims[i]).

        Agents whose indices form a contiguous run get a view of ``joint_obs``, the others a copy.
        """
        j = np.asarray(joint_obs)
        if j.ndim != 2 or j.shape[1] != self.core.obs_dim:
            raise ValueError(f"joint_obs: expected shape (B, {self.core.obs_dim}), got {j.shape}")
        return [j[:, t] for t in self._take]

    def reset(self, seed: int | None = None) -> list[np.ndarray]:
        """Reset every copy (copy i keyed by ``seed + i``); returns per-agent observations."""
        self.core.reset(seed)
        return self.agent_obs(self.core.observe())

    def step(
        self, actions: np.ndarray
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every copy one period.

        Args:
            actions: (B, P) orders in [-1, 1], column i from agent i (clipped; NaN/inf, a wrong
                shape or dtype raise).

        Returns:
            ``(obs, rewards, truncated, info)``: per-agent observations; rewards (B, P) float64
            ``= -reward_scale * node_costs @ reward_matrix`` (summed per agent, so copy b's
            rewards do not depend on B); truncated (B,) bool; info dict of
            (B, ...) arrays with ``cost`` (B,), ``node_costs`` (B, P) (unscaled), the raw
            ``inventory_position`` and the other :meth:`BatchedMEIO.info` entries.
        """
        orders = self.core.actions_to_orders(actions)
        if self.core.truncated().any():
            raise RuntimeError("episode is over (truncated); call reset() before step()")
        costs, ip = self.core.advance(orders)
        info = self.core.info(costs, ip)
        rewards = self._rewards(info["node_costs"])
        return self.agent_obs(self.core.observe(ip)), rewards, self.core.truncated(), info

    def _rewards(self, node_costs: np.ndarray) -> np.ndarray:
        # Row-wise sums over each agent's charged nodes rather than one matrix product: the result
        # of copy b then does not depend on B (BLAS may sum in another order for another batch
        # size), and an agent charged the network cost gets exactly -reward_scale * info["cost"].
        out = np.empty(node_costs.shape, dtype=np.float64)
        for i, take in enumerate(self._charged):
            if isinstance(take, int):
                out[:, i] = node_costs[:, take]
            else:
                out[:, i] = node_costs[:, take].sum(axis=1)
        out *= -self.core.reward_scale
        return out

    def global_state(self) -> np.ndarray:
        """(B, state_dim) float32 joint observation for centralised critics (a fresh copy)."""
        return self.core.observe()

    def graph(self) -> tuple[np.ndarray, np.ndarray]:
        """Node features (B, P, F) and edge_index (2, E) of the current state.

        See :func:`graph_inputs` for the feature columns.
        """
        return graph_inputs(self.core)
