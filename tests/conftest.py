"""Shared fixtures: tiny hand-made networks for traces."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Any  # noqa: E402

import pytest  # noqa: E402


def sp(name: str, suppliers: list[str], **kw: Any) -> dict[str, Any]:
    """A stock-point dict with small defaults for hand traces."""
    d: dict[str, Any] = {
        "name": name,
        "suppliers": suppliers,
        "holding": kw.pop("holding", 1.0),
        "max_order": kw.pop("max_order", 100),
        "ip_bounds": kw.pop("ip_bounds", [-100, 100]),
        "lead_time": kw.pop("lead_time", 1),
    }
    d.update(kw)
    return d


@pytest.fixture
def make_sp():
    """Factory for stock-point dicts."""
    return sp
