"""``meio benchmark``: evaluate your own policy under the grid protocol and record it beside the baselines.

    meio benchmark my_package.my_module:make_policy --scenarios A1 B4 --name my-algo
    meio benchmark path/to/file.py:make_policy --scenarios A1 --name my-algo --seed 3 --episodes 20000

``make_policy(scenario_id)`` returns the policy for one scenario, as one of

- a callable ``policy(obs, info) -> actions``: ``obs`` (B, obs_dim) scaled observations of B
  copies, ``actions`` (B, P) in [-1, 1] (``info``: the raw inventory positions and cost factors);
- a Stable-Baselines3 model (anything with ``predict(obs, deterministic=True)``);
- a torch module mapping (B, obs_dim) observations to (B, P) actions;
- per agent: a dict ``{stock point name: policy}``, where each policy gets that agent's observation
  (``--view marl``: its own inventory position; ``--view imarl``: its own and everything downstream)
  and returns (B,) or (B, 1) actions; any of the three kinds above per agent.

Each scenario is evaluated with the fixed evaluation seeds (100 episodes x 75 periods, 25 warm-up),
next to the DA heuristic on the same episodes, and written as one trial record (the store's format,
model = ``--name``) to ``--results`` (default ``runs/benchmark/results.jsonl``); ``meio grid report``
then shows it beside the baselines. The record's ``config`` holds the policy's reference, view and
the training budget you declare (``--episodes``, ``--env-steps``); its ``provenance`` holds the
SHA-256 of the policy's source file.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from baselines.common.clock import TrialClock
from baselines.common.records import ResultsStore, TrialIdentity, make_record, provenance, utc_now

__all__ = ["as_policy", "benchmark_cli", "benchmark_policy", "load_factory"]


def load_factory(ref: str) -> tuple[Callable[[str], Any], Path | None]:
    """``module:attr`` or ``path/to/file.py:attr`` -> (the attribute, its source file)."""
    mod_ref, sep, attr = ref.rpartition(":")
    if not sep or not mod_ref or not attr.isidentifier():
        raise ValueError(f"the policy is given as module:function or file.py:function, got {ref!r}")
    if mod_ref.endswith(".py"):
        path = Path(mod_ref)
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        spec.loader.exec_module(mod)  # the user's own code, run on purpose
    else:
        try:
            mod = importlib.import_module(mod_ref)
        except ModuleNotFoundError as e:
            raise ValueError(f"cannot import {mod_ref!r} ({e}); is it installed, or on PYTHONPATH?") from None
    if not hasattr(mod, attr):
        raise ValueError(f"{mod_ref} has no attribute {attr!r}")
    src = inspect.getsourcefile(mod)
    if src is None:
        return getattr(mod, attr), None
    path = Path(src).resolve()
    # records name the file relative to where the command ran, not by this machine's absolute path
    return getattr(mod, attr), path.relative_to(Path.cwd().resolve()) if path.is_relative_to(Path.cwd().resolve()) else path


def _single(obj: Any) -> Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]:
    if hasattr(obj, "predict") and callable(obj.predict):
        return lambda obs, info: np.asarray(obj.predict(obs, deterministic=True)[0])
    try:
        import torch

        if isinstance(obj, torch.nn.Module):
            def act(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
                with torch.no_grad():
                    return obj(torch.as_tensor(np.asarray(obs, np.float32))).cpu().numpy()

            return act
    except ImportError:
        pass
    if callable(obj):
        return obj
    raise TypeError(f"a policy is a callable, an SB3 model or a torch module, got {type(obj).__name__}")


def as_policy(obj: Any, scenario: str, view: str = "marl") -> Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]:
    """Any supported policy kind as a joint protocol policy ``(obs, info) -> (B, P) actions in [-1, 1]``."""
    if not isinstance(obj, Mapping):
        pol = _single(obj)
        return lambda obs, info: np.clip(np.asarray(pol(obs, info), dtype=np.float32), -1.0, 1.0)
    from meio_envs.envs.batch import BatchedMEIO
    from meio_envs.envs.batched_ma import view_tables

    core = BatchedMEIO(scenario, num_envs=1)
    names = list(core.params.network.names)
    if set(obj) != set(names):
        raise ValueError(f"a per-agent policy needs one entry per stock point {names}; got {sorted(obj)}")
    index, _ = view_tables(core, view)
    agents = [(_single(obj[n]), index[i]) for i, n in enumerate(names)]

    def joint(obs: np.ndarray, info: Mapping[str, np.ndarray]) -> np.ndarray:
        cols = [np.asarray(p(obs[:, ix], info), dtype=np.float32).reshape(obs.shape[0]) for p, ix in agents]
        return np.clip(np.stack(cols, axis=1), -1.0, 1.0)

    return joint


def benchmark_policy(factory: Callable[[str], Any], ref: str, name: str, scenarios: Sequence[str], *,
                     seed: int = 0, view: str = "marl", episodes: int | None = None, env_steps: int | None = None,
                     source: Path | None = None, eval_episodes: int = 100) -> list[dict[str, Any]]:
    """Evaluate ``factory(scenario)`` on each scenario; returns the records (not yet stored)."""
    from meio_envs.envs.batch import resolve_params
    from meio_envs.evaluation import EVAL_SEED, da_policy, evaluate
    from meio_envs.scenarios import parse_scenario_id

    digest = hashlib.sha256(source.read_bytes()).hexdigest() if source is not None else None
    out = []
    for sc in scenarios:
        s, lvl = parse_scenario_id(sc)
        sid = f"{s}{lvl}"
        started, clock = utc_now(), TrialClock()
        policy = as_policy(factory(sid), sid, view)
        res = evaluate(policy, sid, episodes=eval_episodes, seed=EVAL_SEED)
        da = evaluate(da_policy(resolve_params(sid)[0]), sid, episodes=eval_episodes, seed=EVAL_SEED)
        diff = da.episode_costs - res.episode_costs
        result = {
            "best_cost": res.mean, "best_se": res.se, "heuristic_cost": da.mean, "savings": res.savings_vs(da),
            "paired_saving_mean": float(diff.mean()),
            "paired_saving_se": float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0,
            "eval_seed": EVAL_SEED, "eval_episodes": eval_episodes, "episodes": episodes, "env_steps": env_steps,
            "breakdown": res.breakdown,
        }
        config = {"policy": ref, "view": view, "declared_episodes": episodes, "declared_env_steps": env_steps,
                  "eval_episodes": eval_episodes, "policy_sha256": digest}
        ident = TrialIdentity(sid, name, seed, config)
        out.append(make_record(ident, result, provenance("cpu", started, clock.wall(), clock.cpu(), policy_source=str(source)),
                               preset="submission"))
    return out


def benchmark_cli(argv: Sequence[str]) -> int:
    """Parse ``meio benchmark`` arguments, evaluate, record, print one line per scenario."""
    ap = argparse.ArgumentParser(prog="meio benchmark", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("policy", help="module:function or file.py:function returning the policy for a scenario id")
    ap.add_argument("--scenarios", nargs="+", required=True, help="grid ids, e.g. A1 B4")
    ap.add_argument("--name", required=True, help="the model name your records carry (e.g. my-algo)")
    ap.add_argument("--seed", type=int, default=0, help="your training seed (trial identity)")
    ap.add_argument("--view", choices=("marl", "imarl"), default="marl", help="observations of per-agent policies")
    ap.add_argument("--episodes", type=int, default=None, help="training episodes you used (declared)")
    ap.add_argument("--env-steps", type=int, default=None, help="training env steps you used (declared)")
    ap.add_argument("--results", default="runs/benchmark/results.jsonl", help="results store to append to")
    a = ap.parse_args(list(argv))
    if not a.name or not all(c.isalnum() or c in "-_." for c in a.name):
        ap.error(f"--name must be letters, digits, '-', '_' or '.', got {a.name!r}")
    try:
        factory, src = load_factory(a.policy)
        recs = benchmark_policy(factory, a.policy, a.name, a.scenarios, seed=a.seed, view=a.view,
                                episodes=a.episodes, env_steps=a.env_steps, source=src)
    except (ValueError, TypeError) as e:
        print(f"meio benchmark: {e}", file=sys.stderr)
        return 2
    store = ResultsStore(a.results)
    for r in recs:
        new = store.append(r)
        res = r["result"]
        print(f"{r['scenario']} {r['model']}: cost {res['best_cost']:.2f} vs DA {res['heuristic_cost']:.2f} "
              f"(savings {100 * res['savings']:.2f} %, paired {res['paired_saving_mean']:.1f} +- "
              f"{res['paired_saving_se']:.1f} per episode) [{r['trial_id']}]{'' if new else ' (already recorded)'}")
    print(f"records in {store.path}")
    return 0
