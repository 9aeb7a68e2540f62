"""Run a list of trials: each as a Ray task (one CPU each by default), or one after another without Ray.

The driver (this process) is the only writer of the results store: a task trains in its run
folder and returns the record; the driver appends it, so a cluster needs no shared lock on the
store, only a shared ``--out`` folder for resume across machines. A task that raises becomes a
``status: failed`` record with the error, and the others go on. Trials already finished in the
store are skipped before anything is scheduled; a killed driver, rerun, schedules what is left, and
every interrupted trial resumes from its run folder's checkpoint.

Trials of a seed-batched trainer (one whose module has ``run_trials``: MARL, MARL+GNN, IMARL) that
differ only in seed run as one task of up to ``batch_seeds`` trials: one batched computation whose
trials are each bit-identical to their solo runs, so a cell of K seeds costs far less than K tasks.
Such a task holds one CPU like any other; its records say ``batched_trials`` and share its wall time.

Ray core tasks (not Ray Tune) are used: a trial here is a fixed configuration with its own exact
checkpoint/resume and its own record, so Tune's search, schedulers and trial bookkeeping would be a
second, competing record of the same thing; a task per trial with ``ray.wait`` is all that is needed.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baselines.common.records import ResultsStore, TrialIdentity, utc_now
from baselines.common.trial import failed_record, trial_lock

__all__ = ["GRID_MODELS", "GridAborted", "TrialSpec", "execute_batch", "execute_trial", "group_specs", "run_trials"]

# model -> module with make_args(model, scenario, seed, **options) and run_trial(args)
GRID_MODELS: dict[str, str] = {
    "sarl": "baselines.sarl",
    "sarl-gnn": "baselines.sarl",
    "marl": "baselines.mappo",
    "marl-gnn": "baselines.mappo",
    "imarl": "baselines.imarl",
    "imarl-random": "baselines.imarl",
    "a2c": "baselines.chapter_a2c",  # Chapter2L only
}


@dataclass(frozen=True)
class TrialSpec:
    """One trial of a grid: model, scenario, seed, trainer options and the grid's output folder."""

    model: str
    scenario: str
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)
    out: str = "runs/grid"
    preset: str | None = None
    module: str | None = None
    """Trainer module (default: :data:`GRID_MODELS`'s for the model): a new algorithm can run on the grid."""

    @property
    def trainer(self) -> Any:
        """The trainer module: ``make_args(model, scenario, seed, **options)`` and ``run_trial(args)``."""
        return importlib.import_module(self.module or GRID_MODELS[self.model])

    def args(self) -> Any:
        """The trainer's options object (validated by the trainer: bad options raise here)."""
        mod = self.trainer
        opts = dict(self.options)
        opts.update(out=self.out, progress=False)
        args = mod.make_args(self.model, self.scenario, self.seed, **opts)
        ident = args.identity()
        args.run_name = f"{ident.model}/{ident.scenario}/{ident.trial_id}"  # a changed setting never shares a folder
        return args

    def identity(self) -> TrialIdentity:
        """The trial's identity (what the store is keyed on)."""
        return self.args().identity()

    @property
    def seed_batchable(self) -> bool:
        """Whether the trainer trains several seeds of one setting as one computation (``run_trials``)."""
        return hasattr(self.trainer, "run_trials")

    def setting(self) -> str:
        """Everything but the seed: specs with the same setting may share a seed-batched task."""
        return json.dumps([self.module or GRID_MODELS[self.model], self.model, self.scenario, dict(self.options),
                           self.out, self.preset], sort_keys=True, default=str)


def _run_dir(args: Any) -> Path:
    rd = args.run_dir
    return Path(rd() if callable(rd) else rd)


def execute_trial(spec: TrialSpec) -> dict[str, Any]:
    """Train one trial in this process and return its record (finished or failed); never raises."""
    started, t0 = utc_now(), time.time()
    try:
        args = spec.args()
        ident = args.identity()
    except Exception as e:  # noqa: BLE001 - bad options: recorded like any other failure
        ident = TrialIdentity(spec.scenario, spec.model, spec.seed, {"invalid_options": dict(spec.options)})
        return failed_record(ident, e, started, time.time() - t0, spec.preset)
    try:
        with trial_lock(_run_dir(args)):
            rec = spec.trainer.run_trial(args)
        if rec is None:
            raise RuntimeError("the trainer stopped before the end of its budget")
        rec = dict(rec)
        rec["preset"] = spec.preset
        return rec
    except Exception as e:  # noqa: BLE001 - a failing trial must not stop the grid
        return failed_record(ident, e, started, time.time() - t0, spec.preset, getattr(args, "device", "unknown"))


def execute_batch(specs: Sequence[TrialSpec]) -> list[dict[str, Any]]:
    """Train trials of one setting as one seed-batched computation; one record per spec, in order; never raises.

    A single spec, or a trainer without ``run_trials``, is :func:`execute_trial`. If the batch
    fails, every trial of it gets a failed record with the error (their checkpoints stay, so a rerun
    resumes them).
    """
    if len(specs) == 1 or not specs[0].seed_batchable:
        return [execute_trial(s) for s in specs]
    started, t0 = utc_now(), time.time()
    try:
        args_list = [s.args() for s in specs]
    except Exception:  # noqa: BLE001 - bad options: each trial records its own failure
        return [execute_trial(s) for s in specs]
    try:
        with ExitStack() as locks:
            for a in args_list:
                locks.enter_context(trial_lock(_run_dir(a)))
            recs = specs[0].trainer.run_trials(args_list)
        out = []
        for spec, a, rec in zip(specs, args_list, recs):
            if rec is None:
                out.append(failed_record(a.identity(), RuntimeError("the trainer stopped before the end of its budget"),
                                         started, time.time() - t0, spec.preset, getattr(a, "device", "unknown")))
            else:
                out.append({**rec, "preset": spec.preset})
        return out
    except Exception as e:  # noqa: BLE001 - a failing batch must not stop the grid
        return [failed_record(a.identity(), e, started, time.time() - t0, s.preset, getattr(a, "device", "unknown"))
                for s, a in zip(specs, args_list)]


def group_specs(specs: Sequence[TrialSpec], batch_seeds: int | None) -> list[list[TrialSpec]]:
    """Tasks: specs of a seed-batched trainer with the same setting, up to ``batch_seeds`` per task (None: all).

    ``batch_seeds=1`` gives one task per trial. Order follows the first spec of each setting.
    """
    if batch_seeds is not None and batch_seeds < 1:
        raise ValueError(f"batch_seeds must be >= 1 (or None for all seeds of a setting), got {batch_seeds}")
    groups: dict[str, list[TrialSpec]] = {}
    tasks: list[list[TrialSpec]] = []
    for s in specs:
        if batch_seeds == 1 or not s.seed_batchable:
            tasks.append([s])
            continue
        key = s.setting()
        g = groups.get(key)
        if g is None or (batch_seeds is not None and len(g) >= batch_seeds):
            g = groups[key] = []
            tasks.append(g)
        g.append(s)
    return tasks


class GridAborted(RuntimeError):
    """The grid stopped because its cluster failed (not a trial): nothing unfinished was recorded."""


@dataclass
class _Counts:
    total: int
    done: int = 0
    failed: int = 0
    running: int = 0

    @property
    def queued(self) -> int:
        return self.total - self.done - self.failed - self.running

    def text(self) -> str:
        return f"done {self.done}  running {self.running}  failed {self.failed}  queued {self.queued}"


def _live(total: int, enabled: bool) -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    prog = Progress(TextColumn("[bold]grid"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), disable=not enabled)
    return prog, prog.add_task("", total=total)


def run_trials(specs: Sequence[TrialSpec], store: ResultsStore, *, workers: int | None = None,
               use_ray: bool = True, address: str | None = None, gpus_per_trial: float | None = None,
               live: bool = True, say: Callable[[str], None] = print,
               batch_seeds: int | None = None) -> dict[str, int]:
    """Run every trial of ``specs`` not yet finished in ``store``; returns counts of done/failed/skipped.

    Seeds of one setting of a seed-batched trainer share a task, up to ``batch_seeds`` of them
    (None: all; 1: a task per trial); ``workers`` bounds the tasks running at a time.
    """
    todo: list[TrialSpec] = []
    skipped = 0
    finished = {r["trial_id"] for r in store.records("finished")}
    for s in specs:
        if s.identity().trial_id in finished:
            skipped += 1
        else:
            todo.append(s)
    tasks = group_specs(todo, batch_seeds)
    batched = sum(len(t) for t in tasks if len(t) > 1)
    say(f"{len(specs)} trials: {skipped} already finished in {store.path}, {len(todo)} to run as {len(tasks)} "
        f"tasks" + (f" ({batched} trials seed-batched)" if batched else ""))
    if not todo:
        return {"done": 0, "failed": 0, "skipped": skipped}
    counts = _Counts(len(todo))
    prog, task = _live(len(todo), live)

    def land(recs: Sequence[dict[str, Any]], wall: float) -> None:
        for rec in recs:
            store.append(rec)
            if rec["status"] == "finished":
                counts.done += 1
                say(f"done   {rec['trial_id']}  savings {100 * rec['result']['savings']:+.2f} %  ({wall:.0f} s"
                    + (f", {len(recs)} seeds batched)" if len(recs) > 1 else ")"))
            else:
                counts.failed += 1
                say(f"FAILED {rec['trial_id']}: {rec['error']['type']}: {rec['error']['message'][:200]}")
        prog.update(task, advance=len(recs), description=counts.text())

    with prog:
        prog.update(task, description=counts.text())
        if use_ray:
            _run_ray(tasks, land, counts, prog, task, workers, address, gpus_per_trial, say)
        else:
            for group in tasks:
                counts.running = len(group)
                prog.update(task, description=counts.text())
                t0 = time.time()
                recs = execute_batch(group)
                counts.running = 0
                land(recs, time.time() - t0)
    return {"done": counts.done, "failed": counts.failed, "skipped": skipped}


def _run_ray(tasks: list[list[TrialSpec]], land: Callable[[Sequence[dict[str, Any]], float], None],
             counts: _Counts, prog: Any, task: Any, workers: int | None, address: str | None,
             gpus_per_trial: float | None, say: Callable[[str], None]) -> None:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        res = ray.cluster_resources()
        cpus, gpus = int(res.get("CPU", 1)), float(res.get("GPU", 0))
        n = max(1, min(workers or cpus, cpus))
        gpu = gpus_per_trial if gpus_per_trial is not None else (min(1.0, gpus / n) if gpus else 0.0)
        say(f"ray: {cpus} CPUs, {gpus:g} GPUs; {n} tasks at a time, 1 CPU and {gpu:g} GPU each")
        remote = ray.remote(num_cpus=1, num_gpus=gpu, max_retries=0)(execute_batch)
        queue = list(tasks)
        in_flight: dict[Any, tuple[list[TrialSpec], float]] = {}
        while queue or in_flight:
            while queue and len(in_flight) < n:
                group = queue.pop(0)
                in_flight[remote.remote(group)] = (group, time.time())
            counts.running = sum(len(g) for g, _ in in_flight.values())
            prog.update(task, description=counts.text())
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            for ref in ready:
                group, t0 = in_flight.pop(ref)
                try:
                    recs = ray.get(ref)
                except (ray.exceptions.LocalRayletDiedError, ray.exceptions.RaySystemError) as e:
                    # the cluster, not the trial, failed: record nothing more; a rerun continues every trial
                    left = sum(len(g) for g in queue) + sum(len(g) for g, _ in in_flight.values()) + len(group)
                    raise GridAborted(f"the Ray cluster failed ({type(e).__name__}); {left} trials were not "
                                      "finished: run the same command again to continue them") from None
                except Exception as e:  # noqa: BLE001 - the task's worker crashed (killed, out of memory)
                    recs = [failed_record(s.identity(), e, utc_now(), time.time() - t0, s.preset) for s in group]
                counts.running = sum(len(g) for g, _ in in_flight.values())
                land(recs, time.time() - t0)
    finally:
        if started_here:
            ray.shutdown()
