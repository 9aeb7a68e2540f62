"""SARL and SARL+GNN: one Stable-Baselines3 PPO agent observes all inventory positions and sets all orders.

Reads top to bottom: :class:`Args` (hyperparameters of the report's Appendix B, one docstring
each) -> :func:`make_model` -> :func:`train` (the protocol loop: chunks of whole rollouts,
evaluation every ``eval_every`` training episodes, best model, learning curve, checkpoint after
every chunk) -> :func:`train_cli` (``meio train sarl A1``; ``meio evaluate`` is :mod:`baselines.evaluate_cli`).

Run folder ``<out>/<model>/<scenario>/seed<seed>/``: ``checkpoint.pt`` (the full training state,
resumed automatically unless ``--no-resume``), ``best.pt`` (the best evaluated model; give it to
``meio evaluate``), ``curve.csv`` and ``tb/`` (TensorBoard). Both ``.pt`` files are
checkpoints of :mod:`baselines.common.checkpoint` (tensors and plain data, loaded with
``weights_only=True``) with ``"model"`` (``"sarl"`` / ``"sarl-gnn"``), ``"scenario"``, ``"config"``
(the settings) and ``"sb3_zip"`` (the bytes of ``PPO.save``); :func:`load_model` rebuilds the SB3
model from them without unpickling anything.

Exact resume: checkpoints are taken only at rollout boundaries and hold the SB3 model with its
Adam state, ``num_timesteps``, the last observation, the batched env's state (a deep copy of
``BatchedMEIO.state``; its random draws are a function of copy key, episode and period), the Python
/ NumPy / torch RNG states, the evaluation history and best model. A run killed at any point and
resumed with the same arguments ends with the same parameters and evaluations as an uninterrupted
one (tests/baselines/test_sarl.py).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import torch
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure

from baselines.common.checkpoint import load_checkpoint, save_checkpoint
from baselines.common.clock import TrialClock
from baselines.common.device import resolve_device
from baselines.common.records import utc_now
from baselines.common.trial import (
    TrialOptions, check_budget, check_run_name, code_history, finish, finished_result, open_run_dir, result_config,
    run_and_record, summary_line,
)
from baselines.common.train_loop import (
    BestTracker, EvalSchedule, LearningCurve, make_progress, rng_state, set_costs, set_rng_state,
)
from meio_envs.adapters.sb3 import MEIOSB3VecEnv
from meio_envs.core import dynamics
from meio_envs.evaluation import EVAL_SEED, EvalResult, da_policy, evaluate
from meio_envs.scenarios import canonical_scenario_id

__all__ = [
    "MODELS", "Args", "load_model", "make_args", "make_model", "run_trial", "sb3_policy", "train",
    "train_cli",
]

MODELS = ("sarl", "sarl-gnn")


@dataclass
class Args(TrialOptions):
    """Options of ``meio train sarl|sarl-gnn <scenario>``; defaults are the report's (Appendix B)."""

    scenario: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="SCENARIO")]
    """Grid id, e.g. ``A1``."""
    model: tyro.conf.Suppress[str] = "sarl"
    """``sarl`` (MLP actor and critic) or ``sarl-gnn`` (GAT critic)."""
    seed: int = 0
    """Trial seed: network initialisation, action sampling, training env copies (copy i: seed + i)."""
    episodes: int = 25_000
    """Training budget in training episodes (one copy's 128-period episode); a hard bound, rounded down to
    whole rollouts (n_envs x n_steps / episode_length episodes each)."""
    device: str = "auto"
    """Where network updates run: auto (CUDA if available), cpu, cuda, cuda:N."""
    out: str = "runs"
    """Root folder of run folders."""
    n_envs: int = 4
    """Parallel training copies (report: 4)."""
    eval_every: int = 100
    """Evaluate every this many training episodes (the protocol: 100)."""
    eval_episodes: int = 100
    """Evaluation episodes (75 periods, 25 warm-up, fixed seeds) per evaluation (the protocol: 100)."""
    run_name: str | None = None
    """Run folder under ``out`` instead of ``<model>/<scenario>/seed<seed>`` (a relative path)."""
    resume: bool = True
    """Continue from the run folder's checkpoint when there is one (refused if it is another trial's)."""
    results: str | None = None
    """Results store (JSON lines) the finished trial's record goes to; default ``<out>/results.jsonl``."""
    episode_length: int = 128
    """Periods per training episode (report: 128)."""
    learning_rate: float = 1e-4
    """Adam learning rate (report: 1e-4)."""
    gamma: float = 0.99
    """Discount factor (report: 0.99)."""
    gae_lambda: float = 0.95
    """GAE lambda (report: 0.95)."""
    clip_range: float = 0.2
    """PPO ratio clip (report: 0.2)."""
    clip_range_vf: float | None = 0.2
    """Value clip; the report gives 0.2 as 'clipping value for PPO updates and value function'."""
    n_steps: int = 256
    """Steps per copy per rollout (report: 256)."""
    n_minibatches: int = 16
    """Minibatches per epoch (report: 16): batch_size = n_envs * n_steps / n_minibatches."""
    n_epochs: int = 4
    """PPO epochs per rollout (report: 4)."""
    ent_coef: float = 0.0
    """Entropy coefficient (report: 0)."""
    vf_coef: float = 0.5
    """Value-loss coefficient (report: 0.5)."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip (report: 0.5)."""
    net_arch: tuple[int, ...] = (256, 256)
    """Actor and critic hidden layers, ReLU (report: (256, 256))."""
    gat_hidden: tuple[int, ...] = (16, 16, 16)
    """GAT layer sizes of the SARL+GNN critic (report: (16, 16, 16))."""
    checkpoint_every: int = 10
    """Save the training state every this many rollouts (and at the end)."""
    threads: int = 1
    """torch CPU threads (the machines are small and shared)."""
    progress: bool = True
    """Show a tqdm progress bar (best / last / heuristic cost)."""
    stop_after_chunks: tyro.conf.Suppress[int | None] = field(default=None, repr=False)
    """Testing hook: stop (as if killed) after this many checkpointed chunks in this process."""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        self.scenario = canonical_scenario_id(self.scenario)
        check_budget(**{n: getattr(self, n) for n in ("episodes", "n_envs", "eval_every", "eval_episodes",
                                                      "checkpoint_every", "n_steps", "episode_length")})
        rollout = self.n_envs * self.n_steps
        if rollout % self.n_minibatches:
            raise ValueError(f"n_envs * n_steps = {rollout} is not divisible by n_minibatches={self.n_minibatches}")
        if self.total_steps < rollout:
            raise ValueError(f"episodes={self.episodes} is less than one rollout ({rollout} env steps = "
                             f"{rollout / self.episode_length:g} episodes of {self.episode_length} periods)")
        if self.run_name is not None:
            check_run_name(self.run_name)

    @property
    def rollout_steps(self) -> int:
        """Env steps per rollout (all copies)."""
        return self.n_envs * self.n_steps

    @property
    def batch_size(self) -> int:
        """PPO minibatch size."""
        return self.rollout_steps // self.n_minibatches

    @property
    def total_steps(self) -> int:
        """Env steps of the budget, rounded down to whole rollouts (the budget is never exceeded)."""
        return (self.episodes * self.episode_length // self.rollout_steps) * self.rollout_steps



def make_model(args: Args, venv: MEIOSB3VecEnv, device: str) -> PPO:
    """SB3 PPO with the report's hyperparameters (SARL) or the GAT-critic policy (SARL+GNN)."""
    arch = {"pi": list(args.net_arch), "vf": list(args.net_arch)}
    if args.model == "sarl-gnn":
        from baselines.sb3_policies import GraphCriticPolicy, graph_policy_kwargs

        policy: Any = GraphCriticPolicy
        policy_kwargs = graph_policy_kwargs(venv.core, gat_hidden=args.gat_hidden, net_arch=arch)
    else:
        policy, policy_kwargs = "MlpPolicy", {"net_arch": arch, "activation_fn": torch.nn.ReLU}
    # SB3's Adam (eps 1e-5, as SB3 sets it) in its multi-tensor form: the same numbers, fewer calls.
    policy_kwargs["optimizer_kwargs"] = {"eps": 1e-5, "foreach": True}
    return PPO(
        policy, venv, learning_rate=args.learning_rate, n_steps=args.n_steps, batch_size=args.batch_size,
        n_epochs=args.n_epochs, gamma=args.gamma, gae_lambda=args.gae_lambda, clip_range=args.clip_range,
        clip_range_vf=args.clip_range_vf, ent_coef=args.ent_coef, vf_coef=args.vf_coef,
        max_grad_norm=args.max_grad_norm, policy_kwargs=policy_kwargs, seed=args.seed, device=device,
        verbose=0,
    )


def sb3_policy(model: PPO) -> Any:
    """The deterministic SB3 policy as an evaluation-protocol policy ``(obs, info) -> actions``."""

    def act(obs: np.ndarray, info: Any) -> np.ndarray:
        actions, _ = model.policy.predict(obs, deterministic=True)
        return actions

    return act


def _model_bytes(model: PPO) -> bytes:
    buf = io.BytesIO()
    model.save(buf)
    return buf.getvalue()


class _Loop(BaseCallback):
    """Evaluation points inside rollouts (exactly every ``eval_every`` episodes) and the progress bar."""

    def __init__(self, trainer: _Trainer) -> None:
        super().__init__(verbose=0)
        self.trainer = trainer

    def _on_step(self) -> bool:
        self.trainer.maybe_evaluate()
        return True

    def _on_rollout_end(self) -> None:
        self.trainer.tick()


class _Trainer:
    """State of one trial; everything in :meth:`state` goes into the checkpoint."""

    def __init__(self, args: Args) -> None:
        self.args = args
        self.clock = TrialClock()  # construction and DA's evaluation count: they are the trial's work too
        torch.set_num_threads(args.threads)
        self.device = resolve_device(args.device)
        self.dir = args.run_dir  # opened (config checked) by run_trial
        self.venv = MEIOSB3VecEnv(args.scenario, args.n_envs, episode_length=args.episode_length)
        self.model = make_model(args, self.venv, self.device)
        self.model.set_logger(configure(str(self.dir / "tb" / "sb3"), ["tensorboard"]))
        self.schedule = EvalSchedule(args.eval_every)
        self.tracker = BestTracker()
        self.heuristic: float | None = None
        self.started = False
        self.finished = False
        self.started_at = utc_now()
        self.code = code_history(None)
        rows: list[dict[str, Any]] = []
        ckpt = load_checkpoint(self.dir / "checkpoint.pt") if args.resume else None
        if ckpt is not None:
            rows = self._restore(ckpt)
        self.curve = LearningCurve(self.dir, rows=rows, tb_dir=self.dir / "tb" / "eval")
        if self.heuristic is None:
            self.heuristic = self._evaluate(da_policy(self.venv.core.params)).mean
        self.bar: Any = None

    # ------------------------------------------------------------------ checkpoint
    def state(self) -> dict[str, Any]:
        m, core = self.model, self.venv.core
        return {
            "model": self.args.model, "kind": "train_state", "scenario": self.args.scenario,
            "config": result_config(self.args),
            "seed": self.args.seed, "trial_id": self.args.identity().trial_id, "sb3_zip": _model_bytes(m),
            "num_timesteps": m.num_timesteps, "n_updates": m._n_updates, "episode_num": m._episode_num,
            "last_obs": np.array(m._last_obs), "last_episode_starts": np.array(m._last_episode_starts),
            "env_state": copy.deepcopy(core.state), "env_seeded": core._seeded,
            "adapter": {"ep_return": self.venv._ep_return.copy(), "ep_cost": self.venv._ep_cost.copy()},
            "rng": rng_state(), "tracker": self.tracker.state_dict(), "curve_rows": list(self.curve.rows),
            "schedule_next_at": self.schedule.next_at, **self.clock.state(),
            "heuristic_cost": self.heuristic, "finished": self.finished, "started_at": self.started_at,
            "code": self.code,
        }

    def _restore(self, ck: dict[str, Any]) -> list[dict[str, Any]]:
        m, core = self.model, self.venv.core
        m.set_parameters(io.BytesIO(ck["sb3_zip"]), exact_match=True, device=self.device)
        m.num_timesteps = int(ck["num_timesteps"])
        m._n_updates = int(ck["n_updates"])
        m._episode_num = int(ck["episode_num"])
        m._last_obs = ck["last_obs"]
        m._last_episode_starts = ck["last_episode_starts"]
        core.state = dynamics.check_state(core.params, copy.deepcopy(ck["env_state"]))  # it came from a file
        core._seeded = bool(ck["env_seeded"])
        self.venv._reset_seeds()  # the constructor's venv.seed(seed) must not reseed on resume
        self.venv._ep_return[:] = ck["adapter"]["ep_return"]
        self.venv._ep_cost[:] = ck["adapter"]["ep_cost"]
        set_rng_state(ck["rng"])
        self.tracker = BestTracker.from_state(ck["tracker"])
        self.schedule.next_at = int(ck["schedule_next_at"])
        self.clock = TrialClock.from_state(ck)
        self.heuristic = ck["heuristic_cost"]
        self.started = True
        self.finished = bool(ck.get("finished", False))
        self.started_at = ck.get("started_at", self.started_at)
        self.code = code_history(ck.get("code"))
        return list(ck["curve_rows"])

    def save(self) -> None:
        save_checkpoint(self.dir / "checkpoint.pt", self.state())

    # ------------------------------------------------------------------ protocol
    def episodes_done(self) -> int:
        a = self.args
        return a.n_envs * (self.model.num_timesteps // a.n_envs // a.episode_length)

    def _evaluate(self, policy: Any) -> EvalResult:
        return evaluate(policy, self.venv.core, episodes=self.args.eval_episodes, seed=EVAL_SEED)

    def maybe_evaluate(self, force: bool = False) -> None:
        ep = self.episodes_done()
        if not (self.schedule.due(ep) or force):
            return
        res = self._evaluate(sb3_policy(self.model))
        steps = self.model.num_timesteps
        if self.tracker.update(res.mean, ep, steps):
            save_checkpoint(self.dir / "best.pt", {
                "model": self.args.model, "kind": "best", "scenario": self.args.scenario,
                "seed": self.args.seed, "sb3_zip": _model_bytes(self.model), "best_cost": res.mean,
                "heuristic_cost": self.heuristic, "episodes": ep, "env_steps": steps,
                "eval_episodes": self.args.eval_episodes, "config": result_config(self.args),
            })
        self.curve.log(ep, steps, self.clock.wall(), res.mean, self.tracker.best,
                       {"eval_se": res.se, "heuristic_cost": float(self.heuristic or math.nan)})
        if self.bar is not None:
            set_costs(self.bar, self.tracker.best, self.heuristic, res.mean)

    def tick(self) -> None:
        if self.bar is not None:
            self.bar.update(self.model.num_timesteps - self.bar.n)

    # ------------------------------------------------------------------ main loop
    def run(self) -> dict[str, Any] | None:
        a, m = self.args, self.model
        total = a.total_steps
        chunk = a.checkpoint_every * a.rollout_steps
        self.bar = make_progress(total, m.num_timesteps, desc=f"{a.model} {a.scenario} s{a.seed}",
                                 disable=not a.progress)
        set_costs(self.bar, self.tracker.best, self.heuristic)
        cb = _Loop(self)
        chunks = 0
        try:
            while not self.finished and m.num_timesteps < total:
                steps = min(chunk, total - m.num_timesteps)
                m.learn(steps, callback=cb, reset_num_timesteps=not self.started, progress_bar=False)
                self.started = True
                if m.num_timesteps >= total:
                    if self.tracker.best_env_steps != m.num_timesteps and (
                        not self.tracker.history or self.tracker.history[-1]["env_steps"] != m.num_timesteps
                    ):
                        self.maybe_evaluate(force=True)  # the budget's end is an evaluation point
                    self.finished = True
                self.save()
                chunks += 1
                if a.stop_after_chunks is not None and chunks >= a.stop_after_chunks and not self.finished:
                    return None
        finally:
            self.bar.close()
            self.curve.close()
        return self.record()

    def result(self) -> dict[str, Any]:
        a, h, best = self.args, float(self.heuristic or math.nan), self.tracker.best
        return {
            "best_cost": best, "heuristic_cost": h, "savings": (h - best) / h, "eval_seed": EVAL_SEED,
            "eval_episodes": a.eval_episodes, "env_steps": int(self.model.num_timesteps),
            "episodes": self.episodes_done(), "best_episodes": self.tracker.best_episodes,
            "run_dir": str(self.dir), "curve": str(self.dir / "curve.csv"), "best_model": str(self.dir / "best.pt"),
        }

    def record(self) -> dict[str, Any]:
        return finish(self.dir, self.args.identity(), self.result(), self.device, self.started_at, self.clock.wall(),
                      code=self.code, cpu_time_s=self.clock.cpu())


def run_trial(args: Args) -> dict[str, Any] | None:
    """Train (or resume) one trial in its run folder; returns its record (None when stopped by the test hook).

    Writes nothing outside ``args.run_dir``; a finished trial's folder returns its record at once.
    """
    ident = args.identity()
    open_run_dir(args.run_dir, ident, args.resume)
    done = finished_result(args.run_dir, ident)
    if done is not None:
        return done
    return _Trainer(args).run()


def train(args: Args) -> dict[str, Any] | None:
    """Train one trial and append its record to the results store (``args.store``) once.

    A trial already finished in the store is skipped (its record is returned and nothing runs).
    """
    return run_and_record(args.identity(), args.store, lambda: run_trial(args), run_dir=args.run_dir)


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Args:
    """Options for the grid runner (tuples may come as lists)."""
    for k in ("net_arch", "gat_hidden"):
        if k in options:
            options[k] = tuple(options[k])
    return Args(scenario=scenario, model=model, seed=seed, **options)


# ---------------------------------------------------------------------- command line
def train_cli(model: str, argv: Sequence[str]) -> int:
    """``meio train sarl|sarl-gnn <scenario> [--seed 0 --episodes 25000 --device auto ...]``."""
    try:
        args = tyro.cli(Args, args=list(argv), prog=f"meio train {model}",
                        description=(__doc__ or "").split("\n")[0])
        args = dataclasses.replace(args, model=model)
    except ValueError as e:
        print(f"meio train {model}: {e}", file=sys.stderr)
        return 2
    rec = train(args)
    if rec is not None:
        print(summary_line(rec))
    return 0


def load_model(payload: dict[str, Any], device: str = "cpu") -> PPO:
    """The PPO model of a SARL checkpoint payload, rebuilt from its settings.

    Only the parameters are read from the SB3 archive (``set_parameters``, tensors only): SB3's
    ``PPO.load`` would also unpickle the archive's data section, which can run code.
    """
    cfg = dict(payload["config"])
    for k in ("net_arch", "gat_hidden"):
        cfg[k] = tuple(cfg[k])
    args = Args(scenario=payload["scenario"], model=payload["model"], **cfg)
    venv = MEIOSB3VecEnv(args.scenario, 1, episode_length=args.episode_length)
    model = make_model(args, venv, device)
    model.set_parameters(io.BytesIO(payload["sb3_zip"]), exact_match=True, device=device)
    return model


