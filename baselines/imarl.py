"""IMARL: iterative multi-agent RL (the report's section 3.4.5 and Table 5; SPEC section 7).

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
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
import tyro

from baselines.common.checkpoint import load_checkpoint, save_checkpoint
from baselines.common.device import resolve_device
from baselines.common.gae import compute_gae
from baselines.common.ppo import (
    GaussianActor,
    clipped_policy_loss,
    clipped_value_loss,
    gaussian_log_prob,
    mlp,
    normalize,
    ppo_epochs,
)
from baselines.common.files import atomic_write_text
from baselines.common.records import TrialIdentity, utc_now
from baselines.common.trial import (
    check_budget, check_run_name, finish, finished_result, open_run_dir, result_config, run_and_record,
    summary_line,
)
from baselines.common.rollout import RolloutBuffer, RolloutState, collect_rollout, train_seed_offset
from baselines.common.train_loop import LearningCurve, make_progress, rng_state, set_costs, set_rng_state
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import BatchedMultiAgent
from meio_envs.evaluation import EVAL_SEED, EvalResult, da_policy, evaluate
from meio_envs.network import NetworkSpec
from meio_envs.scenarios import parse_scenario_id

__all__ = [
    "AgentResult",
    "Args",
    "JointPolicy",
    "PPOAgentTrainer",
    "evaluate_cli",
    "initial_jobs",
    "make_args",
    "pop_job",
    "push_neighbours",
    "run_imarl",
    "train",
    "train_cli",
]

Order = Literal["downstream-first", "upstream-first", "greedy"]
_LOG_SQRT_2PI_E = 0.5 * (1.0 + np.log(2.0 * np.pi))


@dataclass
class Args:
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
        structure, level = parse_scenario_id(self.scenario)
        self.scenario = f"{structure}{level}"
        check_budget(episodes_per_iteration=self.episodes_per_iteration, episodes=self.episodes,
                     max_agent_iterations=self.max_agent_iterations, num_envs=self.num_envs,
                     num_steps=self.num_steps, num_minibatches=self.num_minibatches,
                     update_epochs=self.update_epochs, episode_length=self.episode_length,
                     eval_every=self.eval_every, eval_episodes=self.eval_episodes)
        if self.num_steps % self.episode_length and self.episode_length % self.num_steps:
            raise ValueError(f"num_steps={self.num_steps} and episode_length={self.episode_length} must divide "
                             "one another (copies stay in step with rollouts)")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError(f"num_envs * num_steps = {self.num_envs * self.num_steps} must split into "
                             f"num_minibatches={self.num_minibatches}")
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

    def run_dir(self) -> Path:
        """The run folder."""
        return Path(self.out) / (self.run_name or f"{self.model_name}/{self.scenario}/seed{self.seed}")

    @property
    def store(self) -> Path:
        """Results store of this run."""
        return Path(self.results) if self.results else Path(self.out) / "results.jsonl"

    def identity(self) -> TrialIdentity:
        """The trial: scenario, model, seed and every result-changing option."""
        return TrialIdentity(self.scenario, self.model_name, self.seed, result_config(self))


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

    ``modules[i]`` is agent i's :class:`GaussianActor` (CPU) or ``None`` for the DA base policy.
    ``override`` replaces one agent's module (the active agent's current actor during evaluation).
    Callable as an evaluation policy ``policy(obs, info) -> actions (B, P)``.
    """

    def __init__(self, ma: BatchedMultiAgent, modules: Sequence[GaussianActor | None],
                 override: tuple[int, GaussianActor] | None = None, da: Any = None) -> None:
        self.obs_index = ma.obs_index
        self.modules = list(modules)
        if override is not None:
            self.modules[override[0]] = override[1]
        self.da = None
        if any(m is None for m in self.modules):
            self.da = da if da is not None else da_policy(ma.core.params)

    def actions(self, obs: np.ndarray, info: Mapping[str, np.ndarray], skip: int | None = None) -> np.ndarray:
        """(B, P) actions; column ``skip`` is left at 0 (the caller fills in the active agent's)."""
        obs = np.asarray(obs, dtype=np.float32)
        out = self.da(obs, info).astype(np.float32) if self.da is not None else \
            np.zeros((obs.shape[0], len(self.modules)), np.float32)
        with torch.no_grad():
            for i, m in enumerate(self.modules):
                if m is not None and i != skip:
                    out[:, i] = m(torch.from_numpy(obs[:, self.obs_index[i]])).clamp(-1.0, 1.0).numpy()
        if skip is not None:
            out[:, skip] = 0.0
        return out

    def __call__(self, obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.actions(obs, info)


def actor_from_state(in_dim: int, hidden: Sequence[int], state: Mapping[str, Any]) -> GaussianActor:
    """A CPU actor with saved weights, in eval mode."""
    a = GaussianActor(in_dim, hidden)
    a.load_state_dict(state)
    return a.eval()


def random_base_state(args: Args, agent: int, in_dim: int) -> dict[str, Any]:
    """The random base network of an agent (``--base-policy random``): seeded by (seed, agent)."""
    g = torch.Generator().manual_seed(10_007 * (args.seed + 1) + agent)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
        return copy.deepcopy(GaussianActor(in_dim, args.hidden, args.log_std_init).state_dict())


# ----------------------------------------------------------------------------- one agent-iteration
@dataclass
class AgentResult:
    """Outcome of training one agent for one agent-iteration."""

    best_cost: float  # best joint evaluation cost seen during the iteration
    best_node_costs: np.ndarray | None  # (P,) mean node costs of that evaluation
    best_state: dict[str, Any] | None  # {"actor": ..., "critic": ...} of the best policy
    episodes: int  # training episodes run
    env_steps: int  # environment steps run


class AgentTrainer(Protocol):
    """Trains one agent against the others' fixed policies (tests pass a fake)."""

    def __call__(self, agent: int, saved: list[dict[str, Any] | None], seed: int,
                 on_eval: Callable[[dict[str, Any]], None], steps: int) -> AgentResult: ...


class PPOAgentTrainer:
    """PPO for the active agent; the others act deterministically (saved mean action or base policy)."""

    def __init__(self, args: Args, ma: BatchedMultiAgent, device: torch.device) -> None:
        self.args, self.ma, self.device = args, ma, device

    def modules(self, saved: list[dict[str, Any] | None]) -> list[GaussianActor | None]:
        """Every agent's deterministic policy network (None = DA base policy)."""
        a, out = self.args, []
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
        a, ma, device = self.args, self.ma, self.device
        core, d = ma.core, ma.obs_dims[agent]
        B, T = a.num_envs, a.num_steps
        batch = B * T
        obs_ix = ma.obs_index[agent]
        torch.manual_seed(seed)
        # --- the active agent's networks: continue from its saved network, else the random base, else fresh
        actor = GaussianActor(d, a.hidden, a.log_std_init)
        critic = mlp(d, a.hidden, 1, out_gain=1.0)
        if saved[agent] is not None:
            actor.load_state_dict(saved[agent]["actor"])  # type: ignore[index]
            critic.load_state_dict(saved[agent]["critic"])  # type: ignore[index]
        elif a.base_policy == "random":
            actor.load_state_dict(random_base_state(a, agent, d))
        others = JointPolicy(ma, self.modules(saved))
        if saved[agent] is None and a.base_policy == "da" and a.init_active == "bc":
            behaviour_clone(actor, ma, others, agent, seed)
            with torch.no_grad():
                actor.log_std.fill_(a.bc_log_std)
        actor.to(device)
        critic.to(device)
        rollout_actor = actor if device.type == "cpu" else copy.deepcopy(actor).cpu()
        params = list(actor.parameters()) + list(critic.parameters())
        optimizer = torch.optim.Adam(params, lr=a.learning_rate, eps=1e-5)
        noise = torch.Generator().manual_seed(seed)
        np_rng = np.random.default_rng(seed)
        rstate = RolloutState(seed_offset=train_seed_offset(a.seed) + (seed % 10_000) * 1_000_000)
        buf = RolloutBuffer.allocate(T, B, core.obs_dim, 1, 1)

        def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            env_actions = others.actions(obs, info, skip=agent)
            with torch.no_grad():
                x = torch.from_numpy(obs[:, obs_ix])
                mean = rollout_actor(x)
                log_std = rollout_actor.log_std
                raw = mean + log_std.exp() * torch.randn(mean.shape, generator=noise)
                logp = gaussian_log_prob(mean, log_std, raw)
            raw_np = raw.numpy()
            env_actions[:, agent] = np.clip(raw_np, -1.0, 1.0)
            return env_actions, raw_np[:, None], logp.numpy()[:, None]

        best = AgentResult(float("inf"), None, None, 0, 0)
        next_eval = a.eval_every
        while best.env_steps < steps:
            collect_rollout(ma, buf, rstate, act, reward_columns=[agent])
            best.env_steps += batch
            x = torch.as_tensor(buf.obs[:, :, obs_ix].reshape(batch, d), device=device)
            with torch.no_grad():
                values = critic(x)
                next_values = critic(torch.as_tensor(buf.next_obs[:, :, obs_ix].reshape(batch, d), device=device))
            adv, ret = compute_gae(buf.rewards, values.cpu().numpy().reshape(T, B, 1),
                                   next_values.cpu().numpy().reshape(T, B, 1), buf.episode_end,
                                   a.gamma, a.gae_lambda)
            act_t = torch.as_tensor(buf.actions.reshape(batch), device=device)
            logp_t = torch.as_tensor(buf.logprobs.reshape(batch), device=device)
            adv_t = torch.as_tensor(adv.reshape(batch), device=device)
            ret_t = torch.as_tensor(ret.reshape(batch, 1), device=device)

            def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
                new_logp = gaussian_log_prob(actor(x[idx]), actor.log_std, act_t[idx])
                adv_mb = normalize(adv_t[idx]) if a.norm_adv else adv_t[idx]
                pg, kl, cf = clipped_policy_loss(new_logp, logp_t[idx], adv_mb, a.clip_coef)
                v_loss = clipped_value_loss(critic(x[idx]), values[idx], ret_t[idx], a.clip_coef)
                entropy = _LOG_SQRT_2PI_E + actor.log_std
                loss = pg - a.ent_coef * entropy + a.vf_coef * v_loss
                return loss, {"policy_loss": pg.detach(), "value_loss": v_loss.detach(), "approx_kl": kl}

            ppo_epochs(batch, a.update_epochs, a.num_minibatches, loss_fn, optimizer, params, a.max_grad_norm,
                       np_rng, device)
            if rollout_actor is not actor:
                rollout_actor.load_state_dict(actor.state_dict())
            if rstate.episodes_done >= next_eval or best.env_steps >= steps:
                next_eval = (rstate.episodes_done // a.eval_every + 1) * a.eval_every
                res = evaluate(JointPolicy(ma, others.modules, override=(agent, rollout_actor.eval()), da=others.da), core,
                               episodes=a.eval_episodes)
                rollout_actor.train()
                if res.mean < best.best_cost:
                    best.best_cost, best.best_node_costs = res.mean, res.node_costs.mean(axis=0)
                    best.best_state = {"actor": copy.deepcopy({k: v.cpu() for k, v in actor.state_dict().items()}),
                                       "critic": copy.deepcopy({k: v.cpu() for k, v in critic.state_dict().items()})}
                on_eval({"episodes": rstate.episodes_done, "eval_cost": res.mean, "eval_se": res.se,
                         "iteration_best": best.best_cost, "new_episodes": rstate.episodes_done - best.episodes,
                         "env_steps": best.env_steps})
                best.episodes = rstate.episodes_done
        best.episodes = best.env_steps // a.episode_length  # episode-equivalents, the budget's unit
        return best


def behaviour_clone(actor: GaussianActor, ma: BatchedMultiAgent, joint: JointPolicy, agent: int, seed: int,
                    copies: int = 64, periods: int = 128, steps: int = 600) -> float:
    """Fit ``actor``'s mean to the DA base-stock action of ``agent`` (MSE); returns the final loss.

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
        loss = ((actor(x[idx]) - target[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


# ----------------------------------------------------------------------------- the IMARL loop
def evaluate_saved(args: Args, ma: BatchedMultiAgent, saved: list[dict[str, Any] | None]) -> EvalResult:
    """Cost of the saved joint policy on the evaluation protocol."""
    return evaluate(JointPolicy(ma, PPOAgentTrainer(args, ma, torch.device("cpu")).modules(saved)), ma.core,
                    episodes=args.eval_episodes)


def train(args: Args) -> dict[str, Any] | None:
    """Train one IMARL trial and append its record to the results store once (a finished trial is skipped).

    None only when the ``stop_after`` test hook stopped the call early.
    """
    return run_and_record(args.identity(), args.store, lambda: run_imarl(args))


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

    ``trainer`` / ``evaluator`` default to PPO and the shared evaluation protocol; tests inject fakes.
    Writes only under the run folder; :func:`train` adds the results store.
    """
    ident = args.identity()
    run_dir = open_run_dir(args.run_dir(), ident, args.resume)
    done = finished_result(run_dir, ident)
    if done is not None:
        return done
    torch.set_num_threads(args.threads)
    device = torch.device(resolve_device(args.device))
    ckpt_path = run_dir / "checkpoint.pt"
    ma = BatchedMultiAgent(args.scenario, view="imarl", num_envs=args.num_envs, episode_length=args.episode_length)
    net = ma.core.params.network
    P = ma.num_agents
    trainer = trainer or PPOAgentTrainer(args, ma, device)
    evaluator = evaluator or (lambda saved: evaluate_saved(args, ma, saved))
    heuristic_cost = evaluate(da_policy(ma.core.params), ma.core, episodes=args.eval_episodes).mean

    payload = load_checkpoint(ckpt_path) if args.resume else None
    master = np.random.default_rng(args.seed)
    if payload is None:
        saved: list[dict[str, Any] | None] = [None] * P
        first = evaluator(saved)
        st: dict[str, Any] = {
            "saved": saved, "jobs": initial_jobs(net, args.order), "iteration": 0, "episodes": 0, "env_steps": 0,
            "joint_cost": first.mean, "initial_cost": first.mean, "node_costs": first.node_costs.mean(axis=0),
            "history": [], "curve": [], "elapsed": 0.0, "first_beat": None, "started_at": utc_now(),
        }
    else:
        st = payload["state"]
        master.bit_generator.state = payload["master_rng"]
        set_rng_state(payload["rng"])
    curve = LearningCurve(run_dir, rows=st["curve"], tensorboard=args.tensorboard)
    bar = make_progress(args.episodes_per_iteration * args.episode_length, desc="imarl", disable=not args.progress)
    t0 = time.perf_counter() - st["elapsed"]
    iterations_this_call = 0

    def write_history() -> None:
        keys = ["iteration", "agent", "agent_name", "episodes", "total_episodes", "best_cost", "previous_cost",
                "accepted", "pushed", "job_list", "wall_time_s"]
        lines = [",".join(keys)] + [",".join(
            " ".join(net.names[j] for j in h[k]) if isinstance(h[k], list) else str(h[k]) for k in keys)
            for h in st["history"]]
        atomic_write_text(run_dir / "iterations.csv", "\n".join(lines) + "\n")

    while st["jobs"]:
        if args.max_agent_iterations is not None and st["iteration"] >= args.max_agent_iterations:
            break
        steps = args.iteration_steps(st["episodes"])
        if steps <= 0:  # the total budget leaves less than one rollout
            break
        if args.stop_after is not None and iterations_this_call >= args.stop_after:
            curve.close()
            bar.close()
            return None
        potential = improvement_potential(st["node_costs"], ma.reward_matrix) if args.order == "greedy" else None
        agent = pop_job(st["jobs"], args.order, potential)
        seed = int(master.integers(0, 2**31 - 1))
        it, base_eps = st["iteration"], st["episodes"]
        bar.reset(total=steps)
        bar.set_description(f"it {it} agent {net.names[agent]}")

        def on_eval(row: dict[str, Any], it: int = it, agent: int = agent, base_eps: int = base_eps) -> None:
            total = base_eps + row["episodes"]
            wall = round(time.perf_counter() - t0, 3)
            if st["first_beat"] is None and row["eval_cost"] < heuristic_cost:
                st["first_beat"] = {"wall_time_s": wall, "episodes": total}
            curve.log(total, st["env_steps"] + row["env_steps"], wall, row["eval_cost"], min(row["iteration_best"],
                      st["joint_cost"]), {"iteration": it, "agent": agent, "eval_se": row["eval_se"],
                                          "iteration_best": row["iteration_best"], "joint_cost": st["joint_cost"],
                                          "heuristic_cost": heuristic_cost})
            bar.update(row["new_episodes"] * args.episode_length)
            set_costs(bar, st["joint_cost"], heuristic_cost, row["eval_cost"])

        res = trainer(agent, st["saved"], seed, on_eval, steps)
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
        st["iteration"] += 1
        st["history"].append({
            "iteration": it, "agent": agent, "agent_name": net.names[agent], "episodes": res.episodes,
            "total_episodes": st["episodes"], "best_cost": res.best_cost, "previous_cost": previous,
            "accepted": accepted, "pushed": pushed, "job_list": list(st["jobs"]),
            "wall_time_s": round(time.perf_counter() - t0, 3)})
        st["curve"] = curve.rows
        st["elapsed"] = time.perf_counter() - t0
        save_checkpoint(ckpt_path, {"model": "imarl", "args": asdict(args), "state": st,
                                    "master_rng": master.bit_generator.state, "rng": rng_state()})
        write_history()
        iterations_this_call += 1
    curve.close()
    bar.close()

    wall = time.perf_counter() - t0
    fb = st["first_beat"] or {}
    result = {
        "best_cost": st["joint_cost"], "heuristic_cost": heuristic_cost,
        "savings": (heuristic_cost - st["joint_cost"]) / heuristic_cost, "eval_seed": EVAL_SEED,
        "eval_episodes": args.eval_episodes, "env_steps": st["env_steps"], "episodes": st["episodes"],
        "initial_cost": st["initial_cost"], "agent_iterations": st["iteration"], "equilibrium": not st["jobs"],
        "job_sequence": [h["agent_name"] for h in st["history"]],
        "accepted": [bool(h["accepted"]) for h in st["history"]],
        "time_to_beat_heuristic_s": fb.get("wall_time_s"), "episodes_to_beat_heuristic": fb.get("episodes"),
        "run_dir": str(run_dir), "curve": str(run_dir / "curve.csv"), "iterations": str(run_dir / "iterations.csv"),
        "best_model": str(run_dir / "checkpoint.pt"),
    }
    return finish(run_dir, ident, result, str(device), st.get("started_at", utc_now()), wall)


# ----------------------------------------------------------------------------- CLI
def train_cli(model: str, argv: Sequence[str]) -> int:
    """``meio train imarl <scenario> [--seed --episodes-per-iteration --max-agent-iterations --order ...]``."""
    try:
        args = tyro.cli(Args, args=list(argv), prog=f"meio train {model}")
    except ValueError as e:
        print(f"meio train {model}: {e}", file=sys.stderr)
        return 2
    rec = train(args)
    if rec is not None:
        r = rec["result"]
        print(summary_line(rec) + f"; {r['agent_iterations']} agent-iterations, equilibrium={r['equilibrium']}")
    return 0


@dataclass
class EvalArgs:
    """Options of ``meio evaluate <imarl checkpoint>``."""

    episodes: int = 100
    """Evaluation episodes."""
    plot: str | None = None
    """Write learned-policy plots (order vs IP per stock point) to this PNG."""
    plot_periods: int = 20_000
    """Periods simulated for the policy plot."""


def load_joint_policy(path: str) -> tuple[JointPolicy, Args, BatchedMultiAgent]:
    """The saved joint policy of an IMARL checkpoint."""
    payload = load_checkpoint(path)
    if payload is None:
        raise FileNotFoundError(path)
    a = Args(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in payload["args"].items()})
    ma = BatchedMultiAgent(a.scenario, view="imarl", num_envs=1)
    pol = JointPolicy(ma, PPOAgentTrainer(a, ma, torch.device("cpu")).modules(payload["state"]["saved"]))
    return pol, a, ma


def evaluate_cli(path: str, argv: Sequence[str]) -> int:
    """Evaluate an IMARL checkpoint's saved joint policy with the grid protocol, next to DA."""
    ea = tyro.cli(EvalArgs, args=list(argv), prog=f"meio evaluate {path}")
    pol, a, _ = load_joint_policy(path)
    core = BatchedMEIO(a.scenario)
    res = evaluate(pol, core, episodes=ea.episodes)
    da = evaluate(da_policy(core.params), core, episodes=ea.episodes)
    print(json.dumps({"scenario": a.scenario, "model": "imarl", "cost": res.mean, "se": res.se,
                      "heuristic_cost": da.mean, "savings": res.savings_vs(da)}, indent=2))
    if ea.plot:
        from baselines.policy_plots import plot_policy

        plot_policy(pol, a.scenario, ea.plot, periods=ea.plot_periods, title=f"IMARL on {a.scenario}")
        print(f"policy plot: {ea.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(train_cli("imarl", sys.argv[1:]))

run_trial = run_imarl  # the grid runner calls every trainer module's run_trial(args)
