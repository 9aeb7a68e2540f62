"""Coordinate search on synthetic costs, and the base-stock policy."""

import numpy as np
import pytest

from heuristics.policy import BaseStockPolicy
from heuristics.sim_opt import coordinate_search

TARGET = np.array([30, 12, 45])
A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])


def quad(batch):
    d = batch - TARGET
    return np.einsum("ki,ij,kj->k", d, A, d) + 10.0, np.zeros(len(batch))


def test_exact_quadratic_reaches_optimum():
    res = coordinate_search(quad, [10, 40, 5])
    np.testing.assert_array_equal(res.best_levels, TARGET)
    assert res.best_cost == pytest.approx(10.0)
    assert res.evaluations > 0 and res.history[-1]["accepted"] is False


def test_never_worse_than_start_and_bounds():
    res = coordinate_search(quad, TARGET)
    np.testing.assert_array_equal(res.best_levels, TARGET)
    res = coordinate_search(quad, [10, 40, 5], lower=0, upper=[20, 50, 50])
    assert res.best_levels[0] == 20
    assert np.all(res.best_levels <= [20, 50, 50])


def test_noisy_quadratic_with_crn():
    def noisy(batch, n=64):
        rng = np.random.default_rng(123)  # same draws for every candidate = common random numbers
        eps = rng.normal(0, 3.0, size=n)
        shift = rng.normal(0, 0.5, size=(n, 3))
        m, _ = quad(batch)
        samples = m[:, None] + eps[None, :] + ((batch[:, None, :] - TARGET) * shift[None]).sum(-1)
        return samples.mean(1), samples.std(1, ddof=1) / np.sqrt(n)

    x0 = np.array([5, 30, 20])
    res = coordinate_search(noisy, x0, threshold=0.01)
    assert np.abs(res.best_levels - TARGET).max() <= 2
    assert quad(res.best_levels[None])[0][0] < quad(x0[None])[0][0]


def test_groups_move_together():
    def cost(batch):
        return ((batch - 7.0) ** 2).sum(1) + (batch[:, 0] - batch[:, 1]) ** 2 * 100, np.zeros(len(batch))

    res = coordinate_search(cost, [0, 0, 3], groups=[[0, 1], [2]])
    np.testing.assert_array_equal(res.best_levels, [7, 7, 7])


def test_returns_start_when_noise_fools_search():
    calls = {"n": 0}

    def fickle(batch):
        calls["n"] += 1
        # first call favours a neighbour; later calls show the start is best
        m = np.abs(batch - 5).sum(1).astype(float)
        if calls["n"] == 1:
            m[1:] -= 10
        return m, np.zeros(len(batch))

    res = coordinate_search(fickle, [5], steps=[1], max_rounds=1)
    np.testing.assert_array_equal(res.best_levels, [5])


def test_search_errors():
    with pytest.raises(ValueError, match="steps"):
        coordinate_search(quad, [1, 2, 3], steps=[0])
    with pytest.raises(ValueError, match="within"):
        coordinate_search(quad, [1, 2, 3], lower=5)
    with pytest.raises(ValueError, match="group"):
        coordinate_search(quad, [1, 2, 3], groups=[[7]])
    with pytest.raises(ValueError, match="pair"):
        coordinate_search(lambda b: b.sum(1), [1, 2, 3])


def test_base_stock_policy():
    pol = BaseStockPolicy(np.array([10, 20]), np.array([5, 50]))
    out = pol.orders(np.array([[3, 30], [12, -40]]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[5, 0], [0, 50]])
    np.testing.assert_array_equal(BaseStockPolicy([10, 20]).orders(np.array([3, -40])), [7, 60])
    with pytest.raises(ValueError, match="shape"):
        pol.orders(np.zeros(3))
    with pytest.raises(ValueError, match="max_order"):
        BaseStockPolicy([1, 2], [1])
