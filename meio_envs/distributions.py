"""Integer distributions for demand and shipment lead times.

Every distribution is defined by one thing: its probability mass function (PMF) on the integers
``0..K``. Sampling is inverse-CDF on that PMF, so the simulator (which draws from tables with one
uniform per draw, see :mod:`meio_envs.core.rng`), the heuristic (which convolves the PMFs) and
:meth:`Distribution.sample` can never disagree about what a distribution is.

Every parameter is checked before a PMF is built (exact types, finite values, upper limits from
:mod:`meio_envs.validation`), so no distribution can allocate more than ``MAX_SUPPORT + 1`` entries;
errors are :class:`~meio_envs.validation.MEIOInputError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np
from scipy import stats

from meio_envs.validation import (
    MAX_MIXED_POISSON_MEAN,
    MAX_NAME_LENGTH,
    MAX_POISSON_MEAN,
    MAX_SUPPORT,
    MEIOInputError,
    exact_int,
    finite_float,
    show,
)

__all__ = [
    "DemandSeries",
    "Distribution",
    "EmpiricalPMF",
    "Fixed",
    "Poisson",
    "PoissonUniformMean",
    "RoundedNormal",
    "UniformInt",
    "distribution_from_dict",
]

_TAIL = 1e-12  # probability mass dropped from unbounded tails (then renormalised)


def check_pmf(pmf: Any, name: str = "pmf") -> np.ndarray:
    """Return ``pmf`` as a float64 array after checking it is a proper PMF on 0..K (K <= MAX_SUPPORT)."""
    allowed = f"a list of 1 to {MAX_SUPPORT + 1} probabilities (numbers) on 0..K"
    if isinstance(pmf, (str, bytes, Mapping)):
        raise MEIOInputError(f"{name}: a PMF must be {allowed}, got {show(pmf)}")
    if isinstance(pmf, np.ndarray):
        arr = pmf
    else:
        items = list(pmf) if isinstance(pmf, Sequence) else None
        if items is None or len(items) > MAX_SUPPORT + 1 or not all(
            isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
            for x in items
        ):
            raise MEIOInputError(f"{name}: a PMF must be {allowed}, got {show(pmf)}")
        try:
            arr = np.asarray(items, dtype=np.float64)
        except OverflowError:  # an integer beyond the float range
            raise MEIOInputError(f"{name}: a PMF must be {allowed}, got {show(pmf)}") from None
    if arr.ndim != 1 or arr.size == 0 or arr.size > MAX_SUPPORT + 1 or arr.dtype.kind not in "iuf":
        raise MEIOInputError(f"{name}: a PMF must be {allowed}, got {show(arr)}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise MEIOInputError(f"{name}: PMF contains NaN or infinite values; all entries must be finite")
    if np.any(arr < -1e-12):
        raise MEIOInputError(f"{name}: PMF has negative mass {arr.min():.3g}; probabilities must be >= 0")
    total = float(arr.sum())
    if abs(total - 1.0) > 1e-6:
        raise MEIOInputError(f"{name}: PMF sums to {total:.9g}; it must sum to 1 (tolerance 1e-6)")
    arr = np.clip(arr, 0.0, None)
    return arr / arr.sum()


def _trim(pmf: np.ndarray) -> np.ndarray:
    """Drop trailing zeros so the table is no longer than it needs to be."""
    nz = np.nonzero(pmf > 0)[0]
    return pmf[: nz[-1] + 1] if nz.size else pmf[:1]


@dataclass(frozen=True)
class Distribution:
    """Base class: a distribution on the non-negative integers given by its PMF."""

    def pmf(self) -> np.ndarray:
        """PMF on 0..K (float64, sums to 1)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form accepted by :func:`distribution_from_dict`."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """Expected value."""
        p = self.pmf()
        return float(np.dot(np.arange(p.size), p))

    @property
    def variance(self) -> float:
        """Variance."""
        p = self.pmf()
        k = np.arange(p.size)
        m = float(np.dot(k, p))
        return float(np.dot((k - m) ** 2, p))

    @property
    def min_value(self) -> int:
        """Smallest value with positive probability."""
        return int(np.argmax(self.pmf() > 0))

    @property
    def max_value(self) -> int:
        """Largest value with positive probability (after tail truncation)."""
        return int(self.pmf().size - 1)

    def cdf_table(self) -> np.ndarray:
        """Cumulative probabilities, last entry exactly 1 (used for inverse-CDF sampling)."""
        c = np.cumsum(self.pmf())
        c[-1] = 1.0
        return c

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms in [0, 1) to integer draws by inverse CDF."""
        return np.searchsorted(self.cdf_table(), u, side="right").astype(np.int64)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> np.ndarray:
        """Draw integers with a NumPy ``Generator`` (inverse CDF on :meth:`pmf`)."""
        return self.from_uniform(rng.random(size))


@dataclass(frozen=True)
class Fixed(Distribution):
    """Always ``value`` (e.g. a static lead time)."""

    value: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", exact_int("Fixed: value", self.value, 0, MAX_SUPPORT))

    def pmf(self) -> np.ndarray:  # noqa: D102
        p = np.zeros(int(self.value) + 1)
        p[-1] = 1.0
        return p

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "fixed", "value": int(self.value)}


@dataclass(frozen=True)
class UniformInt(Distribution):
    """Uniform on the integers ``low..high`` (inclusive), e.g. lead times U{1..5}."""

    low: int
    high: int

    def __post_init__(self) -> None:
        _int_range(self, "UniformInt", MAX_SUPPORT)

    def pmf(self) -> np.ndarray:  # noqa: D102
        p = np.zeros(int(self.high) + 1)
        p[int(self.low) :] = 1.0 / (self.high - self.low + 1)
        return p

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "uniform_int", "low": int(self.low), "high": int(self.high)}


@dataclass(frozen=True)
class Poisson(Distribution):
    """Poisson(``mu``), truncated where the upper tail mass falls below 1e-12."""

    mu: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", finite_float("Poisson: mu", self.mu, 0.0, MAX_POISSON_MEAN))

    def pmf(self) -> np.ndarray:  # noqa: D102
        k_max = int(stats.poisson.isf(_TAIL, self.mu)) + 1 if self.mu > 0 else 0
        p = stats.poisson.pmf(np.arange(k_max + 1), self.mu)
        return _trim(p / p.sum())

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "poisson", "mu": float(self.mu)}


@dataclass(frozen=True)
class PoissonUniformMean(Distribution):
    """Poisson(m) with m ~ U{low..high} drawn afresh each period (the report's level 1/3 demand).

    Because a new mean is drawn independently every period, the per-period demand is i.i.d. with
    the mixture PMF; sampling from the mixture is therefore the same process as drawing m then
    Poisson(m).
    """

    low: int = 5
    high: int = 15

    def __post_init__(self) -> None:
        # The mixture costs one Poisson PMF per mean, hence the tighter limit.
        _int_range(self, "PoissonUniformMean", MAX_MIXED_POISSON_MEAN)

    def pmf(self) -> np.ndarray:  # noqa: D102
        parts = [Poisson(float(m)).pmf() for m in range(int(self.low), int(self.high) + 1)]
        out = np.zeros(max(p.size for p in parts))
        for p in parts:
            out[: p.size] += p
        return _trim(out / out.sum())

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "poisson_uniform_mean", "low": int(self.low), "high": int(self.high)}


@dataclass(frozen=True)
class RoundedNormal(Distribution):
    """``max(0, round(N(mu, sigma)))``: the book chapter's demand (rounded, non-negative)."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        mu = finite_float("RoundedNormal: mu", self.mu, -MAX_SUPPORT, MAX_SUPPORT)
        sigma = finite_float("RoundedNormal: sigma", self.sigma, 0.0, MAX_SUPPORT, lo_open=True)
        top = math.ceil(stats.norm.isf(_TAIL, mu, sigma))
        if top > MAX_SUPPORT:
            raise MEIOInputError(
                f"RoundedNormal: mu={mu:g}, sigma={sigma:g} reaches {top}; the largest value allowed is "
                f"{MAX_SUPPORT} (mu + 7.1 sigma must stay below it)"
            )
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    def pmf(self) -> np.ndarray:  # noqa: D102
        top = max(0, math.ceil(stats.norm.isf(_TAIL, self.mu, self.sigma)))
        edges = np.arange(top + 1) + 0.5
        cdf = stats.norm.cdf(edges, self.mu, self.sigma)
        p = np.diff(np.concatenate([[0.0], cdf]))  # mass below 0.5 (negatives included) lands on 0
        return _trim(p / p.sum())

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "rounded_normal", "mu": float(self.mu), "sigma": float(self.sigma)}


@dataclass(frozen=True)
class EmpiricalPMF(Distribution):
    """An arbitrary integer PMF on 0..K (e.g. a real-life profile)."""

    probabilities: tuple[float, ...] = field(default=(1.0,))
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or len(self.label) > MAX_NAME_LENGTH:
            raise MEIOInputError(f"EmpiricalPMF: label must be a string of at most {MAX_NAME_LENGTH} characters, got {show(self.label)}")
        arr = check_pmf(self.probabilities, f"EmpiricalPMF {self.label}".strip())
        object.__setattr__(self, "probabilities", tuple(float(x) for x in arr))

    def pmf(self) -> np.ndarray:  # noqa: D102
        return np.asarray(self.probabilities, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "pmf", "probabilities": list(self.probabilities), "label": self.label}


MAX_SERIES_LENGTH = 1_000_000  # values of a replayed demand series


@dataclass(frozen=True)
class DemandSeries(Distribution):
    """A retailer's own demand series, replayed in order: period t's demand is
    ``values[(start + t) % len(values)]`` (the series wraps around).

    As a distribution (for the heuristic and the base-stock levels) it is the empirical PMF of the
    values; only a retailer's ``demand`` replays it in order (anywhere else it is that PMF).
    Read one from a CSV with ``{type: profile, path, product, replay: true}`` in a network file.
    """

    values: tuple[int, ...] = field(default=(0,))
    start: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or len(self.label) > MAX_NAME_LENGTH:
            raise MEIOInputError(f"DemandSeries: label must be a string of at most {MAX_NAME_LENGTH} characters, "
                                 f"got {show(self.label)}")
        raw = self.values
        if (isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, (Sequence, np.ndarray))
                or not 0 < len(raw) <= MAX_SERIES_LENGTH):
            raise MEIOInputError(f"DemandSeries: values must be a list of 1 to {MAX_SERIES_LENGTH} integers, got {show(raw)}")
        vals = tuple(exact_int(f"DemandSeries: values[{i}]", int(v) if isinstance(v, np.integer) else v, 0, MAX_SUPPORT)
                     for i, v in enumerate(raw))
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "start", exact_int("DemandSeries: start", self.start, 0, len(vals) - 1))

    def pmf(self) -> np.ndarray:  # noqa: D102
        counts = np.bincount(np.asarray(self.values, dtype=np.int64))
        return counts.astype(np.float64) / float(len(self.values))

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"type": "series", "values": list(self.values), "start": self.start, "label": self.label}


def _int_range(d: Distribution, what: str, hi: int) -> None:
    """Check and normalise integer fields ``low <= high`` of ``d``."""
    low = exact_int(f"{what}: low", d.low, 0, hi)  # type: ignore[attr-defined]
    high = exact_int(f"{what}: high", d.high, 0, hi)  # type: ignore[attr-defined]
    if low > high:
        raise MEIOInputError(f"{what}: need low <= high, got low={low}, high={high}")
    object.__setattr__(d, "low", low)
    object.__setattr__(d, "high", high)


_KINDS: dict[str, type[Distribution]] = {
    "fixed": Fixed,
    "uniform_int": UniformInt,
    "poisson": Poisson,
    "poisson_uniform_mean": PoissonUniformMean,
    "rounded_normal": RoundedNormal,
    "pmf": EmpiricalPMF,
    "series": DemandSeries,
}


def distribution_from_dict(spec: Mapping[str, Any] | int | Sequence[float] | Distribution) -> Distribution:
    """Build a distribution from plain data.

    Accepts a :class:`Distribution`, an integer (a fixed value), a list of probabilities (a PMF on
    0..K), or a mapping with ``type`` in {fixed, uniform_int, poisson, poisson_uniform_mean,
    rounded_normal, pmf, series} and that type's fields.
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, (bool, np.bool_)):
        return Fixed(spec)
    if isinstance(spec, Mapping):
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in _KINDS:
            raise MEIOInputError(f"distribution type must be one of {sorted(_KINDS)}, got {show(kind)}")
        cls = _KINDS[kind]
        allowed = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        given = {k for k in spec if k != "type"}
        if given - allowed or required - given:
            raise MEIOInputError(
                f"distribution type {kind!r}: fields must be {sorted(allowed)} (required: {sorted(required)}), "
                f"got {sorted(map(str, given))}"
            )
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        if kind == "pmf" and isinstance(kwargs.get("probabilities"), list):
            kwargs["probabilities"] = tuple(kwargs["probabilities"])
        if kind == "series" and isinstance(kwargs.get("values"), list):
            kwargs["values"] = tuple(kwargs["values"])
        return cls(**kwargs)
    if isinstance(spec, Sequence) and not isinstance(spec, (str, bytes)):
        return EmpiricalPMF(tuple(spec))
    raise MEIOInputError(
        "a distribution must be an int, a list of probabilities, or a mapping with a 'type' field; "
        f"got {show(spec)}"
    )
