"""One trial's run folder: its resolved config, resume refusal, its finished result, the store.

Every trainer goes through these steps, so resume and records behave the same for all models:

1. :func:`result_config` picks the settings that change a result out of the trainer's options
   (everything but where and how it runs: device, threads, folders, progress bars, test hooks).
2. :func:`open_run_dir` writes ``<run>/config.json`` for a new run, or checks that an existing
   folder was written by the same trial and refuses (listing the differing fields) otherwise;
   with ``resume=False`` it first deletes the folder's training state.
3. The trainer trains, checkpointing into the run folder.
4. :func:`finish` writes ``<run>/result.json`` (the finished record); calling the trainer again
   returns it (:func:`finished_result`) without training.
5. :func:`run_and_record` (used by every ``meio train`` command) skips a trial whose identity is
   already finished in the results store, otherwise trains and appends the record, and prints
   where it wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from baselines.common.files import atomic_write_text
from baselines.common.records import (
    ResultsStore,
    TrialIdentity,
    canonical,
    code_version,
    make_record,
    provenance,
)
from baselines.curve_archive import CurveError, curve_sha256

__all__ = [
    "NOT_RESULT_FIELDS",
    "ConfigMismatch",
    "TrialOptions",
    "check_budget",
    "check_rollout",
    "check_run_name",
    "code_history",
    "evaluation_line",
    "failed_record",
    "finish",
    "finished_result",
    "open_run_dir",
    "result_config",
    "run_and_record",
    "summary_line",
    "trial_lock",
]

# options that decide where or how a trial runs but not what it computes (exact resume makes
# checkpoint frequency irrelevant too)
NOT_RESULT_FIELDS = frozenset({
    "device", "threads", "out", "run_name", "results", "resume", "progress", "tensorboard", "stop_after",
    "stop_after_chunks", "checkpoint_every", "quiet", "preset",
})
IDENTITY_FIELDS = frozenset({"scenario", "model", "seed"})  # identity fields of their own, not settings
CONFIG_FILE, RESULT_FILE = "config.json", "result.json"
STATE_FILES = ("checkpoint.pt", "best.pt", "curve.csv", "summary.json", "iterations.csv", CONFIG_FILE, RESULT_FILE)
STATE_DIRS = ("tb", "model")


class ConfigMismatch(RuntimeError):
    """A run folder belongs to another trial."""


def result_config(args: Any, drop: Iterable[str] = ()) -> dict[str, Any]:
    """The result-changing settings of a trainer's options (a dataclass or a mapping)."""
    d = asdict(args) if is_dataclass(args) else dict(args)
    skip = NOT_RESULT_FIELDS | IDENTITY_FIELDS | set(drop)
    return canonical({k: v for k, v in d.items() if k not in skip})


def check_budget(**budgets: int | None) -> None:
    """Reject non-positive or non-integer budgets before anything is created."""
    for name, v in budgets.items():
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must be a whole number of episodes/steps, got {v!r}")
        if v < 1:
            raise ValueError(f"{name} must be >= 1, got {v}: a trial needs a positive budget")


def check_rollout(num_envs: int, num_steps: int, episode_length: int, num_minibatches: int) -> None:
    """Reject rollout shapes the PPO trainers cannot run: copies must stay in step with episodes
    (``num_steps`` and ``episode_length`` divide one another) and a rollout must split into minibatches."""
    if num_steps % episode_length and episode_length % num_steps:
        raise ValueError(f"num_steps={num_steps} and episode_length={episode_length} must divide "
                         "one another (copies stay in step with rollouts)")
    if (num_envs * num_steps) % num_minibatches:
        raise ValueError(f"num_envs * num_steps = {num_envs * num_steps} must split into "
                         f"num_minibatches={num_minibatches}")


class TrialOptions:
    """What the trainers' option dataclasses share: the run folder, the results store and the identity.

    A subclass is a dataclass with the fields ``scenario``, ``seed``, ``out``, ``run_name`` and
    ``results``, and either a ``model`` field or its own :attr:`model_name`.
    """

    @property
    def model_name(self) -> str:
        """The model as recorded (the ``model`` field unless a trainer names its variants itself)."""
        return str(self.model)  # type: ignore[attr-defined]

    @property
    def run_dir(self) -> Path:
        """The run folder: ``<out>/<run_name>``, by default ``<out>/<model>/<scenario>/seed<seed>``."""
        o: Any = self
        return Path(o.out) / (o.run_name or f"{self.model_name}/{o.scenario}/seed{o.seed}")

    @property
    def store(self) -> Path:
        """The results store the finished record goes to: ``results``, by default ``<out>/results.jsonl``."""
        o: Any = self
        return Path(o.results) if o.results else Path(o.out) / "results.jsonl"

    def identity(self) -> TrialIdentity:
        """The trial: scenario, model, seed and every result-changing option."""
        o: Any = self
        return TrialIdentity(o.scenario, self.model_name, o.seed, result_config(self))


def check_run_name(name: str, what: str = "run folder") -> str:
    """A relative path of plain name parts (no '..', no absolute path): run folders stay under --out."""
    p = Path(name)
    if not name or p.is_absolute() or any(part in ("..", "") for part in p.parts) or "\x00" in name:
        raise ValueError(f"{what} {name!r} must be a relative path without '..' (it goes under --out)")
    return name


def _diff(saved: Mapping[str, Any], now: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(saved) | set(now)):
        a, b = saved.get(k, "<absent>"), now.get(k, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _diff(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: folder has {a!r}, this command has {b!r}")
    return out


def open_run_dir(run_dir: str | os.PathLike[str], identity: TrialIdentity, resume: bool = True) -> Path:
    """Create or check ``run_dir`` for ``identity``; raises :class:`ConfigMismatch` if it is another trial's."""
    d = Path(run_dir)
    cfg = d / CONFIG_FILE
    if not resume:
        for name in STATE_FILES:
            (d / name).unlink(missing_ok=True)
        for name in STATE_DIRS:
            shutil.rmtree(d / name, ignore_errors=True)
    elif cfg.exists():
        try:
            saved = json.loads(cfg.read_text())
        except ValueError as e:
            raise ConfigMismatch(f"{cfg} is not valid JSON ({e}); start fresh with --no-resume") from None
        diffs = _diff({k: v for k, v in saved.items() if k != "trial_id"},
                      {k: v for k, v in identity.as_dict().items() if k != "trial_id"})
        if diffs:
            raise ConfigMismatch(
                f"{d} holds another trial ({saved.get('trial_id')}), not {identity.trial_id}:\n  "
                + "\n  ".join(diffs)
                + "\nTo start this trial fresh in that folder use --no-resume (deletes its training state);"
                  " to keep it, choose another --out or --run-name.")
    elif (d / "checkpoint.pt").exists() or (d / RESULT_FILE).exists():
        raise ConfigMismatch(f"{d} has training state but no {CONFIG_FILE} (written by an older version), so it "
                             "cannot be checked against this command; use --no-resume, or another --out or --run-name")
    d.mkdir(parents=True, exist_ok=True)
    if not cfg.exists():
        atomic_write_text(cfg, json.dumps(identity.as_dict(), indent=2, sort_keys=True) + "\n")
    return d


def finished_result(run_dir: str | os.PathLike[str], identity: TrialIdentity) -> dict[str, Any] | None:
    """The finished record in ``run_dir`` when it is this trial's."""
    p = Path(run_dir) / RESULT_FILE
    if not p.exists():
        return None
    rec = json.loads(p.read_text())
    return rec if rec.get("trial_id") == identity.trial_id and rec.get("status") == "finished" else None


def code_history(previous: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The code versions a trial has trained under: ``previous`` (kept in its checkpoint) and the one
    running now, appended when it differs from the last. A trainer calls this when it starts or
    resumes a trial and saves the list with every checkpoint."""
    hist = [dict(x) for x in previous or []]
    now = code_version()
    if not hist or hist[-1] != now:
        hist.append(now)
    return hist


def finish(run_dir: str | os.PathLike[str], identity: TrialIdentity, result: Mapping[str, Any], device: str,
           started_at: str, wall_time_s: float, preset: str | None = None,
           code: Sequence[Mapping[str, Any]] | None = None, cpu_time_s: float | None = None) -> dict[str, Any]:
    """Write and return the finished record of the trial (``<run>/result.json``).

    ``code``: the trial's :func:`code_history`. When it was resumed under other code than it started
    with, the provenance lists every version (``code_history``), and a version with uncommitted
    changes anywhere in it marks the record ``git_dirty``: the record must say all that produced it.
    A result that names its learning curve also gets ``curve_sha256``, the digest of the curve's
    deterministic columns, so two runs that end at the same numbers by different paths differ.
    """
    res = dict(result)
    res.setdefault("run_dir", str(run_dir))
    curve = _curve_file(run_dir, res.get("curve"))
    if curve is not None:  # what the run went through, not only where it ended: part of the outcome
        try:
            res["curve_sha256"] = curve_sha256(curve)
        except CurveError:  # a curve the archive would refuse (over 4 MiB, a non-finite cost): no digest,
            pass            # rather than failing a trial that trained to the end
    prov = provenance(device, started_at, wall_time_s, cpu_time_s)
    if code and len(code) > 1:
        prov["code_history"] = [dict(c) for c in code]
        prov["git_dirty"] = bool(prov.get("git_dirty")) or any(bool(c.get("git_dirty")) for c in code)
    rec = make_record(identity, res, prov, preset=preset)
    atomic_write_text(Path(run_dir) / RESULT_FILE, json.dumps(rec, indent=2, sort_keys=True) + "\n")
    return rec


def _curve_file(run_dir: str | os.PathLike[str], curve: Any) -> Path | None:
    """The result's learning-curve file (a path as given, else by its name in the run folder), if present."""
    if not isinstance(curve, str) or not curve:
        return None
    for p in (Path(curve), Path(run_dir) / Path(curve).name):
        if p.is_file():
            return p
    return None


def failed_record(identity: TrialIdentity, exc: BaseException | str, started_at: str, wall_time_s: float,
                  preset: str | None = None, device: str = "unknown", cpu_time_s: float | None = None) -> dict[str, Any]:
    """A ``status: failed`` record carrying the error (type, message, last 4,000 characters of traceback)."""
    if isinstance(exc, BaseException):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        err = {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": tb[-4000:]}
    else:
        err = {"type": "Error", "message": str(exc)[:2000], "traceback": str(exc)[-4000:]}
    return make_record(identity, None, provenance(device, started_at, wall_time_s, cpu_time_s), status="failed",
                       preset=preset, error=err)


@contextmanager
def trial_lock(run_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``<run_dir>.lock`` while a trial trains: two processes never train one trial at once.

    The lock is an OS file lock, released by the kernel when its process dies, so a killed run never
    leaves a stale lock behind.
    """
    d = Path(run_dir)
    d.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(d) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RuntimeError(f"{d} is being trained by another process right now (lock {lock.lock_file})") from None
    try:
        yield
    finally:
        lock.release()


def run_and_record(identity: TrialIdentity, store_path: str | os.PathLike[str] | None,
                   train: Callable[[], dict[str, Any] | None], out: Callable[[str], None] | None = None,
                   run_dir: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """Skip a trial already finished in the store, else train it and append its record.

    ``train()`` returns the finished record (or None when it stopped early); it runs holding the
    lock of ``run_dir`` when given. Every step says where it read or wrote on ``out`` (stderr by default).
    """
    say = out or (lambda s: print(s, file=sys.stderr, flush=True))
    store = ResultsStore(store_path) if store_path else None
    if store is not None:
        done = store.finished(identity.trial_id)
        if done is not None:
            say(f"skip: trial {identity.trial_id} is already recorded in {store.path} (a changed setting "
                "is a new trial; to repeat it use another seed or another results file)")
            return done
    with trial_lock(run_dir) if run_dir is not None else nullcontext():
        rec = train()
    if rec is None:
        return None
    say(f"run folder: {rec['result'].get('run_dir')}")
    if store is not None:
        new = store.append(rec)
        say(f"{'recorded' if new else 'already recorded'}: {identity.trial_id} in {store.path}")
    return rec


def summary_line(rec: Mapping[str, Any]) -> str:
    """One line every ``meio train`` command prints for a finished trial (the same dialect for all models)."""
    r = rec["result"]
    return (f"{rec['scenario']} {rec['model']} seed {rec['seed']}: best cost {r['best_cost']:.2f} vs DA "
            f"{r['heuristic_cost']:.2f} (savings {100 * r['savings']:.2f} %), {r['episodes']} episodes, "
            f"{r['env_steps']} env steps, {rec['provenance']['wall_time_s']:.0f} s [{rec['trial_id']}]")


def evaluation_line(ev: Mapping[str, Any]) -> str:
    """One line every ``meio evaluate`` prints (``--json`` prints the dict instead)."""
    return (f"{ev['scenario']} {ev['model']} {ev['checkpoint']}: cost {ev['cost']:.2f} (se {ev['se']:.2f}) vs "
            f"benchmark {ev['heuristic_cost']:.2f} (savings {100 * ev['savings']:.2f} %)")
