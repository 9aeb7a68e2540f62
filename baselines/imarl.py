"""IMARL: iterative multi-agent RL (the report's section 3.4.5 and Table 5; docs/multi_agent.md).

One agent per stock point observes its own scaled IP and those of every stock point downstream of
it, and is charged its own cost plus the cost of everything downstream (``view="imarl"`` of
:class:`~meio_envs.envs.batched_ma.BatchedMultiAgent`). Agents are trained one at a time::

    saved_policy[i] = base policy for all agents  (DA base-stock heuristic, or a random network)
    job_list = all agents (in --order)
    while job_list and budget left:
        active = pop(job_list)                      # first, or greedy: largest improvement potential
        train active with PPO for n episodes        # its own (64,64) actor and critic on its IMARL view,
                                                    # starting from its saved network (if it has one);
                                                    # all others act deterministically (saved mean
                                                    # action, or the base policy while untrained)
        best = best policy seen during those n episodes (shared evaluation protocol, every 100 episodes)
        if cost(best) < cost(saved joint policy):   # on the same fixed evaluation seeds
            saved_policy[active] = best
            push active's direct suppliers and customers onto job_list (if not already there)

Orders (``--order``): ``downstream-first`` (retailers first: reverse node order), ``upstream-first``
(node order), ``greedy``: each time pick, among the queued agents, the one charged with the largest
share of the current joint policy's evaluated cost (its reward's share of the total; ties: queue
order). On divergent networks this is the most upstream queued agent, since it is charged for its
whole subtree. Pushed agents go to the back of the queue.

The base policy (``--base-policy``): ``da`` = the DA heuristic's base-stock order on the agent's raw
IP (from ``info["inventory_position"]``, the documented oracle argument); ``random`` = a randomly
initialised actor network's deterministic (mean) action, which is also where that agent's PPO
training starts. With ``da`` an agent's first training starts from a fresh network.

With ``da``, the saved joint policy starts *at* the heuristic and is only replaced by a better one, so
the result can never be worse than DA on the evaluation seeds; the improvement is the figure to read.

Checkpoints (``<run>/checkpoint.pt``) are written atomically after every agent-iteration and hold the
saved policies, the job list, the RNG states and the history; a killed run resumes from the last
completed agent-iteration and continues exactly as an uninterrupted run would (each iteration's
random streams come from a master generator whose state is saved).

    meio train imarl A1 --seed 0 --episodes-per-iteration 1000 --max-agent-iterations 8 --num-envs 16
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

import numpy as np
import torch
import tyro
from torch import nn

from baselines.common.batch_trials import SEEDS_HELP, Slot, batches, open_slots, record_trials, seeds_option, with_seeds
from baselines.common.checkpoint import load_checkpoint, save_checkpoint
from baselines.common.clock import TrialClock
from baselines.common.device import resolve_device
from baselines.common.files import atomic_write_text
from baselines.common.gae import compute_gae
from baselines.common.ppo import (
    GaussianActor,
    clipped_policy_loss,
    clipped_value_loss,
    gaussian_log_prob,
    mlp,
    normalize,
    ppo_epochs,
    ppo_optimizer,
)
from baselines.common.records import utc_now
from baselines.common.rollout import RolloutBuffer, RolloutState, collect_rollout, per_copy, per_trial, train_seed_offset
from baselines.common.stacked import load_trial_state, stack_modules, trial_state
from baselines.common.train_loop import LearningCurve, make_progress, rng_state, set_costs
from baselines.common.trial import (
    TrialOptions, check_budget, check_rollout, check_run_name, code_history, finish, summary_line,
)
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import BatchedMultiAgent
from meio_envs.evaluation import EVAL_SEED, EvalResult, da_policy, evaluate, evaluate_many
from meio_envs.network import NetworkSpec
from meio_envs.scenarios import canonical_scenario_id

__all__ = [
    "AgentJob",
    "AgentResult",
    "Args",
    "JointPolicy",
    "PPOAgentTrainer",
    "initial_jobs",
    "make_args",
    "pop_job",
    "push_neighbours",
    "run_imarl",
    "run_trial",
    "run_trials",
    "train",
    "train_cli",
    "train_many",
]

Order = Literal["downstream-first", "upstream-first", "greedy"]
_LOG_SQRT_2PI_E = 0.5 * (1.0 + np.log(2.0 * np.pi))


@dataclass
class Args(TrialOptions):
    """IMARL options (PPO defaults: the report's Appendix B; 25,000 episodes per agent-iteration)."""

    scenario: tyro.conf.Positional[str] = "A1"
    """Grid scenario id."""
    seed: int = 0
    """Master seed (networks, action noise, minibatch order, training episodes of every iteration)."""
    episodes_per_iteration: int = 25_000
    """n: training episodes of the active agent per agent-iteration (the report: 25,000)."""
    max_agent_iterations: int | None = None
    """Stop after this many agent-iterations even if the job list is not empty (None: no limit)."""
    episodes: int | None = None
    """Total training-episode budget over all iterations (None: no limit); a hard bound: the last iteration is
    cut short to fit (whole rollouts), and training stops when less than one rollout is left."""
    order: Order = "downstream-first"
    """Initial job-list order and pick rule: downstream-first, upstream-first or greedy."""
    base_policy: Literal["da", "random"] = "da"
    """Policy of not-yet-trained agents: the DA heuristic's base-stock order, or a random network."""
    num_envs: int = 4
    """B, copies stepped together (the report: 4)."""
    num_steps: int = 256
    """Periods per copy per rollout (the report: 256)."""
    learning_rate: float = 1e-4
    """Adam learning rate of the active agent's actor and critic."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    num_minibatches: int = 16
    """Minibatches per epoch."""
    update_epochs: int = 4
    """PPO epochs per rollout."""
    clip_coef: float = 0.2
    """PPO clip of the ratio and of the value change."""
    norm_adv: bool = True
    """Normalise advantages within each minibatch."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden sizes of each agent's actor and critic."""
    log_std_init: float = 0.0
    """Initial log-std of a fresh actor's Gaussian actions."""
    init_active: Literal["fresh", "bc"] = "fresh"
    """How an agent without a saved network starts under the DA base policy: a fresh network (the report),
    or ``bc``: the network fitted to the DA base-stock action first (behaviour cloning, our option)."""
    bc_log_std: float = -1.0
    """Log-std of a behaviour-cloned actor (smaller than a fresh one's: it starts at a good policy)."""
    episode_length: int = 128
    """Training episode length (truncated and bootstrapped)."""
    eval_every: int = 100
    """Evaluate the joint policy every this many training episodes of the active agent."""
    eval_episodes: int = 100
    """Episodes per evaluation (the shared protocol)."""
    device: str = "auto"
    """Where updates run (auto = GPU if available); rollouts run on the CPU."""
    out: str = "runs"
    """Folder of run folders."""
    run_name: str | None = None
    """Run folder name under <out> instead of imarl[-random]/<scenario>/seed<seed>."""
    results: str | None = None
    """Results store (JSON lines) the finished trial's record goes to; default <out>/results.jsonl."""
    resume: bool = True
    """Continue from <run>/checkpoint.pt when it exists (refused if the folder is another trial's)."""
    stop_after: int | None = None
    """Stop this call after this many agent-iterations without finishing the trial (simulates a kill)."""
    tensorboard: bool = True
    """TensorBoard scalars in <run>/tb."""
    progress: bool = True
    """Progress bar over the active agent's episodes."""
    threads: int = 1
    """torch CPU threads."""

    def __post_init__(self) -> None:
        self.scenario = canonical_scenario_id(self.scenario)
        check_budget(episodes_per_iteration=self.episodes_per_iteration, episodes=self.episodes,
                     max_agent_iterations=self.max_agent_iterations, num_envs=self.num_envs,
                     num_steps=self.num_steps, num_minibatches=self.num_minibatches,
                     update_epochs=self.update_epochs, episode_length=self.episode_length,
                     eval_every=self.eval_every, eval_episodes=self.eval_episodes)
        check_rollout(self.num_envs, self.num_steps, self.episode_length, self.num_minibatches)
        for name in ("episodes_per_iteration", "episodes"):
            v = getattr(self, name)
            if v is not None and v < self.rollout_episodes:
                raise ValueError(f"{name}={v} is less than one rollout ({self.num_envs} copies x {self.num_steps} "
                                 f"periods = {self.rollout_episodes:g} episodes)")
        if self.run_name is not None:
            check_run_name(self.run_name)

    @property
    def rollout_episodes(self) -> float:
        """Training episodes per rollout (num_envs x num_steps / episode_length)."""
        return self.num_envs * self.num_steps / self.episode_length

    def iteration_steps(self, episodes_used: int) -> int:
        """Env steps of the next agent-iteration: its budget, cut to what the total leaves, in whole rollouts."""
        eps = self.episodes_per_iteration
        if self.episodes is not None:
            eps = min(eps, self.episodes - episodes_used)
        rollout = self.num_envs * self.num_steps
        return max(eps, 0) * self.episode_length // rollout * rollout

    @property
    def model_name(self) -> str:
        """``imarl`` (DA base policy) or ``imarl-random``."""
        return "imarl" if self.base_policy == "da" else f"imarl-{self.base_policy}"


# ----------------------------------------------------------------------------- job list
def initial_jobs(network: NetworkSpec, order: Order) -> list[int]:
    """All agents in the order they are first trained (node order runs upstream to downstream)."""
    nodes = list(range(network.num_nodes))
    return nodes[::-1] if order == "downstream-first" else nodes


def pop_job(jobs: list[int], order: Order, potential: np.ndarray | None = None) -> int:
    """Remove and return the next agent: the first one, or (greedy) the largest ``potential[agent]``."""
    if not jobs:
        raise IndexError("job list is empty")
    if order == "greedy":
        if potential is None:
            raise ValueError("greedy order needs the agents' improvement potentials")
        k = max(range(len(jobs)), key=lambda j: (potential[jobs[j]], -j))
        return jobs.pop(k)
    return jobs.pop(0)


def push_neighbours(jobs: list[int], agent: int, network: NetworkSpec) -> list[int]:
    """Append ``agent``'s direct suppliers, then its customers, that are not queued yet; returns them."""
    pushed = []
    for n in (*network.supplier_indices[agent], *network.customer_indices[agent]):
        if n not in jobs:
            jobs.append(n)
            pushed.append(n)
    return pushed


def improvement_potential(node_costs: np.ndarray, reward_matrix: np.ndarray) -> np.ndarray:
    """Per agent, the share of the joint policy's mean cost it is charged for (greedy order)."""
    c = np.asarray(node_costs, dtype=np.float64)
    return (c @ reward_matrix) / max(float(c.sum()), 1e-12)


# ----------------------------------------------------------------------------- policies
class JointPolicy:
    """The deterministic joint policy of all agents: a saved network's clipped mean or the base policy.

    ``modules[i]`` is agent i's :class:`GaussianActor` (one trial, CPU) or ``None`` for the DA base
    policy; ``override`` replaces one agent's module. Callable as an evaluation policy
    ``policy(obs, info) -> actions (B, P)``. :meth:`of_trials` builds the joint policies of K trials
    side by side (rows of ``obs`` in K equal blocks, block k for trial k): each agent's networks of all
    trials that have one run as one stacked network.
    """

    def __init__(self, ma: BatchedMultiAgent, modules: Sequence[GaussianActor | None],
                 override: tuple[int, GaussianActor] | None = None, da: Any = None) -> None:
        mods = list(modules)
        if override is not None:
            mods[override[0]] = override[1]
        self._setup(ma, [mods], [None], da)

    @classmethod
    def of_trials(cls, ma: BatchedMultiAgent, modules: Sequence[Sequence[GaussianActor | None]],
                  skip: Sequence[int | None] | None = None, da: Any = None) -> JointPolicy:
        """K trials' joint policies; column ``skip[k]`` of trial k is left at 0 (its active agent, filled by the caller)."""
        obj = cls.__new__(cls)
        obj._setup(ma, [list(m) for m in modules], list(skip) if skip is not None else [None] * len(modules), da)
        return obj

    def _setup(self, ma: BatchedMultiAgent, modules: list[list[GaussianActor | None]], skip: list[int | None],
               da: Any) -> None:
        self.obs_index = ma.obs_index
        self.num_trials, self.num_agents = len(modules), ma.num_agents
        self.skip = skip
        self.modules = modules[0] if len(modules) == 1 else None  # one trial's modules (the old attribute)
        self.entries: list[tuple[int, np.ndarray, GaussianActor]] = []  # (agent, trials, stacked actor)
        needs_da = False
        for i in range(self.num_agents):
            trials = [k for k, m in enumerate(modules) if m[i] is not None and skip[k] != i]
            needs_da |= any(m[i] is None for m in modules)
            if trials:
                self.entries.append((i, np.asarray(trials), stack_modules([modules[k][i] for k in trials])))
        self.da = (da if da is not None else da_policy(ma.core.params)) if needs_da else None

    def with_actors(self, entries: Sequence[tuple[int, np.ndarray, GaussianActor]]) -> JointPolicy:
        """The same policies with more (agent, trials, stacked actor) entries (the active agents' current actors)."""
        obj = copy.copy(self)
        obj.entries = [*self.entries, *entries]
        obj.skip = [None] * self.num_trials
        return obj

    def actions(self, obs: np.ndarray, info: Mapping[str, np.ndarray], skip: int | None = None) -> np.ndarray:
        """(K*n, P) actions; skipped columns are left at 0 (the caller fills in the active agent's)."""
        obs = np.asarray(obs, dtype=np.float32)
        K, P = self.num_trials, self.num_agents
        out = self.da(obs, info).astype(np.float32) if self.da is not None else \
            np.zeros((obs.shape[0], P), np.float32)
        o3, a3 = obs.reshape(K, -1, obs.shape[-1]), out.reshape(K, -1, P)
        with torch.no_grad():
            for i, trials, actor in self.entries:
                if i == skip:
                    continue
                x = o3 if len(trials) == K else o3[trials]
                a3[trials, :, i] = actor(torch.from_numpy(x[:, :, self.obs_index[i]])).clamp(-1.0, 1.0).numpy()
        for k, i in enumerate(self.skip):
            if i is not None:
                a3[k, :, i] = 0.0
        if skip is not None:
            out[:, skip] = 0.0
        return out

    def __call__(self, obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.actions(obs, info)


def actor_from_state(in_dim: int, hidden: Sequence[int], state: Mapping[str, Any]) -> GaussianActor:
    """A CPU actor (one trial) with saved weights (unstacked format), in eval mode."""
    a = GaussianActor(in_dim, hidden)
    load_trial_state(a, 0, state)
    return a.eval()


def random_base_state(args: Args, agent: int, in_dim: int) -> dict[str, Any]:
    """The random base network of an agent (``--base-policy random``): seeded by (seed, agent)."""
    g = torch.Generator().manual_seed(10_007 * (args.seed + 1) + agent)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
        return trial_state(GaussianActor(in_dim, args.hidden, args.log_std_init), 0)


# ----------------------------------------------------------------------------- one agent-iteration
@dataclass
class AgentResult:
    """Outcome of training one agent for one agent-iteration."""

    best_cost: float  # best joint evaluation cost seen during the iteration
    best_node_costs: np.ndarray | None  # (P,) mean node costs of that evaluation
    best_state: dict[str, Any] | None  # {"actor": ..., "critic": ...} of the best policy
    episodes: int  # training episodes run
    env_steps: int  # environment steps run


@dataclass
class AgentJob:
    """One trial's agent-iteration: train ``agent`` of the trial with options ``args`` for ``steps`` env steps."""

    args: Args
    agent: int
    saved: list[dict[str, Any] | None]
    seed: int
    on_eval: Callable[[dict[str, Any]], None]
    steps: int


class AgentTrainer(Protocol):
    """Trains one agent against the others' fixed policies (tests pass a fake)."""

    def __call__(self, agent: int, saved: list[dict[str, Any] | None], seed: int,
                 on_eval: Callable[[dict[str, Any]], None], steps: int) -> AgentResult: ...


BatchTrainer = Callable[[list[AgentJob]], list[AgentResult]]


@dataclass
class _Group:
    """The trials of a cohort that train the same agent: one stacked actor-critic and optimiser."""

    agent: int
    trials: np.ndarray  # positions in the cohort
    actor: GaussianActor
    critic: nn.Module
    rollout_actor: GaussianActor
    optimizer: torch.optim.Optimizer
    params: list[nn.Parameter]


class PPOAgentTrainer:
    """PPO for the active agent; the others act deterministically (saved mean action or base policy).

    :meth:`train_many` runs the agent-iterations of K trials as one computation: one env of K x B
    copies (each trial's own episodes and others' policies), one batched evaluation, and one stacked
    PPO update per *group* of trials that train the same agent (networks of different agents have
    different input sizes; padding them would change their initialisation and arithmetic, grouping
    keeps every trial bit-identical to its solo run).
    """

    def __init__(self, args: Args, ma: BatchedMultiAgent, device: torch.device) -> None:
        self.args, self.ma, self.device = args, ma, device
        self._envs: dict[int, BatchedMultiAgent] = {}

    def modules(self, saved: list[dict[str, Any] | None], args: Args | None = None) -> list[GaussianActor | None]:
        """Every agent's deterministic policy network of one trial (None = DA base policy)."""
        a, out = args or self.args, []
        for i, s in enumerate(saved):
            d = self.ma.obs_dims[i]
            if s is not None:
                out.append(actor_from_state(d, a.hidden, s["actor"]))
            elif a.base_policy == "random":
                out.append(actor_from_state(d, a.hidden, random_base_state(a, i, d)))
            else:
                out.append(None)
        return out

    def __call__(self, agent: int, saved: list[dict[str, Any] | None], seed: int,
                 on_eval: Callable[[dict[str, Any]], None], steps: int) -> AgentResult:
        """Train ``agent`` for ``steps`` env steps (whole rollouts of all copies)."""
        return self.train_many([AgentJob(self.args, agent, saved, seed, on_eval, steps)])[0]

    def train_many(self, jobs: Sequence[AgentJob]) -> list[AgentResult]:
        """Run K trials' agent-iterations; those of equal length run as one batch."""
        out: list[AgentResult | None] = [None] * len(jobs)
        by_steps: dict[int, list[int]] = {}
        for i, j in enumerate(jobs):
            by_steps.setdefault(j.steps, []).append(i)
        for idx in by_steps.values():
            for i, r in zip(idx, self._train_cohort([jobs[i] for i in idx])):
                out[i] = r
        return out  # type: ignore[return-value]

    def _env(self, K: int) -> BatchedMultiAgent:
        if K not in self._envs:
            self._envs[K] = BatchedMultiAgent(self.args.scenario, view="imarl", num_envs=K * self.args.num_envs,
                                              episode_length=self.args.episode_length)
        return self._envs[K]

    def _start(self, job: AgentJob, ma: BatchedMultiAgent) -> tuple[GaussianActor, nn.Module]:
        """The active agent's networks: its saved network, else the random base, else fresh (or cloned from DA)."""
        a, d, agent = job.args, ma.obs_dims[job.agent], job.agent
        torch.manual_seed(job.seed)
        actor = GaussianActor(d, a.hidden, a.log_std_init)
        critic = mlp(d, a.hidden, 1, out_gain=1.0)
        if job.saved[agent] is not None:
            load_trial_state(actor, 0, job.saved[agent]["actor"])  # type: ignore[index]
            load_trial_state(critic, 0, job.saved[agent]["critic"])  # type: ignore[index]
        elif a.base_policy == "random":
            load_trial_state(actor, 0, random_base_state(a, agent, d))
        elif a.init_active == "bc":
            behaviour_clone(actor, ma, JointPolicy(ma, self.modules(job.saved, a)), agent, job.seed)
            with torch.no_grad():
                actor.log_std.fill_(a.bc_log_std)
        return actor, critic

    def _train_cohort(self, jobs: Sequence[AgentJob]) -> list[AgentResult]:
        a, device = self.args, self.device
        K, B, T = len(jobs), a.num_envs, a.num_steps
        N = B * T
        steps = jobs[0].steps
        ma = self._env(K)
        core, P = ma.core, ma.num_agents
        nets = [self._start(j, ma) for j in jobs]
        groups = []
        for agent in dict.fromkeys(j.agent for j in jobs):  # first-appearance order
            trials = np.asarray([k for k, j in enumerate(jobs) if j.agent == agent])
            actor = stack_modules([nets[k][0] for k in trials]).to(device)
            critic = stack_modules([nets[k][1] for k in trials]).to(device)
            params = list(actor.parameters()) + list(critic.parameters())
            groups.append(_Group(agent, trials, actor, critic,
                                 actor if device.type == "cpu" else copy.deepcopy(actor).cpu(),
                                 ppo_optimizer(params, a.learning_rate), params))
        others = JointPolicy.of_trials(ma, [self.modules(j.saved, j.args) for j in jobs], skip=[j.agent for j in jobs])
        noises = [torch.Generator().manual_seed(j.seed) for j in jobs]
        np_rngs = [np.random.default_rng(j.seed) for j in jobs]
        rstate = RolloutState(seed_offset=np.array(
            [train_seed_offset(j.args.seed) + (j.seed % 10_000) * 1_000_000 for j in jobs]))
        buf = RolloutBuffer.allocate(T, K * B, core.obs_dim, 1, 1)
        reward_cols = np.repeat([j.agent for j in jobs], B)[:, None]

        def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            env_actions = others.actions(obs, info)
            o3, e3 = obs.reshape(K, B, -1), env_actions.reshape(K, B, P)
            raw_all, logp_all = np.empty((K, B), np.float32), np.empty((K, B), np.float32)
            with torch.no_grad():
                for g in groups:
                    mean = g.rollout_actor(torch.from_numpy(o3[g.trials][:, :, ma.obs_index[g.agent]]))
                    log_std = g.rollout_actor.log_std.unsqueeze(1)
                    eps = torch.stack([torch.randn((B,), generator=noises[k]) for k in g.trials])
                    raw = mean + log_std.exp() * eps
                    raw_all[g.trials] = raw.numpy()
                    logp_all[g.trials] = gaussian_log_prob(mean, log_std, raw).numpy()
                    e3[g.trials, :, g.agent] = np.clip(raw_all[g.trials], -1.0, 1.0)
            return env_actions, raw_all.reshape(K * B, 1), logp_all.reshape(K * B, 1)

        best = [AgentResult(float("inf"), None, None, 0, 0) for _ in jobs]
        env_steps, next_eval = 0, a.eval_every
        while env_steps < steps:
            collect_rollout(ma, buf, rstate, act, reward_columns=reward_cols)
            env_steps += N
            for g in groups:
                self._update(g, buf, [np_rngs[k] for k in g.trials])
            if rstate.episodes_done >= next_eval or env_steps >= steps:
                next_eval = (rstate.episodes_done // a.eval_every + 1) * a.eval_every
                policy = others.with_actors([(g.agent, g.trials, g.rollout_actor) for g in groups])
                results = evaluate_many(policy, core, K, episodes=a.eval_episodes)
                for g in groups:
                    for j, k in enumerate(g.trials):
                        res, b = results[k], best[k]
                        if res.mean < b.best_cost:
                            b.best_cost, b.best_node_costs = res.mean, res.node_costs.mean(axis=0)
                            b.best_state = {"actor": trial_state(g.actor, j), "critic": trial_state(g.critic, j)}
                for job, res, b in zip(jobs, results, best):
                    b.env_steps = env_steps
                    job.on_eval({"episodes": rstate.episodes_done, "eval_cost": res.mean, "eval_se": res.se,
                                 "iteration_best": b.best_cost, "new_episodes": rstate.episodes_done - b.episodes,
                                 "env_steps": env_steps})
                    b.episodes = rstate.episodes_done
        for b in best:
            b.env_steps = env_steps
            b.episodes = env_steps // a.episode_length  # episode-equivalents, the budget's unit
        return best

    def _update(self, g: _Group, buf: RolloutBuffer, rngs: list[np.random.Generator]) -> None:
        """One PPO update of a group's stacked actor-critic on its trials' copies of the rollout."""
        a, device = self.args, self.device
        B, T = a.num_envs, a.num_steps
        Kg, obs_ix = len(g.trials), self.ma.obs_index[g.agent]
        copies = (g.trials[:, None] * B + np.arange(B)).reshape(-1)
        x = torch.as_tensor(per_trial(buf.obs[:, copies][:, :, obs_ix], Kg), device=device)  # (Kg, N, d)
        with torch.no_grad():
            values = g.critic(x)  # (Kg, N, 1)
            next_values = g.critic(torch.as_tensor(per_trial(buf.next_obs[:, copies][:, :, obs_ix], Kg), device=device))
        adv, ret = compute_gae(buf.rewards[:, copies], per_copy(values.cpu().numpy(), T),
                               per_copy(next_values.cpu().numpy(), T), buf.episode_end[:, copies],
                               a.gamma, a.gae_lambda)
        act_t = torch.as_tensor(per_trial(buf.actions[:, copies], Kg)[..., 0], device=device)
        logp_t = torch.as_tensor(per_trial(buf.logprobs[:, copies], Kg)[..., 0], device=device)
        adv_t = torch.as_tensor(per_trial(adv, Kg)[..., 0], device=device)
        ret_t = torch.as_tensor(per_trial(ret, Kg), device=device)
        rows = torch.arange(Kg, device=device)[:, None]
        actor, critic = g.actor, g.critic

        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            log_std = actor.log_std.unsqueeze(1)
            new_logp = gaussian_log_prob(actor(x[rows, idx]), log_std, act_t[rows, idx])
            adv_mb = normalize(adv_t[rows, idx], dim=1) if a.norm_adv else adv_t[rows, idx]
            pg, kl, _ = clipped_policy_loss(new_logp, logp_t[rows, idx], adv_mb, a.clip_coef)
            v_loss = clipped_value_loss(critic(x[rows, idx]), values[rows, idx], ret_t[rows, idx], a.clip_coef)
            entropy = _LOG_SQRT_2PI_E + actor.log_std
            loss = pg - a.ent_coef * entropy + a.vf_coef * v_loss
            return loss, {"policy_loss": pg.detach(), "value_loss": v_loss.detach(), "approx_kl": kl}

        ppo_epochs(B * T, a.update_epochs, a.num_minibatches, loss_fn, g.optimizer, g.params, a.max_grad_norm,
                   rngs, device)
        if g.rollout_actor is not actor:
            g.rollout_actor.load_state_dict(actor.state_dict())


def behaviour_clone(actor: GaussianActor, ma: BatchedMultiAgent, joint: JointPolicy, agent: int, seed: int,
                    copies: int = 64, periods: int = 128, steps: int = 600) -> float:
    """Fit ``actor``'s mean (one trial) to the DA base-stock action of ``agent`` (MSE); returns the final loss.

    States: those visited by the deterministic joint policy ``joint`` over ``copies`` x ``periods``
    periods, each repeated with every node's IP jittered by up to +-max_order/2 (so the fit also
    covers the states PPO's exploration reaches).
    """
    core = BatchedMEIO(params=ma.core.params, num_envs=copies, observe_cost_factors=ma.core.observe_cost_factors)
    core.reset(int(seed) % 2**31)
    ips, factors = [], []
    for _ in range(periods):
        ip = core.inventory_position()
        info = core.info(None, ip)
        ips.append(ip)
        factors.append(info["cost_factors"])
        core.step_orders(core.actions_to_orders(joint(core.observe(ip), info)))
    rng = np.random.default_rng(seed)
    ip = np.concatenate(ips * 2)
    half = np.maximum(core.params.max_order // 2, 1)
    ip[len(ip) // 2:] += rng.integers(-half, half + 1, size=(len(ip) - len(ip) // 2, ip.shape[1]))
    cf = np.concatenate(factors * 2)
    core_big = BatchedMEIO(params=ma.core.params, num_envs=len(ip), observe_cost_factors=ma.core.observe_cost_factors)
    core_big.state.cost_factors[:] = cf
    obs = core_big.observe(ip)
    da = joint.da if joint.da is not None else da_policy(ma.core.params)
    target = torch.as_tensor(da(obs, {"inventory_position": ip, "cost_factors": cf})[:, agent], dtype=torch.float32)
    x = torch.as_tensor(obs[:, ma.obs_index[agent]])
    opt = torch.optim.Adam(actor.net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    loss = torch.zeros(())
    for _ in range(steps):
        idx = torch.randint(0, len(x), (256,), generator=g)
        loss = ((actor(x[idx][None])[0] - target[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


# ----------------------------------------------------------------------------- the IMARL loop
def evaluate_saved(args: Args, ma: BatchedMultiAgent, saved: list[dict[str, Any] | None]) -> EvalResult:
    """Cost of the saved joint policy on the evaluation protocol."""
    return evaluate_saved_many([args], ma, [saved])[0]


def evaluate_saved_many(args_list: Sequence[Args], ma: BatchedMultiAgent,
                        saved: Sequence[list[dict[str, Any] | None]]) -> list[EvalResult]:
    """Costs of K trials' saved joint policies, evaluated in one batch (each as alone)."""
    tr = PPOAgentTrainer(args_list[0], ma, torch.device("cpu"))
    policy = JointPolicy.of_trials(ma, [tr.modules(s, a) for s, a in zip(saved, args_list)])
    return evaluate_many(policy, ma.core, len(saved), episodes=args_list[0].eval_episodes)


def train(args: Args) -> dict[str, Any] | None:
    """Train one IMARL trial and append its record to the results store once (a finished trial is skipped).

    None only when the ``stop_after`` test hook stopped the call early.
    """
    return train_many([args])[0]


def train_many(args_list: Sequence[Args]) -> list[dict[str, Any] | None]:
    """:func:`train` for several trials: those not yet in their store train batched (:func:`run_trials`)."""
    return record_trials(args_list, run_trials)


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Args:
    """Options for the grid runner (``model`` is ``imarl`` or ``imarl-random``)."""
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])
    if model == "imarl-random":
        options.setdefault("base_policy", "random")
    elif model != "imarl":
        raise ValueError(f"IMARL models are 'imarl' and 'imarl-random', got {model!r}")
    return Args(scenario=scenario, seed=seed, **options)


def run_imarl(args: Args, trainer: AgentTrainer | None = None,
              evaluator: Callable[[list[dict[str, Any] | None]], EvalResult] | None = None) -> dict[str, Any] | None:
    """Run (or resume) an IMARL trial in its run folder; returns its record (None when ``stop_after`` stopped it).

    ``trainer`` / ``evaluator`` default to PPO and the shared evaluation protocol; tests inject fakes
    (one agent-iteration / one saved joint policy at a time). Writes only under the run folder;
    :func:`train` adds the results store.
    """
    batch_trainer = None if trainer is None else (
        lambda jobs: [trainer(j.agent, j.saved, j.seed, j.on_eval, j.steps) for j in jobs])
    batch_evaluator = None if evaluator is None else (lambda saved: [evaluator(s) for s in saved])
    return run_trials([args], batch_trainer, batch_evaluator)[0]


def run_trials(args_list: Sequence[Args], trainer: BatchTrainer | None = None,
               evaluator: Callable[[list[list[dict[str, Any] | None]]], list[EvalResult]] | None = None
               ) -> list[dict[str, Any] | None]:
    """Run (or resume) several IMARL trials; those that differ only in seed (and folders) run as one batch.

    Each round, every unfinished trial of a batch runs its next agent-iteration; the rounds' iterations
    run together (:meth:`PPOAgentTrainer.train_many`). Returns one record per trial, in order (None when
    the ``stop_after`` hook stopped it). A batched trial is bit-identical to the same trial alone (tested
    at small sizes; checked at the quick budget on B1, docs/experiments.md, "Seed batching")."""
    results, slots = open_slots(args_list)
    for group in batches(slots, lambda s: s.args):
        for slot, rec in zip(group, _run_batch(group, trainer, evaluator)):
            results[slot.index] = rec
    return results


@dataclass
class _TrialRun:
    """One trial's loop state inside a batch."""

    slot: Slot
    st: dict[str, Any]
    master: np.random.Generator
    curve: LearningCurve
    clock: TrialClock
    batch_size: int = 1  # trials in the batch (they share the wall time)
    iterations_this_call: int = 0
    record: dict[str, Any] | None = None
    over: bool = False  # finished or stopped

    def write_history(self, net: NetworkSpec) -> None:
        keys = ["iteration", "agent", "agent_name", "episodes", "total_episodes", "best_cost", "previous_cost",
                "accepted", "pushed", "job_list", "wall_time_s"]
        lines = [",".join(keys)] + [",".join(
            " ".join(net.names[j] for j in h[k]) if isinstance(h[k], list) else str(h[k]) for k in keys)
            for h in self.st["history"]]
        atomic_write_text(self.slot.run_dir / "iterations.csv", "\n".join(lines) + "\n")


def _run_batch(slots: Sequence[Slot], trainer: BatchTrainer | None,
               evaluator: Callable[[list[list[dict[str, Any] | None]]], list[EvalResult]] | None
               ) -> list[dict[str, Any] | None]:
    args = slots[0].args
    torch.set_num_threads(args.threads)
    device = torch.device(resolve_device(args.device))
    ma = BatchedMultiAgent(args.scenario, view="imarl", num_envs=args.num_envs, episode_length=args.episode_length)
    net = ma.core.params.network
    if trainer is None:
        trainer = PPOAgentTrainer(args, ma, device).train_many
    fresh = [s for s in slots if s.payload is None]
    if evaluator is None:
        evaluator = lambda saved: evaluate_saved_many([s.args for s in fresh], ma, saved)  # noqa: E731
    heuristic_cost = evaluate(da_policy(ma.core.params), ma.core, episodes=args.eval_episodes).mean

    firsts = iter(evaluator([[None] * ma.num_agents for _ in fresh]) if fresh else [])
    runs = []
    for s in slots:
        master = np.random.default_rng(s.args.seed)
        if s.payload is None:
            first = next(firsts)
            st: dict[str, Any] = {
                "saved": [None] * ma.num_agents, "jobs": initial_jobs(net, s.args.order), "iteration": 0,
                "episodes": 0, "env_steps": 0, "joint_cost": first.mean, "initial_cost": first.mean,
                "node_costs": first.node_costs.mean(axis=0), "history": [], "curve": [], "elapsed": 0.0, "cpu_elapsed": 0.0,
                "first_beat": None, "started_at": utc_now()}
        else:
            st = s.payload["state"]
            master.bit_generator.state = s.payload["master_rng"]
            # the global RNG state saved with it is not restored: every iteration seeds torch from its own seed
        st["code"] = code_history(st.get("code"))  # saved with every checkpoint, in the record at the end
        runs.append(_TrialRun(s, st, master, LearningCurve(s.run_dir, rows=st["curve"], tensorboard=s.args.tensorboard),
                              TrialClock(st["elapsed"], st.get("cpu_elapsed")),  # None: a checkpoint of older code
                              batch_size=len(slots)))
    bar = make_progress(args.episodes_per_iteration * args.episode_length, desc="imarl", disable=not args.progress)

    while True:
        jobs, owners = [], []
        for r in runs:
            if r.over:
                continue
            a, st = r.slot.args, r.st
            steps = a.iteration_steps(st["episodes"])
            if not st["jobs"] or (a.max_agent_iterations is not None and st["iteration"] >= a.max_agent_iterations) \
                    or steps <= 0:  # equilibrium, iteration cap, or less than one rollout of budget left
                r.record, r.over = _finish(r, heuristic_cost, device), True
                continue
            if a.stop_after is not None and r.iterations_this_call >= a.stop_after:
                r.over = True  # as if killed: the record stays None
                continue
            potential = improvement_potential(st["node_costs"], ma.reward_matrix) if a.order == "greedy" else None
            agent = pop_job(st["jobs"], a.order, potential)
            seed = int(r.master.integers(0, 2**31 - 1))
            if not jobs:
                bar.reset(total=steps)
                bar.set_description(f"it {st['iteration']} agent {net.names[agent]}" + (
                    f" (+{sum(not x.over for x in runs) - 1} trials)" if len(runs) > 1 else ""))
            jobs.append(AgentJob(a, agent, st["saved"], seed, _on_eval(r, agent, heuristic_cost, bar if not jobs else None),
                                 steps))
            owners.append(r)
        if not jobs:
            break
        for r, job, res in zip(owners, jobs, trainer(jobs)):
            _after_iteration(r, job, res, net)
    for r in runs:
        r.curve.close()
    bar.close()
    return [r.record for r in runs]


def _on_eval(r: _TrialRun, agent: int, heuristic_cost: float, bar: Any) -> Callable[[dict[str, Any]], None]:
    st, it, base_eps, ep_len = r.st, r.st["iteration"], r.st["episodes"], r.slot.args.episode_length

    def on_eval(row: dict[str, Any]) -> None:
        total = base_eps + row["episodes"]
        wall = round(r.clock.wall(), 3)
        if st["first_beat"] is None and row["eval_cost"] < heuristic_cost:
            st["first_beat"] = {"wall_time_s": wall, "episodes": total}
        r.curve.log(total, st["env_steps"] + row["env_steps"], wall, row["eval_cost"], min(row["iteration_best"],
                    st["joint_cost"]), {"iteration": it, "agent": agent, "eval_se": row["eval_se"],
                                        "iteration_best": row["iteration_best"], "joint_cost": st["joint_cost"],
                                        "heuristic_cost": heuristic_cost})
        if bar is not None:
            bar.update(row["new_episodes"] * ep_len)
            set_costs(bar, st["joint_cost"], heuristic_cost, row["eval_cost"])

    return on_eval


def _after_iteration(r: _TrialRun, job: AgentJob, res: AgentResult, net: NetworkSpec) -> None:
    """Accept or reject the iteration's best policy, re-queue neighbours, checkpoint the trial."""
    st, agent = r.st, job.agent
    previous = st["joint_cost"]
    accepted = res.best_state is not None and res.best_cost < previous
    pushed: list[int] = []
    if accepted:
        st["saved"][agent] = res.best_state
        st["joint_cost"] = res.best_cost
        if res.best_node_costs is not None:
            st["node_costs"] = res.best_node_costs
        pushed = push_neighbours(st["jobs"], agent, net)
    st["episodes"] += res.episodes
    st["env_steps"] += res.env_steps
    st["history"].append({
        "iteration": st["iteration"], "agent": agent, "agent_name": net.names[agent], "episodes": res.episodes,
        "total_episodes": st["episodes"], "best_cost": res.best_cost, "previous_cost": previous,
        "accepted": accepted, "pushed": pushed, "job_list": list(st["jobs"]),
        "wall_time_s": round(r.clock.wall(), 3)})
    st["iteration"] += 1
    st["curve"] = r.curve.rows
    st["elapsed"], st["cpu_elapsed"] = r.clock.wall(), r.clock.cpu()
    best = r.slot.run_dir / "best.pt"
    if accepted or not best.exists():  # the accepted joint policy is the best one: a small file to evaluate
        save_checkpoint(best, {"model": "imarl", "args": asdict(r.slot.args),
                               "state": {"saved": st["saved"], "joint_cost": st["joint_cost"]}})
    save_checkpoint(r.slot.checkpoint, {"model": "imarl", "args": asdict(r.slot.args), "state": st,
                                        "master_rng": r.master.bit_generator.state, "rng": rng_state()})
    r.write_history(net)
    r.iterations_this_call += 1


def _finish(r: _TrialRun, heuristic_cost: float, device: torch.device) -> dict[str, Any]:
    st, a, run_dir = r.st, r.slot.args, r.slot.run_dir
    fb = st["first_beat"] or {}
    result = {
        "best_cost": st["joint_cost"], "heuristic_cost": heuristic_cost,
        "savings": (heuristic_cost - st["joint_cost"]) / heuristic_cost, "eval_seed": EVAL_SEED,
        "eval_episodes": a.eval_episodes, "env_steps": st["env_steps"], "episodes": st["episodes"],
        "initial_cost": st["initial_cost"], "agent_iterations": st["iteration"], "equilibrium": not st["jobs"],
        "job_sequence": [h["agent_name"] for h in st["history"]],
        "accepted": [bool(h["accepted"]) for h in st["history"]],
        "time_to_beat_heuristic_s": fb.get("wall_time_s"), "episodes_to_beat_heuristic": fb.get("episodes"),
        "run_dir": str(run_dir), "curve": str(run_dir / "curve.csv"), "iterations": str(run_dir / "iterations.csv"),
        "best_model": str(run_dir / "best.pt"), "batched_trials": r.batch_size,
    }
    return finish(run_dir, r.slot.identity, result, str(device), st.get("started_at", utc_now()), r.clock.wall(),
                  code=st["code"], cpu_time_s=r.clock.cpu())


# ----------------------------------------------------------------------------- CLI
def train_cli(model: str, argv: Sequence[str]) -> int:
    """``meio train imarl <scenario> [--seed | --seeds S1 S2 ... | --trials K] [--episodes-per-iteration ...]``."""
    try:
        seeds, rest = seeds_option(argv)
        args = tyro.cli(Args, args=rest, prog=f"meio train {model}", description=f"{Args.__doc__}\n\n{SEEDS_HELP}")
        args_list = with_seeds(args, seeds)
    except ValueError as e:
        print(f"meio train {model}: {e}", file=sys.stderr)
        return 2
    for rec in train_many(args_list):
        if rec is not None:
            r = rec["result"]
            print(summary_line(rec) + f"; {r['agent_iterations']} agent-iterations, equilibrium={r['equilibrium']}")
    return 0


def load_joint_policy(path: str) -> tuple[JointPolicy, Args, BatchedMultiAgent]:
    """The saved joint policy of an IMARL checkpoint."""
    payload = load_checkpoint(path)
    if payload is None:
        raise FileNotFoundError(path)
    a = Args(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in payload["args"].items()})
    ma = BatchedMultiAgent(a.scenario, view="imarl", num_envs=1)
    pol = JointPolicy(ma, PPOAgentTrainer(a, ma, torch.device("cpu")).modules(payload["state"]["saved"]))
    return pol, a, ma


if __name__ == "__main__":
    raise SystemExit(train_cli("imarl", sys.argv[1:]))

def run_trial(args: Args) -> dict[str, Any] | None:
    """The grid runner's entry point: :func:`run_imarl` with PPO."""
    return run_imarl(args)
