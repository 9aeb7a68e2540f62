"""Several trials (seeds) of one setting trained as one batch: grouping, run folders, the store, ``--seeds``.

A *batch* is a set of trials whose options differ only in the seed and in where they write. The
trainers (``baselines.mappo``, ``baselines.imarl``) run a batch as one computation with a trial
axis; everything a trial owns stays its own: run folder, ``config.json`` check, checkpoint, curve,
``result.json`` and its record. This module holds the bookkeeping both trainers share:

- :func:`open_slots`: open (or check) each trial's run folder, return finished results as they are
  and load the checkpoints of the others (:class:`Slot`);
- :func:`batches`: split trials into batches (same options but seed, output places and the given
  extra key, e.g. a checkpoint's progress);
- :func:`record_trials`: the store semantics of :func:`baselines.common.trial.run_and_record` for a
  list of trials trained together: skip the ones already recorded, train the rest in one call,
  append each finished record once;
- :func:`seeds_option` / :func:`with_seeds`: the ``--seeds S1 S2 ...`` / ``--trials K`` options.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from baselines.common.checkpoint import load_checkpoint
from baselines.common.records import ResultsStore, TrialIdentity
from baselines.common.trial import finished_result, open_run_dir, run_and_record

__all__ = ["SEEDS_HELP", "Slot", "batches", "open_slots", "record_trials", "seeds_option", "with_seeds"]

T = TypeVar("T")
# where a trial writes and its seed: everything else must match for trials to share a batch
PLACE_FIELDS = frozenset({"seed", "out", "run_name", "results"})
SEEDS_HELP = ("--seeds S1 S2 ...: train these seeds as one batched computation (one run folder and record per "
              "seed); --trials K: the K seeds seed, seed+1, ..., seed+K-1")


@dataclass
class Slot:
    """One unfinished trial of a batch: its position in the caller's list, options, identity, folder, checkpoint."""

    index: int
    args: Any
    identity: TrialIdentity
    run_dir: Path
    payload: dict[str, Any] | None

    @property
    def checkpoint(self) -> Path:
        """The trial's resume file."""
        return self.run_dir / "checkpoint.pt"


def open_slots(args_list: Sequence[Any]) -> tuple[list[dict[str, Any] | None], list[Slot]]:
    """Open every trial's run folder (refusing another trial's folder); finished records and the others' slots.

    Returns ``(results, slots)``: ``results[i]`` is trial i's finished record from its folder or None;
    ``slots`` the unfinished trials with their checkpoints (None when they start fresh).
    """
    seen: dict[Path, int] = {}
    results: list[dict[str, Any] | None] = [None] * len(args_list)
    slots = []
    for i, a in enumerate(args_list):
        ident = a.identity()
        d = Path(a.run_dir)
        if d.resolve() in seen:
            raise ValueError(f"trials {seen[d.resolve()]} and {i} write to the same run folder {d}")
        seen[d.resolve()] = i
        run_dir = open_run_dir(d, ident, a.resume)
        done = finished_result(run_dir, ident)
        if done is not None:
            results[i] = done
            continue
        payload = load_checkpoint(run_dir / "checkpoint.pt") if a.resume else None
        slots.append(Slot(i, a, ident, run_dir, payload))
    return results, slots


def _key(args: Any) -> str:
    d = {k: v for k, v in dataclasses.asdict(args).items() if k not in PLACE_FIELDS}
    return json.dumps(d, sort_keys=True, default=str)


def batches(items: Sequence[T], args_of: Callable[[T], Any], extra: Callable[[T], Hashable] | None = None
            ) -> list[list[T]]:
    """Group ``items`` into batches of equal options (but seed and output places) and equal ``extra``; order kept."""
    groups: dict[tuple[str, Hashable], list[T]] = {}
    for it in items:
        groups.setdefault((_key(args_of(it)), extra(it) if extra else None), []).append(it)
    return list(groups.values())


def record_trials(args_list: Sequence[Any], run: Callable[[list[Any]], list[dict[str, Any] | None]],
                  out: Callable[[str], None] | None = None) -> list[dict[str, Any] | None]:
    """Skip trials already finished in their store, train the others with one ``run(pending)`` call, record each.

    ``run`` returns one record (or None when stopped early) per pending trial, in order.
    """
    pending = [a for a in args_list if not _recorded(a)]
    fresh = dict(zip((a.identity().trial_id for a in pending), run(pending) if pending else []))
    return [run_and_record(a.identity(), a.store, lambda a=a: fresh.get(a.identity().trial_id), out=out)
            for a in args_list]


def _recorded(args: Any) -> bool:
    store = args.store
    return bool(store) and ResultsStore(store).finished(args.identity().trial_id) is not None


def seeds_option(argv: Sequence[str]) -> tuple[list[int] | None, list[str]]:
    """Take ``--seeds S1 S2 ...`` or ``--trials K`` out of ``argv``: (the seeds or None for one trial, the rest).

    ``--trials K`` gives K consecutive seeds from ``--seed`` (default 0), which stays in the rest.
    """
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ns, rest = ap.parse_known_args(list(argv))
    if ns.seeds is not None and ns.trials is not None:
        raise ValueError("give --seeds or --trials, not both")
    if ns.trials is not None and ns.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {ns.trials}")
    if "--seed" in argv or any(a.startswith("--seed=") for a in argv):
        rest = [*rest, "--seed", str(ns.seed)]
    if ns.seeds is not None:
        if len(set(ns.seeds)) != len(ns.seeds):
            raise ValueError(f"--seeds has repeated seeds: {ns.seeds}")
        return list(ns.seeds), rest
    if ns.trials is not None:
        return [ns.seed + k for k in range(ns.trials)], rest
    return None, rest


def with_seeds(args: T, seeds: Sequence[int] | None) -> list[T]:
    """One options object per seed (a given ``run_name`` gets a ``/seed<s>`` part per seed)."""
    if seeds is None:
        return [args]
    out = []
    for s in seeds:
        name = getattr(args, "run_name", None)
        out.append(dataclasses.replace(args, seed=s, run_name=None if name is None else f"{name}/seed{s}"))  # type: ignore[type-var]
    return out
