"""Standalone base-stock heuristics for multi-echelon inventory networks.

numpy/scipy only; this package never imports ``meio_envs``. See docs/heuristics.md.
"""

from .da import DAResult, PathDetail, da, effective_holding
from .network import CONVENTIONS, PlainNetwork, protection_lead_times
from .policy import BaseStockPolicy
from .serial import (
    ClarkScarfResult,
    SerialNetworkResult,
    ShangSongResult,
    clark_scarf,
    clark_scarf_evaluate,
    echelon_to_local,
    echelon_to_local_holding,
    local_to_echelon,
    local_to_echelon_holding,
    shang_song,
    solve_serial_network,
)
from .sim_opt import SearchResult, coordinate_search

__all__ = [
    "BaseStockPolicy",
    "CONVENTIONS",
    "ClarkScarfResult",
    "DAResult",
    "PathDetail",
    "PlainNetwork",
    "SearchResult",
    "SerialNetworkResult",
    "ShangSongResult",
    "clark_scarf",
    "clark_scarf_evaluate",
    "coordinate_search",
    "da",
    "echelon_to_local",
    "echelon_to_local_holding",
    "effective_holding",
    "local_to_echelon",
    "local_to_echelon_holding",
    "protection_lead_times",
    "shang_song",
    "solve_serial_network",
]
