"""Registers ``MEIO-<id>-v0`` for every grid scenario (single and native vector entry points)."""

from __future__ import annotations

import dataclasses
import sys

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from meio_envs.example_scenarios import EXAMPLE_SCENARIOS
from meio_envs.scenarios import SCENARIO_IDS

__all__ = ["ENV_IDS", "EXAMPLE_ENV_IDS", "EpisodeLengthSpec", "register_envs", "resolve_episode_length"]

ENV_IDS: tuple[str, ...] = tuple(f"MEIO-{sid}-v0" for sid in SCENARIO_IDS)
EXAMPLE_ENV_IDS: tuple[str, ...] = tuple(f"MEIO-{sid}-v0" for sid in EXAMPLE_SCENARIOS)
"""Ids of the option examples (lost sales, seasonal demand, disruptions; docs/options.md)."""
EPISODE_LENGTH = 128


def register_envs() -> None:
    """Register all ids; safe to call more than once."""
    for sid, env_id in zip((*SCENARIO_IDS, *EXAMPLE_SCENARIOS), (*ENV_IDS, *EXAMPLE_ENV_IDS)):
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="meio_envs.envs.single:MEIOEnv",
            vector_entry_point="meio_envs.envs.vector:MEIOVectorEnv",
            kwargs={"scenario": sid},
            disable_env_checker=False,
        )
    _register_chapter()


# --- Chapter2L: the book chapter's divergent 2-layer system (docs/chapter_env.md) ---------
CHAPTER_ENV_ID = "MEIO-Chapter2L-v0"


def _register_chapter() -> None:
    """``gym.make("MEIO-Chapter2L-v0", action_type="continuous")`` for the Box action."""
    if CHAPTER_ENV_ID not in gym.registry:
        gym.register(id=CHAPTER_ENV_ID, entry_point="meio_envs.envs.chapter:ChapterEnv", disable_env_checker=False)


# --- episode length <-> spec.max_episode_steps ------------------------------------------------
def resolve_episode_length(episode_length: int | None, max_episode_steps: int | None, default: int) -> int:
    """The episode length from ``episode_length`` and its alias ``max_episode_steps`` (both: must agree)."""
    if episode_length is not None and max_episode_steps is not None and episode_length != max_episode_steps:
        raise ValueError(f"episode_length={episode_length} and max_episode_steps={max_episode_steps} disagree; "
                         "give one of them (they are the same thing)")
    if episode_length is not None:
        return episode_length
    return default if max_episode_steps is None else max_episode_steps


def _make_time_limit() -> tuple[int | None, dict]:
    """``(max_episode_steps, kwargs)`` of the ``gym.make`` call that is assigning a spec, or ``(None, {})``.

    ``gym.make(id, max_episode_steps=N)`` only wraps the env in ``TimeLimit(N)`` and never tells the
    env, which would then truncate at its own episode length first. ``make`` assigns
    ``env.unwrapped.spec`` right after building the env; the spec setter looks one frame up and, only
    when that frame is Gymnasium's ``make`` itself, reads the ``max_episode_steps`` it was called with.
    Any other caller (or another Gymnasium version) leaves the episode length as it is.
    """
    try:
        frame = sys._getframe(2)  # 0: here, 1: the spec setter, 2: its caller
    except ValueError:  # a call stack this shallow is not make's
        return None, {}
    if frame.f_code is not gym.envs.registration.make.__code__:
        return None, {}
    n = frame.f_locals.get("max_episode_steps")
    kwargs = frame.f_locals.get("env_spec_kwargs") or {}
    return (n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None), kwargs


class EpisodeLengthSpec:
    """Mixin: ``env.spec.max_episode_steps`` is the env's episode length, and ``gym.make(id,
    max_episode_steps=N)`` sets the episode length to N (a clear error if ``episode_length`` disagrees)."""

    _spec: EnvSpec | None = None

    def _episode_length(self) -> int:
        raise NotImplementedError

    def _set_episode_length(self, n: int) -> None:
        raise NotImplementedError

    @property
    def spec(self) -> EnvSpec | None:
        """The env's :class:`~gymnasium.envs.registration.EnvSpec`, ``max_episode_steps`` = episode length."""
        s = self._spec
        if s is not None and s.max_episode_steps != self._episode_length():
            s = dataclasses.replace(s, max_episode_steps=self._episode_length())
        return s

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        n, kwargs = _make_time_limit()
        if n is not None and n != self._episode_length():
            given = kwargs.get("episode_length", kwargs.get("max_episode_steps"))
            if given is not None and given != n:
                raise ValueError(f"gym.make(..., max_episode_steps={n}) disagrees with episode_length={given}; "
                                 "give one of them (they are the same thing)")
            self._set_episode_length(n)
        self._spec = value
