"""Adapters from the batched core to other libraries' env contracts.

``meio_envs.adapters.sb3.MEIOSB3VecEnv``: a Stable-Baselines3 ``VecEnv`` over
:class:`~meio_envs.envs.batch.BatchedMEIO` (needs the ``[rl]`` extra). Submodules are imported on
demand so that ``import meio_envs`` never needs stable-baselines3.
"""

__all__: list[str] = []
