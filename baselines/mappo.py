"""MAPPO for multi-echelon inventory: MARL and MARL+GNN (SPEC section 7), CleanRL-style, top to bottom.

One agent per stock point observes its own scaled inventory position (``view="marl"`` of
:class:`~meio_envs.envs.batched_ma.BatchedMultiAgent`). All retailers share one actor; every other
stock point has its own actor; each is a (64, 64) ReLU MLP giving the mean of a Gaussian with a
state-independent log-std (see :mod:`baselines.common.ppo` for how sampled actions are clipped).
One centralised critic reads the global state (``marl``) or a graph-attention embedding of the
network (``marl-gnn``, :class:`baselines.gnn.GATEncoder`) and outputs one value per agent, because
each agent has its own reward stream (retailers: own cost; others: total cost).

    meio train marl A1 --seed 0 --episodes 2000 --num-envs 64
    meio train marl-gnn B1 --episodes 2000 --device auto
    meio evaluate runs/marl/A1/seed0/best.pt

Rollouts of all B copies run on the CPU as arrays; network updates run on ``--device`` (GPU when
available). Episodes are truncated after 128 periods and bootstrapped (never terminated). Every
``eval_every`` training episodes the deterministic joint policy is scored with the shared evaluation
protocol (:func:`meio_envs.evaluation.evaluate`, fixed seeds); the best is kept.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import tyro
from torch import nn

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
from baselines.common.records import TrialIdentity, utc_now
from baselines.common.trial import (
    check_budget, check_run_name, finish, finished_result, open_run_dir, result_config, run_and_record,
    summary_line,
)
from baselines.common.rollout import RolloutBuffer, RolloutState, collect_rollout, train_seed_offset
from baselines.common.train_loop import EvalSchedule, LearningCurve, make_progress, set_costs
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import BatchedMultiAgent, graph_inputs
from meio_envs.evaluation import EVAL_SEED, da_policy, evaluate
from meio_envs.scenarios import parse_scenario_id

__all__ = [
    "Args",
    "CentralCritic",
    "GraphCritic",
    "MultiActor",
    "evaluate_cli",
    "joint_policy",
    "make_args",
    "run_trial",
    "train",
    "train_cli",
]

_LOG_SQRT_2PI_E = 0.5 * (1.0 + np.log(2.0 * np.pi))  # Gaussian entropy = this + log_std


@dataclass
class Args:
    """MAPPO hyperparameters (defaults: the report's Appendix B and table B.3)."""

    scenario: tyro.conf.Positional[str] = "A1"
    """Grid scenario id (e.g. A1, B1, D1)."""
    model: Literal["marl", "marl-gnn"] = "marl"
    """Critic input: the global state (marl) or a GAT embedding of the network (marl-gnn)."""
    seed: int = 0
    """Seed of network initialisation, action noise, minibatch order and training episodes."""
    episodes: int = 20_000
    """Training budget in episodes (one episode = episode_length periods of one copy); a hard bound, rounded
    down to whole rollouts (num_envs x num_steps periods each)."""
    num_envs: int = 4
    """B, copies stepped together (the report: 4). Larger B = larger, fewer updates = faster."""
    num_steps: int = 256
    """Periods per copy per rollout (the report: 256). A multiple of episode_length makes resume exact."""
    learning_rate: float = 1e-4
    """Adam learning rate of actors and critic."""
    anneal_lr: bool = False
    """Linearly anneal the learning rate to 0 over the budget."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    num_minibatches: int = 16
    """Minibatches per epoch."""
    update_epochs: int = 4
    """PPO epochs per rollout."""
    clip_coef: float = 0.2
    """PPO clip of the policy ratio and of the value change."""
    clip_vloss: bool = True
    """Clip the value loss (the report clips both)."""
    norm_adv: bool = True
    """Normalise advantages per agent within each minibatch."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden sizes of every actor and of the critic head."""
    gnn_hidden: tuple[int, ...] = (16, 16, 16)
    """GAT layer sizes (marl-gnn)."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian actions (actions live in [-1, 1])."""
    share_retailer_actor: bool = True
    """One actor for all retailers (the report) instead of one per retailer."""
    episode_length: int = 128
    """Training episode length (periods); truncated and bootstrapped, never terminated."""
    eval_every: int = 100
    """Evaluate every this many training episodes (SPEC section 5: 100)."""
    eval_episodes: int = 100
    """Episodes per evaluation (the protocol: 100 x 75 periods, 25 warm-up, fixed seeds)."""
    device: str = "auto"
    """Where updates run: auto (GPU if available), cpu, cuda. Rollouts always run on the CPU."""
    out: str = "runs"
    """Root of run folders <out>/<model>/<scenario>/seed<seed>/ (curve.csv, tb/, checkpoint.pt, best.pt)."""
    run_name: str | None = None
    """Run folder name under <out> instead of <model>/<scenario>/seed<seed>."""
    results: str | None = None
    """Results store (JSON lines) the finished trial's record goes to; default <out>/results.jsonl."""
    resume: bool = True
    """Continue from the run folder's checkpoint.pt when it exists (refused if the folder is another trial's)."""
    tensorboard: bool = True
    """Write TensorBoard scalars to <run>/tb."""
    progress: bool = True
    """Show a progress bar."""
    threads: int = 1
    """torch CPU threads (1 is fastest for these small networks on shared machines)."""
    stop_after: tyro.conf.Suppress[int | None] = None
    """Testing hook: return after this many checkpoints in this call, as if killed."""

    def __post_init__(self) -> None:
        if self.model not in ("marl", "marl-gnn"):
            raise ValueError(f"model must be 'marl' or 'marl-gnn', got {self.model!r}")
        structure, level = parse_scenario_id(self.scenario)
        self.scenario = f"{structure}{level}"
        check_budget(episodes=self.episodes, num_envs=self.num_envs, num_steps=self.num_steps,
                     num_minibatches=self.num_minibatches, update_epochs=self.update_epochs,
                     episode_length=self.episode_length, eval_every=self.eval_every,
                     eval_episodes=self.eval_episodes)
        if self.num_steps % self.episode_length and self.episode_length % self.num_steps:
            raise ValueError(f"num_steps={self.num_steps} and episode_length={self.episode_length} must divide "
                             "one another (copies stay in step with rollouts)")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError(f"num_envs * num_steps = {self.num_envs * self.num_steps} must split into "
                             f"num_minibatches={self.num_minibatches}")
        if self.total_steps < self.num_envs * self.num_steps:
            raise ValueError(f"episodes={self.episodes} is less than one rollout ({self.num_envs} copies x "
                             f"{self.num_steps} periods = {self.num_envs * self.num_steps / self.episode_length:g} "
                             "episodes)")
        if self.run_name is not None:
            check_run_name(self.run_name)

    @property
    def total_steps(self) -> int:
        """Env steps of the budget, rounded down to whole rollouts (never exceeded)."""
        rollout = self.num_envs * self.num_steps
        return self.episodes * self.episode_length // rollout * rollout

    def run_dir(self) -> Path:
        """The run folder."""
        return Path(self.out) / (self.run_name or f"{self.model}/{self.scenario}/seed{self.seed}")

    @property
    def store(self) -> Path:
        """Results store of this run."""
        return Path(self.results) if self.results else Path(self.out) / "results.jsonl"

    def identity(self) -> TrialIdentity:
        """The trial: scenario, model, seed and every result-changing option."""
        return TrialIdentity(self.scenario, self.model, self.seed, result_config(self))


# ----------------------------------------------------------------------------- networks
class MultiActor(nn.Module):
    """The actors of all P agents; agent i reads ``joint_obs[:, obs_index[i]]``.

    Agents are grouped (retailers share one actor when ``share_retailers``; every other agent is a
    group of one), and each group's actor runs once on the stacked observations of its agents.
    ``forward(joint_obs (N, obs_dim)) -> (mean (N, P), log_std (P,))``.
    """

    def __init__(self, obs_index: Sequence[np.ndarray], is_retailer: np.ndarray, hidden: Sequence[int] = (64, 64),
                 log_std_init: float = 0.0, share_retailers: bool = True) -> None:
        super().__init__()
        P = len(obs_index)
        ret = [i for i in range(P) if is_retailer[i]]
        groups = [[i] for i in range(P) if not is_retailer[i]]
        groups += [ret] if share_retailers and ret else [[i] for i in ret]
        groups.sort(key=lambda g: g[0])
        self.num_agents = P
        self.groups = [tuple(g) for g in groups]
        self.actors = nn.ModuleList()
        for k, g in enumerate(groups):
            dims = {len(obs_index[i]) for i in g}
            if len(dims) != 1:
                raise ValueError(f"agents {g} share an actor but observe {sorted(dims)} values")
            self.actors.append(GaussianActor(dims.pop(), hidden, log_std_init))
            self.register_buffer(f"agents_{k}", torch.as_tensor(g, dtype=torch.long), persistent=False)
            self.register_buffer(f"obs_{k}", torch.as_tensor(np.stack([obs_index[i] for i in g])),
                                 persistent=False)
        group_of = np.zeros(P, dtype=np.int64)
        for k, g in enumerate(groups):
            group_of[list(g)] = k
        self.register_buffer("group_of", torch.as_tensor(group_of), persistent=False)

    def forward(self, joint_obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means (N, P) and per-agent log-stds (P,)."""
        mean = joint_obs.new_empty(joint_obs.shape[0], self.num_agents)
        for k, actor in enumerate(self.actors):
            x = joint_obs[:, getattr(self, f"obs_{k}")]  # (N, n_k, d_k)
            mean[:, getattr(self, f"agents_{k}")] = actor(x)
        log_std = torch.stack([a.log_std for a in self.actors])[self.group_of]
        return mean, log_std


class CentralCritic(nn.Module):
    """Global state (N, state_dim) -> one value per agent (N, P)."""

    def __init__(self, state_dim: int, num_agents: int, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.net = mlp(state_dim, hidden, num_agents, out_gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values (N, P)."""
        return self.net(x)


class GraphCritic(nn.Module):
    """Node features (N, P, F) -> GAT embedding (N, P * 16) -> MLP -> one value per agent (N, P)."""

    def __init__(self, node_features: int, edge_index: np.ndarray, num_agents: int,
                 hidden: Sequence[int] = (64, 64), gnn_hidden: Sequence[int] = (16, 16, 16)) -> None:
        super().__init__()
        from baselines.gnn import GATEncoder

        self.encoder = GATEncoder(node_features, hidden=gnn_hidden)
        self.register_buffer("edge_index", torch.as_tensor(edge_index, dtype=torch.long), persistent=False)
        self.head = mlp(self.encoder.output_dim(num_agents), hidden, num_agents, out_gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values (N, P)."""
        return self.head(self.encoder(x, self.edge_index))


def critic_inputs(model: str, core: BatchedMEIO, joint_obs: np.ndarray) -> np.ndarray:
    """What the critic reads for joint observations (N, obs_dim): themselves, or (N, P, F) node features."""
    if model == "marl-gnn":
        return graph_inputs(core, joint_obs)[0]
    return np.asarray(joint_obs, dtype=np.float32)


def build_networks(args: Args, ma: BatchedMultiAgent) -> tuple[MultiActor, nn.Module]:
    """Actors and the critic for ``args.model`` on the multi-agent env ``ma`` (CPU)."""
    core = ma.core
    actor = MultiActor(ma.obs_index, core.params.is_retailer, args.hidden, args.log_std_init,
                       args.share_retailer_actor)
    critic: nn.Module
    if args.model == "marl-gnn":
        feats, edge_index = graph_inputs(core, np.zeros((1, core.obs_dim), np.float32))
        critic = GraphCritic(feats.shape[-1], edge_index, ma.num_agents, args.hidden, args.gnn_hidden)
    else:
        critic = CentralCritic(ma.state_dim, ma.num_agents, args.hidden)
    return actor, critic


def joint_policy(actor: MultiActor) -> Any:
    """The deterministic joint policy ``policy(obs, info) -> clip(mean, -1, 1)`` for :func:`evaluate`."""
    def policy(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            mean, _ = actor(torch.as_tensor(np.asarray(obs, dtype=np.float32)))
        return np.clip(mean.numpy(), -1.0, 1.0)

    return policy


# ----------------------------------------------------------------------------- training
def train(args: Args) -> dict[str, Any] | None:
    """Train one trial and append its record to the results store once (a finished trial is skipped).

    None only when the ``stop_after`` test hook stopped the call early.
    """
    return run_and_record(args.identity(), args.store, lambda: run_trial(args))


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Args:
    """Options for the grid runner (tuples may come as lists)."""
    for k in ("hidden", "gnn_hidden"):
        if k in options:
            options[k] = tuple(options[k])
    return Args(scenario=scenario, model=model, seed=seed, **options)  # type: ignore[arg-type]


def run_trial(args: Args) -> dict[str, Any] | None:
    """Train (or resume) MAPPO in its run folder; returns the trial's record. Writes only under the run folder."""
    ident = args.identity()
    run_dir = open_run_dir(args.run_dir(), ident, args.resume)
    done = finished_result(run_dir, ident)
    if done is not None:
        return done
    torch.set_num_threads(args.threads)
    device = torch.device(resolve_device(args.device))
    ckpt_path = run_dir / "checkpoint.pt"
    batch_size = args.num_envs * args.num_steps

    # --- env, networks, optimiser, random streams
    ma = BatchedMultiAgent(args.scenario, view="marl", num_envs=args.num_envs, episode_length=args.episode_length)
    core, P = ma.core, ma.num_agents
    torch.manual_seed(args.seed)
    actor, critic = build_networks(args, ma)
    actor.to(device)
    critic.to(device)
    params = list(actor.parameters()) + list(critic.parameters())
    optimizer = torch.optim.Adam(params, lr=args.learning_rate, eps=1e-5)
    rollout_actor = actor if device.type == "cpu" else copy.deepcopy(actor).cpu()  # rollouts on the CPU
    noise = torch.Generator().manual_seed(args.seed)  # action noise
    np_rng = np.random.default_rng(args.seed)  # minibatch order
    rstate = RolloutState(seed_offset=train_seed_offset(args.seed))
    buf = RolloutBuffer.allocate(args.num_steps, args.num_envs, core.obs_dim, P, P)

    heuristic_cost = evaluate(da_policy(core.params), core, episodes=args.eval_episodes).mean
    state: dict[str, Any] = {"updates": 0, "env_steps": 0, "elapsed": 0.0, "best_cost": float("inf"),
                             "best_episodes": 0, "best_actor": None, "curve": [], "next_eval": 0,
                             "started_at": utc_now()}

    payload = load_checkpoint(ckpt_path) if args.resume else None
    if payload is not None:
        actor.load_state_dict(payload["actor"])
        critic.load_state_dict(payload["critic"])
        optimizer.load_state_dict(payload["optimizer"])
        noise.set_state(payload["noise"])
        np_rng.bit_generator.state = payload["np_rng"]
        rstate.episode_batches, rstate.episodes_done = payload["episode_batches"], payload["episodes_done"]
        state.update(payload["state"])
        rollout_actor.load_state_dict(actor.state_dict())

    curve = LearningCurve(run_dir, rows=state["curve"], tensorboard=args.tensorboard)
    bar = make_progress(args.total_steps, initial=state["env_steps"],
                        desc=f"{args.model} {args.scenario}", disable=not args.progress)
    schedule = EvalSchedule(args.eval_every, next_at=state["next_eval"])
    t_start = time.perf_counter() - state["elapsed"]

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with torch.no_grad():
            mean, log_std = rollout_actor(torch.from_numpy(obs))
            raw = mean + log_std.exp() * torch.randn(mean.shape, generator=noise)
            logp = gaussian_log_prob(mean, log_std, raw)
        raw_np = raw.numpy()
        return np.clip(raw_np, -1.0, 1.0), raw_np, logp.numpy()

    def evaluate_now() -> None:
        res = evaluate(joint_policy(rollout_actor), core, episodes=args.eval_episodes)
        if res.mean < state["best_cost"]:
            state["best_cost"], state["best_episodes"] = res.mean, rstate.episodes_done
            state["best_actor"] = copy.deepcopy(rollout_actor.state_dict())
            save_checkpoint(run_dir / "best.pt", {"model": args.model, "args": asdict(args),
                                                  "actor": state["best_actor"], "cost": res.mean})
        curve.log(rstate.episodes_done, state["env_steps"], time.perf_counter() - t_start, res.mean,
                  state["best_cost"], {"eval_se": res.se, "heuristic_cost": heuristic_cost,
                                       "updates": state["updates"]})
        state["curve"] = curve.rows
        set_costs(bar, state["best_cost"], heuristic_cost, res.mean)

    def checkpoint() -> None:
        state["elapsed"] = time.perf_counter() - t_start
        state["next_eval"] = schedule.next_at
        save_checkpoint(ckpt_path, {
            "model": args.model, "args": asdict(args), "actor": actor.state_dict(), "critic": critic.state_dict(),
            "optimizer": optimizer.state_dict(), "noise": noise.get_state(), "np_rng": np_rng.bit_generator.state,
            "episode_batches": rstate.episode_batches, "episodes_done": rstate.episodes_done, "state": state})

    if rstate.episodes_done == 0 and not state["curve"]:
        evaluate_now()  # the untrained policy: the curve's first point

    checkpoints = 0
    while state["env_steps"] < args.total_steps:
        # --- rollout (CPU, all B copies as arrays)
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = args.learning_rate * (1.0 - rstate.episodes_done / args.episodes)
        collect_rollout(ma, buf, rstate, act)
        state["env_steps"] += batch_size

        # --- values of every state and every next state in one pass, then GAE per agent
        obs_t = torch.as_tensor(buf.obs.reshape(batch_size, -1), device=device)
        crit_in = torch.as_tensor(critic_inputs(args.model, core, buf.obs.reshape(batch_size, -1)), device=device)
        with torch.no_grad():
            values = critic(crit_in)
            next_in = torch.as_tensor(critic_inputs(args.model, core, buf.next_obs.reshape(batch_size, -1)),
                                      device=device)
            next_values = critic(next_in)
        shape = (args.num_steps, args.num_envs, P)
        adv, ret = compute_gae(buf.rewards, values.cpu().numpy().reshape(shape),
                               next_values.cpu().numpy().reshape(shape), buf.episode_end,
                               args.gamma, args.gae_lambda)
        act_t = torch.as_tensor(buf.actions.reshape(batch_size, P), device=device)
        logp_t = torch.as_tensor(buf.logprobs.reshape(batch_size, P), device=device)
        adv_t = torch.as_tensor(adv.reshape(batch_size, P), device=device)
        ret_t = torch.as_tensor(ret.reshape(batch_size, P), device=device)

        # --- PPO update (clipped surrogate per agent, one value per agent)
        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            mean, log_std = actor(obs_t[idx])
            new_logp = gaussian_log_prob(mean, log_std, act_t[idx])
            a = normalize(adv_t[idx], dim=0) if args.norm_adv else adv_t[idx]
            pg_loss, kl, clipfrac = clipped_policy_loss(new_logp, logp_t[idx], a, args.clip_coef)
            v = critic(crit_in[idx])
            if args.clip_vloss:
                v_loss = clipped_value_loss(v, values[idx], ret_t[idx], args.clip_coef)
            else:
                v_loss = 0.5 * ((v - ret_t[idx]) ** 2).mean()
            entropy = (_LOG_SQRT_2PI_E + log_std).mean()
            loss = pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss
            return loss, {"policy_loss": pg_loss.detach(), "value_loss": v_loss.detach(), "approx_kl": kl,
                          "clipfrac": clipfrac, "entropy": entropy.detach()}

        stats = ppo_epochs(batch_size, args.update_epochs, args.num_minibatches, loss_fn, optimizer, params,
                           args.max_grad_norm, np_rng, device)
        if rollout_actor is not actor:
            rollout_actor.load_state_dict(actor.state_dict())
        state["updates"] += 1
        stats["mean_reward"] = float(buf.rewards.mean())
        for k, v in stats.items():
            curve.scalar(f"train/{k}", v, state["env_steps"])
        bar.update(batch_size)

        # --- evaluation every eval_every episodes, checkpoint after it
        if schedule.due(rstate.episodes_done) or state["env_steps"] >= args.total_steps:
            evaluate_now()
            checkpoint()
            checkpoints += 1
            if args.stop_after is not None and checkpoints >= args.stop_after and state["env_steps"] < args.total_steps:
                curve.close()
                bar.close()
                return None
    curve.close()
    bar.close()

    wall = time.perf_counter() - t_start
    result = {
        "best_cost": state["best_cost"], "heuristic_cost": heuristic_cost,
        "savings": (heuristic_cost - state["best_cost"]) / heuristic_cost, "eval_seed": EVAL_SEED,
        "eval_episodes": args.eval_episodes, "env_steps": state["env_steps"],
        "episodes": state["env_steps"] // args.episode_length, "best_episodes": state["best_episodes"],
        "updates": state["updates"], "run_dir": str(run_dir), "curve": str(run_dir / "curve.csv"),
        "best_model": str(run_dir / "best.pt"),
    }
    return finish(run_dir, ident, result, str(device), state.get("started_at", utc_now()), wall)


# ----------------------------------------------------------------------------- CLI
def train_cli(model: str, argv: Sequence[str]) -> int:
    """``meio train marl|marl-gnn <scenario> [--seed --episodes --num-envs --device --out --results ...]``."""
    try:
        args = tyro.cli(Args, args=list(argv), default=Args(model=model), prog=f"meio train {model}")  # type: ignore[arg-type]
        args.model = model  # type: ignore[assignment]
    except ValueError as e:
        print(f"meio train {model}: {e}", file=sys.stderr)
        return 2
    rec = train(args)
    if rec is not None:
        print(summary_line(rec))
    return 0


@dataclass
class EvalArgs:
    """Options of ``meio evaluate <checkpoint>`` for MAPPO checkpoints."""

    scenario: str | None = None
    """Evaluate on this scenario instead of the one trained on (same network needed)."""
    episodes: int = 100
    """Evaluation episodes."""
    current: bool = False
    """Use the latest weights of a checkpoint.pt instead of its best weights."""
    plot: str | None = None
    """Write learned-policy plots (order vs IP per stock point) to this PNG."""
    plot_periods: int = 20_000
    """Periods simulated for the policy plot."""


def load_actor(payload: Mapping[str, Any], current: bool = False) -> tuple[MultiActor, BatchedMultiAgent]:
    """Rebuild the actors saved in a checkpoint.pt / best.pt payload."""
    a = Args(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in payload["args"].items()})
    ma = BatchedMultiAgent(a.scenario, view="marl", num_envs=1)
    actor, _ = build_networks(a, ma)
    state = payload["actor"] if current or payload.get("state", {}).get("best_actor") is None \
        else payload["state"]["best_actor"]
    actor.load_state_dict(state)
    actor.eval()
    return actor, ma


def evaluate_cli(path: str, argv: Sequence[str]) -> int:
    """Evaluate a MAPPO checkpoint (best weights by default) with the grid protocol, next to DA."""
    ea = tyro.cli(EvalArgs, args=list(argv), prog=f"meio evaluate {path}")
    payload = load_checkpoint(path)
    assert payload is not None
    actor, ma = load_actor(payload, ea.current)
    scenario = ea.scenario or payload["args"]["scenario"]
    core = BatchedMEIO(scenario)
    res = evaluate(joint_policy(actor), core, episodes=ea.episodes)
    da = evaluate(da_policy(core.params), core, episodes=ea.episodes)
    print(json.dumps({"scenario": scenario, "model": payload["model"], "cost": res.mean, "se": res.se,
                      "heuristic_cost": da.mean, "savings": res.savings_vs(da)}, indent=2))
    if ea.plot:
        from baselines.policy_plots import plot_policy

        plot_policy(joint_policy(actor), scenario, ea.plot, periods=ea.plot_periods,
                    title=f"{payload['model']} on {scenario}")
        print(f"policy plot: {ea.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(train_cli(sys.argv[1] if len(sys.argv) > 1 else "marl", sys.argv[2:]))
