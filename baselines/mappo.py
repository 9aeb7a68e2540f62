"""MAPPO for multi-echelon inventory: MARL and MARL+GNN (docs/multi_agent.md), CleanRL-style, top to bottom.

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
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch
import tyro
from torch import nn

from baselines.common.batch_trials import SEEDS_HELP, Slot, batches, open_slots, record_trials, seeds_option, with_seeds
from baselines.common.checkpoint import save_checkpoint
from baselines.common.clock import TrialClock
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
    ppo_optimizer,
    trial_mean,
)
from baselines.common.records import utc_now
from baselines.common.rollout import RolloutBuffer, RolloutState, collect_rollout, per_copy, per_trial, train_seed_offset
from baselines.common.stacked import (
    fused_mlp,
    load_trial_state,
    num_trials,
    stack_modules,
    stack_optimizer_states,
    trial_optimizer_state,
    trial_state,
)
from baselines.common.train_loop import EvalSchedule, LearningCurve, make_progress, set_costs
from baselines.common.trial import (
    TrialOptions, check_budget, check_rollout, check_run_name, code_history, finish, summary_line,
)
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import BatchedMultiAgent, graph_inputs
from meio_envs.evaluation import EVAL_SEED, da_policy, evaluate, evaluate_many
from meio_envs.scenarios import canonical_scenario_id

__all__ = [
    "Args",
    "CentralCritic",
    "GraphCritic",
    "MultiActor",
    "joint_policy",
    "make_args",
    "run_trial",
    "run_trials",
    "train",
    "train_cli",
    "train_many",
]

_LOG_SQRT_2PI_E = 0.5 * (1.0 + np.log(2.0 * np.pi))  # Gaussian entropy = this + log_std


@dataclass
class Args(TrialOptions):
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
    """Evaluate every this many training episodes (docs/evaluation.md: 100)."""
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
        self.scenario = canonical_scenario_id(self.scenario)
        check_budget(episodes=self.episodes, num_envs=self.num_envs, num_steps=self.num_steps,
                     num_minibatches=self.num_minibatches, update_epochs=self.update_epochs,
                     episode_length=self.episode_length, eval_every=self.eval_every,
                     eval_episodes=self.eval_episodes)
        check_rollout(self.num_envs, self.num_steps, self.episode_length, self.num_minibatches)
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


# ----------------------------------------------------------------------------- networks
class MultiActor(nn.Module):
    """The actors of all P agents of K trials; agent i reads ``joint_obs[..., obs_index[i]]``.

    Agents are grouped (retailers share one actor when ``share_retailers``; every other agent is a
    group of one), and each group's actor runs once on the stacked observations of its agents.
    ``forward(joint_obs (K, N, obs_dim)) -> (mean (K, N, P), log_std (K, P))``.
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
        singles: dict[int, list[int]] = {}
        self.buckets: list[list[int]] = []
        for k, g in enumerate(groups):
            if len(g) == 1:
                singles.setdefault(len(obs_index[g[0]]), []).append(k)
            else:
                self.buckets.append([k])
        self.buckets += list(singles.values())

    def forward(self, joint_obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means (K, N, P) and per-agent log-stds (K, P)."""
        K, N = joint_obs.shape[:2]
        mean = joint_obs.new_empty(K, N, self.num_agents)
        for bucket in self.buckets:
            if len(bucket) == 1:
                k = bucket[0]
                x = joint_obs[:, :, getattr(self, f"obs_{k}")]  # (K, N, n_k, d_k)
                mean[:, :, getattr(self, f"agents_{k}")] = self.actors[k](x)
                continue
            # groups of one agent with equal observation sizes: one call over (group, trial) slices
            obs = torch.stack([getattr(self, f"obs_{k}")[0] for k in bucket])  # (G, d)
            x = joint_obs[:, :, obs].permute(2, 0, 1, 3).reshape(len(bucket) * K, N, -1)
            out = fused_mlp([self.actors[k].net for k in bucket], x).reshape(len(bucket), K, N)
            mean[:, :, [self.groups[k][0] for k in bucket]] = out.permute(1, 2, 0)
        log_std = torch.stack([a.log_std for a in self.actors], dim=1)[:, self.group_of]
        return mean, log_std


class CentralCritic(nn.Module):
    """Global state (K, N, state_dim) -> one value per agent (K, N, P)."""

    def __init__(self, state_dim: int, num_agents: int, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.net = mlp(state_dim, hidden, num_agents, out_gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values (K, N, P)."""
        return self.net(x)


class GraphCritic(nn.Module):
    """Node features (K, N, P, F) -> GAT embedding (K, N, P * 16) -> MLP -> one value per agent (K, N, P)."""

    def __init__(self, node_features: int, edge_index: np.ndarray, num_agents: int,
                 hidden: Sequence[int] = (64, 64), gnn_hidden: Sequence[int] = (16, 16, 16)) -> None:
        super().__init__()
        from baselines.gnn import GATEncoder, StackedGATEncoder

        self.encoder = StackedGATEncoder([GATEncoder(node_features, hidden=gnn_hidden)])  # PyG's initialisation
        self.register_buffer("edge_index", torch.as_tensor(edge_index, dtype=torch.long), persistent=False)
        self.head = mlp(self.encoder.output_dim(num_agents), hidden, num_agents, out_gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values (K, N, P)."""
        return self.head(self.encoder(x, self.edge_index))


def critic_inputs(model: str, core: BatchedMEIO, joint_obs: np.ndarray) -> np.ndarray:
    """What the critic reads for joint observations (..., obs_dim): themselves, or (..., P, F) node features."""
    obs = np.asarray(joint_obs, dtype=np.float32)
    if model == "marl-gnn":
        feats = graph_inputs(core, obs.reshape(-1, obs.shape[-1]))[0]
        return feats.reshape(*obs.shape[:-1], *feats.shape[1:])
    return obs


def build_networks(args: Args, ma: BatchedMultiAgent) -> tuple[MultiActor, nn.Module]:
    """Actors and the critic of one trial (K = 1) for ``args.model`` on the multi-agent env ``ma`` (CPU).

    They draw their initial weights from the global torch RNG (seed it first).
    """
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
    """The deterministic joint policies ``policy(obs, info) -> clip(mean, -1, 1)`` of K trials.

    Rows of ``obs`` are K equal blocks, block k for trial k (:func:`~meio_envs.evaluation.evaluate_many`);
    with K = 1 any batch (:func:`~meio_envs.evaluation.evaluate`).
    """
    K = num_trials(actor)

    def policy(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        o = np.asarray(obs, dtype=np.float32)
        with torch.no_grad():
            mean, _ = actor(torch.as_tensor(o.reshape(K, -1, o.shape[-1])))
        return np.clip(mean.numpy().reshape(o.shape[0], -1), -1.0, 1.0)

    return policy


# ----------------------------------------------------------------------------- training
def train(args: Args) -> dict[str, Any] | None:
    """Train one trial and append its record to the results store once (a finished trial is skipped).

    None only when the ``stop_after`` test hook stopped the call early.
    """
    return train_many([args])[0]


def train_many(args_list: Sequence[Args]) -> list[dict[str, Any] | None]:
    """:func:`train` for several trials: those not yet in their store train batched (:func:`run_trials`)."""
    return record_trials(args_list, run_trials)


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Args:
    """Options for the grid runner (tuples may come as lists)."""
    for k in ("hidden", "gnn_hidden"):
        if k in options:
            options[k] = tuple(options[k])
    return Args(scenario=scenario, model=model, seed=seed, **options)  # type: ignore[arg-type]


def run_trial(args: Args) -> dict[str, Any] | None:
    """Train (or resume) MAPPO in its run folder; returns the trial's record. Writes only under the run folder."""
    return run_trials([args])[0]


def run_trials(args_list: Sequence[Args]) -> list[dict[str, Any] | None]:
    """Train (or resume) several trials; those that differ only in seed (and folders) train as one batch.

    Returns one record per trial, in order (None for a trial the ``stop_after`` hook stopped). Each
    trial writes only under its own run folder; a trial trained in a batch is bit-identical to the
    same trial trained alone (same identity, same record). Trials whose checkpoints stand at
    different points resume as separate batches.
    """
    results, slots = open_slots(args_list)
    for group in batches(slots, lambda s: s.args, lambda s: (s.payload or {}).get("state", {}).get("env_steps", 0)):
        for slot, rec in zip(group, _train_batch(group)):
            results[slot.index] = rec
    return results


def _train_batch(slots: Sequence[Slot]) -> list[dict[str, Any] | None]:
    """K trials of one setting at the same point, as one computation (K = 1: a solo trial)."""
    args = slots[0].args
    K, B, T = len(slots), args.num_envs, args.num_steps
    N = B * T  # samples per trial per rollout
    torch.set_num_threads(args.threads)
    device = torch.device(resolve_device(args.device))
    rows = torch.arange(K, device=device)[:, None]

    # --- one env of K x B copies; per trial: networks, random streams (as alone), files
    ma = BatchedMultiAgent(args.scenario, view="marl", num_envs=K * B, episode_length=args.episode_length)
    core, P = ma.core, ma.num_agents
    nets = []
    for s in slots:
        torch.manual_seed(s.args.seed)
        nets.append(build_networks(s.args, ma))
    actor = stack_modules([a for a, _ in nets]).to(device)
    critic = stack_modules([c for _, c in nets]).to(device)
    params = list(actor.parameters()) + list(critic.parameters())
    optimizer = ppo_optimizer(params, args.learning_rate)
    rollout_actor = actor if device.type == "cpu" else copy.deepcopy(actor).cpu()  # rollouts on the CPU
    noises = [torch.Generator().manual_seed(s.args.seed) for s in slots]  # action noise
    np_rngs = [np.random.default_rng(s.args.seed) for s in slots]  # minibatch order
    rstate = RolloutState(seed_offset=np.array([train_seed_offset(s.args.seed) for s in slots]))
    buf = RolloutBuffer.allocate(T, K * B, core.obs_dim, P, P)

    heuristic_cost = evaluate(da_policy(core.params), core, episodes=args.eval_episodes).mean
    states: list[dict[str, Any]] = []
    for k, s in enumerate(slots):
        st: dict[str, Any] = {"updates": 0, "env_steps": 0, "elapsed": 0.0, "cpu_elapsed": 0.0, "best_cost": float("inf"),
                              "best_episodes": 0, "best_actor": None, "curve": [], "next_eval": 0,
                              "started_at": utc_now()}
        p = s.payload
        if p is not None:
            load_trial_state(actor, k, p["actor"])
            load_trial_state(critic, k, p["critic"])
            noises[k].set_state(p["noise"])
            np_rngs[k].bit_generator.state = p["np_rng"]
            st.update(p["state"])
            st["cpu_elapsed"] = p["state"].get("cpu_elapsed")  # missing in checkpoints of older code: unknown
        st["code"] = code_history(st.get("code"))  # saved with every checkpoint, in the record at the end
        states.append(st)
    if slots[0].payload is not None:
        stack_optimizer_states(optimizer, [s.payload["optimizer"] for s in slots])  # type: ignore[index]
        rstate.episode_batches = slots[0].payload["episode_batches"]
        rstate.episodes_done = slots[0].payload["episodes_done"]
        if rollout_actor is not actor:
            rollout_actor.load_state_dict(actor.state_dict())

    curves = [LearningCurve(s.run_dir, rows=st["curve"], tensorboard=s.args.tensorboard) for s, st in zip(slots, states)]
    bar = make_progress(args.total_steps, initial=states[0]["env_steps"],
                        desc=f"{args.model} {args.scenario}" + (f" x{K} seeds" if K > 1 else ""),
                        disable=not args.progress)
    schedule = EvalSchedule(args.eval_every, next_at=states[0]["next_eval"])
    clocks = [TrialClock(st["elapsed"], st.get("cpu_elapsed")) for st in states]  # None: a checkpoint of older code

    def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with torch.no_grad():
            mean, log_std = rollout_actor(torch.from_numpy(obs).view(K, B, -1))
            eps = torch.stack([torch.randn((B, P), generator=g) for g in noises])  # each trial's own stream
            raw = mean + log_std.exp().unsqueeze(1) * eps
            logp = gaussian_log_prob(mean, log_std.unsqueeze(1), raw)
        raw_np = raw.numpy().reshape(K * B, P)
        return np.clip(raw_np, -1.0, 1.0), raw_np, logp.numpy().reshape(K * B, P)

    def evaluate_now() -> None:
        res = evaluate_many(joint_policy(rollout_actor), core, K, episodes=args.eval_episodes)
        for k, (s, st, r) in enumerate(zip(slots, states, res)):
            if r.mean < st["best_cost"]:
                st["best_cost"], st["best_episodes"] = r.mean, rstate.episodes_done
                st["best_actor"] = trial_state(rollout_actor, k)
                save_checkpoint(s.run_dir / "best.pt", {"model": s.args.model, "args": asdict(s.args),
                                                        "actor": st["best_actor"], "cost": r.mean})
            curves[k].log(rstate.episodes_done, st["env_steps"], clocks[k].wall(), r.mean,
                          st["best_cost"], {"eval_se": r.se, "heuristic_cost": heuristic_cost,
                                            "updates": st["updates"]})
            st["curve"] = curves[k].rows
        set_costs(bar, min(st["best_cost"] for st in states), heuristic_cost, res[0].mean)

    def checkpoint() -> None:
        for k, (s, st) in enumerate(zip(slots, states)):
            st["elapsed"], st["cpu_elapsed"] = clocks[k].wall(), clocks[k].cpu()
            st["next_eval"] = schedule.next_at
            save_checkpoint(s.checkpoint, {
                "model": s.args.model, "args": asdict(s.args), "actor": trial_state(actor, k),
                "critic": trial_state(critic, k), "optimizer": trial_optimizer_state(optimizer, k),
                "noise": noises[k].get_state(), "np_rng": np_rngs[k].bit_generator.state,
                "episode_batches": rstate.episode_batches, "episodes_done": rstate.episodes_done, "state": st})

    def close() -> None:
        for c in curves:
            c.close()
        bar.close()

    if rstate.episodes_done == 0 and not states[0]["curve"]:
        evaluate_now()  # the untrained policy: the curve's first point

    checkpoints = 0
    while states[0]["env_steps"] < args.total_steps:
        # --- rollout (CPU, all K x B copies as arrays)
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = args.learning_rate * (1.0 - rstate.episodes_done / args.episodes)
        collect_rollout(ma, buf, rstate, act)
        for st in states:
            st["env_steps"] += N

        # --- values of every state and every next state in one pass, then GAE per agent
        obs_k = per_trial(buf.obs, K)  # (K, N, obs_dim)
        obs_t = torch.as_tensor(obs_k, device=device)
        crit_in = torch.as_tensor(critic_inputs(args.model, core, obs_k), device=device)
        with torch.no_grad():
            values = critic(crit_in)  # (K, N, P)
            next_in = torch.as_tensor(critic_inputs(args.model, core, per_trial(buf.next_obs, K)), device=device)
            next_values = critic(next_in)
        adv, ret = compute_gae(buf.rewards, per_copy(values.cpu().numpy(), T), per_copy(next_values.cpu().numpy(), T),
                               buf.episode_end, args.gamma, args.gae_lambda)
        act_t = torch.as_tensor(per_trial(buf.actions, K), device=device)
        logp_t = torch.as_tensor(per_trial(buf.logprobs, K), device=device)
        adv_t = torch.as_tensor(per_trial(adv, K), device=device)
        ret_t = torch.as_tensor(per_trial(ret, K), device=device)

        # --- PPO update (clipped surrogate per agent, one value per agent), every trial on its own samples
        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            mean, log_std = actor(obs_t[rows, idx])
            new_logp = gaussian_log_prob(mean, log_std.unsqueeze(1), act_t[rows, idx])
            a = normalize(adv_t[rows, idx], dim=1) if args.norm_adv else adv_t[rows, idx]
            pg_loss, kl, clipfrac = clipped_policy_loss(new_logp, logp_t[rows, idx], a, args.clip_coef)
            v = critic(crit_in[rows, idx])
            if args.clip_vloss:
                v_loss = clipped_value_loss(v, values[rows, idx], ret_t[rows, idx], args.clip_coef)
            else:
                v_loss = 0.5 * trial_mean((v - ret_t[rows, idx]) ** 2)
            entropy = (_LOG_SQRT_2PI_E + log_std).mean(dim=1)
            loss = pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss
            return loss, {"policy_loss": pg_loss.detach(), "value_loss": v_loss.detach(), "approx_kl": kl,
                          "clipfrac": clipfrac, "entropy": entropy.detach()}

        stats = ppo_epochs(N, args.update_epochs, args.num_minibatches, loss_fn, optimizer, params,
                           args.max_grad_norm, np_rngs, device)
        if rollout_actor is not actor:
            rollout_actor.load_state_dict(actor.state_dict())
        for k, (st, stk) in enumerate(zip(states, stats)):
            st["updates"] += 1
            stk["mean_reward"] = float(np.ascontiguousarray(buf.rewards[:, k * B:(k + 1) * B]).mean())
            for name, v in stk.items():
                curves[k].scalar(f"train/{name}", v, st["env_steps"])
        bar.update(N)

        # --- evaluation every eval_every episodes, checkpoint after it
        done = states[0]["env_steps"] >= args.total_steps
        if schedule.due(rstate.episodes_done) or done:
            evaluate_now()
            checkpoint()
            checkpoints += 1
            if args.stop_after is not None and checkpoints >= args.stop_after and not done:
                close()
                return [None] * K
    close()

    records = []
    for k, (s, st) in enumerate(zip(slots, states)):
        result = {
            "best_cost": st["best_cost"], "heuristic_cost": heuristic_cost,
            "savings": (heuristic_cost - st["best_cost"]) / heuristic_cost, "eval_seed": EVAL_SEED,
            "eval_episodes": args.eval_episodes, "env_steps": st["env_steps"],
            "episodes": st["env_steps"] // args.episode_length, "best_episodes": st["best_episodes"],
            "updates": st["updates"], "run_dir": str(s.run_dir), "curve": str(s.run_dir / "curve.csv"),
            "best_model": str(s.run_dir / "best.pt"), "batched_trials": K,
        }
        records.append(finish(s.run_dir, s.identity, result, str(device), st.get("started_at", utc_now()),
                              clocks[k].wall(), code=st["code"], cpu_time_s=clocks[k].cpu()))
    return records


# ----------------------------------------------------------------------------- CLI
def train_cli(model: str, argv: Sequence[str]) -> int:
    """``meio train marl|marl-gnn <scenario> [--seed | --seeds S1 S2 ... | --trials K] [--episodes --num-envs ...]``."""
    try:
        seeds, rest = seeds_option(argv)
        args = tyro.cli(Args, args=rest, default=Args(model=model), prog=f"meio train {model}",  # type: ignore[arg-type]
                        description=f"{Args.__doc__}\n\n{SEEDS_HELP}")
        args.model = model  # type: ignore[assignment]
        args_list = with_seeds(args, seeds)
    except ValueError as e:
        print(f"meio train {model}: {e}", file=sys.stderr)
        return 2
    for rec in train_many(args_list):
        if rec is not None:
            print(summary_line(rec))
    return 0


def load_actor(payload: Mapping[str, Any], current: bool = False) -> tuple[MultiActor, BatchedMultiAgent]:
    """Rebuild the actors saved in a checkpoint.pt / best.pt payload."""
    a = Args(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in payload["args"].items()})
    ma = BatchedMultiAgent(a.scenario, view="marl", num_envs=1)
    actor, _ = build_networks(a, ma)
    state = payload["actor"] if current or payload.get("state", {}).get("best_actor") is None \
        else payload["state"]["best_actor"]
    load_trial_state(actor, 0, state)  # saved unstacked (one trial), as before the trial axis
    actor.eval()
    return actor, ma


if __name__ == "__main__":
    raise SystemExit(train_cli(sys.argv[1] if len(sys.argv) > 1 else "marl", sys.argv[2:]))
