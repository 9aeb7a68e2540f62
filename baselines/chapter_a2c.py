"""A2C on ``MEIO-Chapter2L-v0``: the book chapter's baseline (A3C there, its synchronous form here).

``python -m baselines.chapter_a2c --seed 0`` (1.2M steps, about 70 s on one free core; or
``meio train a2c``) trains SB3's A2C on ``--n-envs`` parallel copies of the chapter system (one SB3 ``VecEnv`` over the
batched core, :class:`ChapterSB3VecEnv`), keeps the policy that scores best on a validation set
during training, evaluates the final and the best policy with the chapter protocol on the fixed
evaluation seeds (100 episodes, :func:`meio_envs.envs.chapter.evaluate_chapter`) and appends one
record to ``OUT/chapter_a2c.jsonl`` next to the searched (s, S) benchmark's cost under the same
action space.

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

from meio_envs.envs.chapter import ActionType, ChapterBatch, ChapterParams, evaluate_chapter

__all__ = ["ChapterSB3VecEnv", "main"]

VALID_SEED = 7_000_001  # validation copies for picking the best model (disjoint from EVAL_SEED's)
VALID_EPISODES = 50
RESULTS_FILE = "chapter_a2c.jsonl"


def _vec_env_base():  # noqa: ANN202
    from stable_baselines3.common.vec_env import VecEnv

    return VecEnv


class ChapterSB3VecEnv(_vec_env_base()):
    """SB3 ``VecEnv`` of ``num_envs`` chapter systems stepped as one batch of the shared core.

    Autoreset follows SB3: the step that ends an episode returns the next episode's first
    observation and puts the last one in ``infos[i]["terminal_observation"]`` with
    ``"TimeLimit.truncated": True`` (episodes are truncated, never terminated, so A2C
    bootstraps from the value of the last state).
    """

    def __init__(self, num_envs: int, params: ChapterParams | None = None, action_type: ActionType = "discrete",
                 seed: int = 0) -> None:
        import gymnasium as gym

        self.batch = ChapterBatch(params, num_envs=num_envs)
        self.cp = self.batch.cp
        self.action_type = action_type
        act = gym.spaces.Discrete(13) if action_type == "discrete" else gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        super().__init__(num_envs, gym.spaces.Box(-1.0, 1.0, (12,), np.float32), act)
        self._base_seed = int(seed)
        self._actions: np.ndarray | None = None
        self._ep_return = np.zeros(num_envs)

    def reset(self) -> np.ndarray:  # noqa: D102
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else self._base_seed
        self.batch.reset(int(seed))
        self._reset_seeds()
        self._ep_return[:] = 0
        return self.batch.observe()

    def step_async(self, actions: np.ndarray) -> None:  # noqa: D102
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:  # noqa: D102
        a = self._actions
        q = (self.batch.discrete_to_orders(a.reshape(-1)) if self.action_type == "discrete"
             else self.batch.continuous_to_orders(a.reshape(self.num_envs, 3)))
        cost = self.batch.step_orders(q).total
        rew = (-cost / self.cp.reward_scale).astype(np.float32)
        self._ep_return += cost
        dones = self.batch.truncated().copy()
        obs = self.batch.observe()
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            for i in np.nonzero(dones)[0]:
                infos[i] = {"terminal_observation": obs[i].copy(), "TimeLimit.truncated": True,
                            "episode": {"r": -float(self._ep_return[i]) / self.cp.reward_scale,
                                        "l": int(self.cp.episode_length), "cost": float(self._ep_return[i])}}
            self.batch.reset(None, mask=dones)
            self._ep_return[dones] = 0
            obs = self.batch.observe()
        return obs, rew, dones, infos

    def close(self) -> None:  # noqa: D102
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:  # noqa: D102
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:  # noqa: D102
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:  # noqa: D102
        return [getattr(self, method_name)(*args, **kwargs)] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:  # noqa: D102
        return [False] * len(self._get_indices(indices))

    def _get_indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)


def _policy_fn(model: Any, action_type: ActionType):  # noqa: ANN202
    def act(obs: np.ndarray, info: Any) -> np.ndarray:
        a, _ = model.predict(obs, deterministic=True)
        return np.asarray(a)

    return act


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, evaluate the final and best model, append a results record; returns the record."""
    ap = argparse.ArgumentParser(prog="chapter_a2c", description="A2C on MEIO-Chapter2L-v0 (SB3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timesteps", type=int, default=1_200_000, help="environment steps (all envs together)")
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
    ap.add_argument("--out", default="benchmarks/results", help="folder for chapter_a2c.jsonl")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecNormalize

    from baselines.chapter_benchmark import benchmark_result
    from baselines.common.device import resolve_device
    from baselines.common.results import append_result

    t0 = time.perf_counter()
    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    cp = ChapterParams()
    at: ActionType = args.action_type
    venv = ChapterSB3VecEnv(args.n_envs, cp, at, seed=10_000 * args.seed)
    train_env = venv if args.no_norm_reward else VecNormalize(venv, norm_obs=False, norm_reward=True,
                                                               gamma=args.gamma)
    model = A2C("MlpPolicy", train_env, n_steps=args.n_steps, learning_rate=args.lr, gamma=args.gamma,
                gae_lambda=args.gae_lambda, ent_coef=args.ent_coef, seed=args.seed, device=device, verbose=0)

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
    record = {
        "scenario": "Chapter2L", "model": "a2c", "seed": args.seed, "action_type": at,
        "best_cost": best_cost, "best_model_cost": best_eval.mean, "best_model_se": best_eval.se,
        "best_model_step": best["step"], "final_cost": final_eval.mean, "final_se": final_eval.se,
        "heuristic_cost": bench.mean, "benchmark_cost": bench.mean, "benchmark": "searched (s,S)",
        "savings": (bench.mean - best_cost) / bench.mean,
        "paired_saving_mean": float(diff.mean()), "paired_saving_se": float(diff.std(ddof=1) / np.sqrt(diff.size)),
        "breakdown_best": best_eval.breakdown, "wall_time_s": round(time.perf_counter() - t0, 1),
        "train_time_s": round(train_s, 1), "env_steps": int(model.num_timesteps), "episodes": args.eval_episodes,
        "device": device, "n_envs": args.n_envs, "n_steps": args.n_steps, "validation_curve": curve,
    }
    append_result(Path(args.out) / RESULTS_FILE, record)
    if not args.quiet:
        print(f"seed {args.seed}: best {best_eval.mean:.1f} (step {best['step']}), final {final_eval.mean:.1f}, "
              f"benchmark {bench.mean:.1f}, savings {record['savings']:+.1%}, {record['wall_time_s']}s", flush=True)
    return record


if __name__ == "__main__":
    main()
