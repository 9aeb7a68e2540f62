"""Grid scaling: the same smoke-budget grid run one trial after another and on a local Ray, in one run.

Prints the wall time of each (and of a plain process pool of the same size, the ceiling of the
machine without Ray), their ratio (goal on 2 cores: >= 1.7x) and Ray's overhead per trial,
``(ray wall - sequential wall / workers) / trials``: what each trial costs beyond a perfect split
of the sequential work over the workers (Ray start-up, worker start and imports, scheduling,
returning the record; goal <= 2 s).

    python benchmarks/grid_scaling.py [--trials 12] [--workers 2] [--model sarl] [--scenario A1]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from baselines.common.records import ResultsStore  # noqa: E402
from baselines.grid_runner import TrialSpec, execute_trial, run_trials  # noqa: E402
from baselines.presets import preset_options  # noqa: E402


def _grid(out: Path, model: str, scenario: str, trials: int) -> list[TrialSpec]:
    opts = preset_options("smoke", model, scenario)
    return [TrialSpec(model, scenario, seed, opts, str(out), "smoke") for seed in range(trials)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default="sarl")
    ap.add_argument("--scenario", default="A1")
    a = ap.parse_args()
    quiet = lambda s: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # warm the driver's imports and caches once, so the sequential side pays no start-up either
        run_trials(_grid(root / "warm", a.model, a.scenario, 1), ResultsStore(root / "warm.jsonl"), use_ray=False,
                   live=False, say=quiet)
        t0 = time.perf_counter()
        c1 = run_trials(_grid(root / "seq", a.model, a.scenario, a.trials), ResultsStore(root / "seq.jsonl"),
                        use_ray=False, live=False, say=quiet)
        seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        specs = _grid(root / "pool", a.model, a.scenario, a.trials)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(a.workers, mp_context=ctx) as pool:
            pool_recs = list(pool.map(execute_trial, specs))
        pool_wall = time.perf_counter() - t0
        assert all(r["status"] == "finished" for r in pool_recs)

        import ray

        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=a.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        t_up = time.perf_counter()
        c2 = run_trials(_grid(root / "ray", a.model, a.scenario, a.trials), ResultsStore(root / "ray.jsonl"),
                        workers=a.workers, live=False, say=quiet)
        t_run = time.perf_counter()
        ray.shutdown()
        ray_wall = time.perf_counter() - t0
        ray_running = t_run - t_up
        in_task = [r["provenance"]["wall_time_s"] for r in ResultsStore(root / "ray.jsonl").records()]
        in_seq = [r["provenance"]["wall_time_s"] for r in ResultsStore(root / "seq.jsonl").records()]
    assert c1["done"] == c2["done"] == a.trials, (c1, c2)
    overhead = (ray_wall - seq / a.workers) / a.trials
    overhead_up = (ray_running - seq / a.workers) / a.trials
    print(f"{a.trials} {a.model} {a.scenario} smoke trials, {os.cpu_count()} CPUs")
    print(f"  sequential (one process)   {seq:7.1f} s   trial time {sum(in_seq):6.1f} s")
    print(f"  process pool, {a.workers} workers   {pool_wall:7.1f} s   (no Ray: this machine's ceiling)")
    print(f"  local Ray, {a.workers} workers      {ray_wall:7.1f} s   trial time {sum(in_task):6.1f} s")
    print(f"    of which Ray start/stop  {ray_wall - ray_running:7.1f} s   (a cluster that is up pays none)")
    print(f"  speed-up sequential / Ray  {seq / ray_wall:7.2f} x   (goal >= 1.7 on 2 cores); "
          f"{seq / ray_running:.2f} x on a running Ray")
    print(f"  Ray overhead per trial     {overhead:7.2f} s   (goal <= 2 s); {overhead_up:.2f} s on a running Ray")


if __name__ == "__main__":
    main()
