"""First-use cost of the compiled period: a cold Numba cache vs a warm one, in fresh processes.

    python benchmarks/compile_time.py [--scenario A1] [--repeats 2]

Each run starts a new interpreter that imports the package, makes ``MEIO-<id>-v0``, resets it and
takes one step, with ``NUMBA_CACHE_DIR`` pointing at a temporary folder: the first run compiles
and fills that cache (what the first ``gym.make`` on a machine pays), the next ones load from it
(what every later process pays). Wall and CPU seconds of each child are printed side by side with
a child that only imports gymnasium and numpy (the floor of any process start).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

_CHILD = """
import time
t0 = time.perf_counter()
import gymnasium as gym, numpy as np
if {full}:
    import meio_envs
    env = gym.make("MEIO-{sid}-v0")
    env.reset(seed=0)
    env.step(env.action_space.sample())
print(f"{{time.perf_counter() - t0:.3f}}")
"""


def run_child(code: str, cache: str) -> tuple[float, float, float]:
    """(wall s, child CPU s, seconds the child measured itself) of one fresh interpreter."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "OMP_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="A1")
    ap.add_argument("--repeats", type=int, default=2, help="warm-cache runs after the cold one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        base = run_child(_CHILD.format(full=False, sid=args.scenario), cache)
        rows = [("import gymnasium + numpy only", base)]
        rows.append(("cold cache: import, make, reset, step", run_child(_CHILD.format(full=True, sid=args.scenario), cache)))
        for i in range(args.repeats):
            rows.append((f"warm cache #{i + 1}", run_child(_CHILD.format(full=True, sid=args.scenario), cache)))
    print(f"{'process':40s} {'wall s':>8s} {'CPU s':>8s} {'in-process s':>13s}")
    for name, (wall, cpu, inner) in rows:
        print(f"{name:40s} {wall:8.2f} {cpu:8.2f} {inner:13.2f}")
    cold, warm = rows[1][1], rows[-1][1]
    print(f"compile (cold - warm): {cold[0] - warm[0]:.2f} s wall, {cold[1] - warm[1]:.2f} s CPU")


if __name__ == "__main__":
    main()
