"""Base-stock levels for a network: stock-point overrides, else the DA heuristic (docs/environments.md)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from meio_envs.network import NetworkError, NetworkSpec

__all__ = ["da_levels", "default_base_stock"]


@lru_cache(maxsize=256)
def da_levels(network: NetworkSpec, holding_factor: float = 1.0, backorder_factor: float = 1.0) -> np.ndarray:
    """(P,) DA local base-stock levels of ``network`` with costs scaled by the given factors.

    Cached per network object and factor pair (networks are frozen and hash by identity of their
    contents), so environments built on the same scenario share one computation.
    """
    from heuristics import da

    plain = network.to_plain()
    if holding_factor != 1.0 or backorder_factor != 1.0:
        from dataclasses import replace

        plain = replace(plain, holding=plain.holding * holding_factor, backorder=plain.backorder * backorder_factor)
    levels = np.asarray(da(plain, holding_rule="monotone").local, dtype=np.int64)
    levels.setflags(write=False)
    return levels


def default_base_stock(network: NetworkSpec) -> np.ndarray:
    """Per-node ``base_stock`` overrides where all are given, otherwise DA levels (overrides win per node)."""
    given = [sp.base_stock for sp in network.stock_points]
    if all(g is not None for g in given):
        return np.asarray(given, dtype=np.int64)
    try:
        levels = np.array(da_levels(network), dtype=np.int64)
    except ValueError as exc:  # the heuristics package is standalone and raises plain ValueError
        raise NetworkError(
            f"base-stock levels of network {network.name!r}: the DA heuristic cannot compute them ({exc}); "
            "give base_stock for every stock point"
        ) from None
    for i, g in enumerate(given):
        if g is not None:
            levels[i] = g
    return levels
