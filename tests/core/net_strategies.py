"""Random valid networks (plain dicts) and invalid field values, for the property tests.

A network is drawn from a few Hypothesis choices (kind, size, seed); the seed then fixes the
structure, costs and PMFs through NumPy, which keeps generation fast for hundreds of stock points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from meio_envs import validation as V

KINDS = ("serial", "divergent", "general")


def _pmf(rng: np.random.Generator, low: int, high: int) -> list[float]:
    """A random PMF with support inside low..high (zeros below low), as plain floats."""
    w = rng.dirichlet(np.ones(high - low + 1))
    p = [0.0] * low + [float(x) for x in w]
    p[-1] = 1.0 - math.fsum(p[:-1])  # exact sum, whatever the rounding of the draws
    return p if p[-1] >= 0 else [0.0] * low + [1.0]


def random_lead_time(rng: np.random.Generator) -> Any:
    """A lead-time distribution (support >= 1) in one of the plain-data forms."""
    form = rng.integers(4)
    if form == 0:
        return int(rng.integers(1, 6))
    if form == 1:
        lo = int(rng.integers(1, 4))
        return {"type": "uniform_int", "low": lo, "high": lo + int(rng.integers(0, 4))}
    if form == 2:
        return _pmf(rng, 1, int(rng.integers(1, 7)))
    return {"type": "pmf", "probabilities": _pmf(rng, int(rng.integers(1, 3)), int(rng.integers(3, 9)))}


def random_demand(rng: np.random.Generator) -> Any:
    """A demand distribution in one of the plain-data forms."""
    form = rng.integers(5)
    if form == 0:
        return int(rng.integers(0, 15))
    if form == 1:
        return {"type": "poisson", "mu": float(rng.uniform(0, 20))}
    if form == 2:
        lo = int(rng.integers(0, 8))
        return {"type": "poisson_uniform_mean", "low": lo, "high": lo + int(rng.integers(0, 8))}
    if form == 3:
        return {"type": "rounded_normal", "mu": float(rng.uniform(-3, 20)), "sigma": float(rng.uniform(0.1, 6))}
    return _pmf(rng, 0, int(rng.integers(0, 30)))


def random_network(rng: np.random.Generator, kind: str, size: int, *, with_base_stock: bool) -> dict[str, Any]:
    """A valid network dict of ``size`` stock points.

    serial: a chain; divergent: every stock point has one supplier in the layer above; general:
    one to three suppliers anywhere above. Stock points without customers are the retailers.
    """
    if kind == "serial":
        layers = [[i] for i in range(size)]
    else:
        depth = int(rng.integers(1, min(5, size) + 1))
        cuts = np.sort(rng.choice(np.arange(1, size), size=depth - 1, replace=False)) if depth > 1 else []
        layers = [list(x) for x in np.split(np.arange(size), cuts)]
    suppliers: dict[int, list[int]] = {}
    for li, layer in enumerate(layers):
        above = [v for lay in layers[:li] for v in lay]
        for v in layer:
            if li == 0:
                suppliers[v] = []
            elif kind == "general":
                k = int(rng.integers(1, min(3, len(above)) + 1))
                suppliers[v] = [int(u) for u in rng.choice(above, size=k, replace=False)]
            else:
                suppliers[v] = [int(rng.choice(layers[li - 1]))]
    has_customer = {u for sups in suppliers.values() for u in sups}
    points = []
    for v in range(size):
        retail = v not in has_customer
        d: dict[str, Any] = {
            "name": f"N{v}",
            "suppliers": [f"N{u}" for u in suppliers[v]] or ["external"],
            "holding": float(rng.integers(0, 40)) / 20,
            "max_order": int(rng.integers(1, 200)),
            "ip_bounds": [-float(rng.integers(1, 500)), float(rng.integers(1, 300))],
            "lead_time": random_lead_time(rng),
        }
        if retail:
            d["backorder"] = float(rng.integers(1, 40))
            d["demand"] = random_demand(rng)
        if rng.random() < 0.2:
            d["order_fixed_cost"] = float(rng.integers(0, 10))
            d["order_unit_cost"] = float(rng.integers(0, 5)) / 4
        if with_base_stock:
            d["base_stock"] = int(rng.integers(0, 150))
        points.append(d)
    rng.shuffle(points)  # the reader must not depend on the order of the list
    return {"name": f"{kind}-{size}", "stock_points": points}


@st.composite
def network_cases(draw: st.DrawFn, max_size: int = 300, da_max_size: int = 25) -> tuple[dict[str, Any], int, str]:
    """(network dict, seed, kind): mostly small networks, sometimes up to ``max_size`` stock points.

    Networks of at most ``da_max_size`` stock points sometimes leave the base-stock levels to DA.
    """
    kind = draw(st.sampled_from(KINDS))
    size = draw(st.one_of(st.integers(1, 12), st.integers(13, max_size)))
    seed = draw(st.integers(0, 2**32 - 1))
    with_da = size <= da_max_size and draw(st.booleans())
    rng = np.random.default_rng(seed)
    return random_network(rng, kind, size, with_base_stock=not with_da), seed, kind


# --------------------------------------------------------------------------------------------------
# Invalid values, by class
# --------------------------------------------------------------------------------------------------

_big_ints = st.integers(min_value=21, max_value=400).map(lambda k: 10**k)
_non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
_containers = st.one_of(st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_strings = st.one_of(st.text(max_size=6), st.integers(-5, 500).map(str))


def _not_integral(x: float) -> bool:
    return not (math.isfinite(x) and x.is_integer())


def invalid_int(lo: int, hi: int, *, none: bool = True) -> st.SearchStrategy[tuple[str, Any]]:
    """(class, value) pairs that are not an integer in [lo, hi] (nor None, unless ``none=False``)."""
    return st.one_of(
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("float"), st.floats(allow_nan=True, allow_infinity=True)),
        st.tuples(st.just("string"), _strings),
        st.tuples(st.just("container"), _containers),
        *([st.tuples(st.just("none"), st.none())] if none else []),
        st.tuples(st.just("out of range"), st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1))),
        st.tuples(st.just("huge"), _big_ints),
    )


def invalid_float(lo: float, hi: float) -> st.SearchStrategy[tuple[str, Any]]:
    """(class, value) pairs that are not a finite number in [lo, hi]."""
    return st.one_of(
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("non-finite"), _non_finite),
        st.tuples(st.just("string"), _strings),
        st.tuples(st.just("container"), _containers),
        st.tuples(st.just("none"), st.none()),
        st.tuples(st.just("out of range"), st.one_of(
            st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False),
            st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False),
        )),
        st.tuples(st.just("huge"), _big_ints),
    )


def invalid_distribution(max_value: int) -> st.SearchStrategy[tuple[str, Any]]:
    """(class, value) pairs that are not a distribution ending at or below ``max_value``."""
    too_big = st.one_of(
        st.integers(max_value + 1, 10**12),
        st.integers(max_value + 1, 10**9).map(lambda h: {"type": "uniform_int", "low": 1, "high": h}),
        st.floats(V.MAX_POISSON_MEAN, 1e300, exclude_min=True).map(lambda m: {"type": "poisson", "mu": m}),
        st.integers(V.MAX_MIXED_POISSON_MEAN + 1, 10**9).map(
            lambda h: {"type": "poisson_uniform_mean", "low": 1, "high": h}
        ),
        st.floats(2e4, 1e12).map(lambda s: {"type": "rounded_normal", "mu": 5.0, "sigma": s}),
    )
    if max_value < V.MAX_SUPPORT:  # lead times: supports allowed for demand are too long here
        too_big = st.one_of(too_big, st.integers(max_value + 1, V.MAX_SUPPORT).map(lambda v: {"type": "fixed", "value": v}))
    bad_pmf = st.one_of(
        st.lists(st.floats(0, 1), min_size=1, max_size=6).filter(lambda p: abs(math.fsum(p) - 1) > 1e-3),
        st.lists(st.floats(-1, -1e-3), min_size=1, max_size=3).map(lambda p: [*p, 1.0 - sum(p)]),
        st.lists(_non_finite, min_size=1, max_size=2).map(lambda p: [0.5, *p]),
        st.lists(st.sampled_from(["0.5", True, None]), min_size=1, max_size=3).map(lambda p: [*p, 0.5]),
        st.just([]),
    )
    return st.one_of(
        st.tuples(st.just("huge support"), too_big),
        st.tuples(st.just("bad pmf"), bad_pmf),
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("float"), st.floats().filter(_not_integral)),
        st.tuples(st.just("string"), _strings),
        st.tuples(st.just("unknown type"), st.text(max_size=8).map(lambda t: {"type": "x" + t})),
        st.tuples(st.just("unknown field"), st.just({"type": "poisson", "mu": 3, "sigma": 1})),
        st.tuples(st.just("negative"), st.integers(max_value=-1)),
    )
