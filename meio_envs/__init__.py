"""meio-envs: batched multi-echelon inventory environments, the DA benchmark and RL baselines.

Importing the package registers ``MEIO-<id>-v0`` for the 30 grid scenarios (``A1`` .. ``D5``,
``S1`` .. ``L5``)::

    import gymnasium as gym
    import meio_envs  # noqa: F401

    env = gym.make("MEIO-B4-v0")
    envs = gym.make_vec("MEIO-B4-v0", num_envs=1024)
"""

from meio_envs.distributions import (
    EmpiricalPMF,
    Fixed,
    Poisson,
    PoissonUniformMean,
    RoundedNormal,
    UniformInt,
)
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.parallel import parallel_env
from meio_envs.envs.single import MEIOEnv
from meio_envs.envs.vector import MEIOVectorEnv
from meio_envs.network import NetworkError, NetworkSpec, StockPoint
from meio_envs.registration import ENV_IDS, register_envs
from meio_envs.scenarios import REPORT_SCENARIOS, SCENARIO_IDS, make_network, make_scenario
from meio_envs.validation import MEIOInputError

__version__ = "0.1.0"

register_envs()

__all__ = [
    "ENV_IDS",
    "REPORT_SCENARIOS",
    "SCENARIO_IDS",
    "BatchedMEIO",
    "EmpiricalPMF",
    "Fixed",
    "MEIOEnv",
    "MEIOInputError",
    "MEIOVectorEnv",
    "NetworkError",
    "NetworkSpec",
    "Poisson",
    "PoissonUniformMean",
    "RoundedNormal",
    "StockPoint",
    "UniformInt",
    "make_network",
    "make_scenario",
    "parallel_env",
]
