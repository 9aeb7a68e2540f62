"""The PettingZoo env module ``meio_v0`` (PettingZoo's layout: ``env``, ``parallel_env``, ``raw_env``).

    from meio_envs import meio_v0

    par = meio_v0.parallel_env("B4", max_cycles=128)   # parallel API
    aec = meio_v0.env("B4", render_mode="ansi")        # AEC API
"""

from meio_envs.envs.parallel import MEIOParallelEnv, env, parallel_env, raw_env

__all__ = ["MEIOParallelEnv", "env", "parallel_env", "raw_env"]
