"""Trial records: the versioned record format, trial identities and the results store.

A *trial* is one training run of one model on one scenario with one seed. Its identity is the
scenario, the model, the seed and a hash of every setting that changes its result (all
hyperparameters, the budget, the base policy and order, env arguments and the package version).
Two calls with the same identity are the same trial; a changed setting is a different trial.

The store is a JSON-lines file, one record per line, guarded by a lock file next to it
(``<file>.lock``, :mod:`filelock`): text that can be read, diffed, reviewed in a pull request and
loaded with ``pandas.read_json(path, lines=True)``, safe under several writer processes on one
machine. A record is appended with one ``write`` of one line, then flushed and fsync'ed, while
the lock is held and after checking that its trial is not recorded yet, so concurrent writers never
lose or duplicate a record. A line torn by a kill mid-write can only be the last one; readers skip
it (with a warning) and the next append starts on a fresh line.

Schema ``meio-envs.trial/1`` (docs/experiments.md has the field list)::

    {"schema", "trial_id", "experiment_id", "config_hash", "status": "finished" | "failed",
     "scenario", "model", "seed", "preset",
     "config": {...},      # the settings hashed into the identity
     "result": {...},      # best_cost, heuristic_cost, savings, eval_seed, episodes, env_steps, ...
     "provenance": {...},  # versions, git commit, device, CPUs, CPU model, host, timestamps, wall and CPU time
     "error": {...}}       # failed trials only: type, message, traceback
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

__all__ = [
    "RUN_FACTS",
    "SCHEMA",
    "RecordError",
    "ResultsStore",
    "TrialIdentity",
    "canonical",
    "make_record",
    "package_version",
    "provenance",
    "read_records",
    "reproduces",
    "same_run",
    "utc_now",
    "validate_record",
]

SCHEMA = "meio-envs.trial/1"
STATUSES = ("finished", "failed")
RESULT_REQUIRED = ("best_cost", "heuristic_cost", "savings", "eval_seed", "episodes", "env_steps")
TOP_REQUIRED = ("schema", "trial_id", "experiment_id", "config_hash", "status", "scenario", "model", "seed",
                "config", "provenance")
MAX_LINE_BYTES = 4 * 1024 * 1024  # a record is a few kB; a longer line is not a record of this package


class RecordError(ValueError):
    """A record or a results file that does not follow the schema."""


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data with one spelling per value (tuples -> lists, NumPy -> Python)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return canonical(value.item())  # NumPy / torch scalar
    if hasattr(value, "tolist"):
        return canonical(value.tolist())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)  # JSON has no inf/nan; a string keeps it distinct and readable
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot put a {type(value).__name__} into a trial record: {value!r}")


def _digest(data: Any) -> str:
    text = json.dumps(canonical(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def package_version() -> str:
    """The installed meio-envs version ("unknown" when run from a tree that is not installed)."""
    try:
        from importlib.metadata import version

        return version("meio-envs")
    except Exception:  # noqa: BLE001 - not installed: a source tree
        return "unknown"


@dataclass(frozen=True)
class TrialIdentity:
    """Scenario, model, seed and the result-changing settings of one trial."""

    scenario: str
    model: str
    seed: int
    config: Mapping[str, Any]
    version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", canonical(dict(self.config)))
        if not self.version:
            object.__setattr__(self, "version", package_version())

    @property
    def config_hash(self) -> str:
        """SHA-256 of the canonical settings and the package version (hex)."""
        return _digest({"config": self.config, "version": self.version})

    @property
    def experiment_id(self) -> str:
        """Identity without the seed: the trials of one experiment share it."""
        return _digest({"scenario": self.scenario, "model": self.model, "config": self.config,
                        "version": self.version})[:16]

    @property
    def trial_id(self) -> str:
        """``<model>-<scenario>-s<seed>-<12 hex>``: readable and unique per identity."""
        h = _digest({"scenario": self.scenario, "model": self.model, "seed": int(self.seed),
                     "config": self.config, "version": self.version})[:12]
        return f"{self.model}-{self.scenario}-s{int(self.seed)}-{h}"

    def as_dict(self) -> dict[str, Any]:
        """What a run folder's ``config.json`` holds."""
        return {"trial_id": self.trial_id, "scenario": self.scenario, "model": self.model, "seed": int(self.seed),
                "package_version": self.version, "config": dict(self.config)}


def utc_now() -> str:
    """ISO 8601 UTC timestamp, seconds resolution."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _git_commit() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the source tree this package was imported from, if it is a git clone."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
        return commit or None, dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("numpy", "scipy", "numba", "torch", "stable-baselines3", "gymnasium", "pettingzoo", "torch-geometric", "ray"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _cpu() -> dict[str, Any]:
    """The CPU model, the vector instruction set torch's kernels dispatch to, and torch's intra-op
    threads (None where unknown or torch is not loaded).

    The same code, seed and packages give the same floats only on CPUs that take the same kernels,
    and with the same number of threads splitting the reductions; training amplifies last-bit
    differences, so a re-run on another CPU, or with other threads, can be a different run."""
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None)
    except OSError:  # not Linux
        pass
    isa, threads = None, None
    torch = sys.modules.get("torch")  # only where a trainer already imported it: records stay torch-free
    if torch is not None:
        try:
            isa, threads = str(torch.backends.cpu.get_cpu_capability()), int(torch.get_num_threads())
        except (AttributeError, RuntimeError):
            pass
    return {"model": model or platform.processor() or None, "isa": isa, "threads": threads}


def code_version() -> dict[str, Any]:
    """``{"git_commit", "git_dirty"}`` of the code running now (None/None outside a git clone)."""
    commit, dirty = _git_commit()
    return {"git_commit": commit, "git_dirty": dirty}


def provenance(device: str, started_at: str, wall_time_s: float, cpu_time_s: float | None = None,
               **extra: Any) -> dict[str, Any]:
    """Where and with what a trial ran: versions, git commit, device, CPUs and CPU model, host,
    timestamps, and the trial's wall and CPU seconds (``cpu_time_s`` None: not measured, e.g. resumed
    from older code)."""
    commit, dirty = _git_commit()
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    prov: dict[str, Any] = {
        "package_version": package_version(), "git_commit": commit, "git_dirty": dirty, "versions": _versions(),
        "device": str(device), "cpu_count": cpus, "cpu": _cpu(), "host": platform.node(), "platform": platform.platform(),
        "started_at": started_at, "finished_at": utc_now(), "wall_time_s": round(float(wall_time_s), 2),
        "cpu_time_s": None if cpu_time_s is None else round(float(cpu_time_s), 2), "argv": list(sys.argv),
    }
    prov.update(extra)
    return prov


def make_record(identity: TrialIdentity, result: Mapping[str, Any] | None, prov: Mapping[str, Any],
                status: str = "finished", preset: str | None = None,
                error: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A schema-valid record (raises :class:`RecordError` when it would not be)."""
    rec: dict[str, Any] = {
        "schema": SCHEMA, "trial_id": identity.trial_id, "experiment_id": identity.experiment_id,
        "config_hash": identity.config_hash, "status": status, "scenario": identity.scenario,
        "model": identity.model, "seed": int(identity.seed), "preset": preset, "config": dict(identity.config),
        "result": canonical(dict(result)) if result is not None else None, "provenance": canonical(dict(prov)),
    }
    if error is not None:
        rec["error"] = canonical(dict(error))
    validate_record(rec)
    return rec


def validate_record(rec: Mapping[str, Any]) -> None:
    """Raise :class:`RecordError` naming what is wrong with ``rec``."""
    if not isinstance(rec, Mapping):
        raise RecordError(f"a record is a JSON object, got {type(rec).__name__}")
    missing = [k for k in TOP_REQUIRED if k not in rec]
    if missing:
        raise RecordError(f"record lacks fields {missing}; a {SCHEMA} record has {list(TOP_REQUIRED)}")
    if rec["schema"] != SCHEMA:
        raise RecordError(f"record schema is {rec['schema']!r}; this version reads {SCHEMA!r}")
    if rec["status"] not in STATUSES:
        raise RecordError(f"record status is {rec['status']!r}; allowed: {list(STATUSES)}")
    if not isinstance(rec["seed"], int) or isinstance(rec["seed"], bool):
        raise RecordError(f"record seed must be an integer, got {rec['seed']!r}")
    for k in ("scenario", "model", "trial_id", "experiment_id", "config_hash"):
        if not isinstance(rec[k], str) or not rec[k]:
            raise RecordError(f"record field {k!r} must be a non-empty string, got {rec[k]!r}")
    if not isinstance(rec["config"], Mapping) or not isinstance(rec["provenance"], Mapping):
        raise RecordError("record fields 'config' and 'provenance' must be objects")
    if rec["status"] == "finished":
        res = rec.get("result")
        if not isinstance(res, Mapping):
            raise RecordError("a finished record needs a 'result' object")
        lack = [k for k in RESULT_REQUIRED if k not in res]
        if lack:
            raise RecordError(f"result lacks fields {lack}; required: {list(RESULT_REQUIRED)}")
        for k in ("best_cost", "heuristic_cost", "savings"):
            v = res[k]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise RecordError(f"result field {k!r} must be a finite number, got {v!r}")
    elif not isinstance(rec.get("error"), Mapping):
        raise RecordError("a failed record needs an 'error' object")


def read_records(path: str | os.PathLike[str], *, validate: bool = True) -> list[dict[str, Any]]:
    """Every record of a results file, in file order ([] when it does not exist).

    A last line that is not valid JSON (a write torn by a kill) is skipped with a warning; an
    invalid line anywhere else is corruption and raises :class:`RecordError` with its line number.
    """
    p = Path(path)
    if not p.exists():
        return []
    if not p.is_file():
        raise RecordError(f"{p} is not a regular file")
    out: list[dict[str, Any]] = []
    with p.open("rb") as fh:
        lines = fh.read().split(b"\n")
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise ValueError(f"line longer than {MAX_LINE_BYTES} bytes")
            rec = json.loads(raw)
        except ValueError as e:
            if i == last:
                warnings.warn(f"{p}: skipping a torn last line ({len(raw)} bytes): {e}", stacklevel=2)
                continue
            raise RecordError(f"{p}, line {i + 1}: not a JSON record ({e})") from None
        if validate:
            try:
                validate_record(rec)
            except RecordError as e:
                raise RecordError(f"{p}, line {i + 1}: {e}") from None
        out.append(rec)
    return out


class ResultsStore:
    """A results file with a lock: append a record once per finished trial, read them back."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = 120.0) -> None:
        self.path = Path(path)
        self.lock = FileLock(str(self.path) + ".lock", timeout=timeout)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    def records(self, status: str | None = "finished") -> list[dict[str, Any]]:
        """Records with this status (None: all)."""
        return [r for r in read_records(self.path) if status is None or r["status"] == status]

    def finished(self, trial_id: str) -> dict[str, Any] | None:
        """The finished record of ``trial_id``, if there is one."""
        return next((r for r in self.records("finished") if r["trial_id"] == trial_id), None)

    def append(self, record: Mapping[str, Any]) -> bool:
        """Append ``record``; False (nothing written) when its trial already has a finished record."""
        validate_record(record)
        line = (json.dumps(canonical(dict(record)), sort_keys=True, allow_nan=False) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            done = {r["trial_id"] for r in read_records(self.path, validate=False) if r.get("status") == "finished"}
            if record["status"] == "finished" and record["trial_id"] in done:
                return False
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size:
                    with self.path.open("rb") as fh:
                        fh.seek(size - 1)
                        if fh.read(1) != b"\n":
                            line = b"\n" + line  # a torn last line stays on its own line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return True

    def extend(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Append several records; returns how many were new."""
        return sum(self.append(r) for r in records)


RUN_FACTS = ("run_dir", "curve", "best_model", "time_to_beat_heuristic_s", "train_time_s")
"""Result fields that say how a run went rather than what it found (where it wrote its files, wall times):
a re-run of the same trial may differ in these only. ``batched_trials`` is not one of them: a trial
computes the same alone as in its batch, but that is tested, not proven for every setting, and for
records older than ``curve_sha256`` the numbers alone cannot tell two IMARL runs apart that ended at
the same policy."""


def _outcome(r: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (r.get("result") or {}).items() if k not in RUN_FACTS}


def same_run(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two records are copies of one execution of a trial (same start on the same host, same
    outcome), e.g. a run folder's ``result.json`` and the store's line, which may differ in labels and paths."""
    pa, pb = a.get("provenance") or {}, b.get("provenance") or {}
    return (a.get("trial_id") == b.get("trial_id") and a.get("config_hash") == b.get("config_hash")
            and pa.get("started_at") is not None and (pa.get("started_at"), pa.get("host")) == (pb.get("started_at"), pb.get("host"))
            and _outcome(a) == _outcome(b))


def reproduces(record: Mapping[str, Any], published: Mapping[str, Any]) -> bool:
    """Whether ``record`` is the ``published`` record's run, or a re-run of its trial from the same clean
    commit with the same settings that recorded the same result (every number but the :data:`RUN_FACTS`).

    The commit matters: a re-run under other code can end with the same numbers (an IMARL trial that
    stops with DA's policy) after another training run, so its curve and model would not be the trial's."""
    def code(r: Mapping[str, Any]) -> tuple[Any, ...]:
        p = r.get("provenance") or {}
        return p.get("git_commit"), bool(p.get("git_dirty")), len(p.get("code_history") or [])

    if same_run(record, published):  # the published run itself, read again (or its run folder's copy)
        return True
    return (record.get("config_hash") == published.get("config_hash") and record.get("status") == "finished"
            and code(record) == code(published) and code(record)[0] is not None and not code(record)[1]
            and _outcome(record) == _outcome(published))
