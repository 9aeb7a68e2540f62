"""Registers ``MEIO-<id>-v0`` for every grid scenario (single and native vector entry points)."""

from __future__ import annotations

import gymnasium as gym

from meio_envs.scenarios import SCENARIO_IDS

__all__ = ["ENV_IDS", "register_envs"]

ENV_IDS: tuple[str, ...] = tuple(f"MEIO-{sid}-v0" for sid in SCENARIO_IDS)
EPISODE_LENGTH = 128


def register_envs() -> None:
    """Register all ids; safe to call more than once."""
    for sid, env_id in zip(SCENARIO_IDS, ENV_IDS):
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


# --- Chapter2L (issue 8): the book chapter's divergent 2-layer system (SPEC section 9) ---------
CHAPTER_ENV_ID = "MEIO-Chapter2L-v0"


def _register_chapter() -> None:
    """``gym.make("MEIO-Chapter2L-v0", action_type="continuous")`` for the Box action."""
    if CHAPTER_ENV_ID not in gym.registry:
        gym.register(id=CHAPTER_ENV_ID, entry_point="meio_envs.envs.chapter:ChapterEnv", disable_env_checker=False)
