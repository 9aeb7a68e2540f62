"""A2C on ``MEIO-Chapter2L-v0``: the book chapter's baseline (A3C there, its synchronous form here).

``python -m baselines.chapter_a2c --seed 0`` (1.2M steps, about 70 s on one free core; or
``meio train a2c``) trains SB3's A2C on ``--n-envs`` parallel copies of the chapter system (one SB3 ``VecEnv`` over the
batched core: the package's SB3 adapter with the chapter's view), keeps the policy that scores best on a validation set
during training, evaluates the final and the best policy with the chapter protocol on the fixed
evaluation seeds (100 episodes, :func:`meio_envs.envs.chapter.evaluate_chapter`) and appends one
trial record (the package's record format) to the results store (default ``OUT/results.jsonl``) next
to the searched (s, S) benchmark's cost under the same action space. The run folder
``OUT/a2c/Chapter2L/seed<seed>`` holds ``config.json``, ``best.zip`` (the best model, ``A2C.load``) and
``result.json``. A run is short (minutes), so it is not checkpointed mid-way: an unfinished folder of
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
import time
from pathlib import Path
from typing import Any

import numpy as np

from baselines.common.records import TrialIdentity, utc_now
from baselines.common.trial import check_budget, finish, finished_result, open_run_dir, result_config, run_and_record
from meio_envs.envs.chapter import ActionType, ChapterBatch, ChapterParams, evaluate_chapter
from meio_envs.evaluation import EVAL_SEED

__all__ = ["main", "make_vec_env", "train_cli"]

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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, evaluate the final and best model, append a results record; returns the record."""
    ap = argparse.ArgumentParser(prog="chapter_a2c", description="A2C on MEIO-Chapter2L-v0 (SB3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timesteps", type=int, default=1_200_000,
                    help="budget in environment steps (all envs together), rounded down to whole rollouts")
    ap.add_argument("--episodes", type=int, default=None,
                    help="budget in training episodes of 52 periods instead of --timesteps")
    ap.add_argument("--n-envs", type=int, default=16)
    ap.add_argument("--n-steps", type=int, default=8, help="rollout length per env and update")
    ap.add_argument("--lr", type=float, default=7e-4)
    ap.add_argument("--gamma", type=float, default=0.99)
    ap.add_argument("--gae-lambda", type=float, default=1.0)
    ap.add_argument("--ent-coef", type=float, default=0.01)
    ap.add_argument("--no-norm-reward", action="store_true", help="train on raw rewards (no VecNormalize)")
    ap.add_argument("--action-type", choices=("discrete", "continuous"), default="discrete")
    ap.add_argument("--eval-freq", type=int, default=50_000, help="env steps between validation runs")
    ap.add_argument("--eval-episodes", type=int, default=100)
    ap.add_argument("--out", default="runs", help="root of run folders (default store: OUT/results.jsonl)")
    ap.add_argument("--results", default=None, help="results store (JSON lines); default OUT/results.jsonl")
    ap.add_argument("--no-resume", dest="resume", action="store_false",
                    help="discard the run folder's state and train again")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    cp = ChapterParams()
    try:
        if args.episodes is not None:
            check_budget(episodes=args.episodes)
            args.timesteps = args.episodes * cp.episode_length
        check_budget(timesteps=args.timesteps, n_envs=args.n_envs, n_steps=args.n_steps, eval_freq=args.eval_freq,
                     eval_episodes=args.eval_episodes)
    except ValueError as e:
        ap.error(str(e))
    rollout = args.n_envs * args.n_steps
    args.timesteps = args.timesteps // rollout * rollout  # SB3 runs whole rollouts: never past the budget
    if args.timesteps < rollout:
        ap.error(f"the budget is less than one rollout ({args.n_envs} envs x {args.n_steps} steps = {rollout} steps)")
    ident = TrialIdentity(SCENARIO, "a2c", args.seed, result_config(vars(args), drop=("episodes",)))
    store = Path(args.results) if args.results else Path(args.out) / "results.jsonl"
    rec = run_and_record(ident, store, lambda: _train(args, ident, cp), out=(lambda m: None) if args.quiet else None,
                         run_dir=_run_dir(args))
    assert rec is not None
    return rec


def _run_dir(args: argparse.Namespace) -> Path:
    return Path(args.out) / "a2c" / SCENARIO / f"seed{args.seed}"


def _train(args: argparse.Namespace, ident: TrialIdentity, cp: ChapterParams) -> dict[str, Any]:
    run_dir = open_run_dir(_run_dir(args), ident, args.resume)
    done = finished_result(run_dir, ident)
    if done is not None:
        return done
    started_at = utc_now()
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecNormalize

    from baselines.chapter_benchmark import benchmark_result
    from baselines.common.device import resolve_device

    t0 = time.perf_counter()
    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    at: ActionType = args.action_type
    venv = make_vec_env(args.n_envs, cp, at)
    train_env = venv if args.no_norm_reward else VecNormalize(venv, norm_obs=False, norm_reward=True,
                                                               gamma=args.gamma)
    model = A2C("MlpPolicy", train_env, n_steps=args.n_steps, learning_rate=args.lr, gamma=args.gamma,
                gae_lambda=args.gae_lambda, ent_coef=args.ent_coef, seed=args.seed, device=device, verbose=0)
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
                          f"  ({time.perf_counter() - t0:.0f}s)", flush=True)
            return True

    model.learn(total_timesteps=args.timesteps, callback=Validate())
    train_s = time.perf_counter() - t0
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
    model.save(run_dir / "best.zip")
    result = {
        "action_type": at, "best_cost": best_cost, "best_model_cost": best_eval.mean, "best_model_se": best_eval.se,
        "best_model_step": best["step"], "final_cost": final_eval.mean, "final_se": final_eval.se,
        "heuristic_cost": bench.mean, "benchmark_cost": bench.mean, "benchmark": "searched (s,S)",
        "savings": (bench.mean - best_cost) / bench.mean, "eval_seed": EVAL_SEED, "eval_episodes": args.eval_episodes,
        "paired_saving_mean": float(diff.mean()), "paired_saving_se": float(diff.std(ddof=1) / np.sqrt(diff.size)),
        "breakdown_best": best_eval.breakdown, "train_time_s": round(train_s, 1),
        "env_steps": int(model.num_timesteps), "episodes": int(model.num_timesteps) // cp.episode_length,
        "validation_curve": curve, "run_dir": str(run_dir), "best_model": str(run_dir / "best.zip"),
    }
    rec = finish(run_dir, ident, result, device, started_at, time.perf_counter() - t0)
    if not args.quiet:
        print(f"seed {args.seed}: best {best_eval.mean:.1f} (step {best['step']}), final {final_eval.mean:.1f}, "
              f"benchmark {bench.mean:.1f}, savings {result['savings']:+.1%}, {rec['provenance']['wall_time_s']}s",
              flush=True)
    return rec


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
