"""Single-agent Gymnasium environment ``MEIO-<id>-v0``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from meio_envs.core.params import CostVariation
from meio_envs.distributions import Distribution
from meio_envs.envs.batch import BatchedMEIO, SeedMode
from meio_envs.network import NetworkSpec
from meio_envs.registration import EpisodeLengthSpec, resolve_episode_length
from meio_envs.rendering import RENDER_MODES, check_render_mode, frame_of, render_frame
from meio_envs.validation import MAX_EPISODE_LENGTH, exact_int, seed_value

__all__ = ["MEIOEnv"]


class MEIOEnv(EpisodeLengthSpec, gym.Env[np.ndarray, np.ndarray]):
    """Multi-echelon inventory network controlled by one agent.

    ## Description
    A network of stock points (retailers face random demand; upstream stock points replenish
    them; the most upstream ones order from an unlimited external supplier). Every period:
    shipments arrive, each stock point ships backorders then last period's orders (customers with
    the lowest inventory position first), then every stock point orders (docs/environments.md, the period).

    ## Action Space
    ``Box(-1, 1, (P,), float32)``: one order per stock point in node order
    (``env.unwrapped.node_names``), mapped to ``round((a + 1) / 2 * max_order)`` units. Values
    outside [-1, 1] are clipped; NaN/inf, a wrong shape or a non-numeric dtype raise an error.

    ## Observation Space
    ``Box(-1, 1, (P,), float32)``: inventory position of each stock point clipped to
    ``[ip_low, base_stock + margin]`` and scaled linearly to [-1, 1]. Level-5 scenarios append the
    episode's holding and backorder cost factors scaled from [0.5, 1.5] to [-1, 1].

    | echelon | ip_low | margin | max_order | holding | backorder |
    |---|---|---|---|---|---|
    | 1 (retailer) | -100 | 50 | 50 | 1.0 | 19 |
    | 2 | -300 | 150 | 150 | 0.6 | 0 |
    | 3 | -1000 | 500 | 500 | 0.4 | 0 |

    ## Reward
    ``-reward_scale * cost`` with ``reward_scale = 1/1000``; cost = holding on hand after
    fulfilment + backorder cost on units owed to the market + ordering costs (zero in the grid)
    + the lost-sales penalty (zero without lost sales, docs/options.md).
    ``info["cost"]`` has the unscaled cost and ``holding_cost``, ``backorder_cost``,
    ``ordering_cost``, ``lost_sales_cost`` its parts; ``lost_units`` counts the units lost. Reset and step infos have the same flat keys
    (:data:`~meio_envs.envs.batch.INFO_KEYS`), NumPy scalars and arrays; the costs are 0 at reset.

    ## Starting State
    On-hand stock at every stock point = its base-stock level (the DA heuristic's unless given);
    nothing in transit, on order or owed.

    ## Episode End
    Never terminates; truncated after ``episode_length`` (128) periods. ``env.spec.max_episode_steps``
    is the episode length, and ``gym.make(id, max_episode_steps=N)`` sets it to N.

    ## Rendering
    ``render_mode="ansi"``: ``render()`` returns a text table of the current period per stock point
    (on hand, in transit, backorders, last order, last period's cost). ``"rgb_array"``: an
    ``(480, 640, 3)`` uint8 image of the network. None (default): ``render()`` returns None.

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | ``scenario`` | set by the id | grid id, e.g. ``"B4"`` |
    | ``network`` | None | your own network: NetworkSpec, dict, or YAML/JSON path (overrides scenario) |
    | ``episode_length`` | 128 | periods per episode (``max_episode_steps`` is an alias) |
    | ``render_mode`` | None | ``"ansi"`` or ``"rgb_array"`` |
    | ``base_stock`` | DA levels | initial on-hand and observation bounds |
    | ``demand_profiles`` / ``lead_time_profiles`` | built-in | distributions per node index (levels 2, 4, 5) |
    | ``cost_variation`` | "auto" | level-5 cost factors; None switches them off |
    | ``seed_mode`` | "advance" | ``"repeat"``: every unseeded reset replays the same episode |
    | ``reward_scale`` | 0.001 | reward = -reward_scale * cost |

    ## Version History
    v0: first release.

    >>> import gymnasium as gym, meio_envs
    >>> env = gym.make("MEIO-A1-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (4,)
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        scenario: str | None = None,
        *,
        network: NetworkSpec | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        episode_length: int | None = None,
        base_stock: Sequence[int] | np.ndarray | None = None,
        demand_profiles: Sequence[Distribution] | None = None,
        lead_time_profiles: Sequence[Distribution] | None = None,
        cost_variation: CostVariation | Literal["auto"] | None = "auto",
        seed_mode: SeedMode = "advance",
        reward_scale: float = 1e-3,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        observe_phase: bool = False,
    ) -> None:
        self.render_mode = check_render_mode(render_mode)
        episode_length = resolve_episode_length(episode_length, max_episode_steps, 128)
        self.core = BatchedMEIO(
            scenario, num_envs=1, network=network, episode_length=episode_length, base_stock=base_stock,
            demand_profiles=demand_profiles, lead_time_profiles=lead_time_profiles,
            cost_variation=cost_variation, seed_mode=seed_mode, reward_scale=reward_scale,
            observe_phase=observe_phase,
        )
        P = self.core.num_nodes
        self.action_space = gym.spaces.Box(-1.0, 1.0, (P,), np.float32)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (self.core.obs_dim,), np.float32)
        self.node_names = self.core.params.network.names
        self._last_orders: np.ndarray | None = None  # for render(): None until the first step
        self._last_costs: np.ndarray | None = None

    def _episode_length(self) -> int:
        return self.core.episode_length

    def _set_episode_length(self, n: int) -> None:
        self.core.episode_length = exact_int("max_episode_steps", n, 1, MAX_EPISODE_LENGTH)

    @property
    def params(self):  # noqa: ANN201
        """The :class:`~meio_envs.core.params.SimParams` of this env."""
        return self.core.params

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``seed`` fixes the random stream (see :meth:`BatchedMEIO.reset`)."""
        if seed is not None:
            seed_value("seed", seed)  # before Gymnasium's own seeding, which fails less clearly
        super().reset(seed=seed)
        self.core.reset(seed)
        self._last_orders = self._last_costs = None
        ip = self.core.inventory_position()
        return self.core.observe(ip)[0], self.core.info_one(None, ip)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Place the period's orders; returns the period's reward (-cost/1000)."""
        core = self.core
        if core.state.period[0] >= core.episode_length:
            raise RuntimeError("episode is over (truncated); call reset() before step()")
        a = np.asarray(action)
        orders = core.actions_to_orders(a[None] if a.ndim else a)
        costs, ip = core.advance(orders)
        self._last_orders = orders[0]
        return self._result(costs, ip)

    def step_orders(self, orders: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Like :meth:`step` but with integer orders in units (clipped to [0, max_order])."""
        q = np.asarray(orders)
        if q.shape != (self.core.num_nodes,):
            raise ValueError(f"orders: expected shape ({self.core.num_nodes},), got {q.shape}")
        costs = self.core.step_orders(q[None])
        self._last_orders = np.clip(q.astype(np.int64), 0, self.core.params.max_order)
        return self._result(costs, self.core.inventory_position())

    def _result(self, costs: Any, ip: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        core = self.core
        info = core.info_one(costs, ip)
        self._last_costs = info["node_costs"]
        truncated = bool(core.state.period[0] >= core.episode_length)
        return core.observe(ip)[0], float(-core.reward_scale * info["cost"]), False, truncated, info

    def render(self) -> str | np.ndarray | None:
        """The current period in ``render_mode``: a text table (``"ansi"``), an image (``"rgb_array"``) or None."""
        if self.render_mode is None:
            return None
        return render_frame(self.render_mode, frame_of(self.core, 0, self._last_orders, self._last_costs))
