"""PettingZoo env ``meio_v0``: one agent per stock point (``parallel_env("B4")``, AEC: ``env("B4")``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from meio_envs.envs.batched_ma import GRAPH_FEATURES, BatchedMultiAgent, View, graph_inputs
from meio_envs.registration import resolve_episode_length
from meio_envs.rendering import RENDER_MODES, check_render_mode, frame_of, render_frame
from meio_envs.validation import MAX_EPISODE_LENGTH, exact_int

__all__ = ["AGENT_INFO_KEYS", "MEIOParallelEnv", "env", "parallel_env", "raw_env"]

AGENT_INFO_KEYS: tuple[str, ...] = ("cost", "node_cost", "charged_cost", "inventory_position", "period")
"""Per-agent info keys, at reset (costs 0) and at every step."""


class MEIOParallelEnv(ParallelEnv):
    """Multi-echelon inventory network with one agent per stock point (PettingZoo parallel API).

    ## Description
    The network and period of :class:`~meio_envs.envs.single.MEIOEnv` (docs/environments.md, the period); instead of
    one agent setting every order, agent ``name`` sets the order of stock point ``name``. A thin
    view of :class:`~meio_envs.envs.batched_ma.BatchedMultiAgent` with one copy, so the same
    seed and the same joint actions give exactly the costs of the single env.

    ## Agents
    ``possible_agents`` = stock point names in node order (upstream to downstream, e.g.
    ``W1, W2, W3, R1, ..., R6`` for B). All agents act every period.

    ## Action Space
    ``Box(-1, 1, (1,), float32)`` per agent, mapped to ``round((a + 1) / 2 * max_order)`` units.
    Values outside [-1, 1] are clipped; a missing or unknown agent, NaN/inf, a wrong shape or a
    non-numeric dtype raise an error naming the agent.

    ## Observation Space
    ``Box(-1, 1, (obs_dim,), float32)`` per agent (scaled inventory positions, see MEIOEnv):

    | view | agent i observes (IPs) | reward of agent i |
    |---|---|---|
    | ``"marl"`` | its own | retailers: -own cost/1000; others: -network cost/1000 |
    | ``"imarl"`` | its own, then all downstream nodes | -(own + downstream costs)/1000 |

    Level-5 scenarios append the episode's two cost factors to every agent's observation.
    ``state()`` (``state_space``) is the joint observation: all P scaled IPs (+ cost factors).
    ``graph()`` returns ``(node_features (P, F) float32, edge_index (2, E) int64)`` for graph
    networks; features are :data:`~meio_envs.envs.batched_ma.GRAPH_FEATURES`.

    ## Infos
    Per agent (:data:`AGENT_INFO_KEYS`, NumPy scalars, the same keys at reset with costs 0):
    ``cost`` (network cost of the period, unscaled), ``node_cost`` (the agent's own),
    ``charged_cost`` (what its reward is based on), ``inventory_position`` (raw), ``period``.

    ## Episode End
    Never terminates; every agent is truncated after ``episode_length`` (128) periods and
    ``agents`` is then empty until ``reset``. ``max_cycles`` (PettingZoo's name) is an alias.

    ## Rendering
    ``render_mode="ansi"`` or ``"rgb_array"``, as :class:`~meio_envs.envs.single.MEIOEnv`.

    ## Arguments
    ``scenario``, ``view`` (``"marl"`` | ``"imarl"``), ``render_mode``, ``max_cycles`` and any
    :class:`MEIOEnv` keyword (``network=``, ``episode_length=``, ``base_stock=``, ``reward_scale=``, ...).

    ## Version History
    v0: first release.

    >>> from meio_envs import parallel_env
    >>> env = parallel_env("A1", view="imarl")
    >>> obs, infos = env.reset(seed=0)
    >>> env.agents, obs["W1"].shape
    (['W1', 'R1', 'R2', 'R3'], (4,))
    """

    metadata = {  # noqa: RUF012
        "name": "meio_v0", "render_modes": list(RENDER_MODES), "render_fps": 4, "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: str | None = None,
        *,
        view: View = "marl",
        render_mode: str | None = None,
        max_cycles: int | None = None,
        **kwargs: Any,
    ) -> None:
        if "num_envs" in kwargs or "core" in kwargs:
            raise TypeError("MEIOParallelEnv is one copy; use BatchedMultiAgent for num_envs/core")
        self.render_mode = check_render_mode(render_mode)
        kwargs["episode_length"] = resolve_episode_length(kwargs.get("episode_length"), max_cycles, 128)
        self.ma = BatchedMultiAgent(scenario, view=view, num_envs=1, **kwargs)
        self.core = self.ma.core
        self.view = view
        self.possible_agents: list[str] = list(self.ma.agents)
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.observation_spaces = {
            a: spaces.Box(-1.0, 1.0, (d,), np.float32)
            for a, d in zip(self.possible_agents, self.ma.obs_dims)
        }
        self.action_spaces = {
            a: spaces.Box(-1.0, 1.0, (1,), np.float32) for a in self.possible_agents
        }
        self.state_space = spaces.Box(-1.0, 1.0, (self.core.obs_dim,), np.float32)
        self.graph_features = GRAPH_FEATURES
        self._charged = [np.nonzero(col)[0] for col in self.ma.reward_matrix.T]
        self._last_orders: np.ndarray | None = None  # for render(): None until the first step
        self._last_costs: np.ndarray | None = None

    @property
    def max_cycles(self) -> int:
        """Periods per episode (PettingZoo's name for the episode length; settable, as
        ``pettingzoo.test.parallel_api_test`` sets it)."""
        return self.core.episode_length

    @max_cycles.setter
    def max_cycles(self, n: int) -> None:
        self.core.episode_length = exact_int("max_cycles", n, 1, MAX_EPISODE_LENGTH)

    def observation_space(self, agent: str) -> spaces.Box:
        """The agent's observation space (the same object on every call)."""
        return self.observation_spaces[self._check_agent(agent)]

    def action_space(self, agent: str) -> spaces.Box:
        """The agent's action space (the same object on every call)."""
        return self.action_spaces[self._check_agent(agent)]

    def _check_agent(self, agent: str) -> str:
        if agent not in self._index:
            raise KeyError(f"unknown agent {agent!r}; agents are {self.possible_agents}")
        return agent

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; ``seed`` fixes the random stream (as ``MEIOEnv.reset``)."""
        obs = self.ma.reset(seed)
        self.agents = list(self.possible_agents)
        self._last_orders = self._last_costs = None
        ip = self.core.inventory_position()[0]
        zero, period = np.float64(0.0), self.core.state.period[0]
        infos = {
            a: {"cost": zero, "node_cost": zero, "charged_cost": zero, "inventory_position": ip[i],
                "period": period}
            for i, a in enumerate(self.possible_agents)
        }
        return {a: o[0] for a, o in zip(self.possible_agents, obs)}, infos

    def step(self, actions: dict[str, Any]) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Every agent orders; returns ``(obs, rewards, terminations, truncations, infos)``."""
        if not self.agents:
            raise RuntimeError("episode is over (agents truncated) or not started; call reset()")
        joint = self._joint_action(actions)
        obs, rewards, truncated, info = self.ma.step(joint)
        trunc = bool(truncated[0])
        node_costs = info["node_costs"][0]
        self._last_orders = self.core.actions_to_orders(joint)[0]  # the same conversion ma.step made
        self._last_costs = node_costs
        cost = info["cost"][0]
        ip = info["inventory_position"][0]
        period = info["period"][0]
        agents = self.possible_agents
        out_obs = {a: o[0] for a, o in zip(agents, obs)}
        out_rew = {a: float(rewards[0, i]) for i, a in enumerate(agents)}
        infos = {
            a: {
                "cost": cost,
                "node_cost": node_costs[i],
                "charged_cost": node_costs[self._charged[i]].sum(),
                "inventory_position": ip[i],
                "period": period,
            }
            for i, a in enumerate(agents)
        }
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, trunc)
        if trunc:
            self.agents = []
        return out_obs, out_rew, terminations, truncations, infos

    def _joint_action(self, actions: dict[str, Any]) -> np.ndarray:
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict agent -> action, got {type(actions).__name__}")
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in self._index or a not in self.agents]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing actions for agents {missing}")
            if extra:
                parts.append(f"actions for unknown or inactive agents {extra}")
            raise ValueError("; ".join(parts) + f" (agents: {self.agents})")
        joint = np.empty((1, len(self.possible_agents)), dtype=np.float64)
        for a, act in actions.items():
            arr = np.asarray(act)
            if arr.dtype.kind not in "fiu":
                raise TypeError(
                    f"action of agent {a!r}: expected a real number, got dtype {arr.dtype}"
                )
            if arr.shape not in ((1,), ()):
                raise ValueError(f"action of agent {a!r}: expected shape (1,), got {arr.shape}")
            v = float(arr.reshape(()))
            if not np.isfinite(v):
                raise ValueError(
                    f"action of agent {a!r} is {v}; actions must be finite numbers in [-1, 1]"
                )
            joint[0, self._index[a]] = v
        return joint

    def state(self) -> np.ndarray:
        """(state_dim,) float32 joint observation: all scaled IPs (+ cost factors at level 5)."""
        return self.ma.global_state()[0]

    def graph(self) -> tuple[np.ndarray, np.ndarray]:
        """``(node_features (P, F) float32, edge_index (2, E) int64)`` of the current state.

        Edges point supplier -> customer; ``torch_geometric.data.Data(x=torch.as_tensor(x),
        edge_index=torch.as_tensor(edge_index))`` accepts them directly.
        """
        x, edge_index = graph_inputs(self.core)
        return x[0], edge_index

    def render(self) -> str | np.ndarray | None:
        """The current period in ``render_mode``: a text table (``"ansi"``), an image (``"rgb_array"``) or None."""
        if self.render_mode is None:
            return None
        return render_frame(self.render_mode, frame_of(self.core, 0, self._last_orders, self._last_costs))

    def close(self) -> None:
        """Nothing to release."""
        return None


def parallel_env(
    scenario: str | None = "B4", view: View = "marl", **kwargs: Any
) -> MEIOParallelEnv:
    """The PettingZoo parallel env for a grid scenario (or ``network=`` for your own network).

    Keywords: ``render_mode``, ``max_cycles`` and those of :class:`MEIOParallelEnv`.
    """
    return MEIOParallelEnv(scenario, view=view, **kwargs)


raw_env = parallel_env
"""PettingZoo's name for the unwrapped constructor (here the parallel env itself)."""


def env(scenario: str | None = "B4", view: View = "marl", **kwargs: Any) -> AECEnv:
    """The AEC form (``pettingzoo.utils.parallel_to_aec``): agents act in turn, one period per cycle."""
    return parallel_to_aec(parallel_env(scenario, view=view, **kwargs))
