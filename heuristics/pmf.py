"""Algebra on integer probability mass functions.

A PMF is a 1-D float64 array ``p`` with ``p[x] = P(X = x)`` for ``x = 0..K``.
Every heuristic in this package builds its lead-time demands from the functions
here, so there is exactly one place where truncation and FFT noise are handled.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from scipy import fft as sfft
from scipy import stats

__all__ = [
    "TAIL_CUT",
    "CDF_TOL",
    "validate_pmf",
    "point_mass",
    "poisson_pmf",
    "mixed_poisson_uniform_pmf",
    "convolve",
    "convolve_many",
    "power",
    "mix",
    "lead_time_demand",
    "lead_time_demand_sum",
    "quantile",
    "expected_backorders",
    "backorder_curve",
    "match_backorders",
    "expected_on_hand",
    "mean",
    "variance",
    "cdf",
]

#: FFT results are cut where the cumulative mass reaches ``1 - TAIL_CUT``.
TAIL_CUT = 1e-12
#: CDF comparisons allow this slack, because FFT-built CDFs carry ~1e-15 noise.
CDF_TOL = 1e-12

_LTD_MODELS = ("compound", "crossing")


def validate_pmf(p: object, name: str = "pmf") -> np.ndarray:
    """Check that ``p`` is a proper PMF on 0..K and return it as float64.

    Raises ``ValueError`` if it is not 1-D and non-empty, has non-finite
    entries, negative mass below -1e-12, or does not sum to 1 within 1e-6.
    Tiny negative entries (FFT noise) are clipped to zero.
    """
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot be read as an array of floats ({exc})") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: must be a non-empty 1-D array of probabilities over 0..K, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite entries; all probabilities must be finite")
    if arr.min() < -1e-12:
        raise ValueError(
            f"{name}: negative probability {arr.min():.3g} at index {int(arr.argmin())}; entries must be >= 0"
        )
    total = float(arr.sum())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{name}: probabilities sum to {total:.9g}; they must sum to 1 (within 1e-6)")
    return np.clip(arr, 0.0, None)


def point_mass(x: int = 0) -> np.ndarray:
    """PMF of the constant ``x`` (``x >= 0``)."""
    if x < 0:
        raise ValueError(f"point_mass: x must be >= 0, got {x}")
    out = np.zeros(int(x) + 1)
    out[-1] = 1.0
    return out


def poisson_pmf(mu: float, tail: float = 1e-15) -> np.ndarray:
    """Poisson(mu) PMF truncated where the remaining tail mass is below ``tail``, renormalised."""
    if not np.isfinite(mu) or mu < 0:
        raise ValueError(f"poisson_pmf: mean must be a finite number >= 0, got {mu}")
    if not 0 < tail < 1:
        raise ValueError(f"poisson_pmf: tail must be in (0, 1), got {tail}")
    if mu == 0:
        return point_mass(0)
    k_max = int(stats.poisson.isf(tail, mu)) + 1
    p = stats.poisson.pmf(np.arange(k_max + 1), mu)
    return _trim(p / p.sum())


def mixed_poisson_uniform_pmf(lo: int, hi: int, tail: float = 1e-15) -> np.ndarray:
    """PMF of Poisson(m) with the mean m drawn uniformly from the integers lo..hi."""
    if lo < 0 or hi < lo:
        raise ValueError(f"mixed_poisson_uniform_pmf: need 0 <= lo <= hi, got lo={lo}, hi={hi}")
    parts = [poisson_pmf(m, tail) for m in range(int(lo), int(hi) + 1)]
    out = np.zeros(max(len(q) for q in parts))
    for q in parts:
        out[: len(q)] += q
    return out / out.sum()


def _trim(p: np.ndarray) -> np.ndarray:
    """Drop trailing exact zeros (keeps at least one entry)."""
    nz = np.flatnonzero(p)
    if nz.size == 0:
        return point_mass(0)
    return p[: nz[-1] + 1]


def _clean(raw: np.ndarray, support: int) -> np.ndarray:
    """Turn an inverse-FFT result into a PMF on 0..support: clip, cut the tail, renormalise."""
    p = np.clip(raw[: support + 1], 0.0, None)
    total = p.sum()
    if total <= 0:
        raise ValueError("internal: FFT produced no mass; inputs were not proper PMFs")
    p = p / total
    cum = np.cumsum(p)
    cut = int(np.searchsorted(cum, 1.0 - TAIL_CUT))
    p = p[: min(cut, support) + 1]
    return p / p.sum()


def _fft_len(support: int) -> int:
    # Length must exceed the support of the result, otherwise circular convolution wraps.
    return sfft.next_fast_len(support + 1, real=True)


def convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PMF of the sum of two independent variables (FFT, tail cut at 1e-12, renormalised)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    support = (len(a) - 1) + (len(b) - 1)
    n = _fft_len(support)
    raw = sfft.irfft(sfft.rfft(a, n) * sfft.rfft(b, n), n)
    return _clean(raw, support)


def convolve_many(pmfs: Iterable[np.ndarray]) -> np.ndarray:
    """PMF of the sum of several independent variables (one FFT of the whole product)."""
    pmfs = [np.asarray(p, dtype=np.float64) for p in pmfs]
    if not pmfs:
        return point_mass(0)
    support = sum(len(p) - 1 for p in pmfs)
    n = _fft_len(support)
    prod = np.ones(n // 2 + 1, dtype=np.complex128)
    for p in pmfs:
        prod *= sfft.rfft(p, n)
    return _clean(sfft.irfft(prod, n), support)


def power(f: np.ndarray, n: int) -> np.ndarray:
    """n-fold convolution of ``f`` with itself; ``n = 0`` gives the point mass at 0."""
    if n < 0:
        raise ValueError(f"power: n must be >= 0, got {n}")
    if n == 0:
        return point_mass(0)
    f = np.asarray(f, dtype=np.float64)
    if n == 1:
        return f.copy()
    support = n * (len(f) - 1)
    m = _fft_len(support)
    return _clean(sfft.irfft(sfft.rfft(f, m) ** n, m), support)


def mix(f: np.ndarray, q: float) -> np.ndarray:
    """Whole-order mixing ``q*f + (1-q)*delta_0``: the quantity is passed on entirely or not at all."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"mix: probability q must be in [0, 1], got {q}")
    out = q * np.asarray(f, dtype=np.float64)
    out[0] += 1.0 - q
    return out


def _check_model(model: str) -> None:
    if model not in _LTD_MODELS:
        raise ValueError(f"lead-time-demand model must be one of {_LTD_MODELS}, got {model!r}")


def _ltd_support(f: np.ndarray, lt: np.ndarray, model: str) -> int:
    kf = len(f) - 1
    lmax = len(lt) - 1
    # Crossing: one mixed block per j < lmax, each of support kf -> same bound as compound.
    return kf * lmax


def _ltd_transform(fhat: np.ndarray, lt: np.ndarray, model: str) -> np.ndarray:
    """Fourier transform of lead-time demand given the demand transform ``fhat``."""
    if model == "compound":
        # Horner evaluation of the lead-time generating function at fhat.
        out = np.full_like(fhat, lt[-1])
        for prob in lt[-2::-1]:
            out = out * fhat + prob
        return out
    surv = 1.0 - np.cumsum(lt)  # surv[j] = P(L > j)
    out = np.ones_like(fhat)
    for j in range(len(lt) - 1):
        q = min(max(surv[j], 0.0), 1.0)
        if q > 0:
            out = out * ((1.0 - q) + q * fhat)
    return out


def lead_time_demand(f: np.ndarray, lt_pmf: np.ndarray, model: str = "compound") -> np.ndarray:
    """Demand over a random lead time.

    ``model="compound"`` (default): ``sum_l pi(l) f^{*l}`` (no order crossing).
    ``model="crossing"``: outstanding units when every period's order has its own
    lead time, ``prod_j [(1-P(L>j)) + P(L>j) f^]`` in the Fourier domain.
    Both coincide for a deterministic lead time.
    """
    return lead_time_demand_sum([(f, lt_pmf)], model)


def lead_time_demand_sum(
    blocks: Sequence[tuple[np.ndarray, np.ndarray | Sequence[np.ndarray]]], model: str = "compound"
) -> np.ndarray:
    """PMF of a sum of independent lead-time-demand blocks.

    Each block is ``(f, lt)`` where ``lt`` is a lead-time PMF or a sequence of
    lead-time PMFs whose *independent* lead times add up (e.g. the stages of a
    serial path: demand ``f`` over ``L_1 + ... + L_r``).
    """
    _check_model(model)
    norm: list[tuple[np.ndarray, list[np.ndarray]]] = []
    support = 0
    for f, lts in blocks:
        f = np.asarray(f, dtype=np.float64)
        if isinstance(lts, np.ndarray) and lts.ndim == 1:
            lts = [lts]
        lts = [np.asarray(lt, dtype=np.float64) for lt in lts]
        norm.append((f, lts))
        support += sum(_ltd_support(f, lt, model) for lt in lts)
    if support == 0:
        return point_mass(0)
    n = _fft_len(support)
    prod = np.ones(n // 2 + 1, dtype=np.complex128)
    for f, lts in norm:
        fhat = sfft.rfft(f, n)
        for lt in lts:
            prod *= _ltd_transform(fhat, lt, model)
    return _clean(sfft.irfft(prod, n), support)


def cdf(f: np.ndarray) -> np.ndarray:
    """Cumulative distribution ``F(x) = P(X <= x)`` on 0..K."""
    return np.cumsum(np.asarray(f, dtype=np.float64))


def quantile(f: np.ndarray, alpha: float) -> int:
    """Smallest integer S >= 0 with ``F(S) >= alpha - 1e-12``."""
    if not np.isfinite(alpha) or alpha < 0 or alpha > 1 + 1e-12:
        raise ValueError(f"quantile: alpha must be in [0, 1], got {alpha}")
    F = cdf(f)
    idx = int(np.searchsorted(F, alpha - CDF_TOL, side="left"))
    return min(idx, len(F) - 1)


def backorder_curve(f: np.ndarray) -> np.ndarray:
    """``B(n) = E[(X - n)^+]`` for n = 0..K (B(K) = 0)."""
    f = np.asarray(f, dtype=np.float64)
    # Survival via reverse sums keeps the far tail accurate (no 1 - F cancellation).
    surv = np.concatenate([np.cumsum(f[::-1])[::-1][1:], [0.0]])  # surv[x] = P(X > x)
    return np.cumsum(surv[::-1])[::-1]


def expected_backorders(f: np.ndarray, s: float) -> float:
    """``E[(X - s)^+]`` for real s (exactly linear between integers)."""
    curve = backorder_curve(f)
    if s <= 0:
        return float(curve[0] - s)
    k = len(curve) - 1
    if s >= k:
        return 0.0
    n = int(np.floor(s))
    theta = s - n
    return float((1.0 - theta) * curve[n] + theta * curve[n + 1])


def match_backorders(f: np.ndarray, target: float, tol: float = 1e-12) -> tuple[int, float, int]:
    """Levels whose expected backorders match ``target``.

    Returns ``(smallest, real, nearest)``: the smallest integer s >= 0 with
    ``B(s) <= target`` (within ``tol``), the real s solving ``B(s) = target``
    (linear between integers; may be negative when the target exceeds the mean),
    and the integer of {smallest - 1, smallest} whose B is closest to the target
    (a tie within 1e-9 goes to the larger level, so "nearest" differs from
    "smallest" only when it is strictly closer; exact ties happen whenever the
    target comes from a level ending in .5 on the same distribution).
    """
    if not np.isfinite(target) or target < 0:
        raise ValueError(f"match_backorders: target must be a finite number >= 0, got {target}")
    curve = backorder_curve(f)
    n = int(np.argmax(curve <= target + tol))  # curve is non-increasing and ends at 0
    if n == 0:
        return 0, float(curve[0] - target), 0
    hi, lo = curve[n - 1], curve[n]
    real = (n - 1) + (hi - target) / (hi - lo) if hi > lo else float(n)
    nearest = n - 1 if abs(hi - target) < abs(lo - target) - 1e-9 else n
    return n, float(min(real, n)), nearest


def expected_on_hand(f: np.ndarray, s: float) -> float:
    """``E[(s - X)^+] = s - E[X] + B(s)``."""
    return float(s - mean(f) + expected_backorders(f, s))


def mean(f: np.ndarray) -> float:
    """Mean of the PMF."""
    f = np.asarray(f, dtype=np.float64)
    return float(np.dot(np.arange(len(f)), f))


def variance(f: np.ndarray) -> float:
    """Variance of the PMF."""
    f = np.asarray(f, dtype=np.float64)
    x = np.arange(len(f))
    m = float(np.dot(x, f))
    return float(np.dot((x - m) ** 2, f))
