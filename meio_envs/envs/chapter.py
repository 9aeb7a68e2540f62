"""The book chapter's divergent 2-layer system (docs/chapter_env.md): ``MEIO-Chapter2L-v0``.

A factory with unlimited supply (the external supplier) feeds the middle warehouse ``M1``, which
feeds the leaf warehouses ``L1`` and ``L2``; the leaves face rounded, non-negative normal demand.
The period, the allocation and the cost accounting are those of the shared batched core
(:mod:`meio_envs.core.dynamics`); this module only fixes the numbers (:class:`ChapterParams`),
turns on the core's open-order tracker and provides the chapter's observation and its discrete
13-way action. Every number is documented in ``docs/chapter_env.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from meio_envs.core import open_orders
from meio_envs.core.dynamics import PeriodCosts
from meio_envs.core.params import SimParams
from meio_envs.distributions import Distribution, RoundedNormal, UniformInt
from meio_envs.envs.batch import BatchedMEIO, SeedMode
from meio_envs.evaluation import EVAL_SEED, EvalResult
from meio_envs.network import NetworkSpec, StockPoint
from meio_envs.registration import EpisodeLengthSpec, resolve_episode_length
from meio_envs.rendering import RENDER_MODES, check_render_mode, frame_of, render_frame
from meio_envs.scaling import action_to_orders, check_action
from meio_envs.validation import MAX_EPISODE_LENGTH, exact_int

__all__ = [
    "ACTION_TABLE",
    "WAREHOUSES",
    "ChapterBatch",
    "ChapterEnv",
    "ChapterParams",
    "chapter_network",
    "evaluate_chapter",
]

WAREHOUSES = ("M1", "L1", "L2")  # node order of every array (upstream first)
SIZE_NAMES = ("S", "M", "L", "XL")
ActionType = Literal["discrete", "continuous"]
ChapterPolicy = Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]

# Discrete action a -> (warehouse index, size index); a = 0: nobody orders.
ACTION_TABLE: tuple[tuple[int, int] | None, ...] = (None,) + tuple((w, s) for w in range(3) for s in range(4))


@dataclass(frozen=True)
class ChapterParams:
    """Every number the chapter leaves open, in one place (per-warehouse tuples are in order M1, L1, L2).

    One period is one week; an episode is one year. Costs are in CHF-like money units.
    """

    price: tuple[float, float, float] = (80.0, 100.0, 100.0)
    """Value of one unit at each warehouse (``ppp_i``). The leaves' units carry the transport and
    handling added after the middle warehouse, hence the higher value; holding and shortage costs
    are proportional to it."""

    k_holding: float = 0.005
    """Holding cost per unit-period as a fraction of price: 0.5 % per week, about 26 % a year, a
    usual carrying-cost rate (capital, storage, obsolescence)."""

    k_shortage: float = 0.1
    """Shortage cost per unit backlogged per period at the leaves, as a fraction of price (20 times
    the holding rate: a newsvendor fractile of 20/21 = 95 %, a plausible target for hospitals and
    wholesalers). The middle warehouse has no shortage cost (the chapter's assumption)."""

    fixed_order_cost: tuple[float, float, float] = (150.0, 50.0, 50.0)
    """Fixed part of the reordering cost, charged in every period with a positive order. Higher at
    the middle warehouse (a factory shipment) than at the leaves (a local delivery), so that the
    economic order quantity (EOQ) covers about 4.5-7 weeks of demand everywhere: ordering every
    period is clearly wrong, and with one order per period allowed the three warehouses can take
    turns."""

    unit_order_cost: tuple[float, float, float] = (0.8, 1.0, 1.0)
    """Proportional part of the reordering cost per unit: 1 % of the unit price (order handling).
    With backlogging every demanded unit is eventually ordered, so this part mostly adds a
    policy-independent amount; it is kept because the chapter's reorder cost has it."""

    demand: tuple[Distribution, Distribution] = (RoundedNormal(10.0, 3.0), RoundedNormal(6.0, 2.5))
    """Weekly demand at L1 and L2: ``max(0, round(N(mu, sigma)))``. Two unequal leaves (a large and
    a small customer region, coefficients of variation 0.3 and 0.42) so that the allocation and the
    single-order-per-period constraint matter."""

    lead_time: tuple[Distribution, Distribution, Distribution] = (
        UniformInt(2, 4), UniformInt(1, 2), UniformInt(1, 2),
    )
    """Shipment lead times in periods: factory -> M1 U{2..4} (production and long-haul transport),
    M1 -> leaves U{1..2}. Drawn per shipment. An order to M1 is shipped in the period after it is
    placed (docs/environments.md, the period), so a leaf waits 2-3 periods for an order M1 can fill."""

    order_sizes: tuple[tuple[int, int, int, int], ...] = ((16, 32, 64, 96), (10, 20, 40, 60), (6, 12, 24, 36))
    """The S / M / L / XL order quantities of each warehouse: 1, 2, 4 and 6 weeks of its mean
    demand (M1's demand is the leaves' total, 16 per week). The EOQs ``sqrt(2 K D / h)`` (about
    110, 45 and 35 units) lie near XL (M1's slightly above it), and S / M allow small top-ups after
    a shortage. XL is also the continuous action's largest order."""

    initial_stock: tuple[int, int, int] = (80, 40, 24)
    """On-hand stock at the start of an episode (nothing in transit or on order): about 5 weeks
    of demand at M1 and 4 weeks at the leaves, so the first weeks are neither a stock-out nor a
    glut."""

    episode_length: int = 52
    """Periods per episode: one year of weeks (the chapter reports annual costs). The evaluation
    scores the whole episode."""

    reward_scale: float = 100.0
    """Reward = -cost / reward_scale. A period costs roughly 100-200 under a reasonable policy,
    so rewards are of order -1, a range A2C's value head learns easily."""

    max_age: int = 12
    """Age (periods) mapped to +1 in the observation; older orders are clipped there."""

    def __post_init__(self) -> None:
        if self.k_holding < 0 or self.k_shortage < 0 or self.reward_scale <= 0 or self.episode_length < 1:
            raise ValueError("ChapterParams: need k_holding, k_shortage >= 0, reward_scale > 0, episode_length >= 1")
        if len(self.order_sizes) != 3 or any(len(s) != 4 or min(s) < 1 or list(s) != sorted(s)
                                             for s in self.order_sizes):
            raise ValueError("ChapterParams.order_sizes: three increasing (S, M, L, XL) tuples of positive ints")
        if self.max_age < 1:
            raise ValueError("ChapterParams.max_age must be >= 1")

    @property
    def xl(self) -> np.ndarray:
        """(3,) the largest order size of each warehouse (= continuous max order)."""
        return np.asarray([s[-1] for s in self.order_sizes], dtype=np.int64)

    @property
    def sizes(self) -> np.ndarray:
        """(3, 4) order sizes."""
        return np.asarray(self.order_sizes, dtype=np.int64)


def chapter_network(cp: ChapterParams | None = None) -> NetworkSpec:
    """The 3-stock-point network M1 -> {L1, L2} with the chapter's costs as StockPoint fields."""
    cp = ChapterParams() if cp is None else cp
    sps = []
    for i, name in enumerate(WAREHOUSES):
        leaf = i > 0
        sps.append(StockPoint(
            name=name,
            suppliers=("M1",) if leaf else ("external",),
            holding=cp.k_holding * cp.price[i],
            backorder=cp.k_shortage * cp.price[i] if leaf else 0.0,
            max_order=int(cp.order_sizes[i][-1]),
            ip_bounds=(-2.0 * cp.order_sizes[i][-1], 2.0 * cp.order_sizes[i][-1]),
            lead_time=cp.lead_time[i],
            demand=cp.demand[i - 1] if leaf else None,
            order_fixed_cost=cp.fixed_order_cost[i],
            order_unit_cost=cp.unit_order_cost[i],
            base_stock=int(cp.initial_stock[i]),
        ))
    net = NetworkSpec(tuple(sps), name="Chapter2L")
    if net.names != WAREHOUSES:  # pragma: no cover - guards the node-order convention
        raise AssertionError(f"unexpected node order {net.names}")
    return net


class ChapterBatch:
    """B copies of the chapter system on the shared core, with the chapter's observation and actions."""

    def __init__(self, params: ChapterParams | None = None, num_envs: int = 1, seed_mode: SeedMode = "advance",
                 episode_length: int | None = None) -> None:
        self.cp = ChapterParams() if params is None else params
        net = chapter_network(self.cp)
        sim = SimParams.from_network(net, base_stock=np.asarray(self.cp.initial_stock))
        self.core = BatchedMEIO(
            params=sim, num_envs=num_envs, reward_scale=1.0 / self.cp.reward_scale, seed_mode=seed_mode,
            episode_length=self.cp.episode_length if episode_length is None else episode_length,
            track_open_orders=True,
        )
        self.num_envs = self.core.num_envs
        self.sizes = self.cp.sizes
        self.xl = self.cp.xl
        U = self.xl.astype(np.float64)
        # Observation bounds per warehouse (rows: net inventory, oldest open qty, age, total open).
        self.obs_low = np.stack([-2 * U, np.zeros(3), np.zeros(3), np.zeros(3)], axis=1)
        self.obs_high = np.stack([3 * U, U, np.full(3, float(self.cp.max_age)), 3 * U], axis=1)

    # -- state -------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, mask: np.ndarray | None = None) -> None:
        """See :meth:`BatchedMEIO.reset`."""
        self.core.reset(seed, mask)

    def truncated(self) -> np.ndarray:
        """(B,) the episode length is reached."""
        return self.core.truncated()

    def net_inventory(self) -> np.ndarray:
        """(B, 3) on hand minus everything the warehouse owes its customers (backorders and
        orders received but not yet served); negative = backlog (the chapter's IOH)."""
        st = self.core.state
        owed = st.edge_backorder + st.edge_new  # edges M1->L1, M1->L2
        net = st.on_hand.copy()
        net[:, 0] -= owed.sum(axis=1)
        net[:, 1:] -= st.market_backorder + st.market_new
        return net

    def raw_state(self) -> np.ndarray:
        """(B, 3, 4) unscaled chapter state per warehouse: net inventory, units due on the oldest
        open order, its age, total open quantity."""
        st = self.core.state
        oo = open_orders.features(st.open_qty, st.open_placed, st.period)
        return np.concatenate([self.net_inventory()[..., None], oo], axis=-1)

    def observe(self, raw: np.ndarray | None = None) -> np.ndarray:
        """(B, 12) float32 in [-1, 1]: :meth:`raw_state` clipped to its bounds and scaled, warehouse-major."""
        raw = self.raw_state() if raw is None else raw
        x = np.clip(raw, self.obs_low, self.obs_high)
        obs = 2.0 * (x - self.obs_low) / (self.obs_high - self.obs_low) - 1.0
        return obs.reshape(raw.shape[0], 12).astype(np.float32)

    def info(self, costs: PeriodCosts | None = None) -> dict[str, np.ndarray]:
        """Batched diagnostics (arrays with a leading B axis)."""
        raw = self.raw_state()
        out = self.core.info(costs, self.core.inventory_position())
        out["net_inventory"] = raw[..., 0]
        out["open_orders"] = raw[..., 1:]  # (B, 3, 3): oldest qty, age, total
        return out

    # -- actions -----------------------------------------------------------------------------
    def discrete_to_orders(self, actions: object) -> np.ndarray:
        """(B,) integers in 0..12 -> (B, 3) orders (0: nobody; 1 + 4 w + s: warehouse w orders size s)."""
        a = np.asarray(actions)
        if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(a == np.rint(a))):
            raise TypeError(f"discrete actions must be integers 0..12, got dtype {a.dtype}")
        a = a.astype(np.int64).reshape(-1)
        if a.shape != (self.num_envs,) or np.any((a < 0) | (a > 12)):
            raise ValueError(f"discrete actions: expected {self.num_envs} integers in 0..12, got {actions!r}")
        q = np.zeros((self.num_envs, 3), dtype=np.int64)
        on = a > 0
        w, s = (a[on] - 1) // 4, (a[on] - 1) % 4
        q[np.nonzero(on)[0], w] = self.sizes[w, s]
        return q

    def continuous_to_orders(self, actions: object) -> np.ndarray:
        """(B, 3) in [-1, 1] -> orders ``round((a + 1) / 2 * XL)`` per warehouse."""
        a = check_action(actions, (self.num_envs, 3), "actions")
        return action_to_orders(a, self.xl)

    def step_orders(self, orders: np.ndarray) -> PeriodCosts:
        """Advance all copies one period with integer orders (B, 3)."""
        return self.core.step_orders(orders)


class ChapterView:
    """The chapter's observation and action spaces over a :class:`ChapterBatch`.

    Plugs into views that step the core in batch, e.g.
    ``MEIOSB3VecEnv(core=batch.core, view=ChapterView(batch, "discrete"))``.
    """

    def __init__(self, batch: ChapterBatch, action_type: ActionType = "discrete") -> None:
        if action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous', got {action_type!r}")
        self.batch = batch
        self.action_type = action_type
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (12,), np.float32)
        self.action_space: gym.spaces.Space = (
            gym.spaces.Discrete(13) if action_type == "discrete" else gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        )

    def observe(self) -> np.ndarray:
        """(B, 12) scaled observations."""
        return self.batch.observe()

    def actions_to_orders(self, actions: np.ndarray) -> np.ndarray:
        """(B,) discrete or (B, 3) continuous actions -> (B, 3) orders."""
        a = np.asarray(actions)
        if self.action_type == "discrete":
            return self.batch.discrete_to_orders(a.reshape(-1))
        return self.batch.continuous_to_orders(a.reshape(self.batch.num_envs, -1))


class ChapterEnv(EpisodeLengthSpec, gym.Env[np.ndarray, Any]):
    """The book chapter's divergent 2-layer system as a Gymnasium env (``MEIO-Chapter2L-v0``).

    ## Action Space
    ``action_type="discrete"`` (default): ``Discrete(13)``; 0 = nobody orders, ``1 + 4 w + s`` =
    warehouse ``w`` (0 M1, 1 L1, 2 L2) orders size ``s`` (0 S, 1 M, 2 L, 3 XL) of
    ``ChapterParams.order_sizes``. ``"continuous"``: ``Box(-1, 1, (3,))``, every warehouse orders
    ``round((a + 1) / 2 * XL_w)`` each period.

    ## Observation Space
    ``Box(-1, 1, (12,), float32)``: per warehouse (M1, L1, L2) net inventory, units due on the
    oldest open order, that order's age in periods, total open quantity, each clipped to
    ``[-2 XL, 3 XL]``, ``[0, XL]``, ``[0, max_age]``, ``[0, 3 XL]`` and scaled linearly.
    ``info`` carries the raw values: the grid envs' flat keys
    (:data:`~meio_envs.envs.batch.INFO_KEYS`, costs 0 at reset) plus ``net_inventory`` (3,) and
    ``open_orders`` (3, 3).

    ## Reward
    ``-cost / ChapterParams.reward_scale`` (100); ``info["cost"]`` is the unscaled cost (holding on
    hand everywhere, shortage on leaf backlogs, fixed + unit reordering costs).

    ## Episode End
    Truncated after ``episode_length`` (52, ``ChapterParams.episode_length``) periods; never
    terminates. ``max_episode_steps`` (also via ``gym.make``) overrides it.

    ## Rendering
    ``render_mode="ansi"`` or ``"rgb_array"``, as :class:`~meio_envs.envs.single.MEIOEnv`.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(self, action_type: ActionType = "discrete", params: ChapterParams | None = None,
                 seed_mode: SeedMode = "advance", render_mode: str | None = None,
                 max_episode_steps: int | None = None) -> None:
        if action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous', got {action_type!r}")
        self.render_mode = check_render_mode(render_mode)
        self.action_type = action_type
        cp = ChapterParams() if params is None else params
        self.batch = ChapterBatch(cp, num_envs=1, seed_mode=seed_mode,
                                  episode_length=resolve_episode_length(None, max_episode_steps, cp.episode_length))
        self.chapter_params = self.batch.cp
        self.node_names = WAREHOUSES
        self.action_space = (gym.spaces.Discrete(13) if action_type == "discrete"
                             else gym.spaces.Box(-1.0, 1.0, (3,), np.float32))
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (12,), np.float32)
        self._last_orders: np.ndarray | None = None  # for render(): None until the first step
        self._last_costs: np.ndarray | None = None

    def _episode_length(self) -> int:
        return self.batch.core.episode_length

    def _set_episode_length(self, n: int) -> None:
        self.batch.core.episode_length = exact_int("max_episode_steps", n, 1, MAX_EPISODE_LENGTH)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode (``seed`` keys the random stream like the grid envs)."""
        super().reset(seed=seed)
        self.batch.reset(seed)
        self._last_orders = self._last_costs = None
        return self.batch.observe()[0], self._info(None)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One period with the chapter's action."""
        if self.action_type == "discrete":
            q = self.batch.discrete_to_orders(np.asarray(action).reshape(1))
        else:
            q = self.batch.continuous_to_orders(np.asarray(action, dtype=np.float64).reshape(1, 3))
        return self.step_orders(q[0])

    def step_orders(self, orders: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One period with integer orders (3,) in units (clipped to [0, XL])."""
        if self.batch.truncated()[0]:
            raise RuntimeError("episode is over (truncated); call reset() before step()")
        q = np.asarray(orders, dtype=np.int64).reshape(1, 3)
        costs = self.batch.step_orders(q)
        cost = float(costs.total[0])
        info = self._info(costs)
        self._last_orders = np.clip(q[0], 0, self.batch.xl)
        self._last_costs = info["node_costs"]
        return (self.batch.observe()[0], -cost / self.chapter_params.reward_scale, False,
                bool(self.batch.truncated()[0]), info)

    def render(self) -> str | np.ndarray | None:
        """The current period in ``render_mode``: a text table (``"ansi"``), an image (``"rgb_array"``) or None."""
        if self.render_mode is None:
            return None
        return render_frame(self.render_mode, frame_of(self.batch.core, 0, self._last_orders, self._last_costs))

    def _info(self, costs: PeriodCosts | None) -> dict[str, Any]:
        return {k: v[0] for k, v in self.batch.info(costs).items()}


def evaluate_chapter(
    policy: ChapterPolicy,
    params: ChapterParams | None = None,
    action_type: ActionType = "discrete",
    episodes: int = 100,
    seed: int = EVAL_SEED,
) -> EvalResult:
    """The chapter's evaluation protocol: ``episodes`` copies seeded ``seed .. seed + episodes - 1``
    (common random numbers for every policy), each scored by the total cost of its whole episode
    (``episode_length`` periods from the initial state, no warm-up: the chapter's annual cost).

    ``policy(obs (B, 12), info) -> actions``: (B,) integers 0..12 for ``"discrete"``, (B, 3) in
    [-1, 1] for ``"continuous"``. ``info`` has the raw ``inventory_position``, ``net_inventory``
    and ``open_orders`` arrays (oracle information for heuristics).
    """
    batch = ChapterBatch(params, num_envs=episodes)
    batch.reset(seed)
    node_costs = np.zeros((episodes, 3))
    parts = {"holding": 0.0, "backorder": 0.0, "ordering": 0.0}
    for _ in range(batch.core.episode_length):
        info = batch.info()
        acts = np.asarray(policy(batch.observe(), info))
        q = batch.discrete_to_orders(acts) if action_type == "discrete" else batch.continuous_to_orders(acts)
        costs = batch.step_orders(q)
        node_costs += costs.per_node
        for k in parts:
            parts[k] += float(getattr(costs, k).sum()) / episodes
    return EvalResult(episode_costs=node_costs.sum(axis=1), node_costs=node_costs, breakdown=parts)

