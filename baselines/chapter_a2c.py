"""A2C on ``MEIO-Chapter2L-v0``: the book chapter's baseline (A3C there, its synchronous form here).

``python -m baselines.chapter_a2c --seed 0`` (1.2M steps, about 70 s on one free core; or
``meio train a2c``) trains SB3's A2C on ``--n-envs`` parallel copies of the chapter system (one SB3 ``VecEnv`` over the
batched core: the package's SB3 adapter with the chapter's view), keeps the policy that scores best on a validation set
during training, evaluates the final and the best policy with the chapter protocol on the fixed
evaluation seeds (100 episodes, :func:`meio_envs.envs.chapter.evaluate_chapter`) and appends one
trial record (the package's record format) to the results store (default ``OUT/results.jsonl``) next
to the searched (s, S) benchmark's cost under the same action space. The run folder
``OUT/a2c/Chapter2L/seed<seed>`` holds ``config.json``, ``best.pt`` (the best model: ``meio evaluate``,
or :func:`load_model`) and ``result.json``. A run is short (minutes), so it is not checkpointed mid-way: an unfinished folder of
the same trial is trained again from the start, a finished one returns its record, another trial's
folder is refused.

Hyperparameters (the chapter's Table 1 is not available; these are SB3's A2C defaults except
where noted): separate actor and critic MLPs with two hidden layers of 64 units (the chapter's
"two FCMLPs"), RMSprop lr 7e-4, ``n_steps`` 8 per env, gamma 0.99, GAE lambda 1 (plain n-step
advantage as in A3C), entropy coefficient 0.01 (the A3C paper's entropy regulariser), value
coefficient 0.5, gradient clip 0.5.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from baselines.common.records import TrialIdentity, utc_now
from baselines.common.checkpoint import load_checkpoint, save_checkpoint
from baselines.common.clock import TrialClock
from baselines.common.trial import (
    check_budget, check_run_name, evaluation_line, finish, finished_result, open_run_dir, result_config,
    run_and_record,
)
from meio_envs.envs.chapter import ActionType, ChapterBatch, ChapterParams, evaluate_chapter
from meio_envs.evaluation import EVAL_SEED

__all__ = ["Trial", "evaluate_cli", "load_model", "main", "make_args", "make_vec_env", "run_trial", "train_cli"]

VALID_SEED = 7_000_001  # validation copies for picking the best model (disjoint from EVAL_SEED's)
VALID_EPISODES = 50
SCENARIO = "Chapter2L"


def make_vec_env(n_envs: int, params: ChapterParams, action_type: ActionType) -> Any:
    """SB3 ``VecEnv`` of ``n_envs`` chapter systems: the package's SB3 adapter with the chapter view."""
    from meio_envs.adapters.sb3 import MEIOSB3VecEnv
    from meio_envs.envs.chapter import ChapterView

    batch = ChapterBatch(params, num_envs=n_envs)
    return MEIOSB3VecEnv(core=batch.core, view=ChapterView(batch, action_type))


def _policy_fn(model: Any, action_type: ActionType):  # noqa: ANN202
    def act(obs: np.ndarray, info: Any) -> np.ndarray:
        a, _ = model.predict(obs, deterministic=True)
        return np.asarray(a)

    return act


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="meio train a2c", description="A2C on MEIO-Chapter2L-v0 (SB3)",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="trial seed (network, sampling, training copies)")
    ap.add_argument("--timesteps", type=int, default=1_200_000,
                    help="budget in environment steps (all envs together), rounded down to whole rollouts")
    ap.add_argument("--episodes", type=int, default=None,
                    help="budget in training episodes of 52 periods instead of --timesteps")
    ap.add_argument("--n-envs", type=int, default=16, help="parallel training copies")
    ap.add_argument("--n-steps", type=int, default=8, help="rollout length per env and update")
    ap.add_argument("--lr", type=float, default=7e-4, help="RMSprop learning rate")
    ap.add_argument("--gamma", type=float, default=0.99, help="discount factor")
    ap.add_argument("--gae-lambda", type=float, default=1.0, help="GAE lambda (1: n-step advantages as in A3C)")
    ap.add_argument("--ent-coef", type=float, default=0.01, help="entropy coefficient")
    ap.add_argument("--no-norm-reward", action="store_true", help="train on raw rewards (no VecNormalize)")
    ap.add_argument("--action-type", choices=("discrete", "continuous"), default="discrete",
                    help="the chapter's 13 discrete actions, or one continuous order per warehouse")
    ap.add_argument("--eval-freq", type=int, default=50_000, help="env steps between validation runs")
    ap.add_argument("--eval-episodes", type=int, default=100, help="evaluation episodes (fixed seeds)")
    ap.add_argument("--out", default="runs", help="root of run folders (default store: OUT/results.jsonl)")
    ap.add_argument("--results", default=None, help="results store (JSON lines); default OUT/results.jsonl")
    ap.add_argument("--no-resume", dest="resume", action="store_false",
                    help="discard the run folder's state and train again")
    ap.add_argument("--run-name", default=None, help="run folder under OUT instead of a2c/Chapter2L/seed<seed>")
    ap.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap


@dataclass
class Trial:
    """A validated A2C trial: its options (``ns``), identity and run folder (the grid runner's interface)."""

    ns: argparse.Namespace

    @property
    def run_name(self) -> str | None:
        return self.ns.run_name

    @run_name.setter
    def run_name(self, name: str | None) -> None:
        self.ns.run_name = name

    @property
    def device(self) -> str:
        return str(self.ns.device)

    @property
    def run_dir(self) -> Path:
        return Path(self.ns.out) / (self.ns.run_name or f"a2c/{SCENARIO}/seed{self.ns.seed}")

    @property
    def store(self) -> Path:
        return Path(self.ns.results) if self.ns.results else Path(self.ns.out) / "results.jsonl"

    def identity(self) -> TrialIdentity:
        return TrialIdentity(SCENARIO, "a2c", self.ns.seed, result_config(vars(self.ns), drop=("episodes",)))


def _prepare(ns: argparse.Namespace) -> Trial:
    """Check and resolve the budget (raises ValueError naming what is wrong)."""
    cp = ChapterParams()
    args = ns
    if args.episodes is not None:
        check_budget(episodes=args.episodes)
        args.timesteps = args.episodes * cp.episode_length
        args.episodes = None
    check_budget(timesteps=args.timesteps, n_envs=args.n_envs, n_steps=args.n_steps, eval_freq=args.eval_freq,
                 eval_episodes=args.eval_episodes)
    rollout = args.n_envs * args.n_steps
    args.timesteps = args.timesteps // rollout * rollout  # SB3 runs whole rollouts: never past the budget
    if args.timesteps < rollout:
        raise ValueError(f"the budget is less than one rollout ({args.n_envs} envs x {args.n_steps} steps = "
                         f"{rollout} steps)")
    if args.run_name is not None:
        check_run_name(args.run_name)
    return Trial(args)


def make_args(model: str, scenario: str, seed: int, **options: Any) -> Trial:
    """The grid runner's entry: the parser's defaults, then ``options`` (names as in the parser, with _)."""
    if model != "a2c" or scenario.lower() != SCENARIO.lower():
        raise ValueError(f"the A2C baseline runs model 'a2c' on {SCENARIO} only, got {model!r} on {scenario!r}")
    ns = _parser().parse_args(["--seed", str(int(seed))])
    options.pop("progress", None)  # A2C prints nothing when quiet
    for k, v in options.items():
        if not hasattr(ns, k):
            raise ValueError(f"unknown A2C option {k!r}; options: {sorted(vars(ns))}")
        setattr(ns, k, v)
    ns.quiet = True
    return _prepare(ns)


def run_trial(trial: Trial) -> dict[str, Any]:
    """Train (or return the finished record of) one trial in its run folder; writes nothing else."""
    return _train(trial.ns, trial.identity(), ChapterParams(), trial.run_dir)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, evaluate the final and best model, append a results record; returns the record."""
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        trial = _prepare(args)
    except ValueError as e:
        ap.error(str(e))
    ident = trial.identity()
    rec = run_and_record(ident, trial.store, lambda: run_trial(trial), out=(lambda m: None) if args.quiet else None,
                         run_dir=trial.run_dir)
    assert rec is not None
    return rec


def _make_model(ns: argparse.Namespace, env: Any, device: str) -> Any:
    from stable_baselines3 import A2C

    return A2C("MlpPolicy", env, n_steps=ns.n_steps, learning_rate=ns.lr, gamma=ns.gamma, gae_lambda=ns.gae_lambda,
               ent_coef=ns.ent_coef, seed=ns.seed, device=device, verbose=0)


def load_model(payload: dict[str, Any], device: str = "cpu") -> Any:
    """The A2C model of a ``best.pt`` payload, rebuilt from its settings; only its parameters are read."""
    ns = argparse.Namespace(**payload["config"], seed=payload["seed"])
    model = _make_model(ns, make_vec_env(1, ChapterParams(), ns.action_type), device)
    model.set_parameters(io.BytesIO(payload["sb3_zip"]), exact_match=True, device=device)
    return model


def _train(args: argparse.Namespace, ident: TrialIdentity, cp: ChapterParams, run_dir: Path) -> dict[str, Any]:
    run_dir = open_run_dir(run_dir, ident, args.resume)
    done = finished_result(run_dir, ident)
    if done is not None:
        return done
    started_at = utc_now()
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecNormalize

    from baselines.chapter_benchmark import benchmark_result
    from baselines.common.device import resolve_device

    clock = TrialClock()
    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    at: ActionType = args.action_type
    venv = make_vec_env(args.n_envs, cp, at)
    train_env = venv if args.no_norm_reward else VecNormalize(venv, norm_obs=False, norm_reward=True,
                                                               gamma=args.gamma)
    model = _make_model(args, train_env, device)
    from stable_baselines3.common.logger import configure

    model.set_logger(configure(str(run_dir / "tb"), ["tensorboard"]))  # SB3 would log to a folder in /tmp
    venv.seed(10_000 * args.seed)  # trial s trains on copies keyed 10000 s + i: no overlap between trials

    best: dict[str, Any] = {"cost": np.inf, "state": None, "step": 0}
    curve: list[tuple[int, float]] = []

    def validate() -> float:
        return evaluate_chapter(_policy_fn(model, at), cp, at, episodes=VALID_EPISODES, seed=VALID_SEED).mean

    class Validate(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_at = args.eval_freq

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_at:
                self.next_at += args.eval_freq
                c = validate()
                curve.append((int(self.num_timesteps), float(c)))
                if c < best["cost"]:
                    best.update(cost=c, state=copy.deepcopy(model.policy.state_dict()), step=int(self.num_timesteps))
                if not args.quiet:
                    print(f"step {self.num_timesteps:>9d}  valid cost {c:10.1f}  best {best['cost']:10.1f}"
                          f"  ({clock.wall():.0f}s)", flush=True)
            return True

    model.learn(total_timesteps=args.timesteps, callback=Validate())
    train_s = clock.wall()
    final_valid = validate()
    if final_valid < best["cost"] or best["state"] is None:
        best.update(cost=final_valid, state=copy.deepcopy(model.policy.state_dict()), step=int(model.num_timesteps))
    final_eval = evaluate_chapter(_policy_fn(model, at), cp, at, episodes=args.eval_episodes)
    model.policy.load_state_dict(best["state"])
    best_eval = evaluate_chapter(_policy_fn(model, at), cp, at, episodes=args.eval_episodes)
    bench = benchmark_result(at, cp, episodes=args.eval_episodes)
    best_cost = min(best_eval.mean, final_eval.mean)
    chosen = best_eval if best_eval.mean <= final_eval.mean else final_eval
    diff = bench.episode_costs - chosen.episode_costs  # paired: same evaluation seeds (CRN)
    buf = io.BytesIO()
    model.save(buf)
    save_checkpoint(run_dir / "best.pt", {"model": "a2c", "kind": "best", "scenario": SCENARIO, "seed": args.seed,
                                          "config": ident.config, "sb3_zip": buf.getvalue(), "best_cost": best_eval.mean})
    result = {
        "action_type": at, "best_cost": best_cost, "best_model_cost": best_eval.mean, "best_model_se": best_eval.se,
        "best_model_step": best["step"], "final_cost": final_eval.mean, "final_se": final_eval.se,
        "heuristic_cost": bench.mean, "benchmark_cost": bench.mean, "benchmark": "searched (s,S)",
        "savings": (bench.mean - best_cost) / bench.mean, "eval_seed": EVAL_SEED, "eval_episodes": args.eval_episodes,
        "paired_saving_mean": float(diff.mean()), "paired_saving_se": float(diff.std(ddof=1) / np.sqrt(diff.size)),
        "breakdown_best": best_eval.breakdown, "train_time_s": round(train_s, 1),
        "env_steps": int(model.num_timesteps), "episodes": int(model.num_timesteps) // cp.episode_length,
        "validation_curve": curve, "run_dir": str(run_dir), "best_model": str(run_dir / "best.pt"),
    }
    rec = finish(run_dir, ident, result, device, started_at, clock.wall(), cpu_time_s=clock.cpu())
    if not args.quiet:
        print(f"seed {args.seed}: best {best_eval.mean:.1f} (step {best['step']}), final {final_eval.mean:.1f}, "
              f"benchmark {bench.mean:.1f}, savings {result['savings']:+.1%}, {rec['provenance']['wall_time_s']}s",
              flush=True)
    return rec


def evaluate_cli(path: str, argv: list[str]) -> int:
    """``meio evaluate <a2c best.pt> [--episodes 100]``: the chapter protocol, next to the searched (s, S)."""
    from baselines.chapter_benchmark import benchmark_result

    ap = argparse.ArgumentParser(prog="meio evaluate", description="Evaluate an A2C best.pt on Chapter2L.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--episodes", type=int, default=100, help="evaluation episodes (fixed seeds)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a line of text")
    a = ap.parse_args(list(argv))
    payload = load_checkpoint(path, expect={"model": "a2c"})
    assert payload is not None
    model = load_model(payload)
    cp, at = ChapterParams(), payload["config"]["action_type"]
    res = evaluate_chapter(_policy_fn(model, at), cp, at, episodes=a.episodes)
    bench = benchmark_result(at, cp, episodes=a.episodes)
    out = {"checkpoint": str(path), "model": "a2c", "scenario": SCENARIO, "cost": res.mean, "se": res.se,
           "heuristic_cost": bench.mean, "savings": (bench.mean - res.mean) / bench.mean}
    print(json.dumps(out) if a.json else evaluation_line(out))
    return 0


def train_cli(model: str, argv: list[str]) -> int:
    """``meio train a2c [options]`` (the scenario is always ``Chapter2L``; a leading id is accepted)."""
    argv = list(argv)
    if argv and not argv[0].startswith("-"):
        if argv[0].lower() not in ("chapter2l", "meio-chapter2l-v0"):
            raise SystemExit(f"meio train a2c: the A2C baseline is for Chapter2L only, got {argv[0]!r}")
        argv = argv[1:]
    main(argv)
    return 0


if __name__ == "__main__":
    main()
