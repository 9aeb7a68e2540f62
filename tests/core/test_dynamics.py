"""Hand-computed traces of the period (SPEC section 1) on tiny networks, and invariants."""

from __future__ import annotations

import numpy as np
import pytest

from meio_envs.core import dynamics
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.scenarios import SCENARIO_IDS
from tests.conftest import sp


def batch(stock_points, base_stock, num_envs=1, seed=0):
    b = BatchedMEIO(network={"stock_points": stock_points}, base_stock=base_stock, num_envs=num_envs)
    b.reset(seed)
    return b


def serial(lead_w=1, lead_r=1, demand=4, h_w=0.5, b=10.0):
    return [
        sp("W1", ["external"], holding=h_w, lead_time=lead_w),
        sp("R1", ["W1"], holding=1.0, backorder=b, lead_time=lead_r, demand=demand),
    ]


def test_serial_trace_lead_time_one():
    # W1 starts with 5, R1 with 3; demand is always 4.
    b = batch(serial(), [5, 3])
    st = b.state
    # Period 1: nothing to receive or fulfil; cost on the initial stock. W1 orders 6, R1 orders 2.
    c = b.step_orders(np.array([[6, 2]]))
    assert c.holding.tolist() == [[2.5, 3.0]] and c.backorder.sum() == 0
    assert st.on_hand.tolist() == [[5, 3]]
    assert st.edge_new.tolist() == [[2]] and st.market_new.tolist() == [[4]]
    assert st.in_transit.tolist() == [[6, 0]]  # external ships at once
    # IP: W1 = 5 + 6 - 2 = 9; R1 = 3 + 2 - 4 = 1
    assert b.inventory_position().tolist() == [[9, 1]]
    # Period 2: W1 receives 6 (lead time 1); R1 serves 3 of 4 (backorder 1); W1 ships 2 to R1.
    c = b.step_orders(np.array([[0, 0]]))
    assert st.on_hand.tolist() == [[9, 0]]
    assert st.market_backorder.tolist() == [[1]]
    assert c.holding.tolist() == [[4.5, 0.0]] and c.backorder.tolist() == [[0.0, 10.0]]
    assert st.in_transit.tolist() == [[0, 2]]
    # Period 3: R1 receives 2, owes 1 + 4 = 5, ships 2 -> backorder 3.
    c = b.step_orders(np.array([[0, 0]]))
    assert st.on_hand.tolist() == [[9, 0]] and st.market_backorder.tolist() == [[3]]
    assert c.backorder.tolist() == [[0.0, 30.0]]


def test_arrival_timing_lead_time_three():
    b = batch(serial(lead_w=3, lead_r=3, demand=0), [0, 0])
    st = b.state
    b.step_orders(np.array([[7, 0]]))  # period 1: external ships 7, due at the start of period 4
    for _ in range(2):  # periods 2 and 3: still in transit
        b.step_orders(np.array([[0, 0]]))
        assert st.on_hand[0, 0] == 0 and st.in_transit[0, 0] == 7
    b.step_orders(np.array([[0, 5]]))  # period 4: arrives; R1 orders 5 from W1
    assert st.on_hand[0, 0] == 7
    b.step_orders(np.array([[0, 0]]))  # period 5: W1 ships 5, lead time 3 -> arrives period 8
    assert st.on_hand.tolist() == [[2, 0]] and st.in_transit[0, 1] == 5
    for _ in range(2):
        b.step_orders(np.array([[0, 0]]))
        assert st.on_hand[0, 1] == 0
    b.step_orders(np.array([[0, 0]]))  # period 8
    assert st.on_hand[0, 1] == 5 and st.in_transit[0, 1] == 0


def divergent(h=1.0):
    return [
        sp("W1", ["external"], holding=0.5),
        sp("R1", ["W1"], backorder=10.0, demand=0, holding=h),
        sp("R2", ["W1"], backorder=10.0, demand=0, holding=h),
    ]


def test_lowest_ip_customer_first_and_partial_shipment():
    # W1 has 5. R1 (on hand 10) and R2 (on hand 2) both order 4: R2 has the lower IP and is served
    # in full first; R1 gets the remaining 1 (partial) and 3 become a backorder.
    b = batch(divergent(), [5, 10, 2])
    st = b.state
    b.step_orders(np.array([[0, 4, 4]]))
    b.step_orders(np.array([[0, 0, 0]]))
    assert st.on_hand[0, 0] == 0
    assert st.in_transit[0].tolist() == [0, 1, 4]
    assert st.edge_backorder.tolist() == [[3, 0]]


def test_ties_broken_by_node_index():
    b = batch(divergent(), [3, 5, 5])
    b.step_orders(np.array([[0, 2, 2]]))
    b.step_orders(np.array([[0, 0, 0]]))
    assert b.state.in_transit[0].tolist() == [0, 2, 1]


def test_backorders_served_before_new_orders():
    # Period 2 leaves W1 owing R1 a backorder of 4; in period 3 R2 (lower IP) orders anew.
    # W1 receives 4 at period 3: they go to R1's backorder, not to R2's new order.
    b = batch(divergent(), [0, 20, 0])
    st = b.state
    b.step_orders(np.array([[4, 4, 0]]))  # W1 orders 4 (arrives period 2), R1 orders 4
    b.step_orders(np.array([[4, 0, 0]]))  # period 2: W1 gets 4, ships R1's 4; orders 4 more
    assert st.edge_backorder.tolist() == [[0, 0]] and st.in_transit[0, 1] == 4
    b.step_orders(np.array([[0, 5, 0]]))  # period 3: W1 gets 4; nothing owed. R1 orders 5
    assert st.on_hand[0, 0] == 4
    b.step_orders(np.array([[0, 0, 3]]))  # period 4: W1 ships 4 of R1's 5 -> backorder 1; R2 orders 3
    assert st.edge_backorder.tolist() == [[1, 0]] and st.on_hand[0, 0] == 0
    # give W1 exactly 1 unit: the backorder to R1 (higher IP) must get it, not R2's new order
    b2 = batch(divergent(), [1, 20, 0])
    s2 = b2.state
    s2.edge_backorder[:] = [[1, 0]]
    s2.edge_new[:] = [[0, 3]]
    b2.step_orders(np.array([[0, 0, 0]]))
    assert s2.in_transit[0].tolist() == [0, 1, 0]
    assert s2.edge_backorder.tolist() == [[0, 3]]


def test_random_single_supplier():
    net = [
        sp("W1", ["external"]), sp("W2", ["external"]),
        sp("R1", ["W1", "W2"], backorder=1.0, demand=0),
    ]
    b = batch(net, [0, 0, 0], num_envs=4000, seed=3)
    b.step_orders(np.tile([0, 0, 7], (4000, 1)))
    e = b.state.edge_new  # edges sorted by supplier: (W1,R1), (W2,R1)
    assert np.all(e.sum(axis=1) == 7)  # the whole order goes to exactly one supplier
    assert np.all((e == 0) | (e == 7))
    share = (e[:, 0] == 7).mean()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 4000)


def test_external_supplier_is_unlimited_and_orders_are_clipped():
    b = batch(serial(demand=0), [0, 0])
    b.step_orders(np.array([[10_000, 0]]))  # max_order is 100
    assert b.state.in_transit[0, 0] == 100 and b.state.external_in[0] == 100


def assert_invariants(p, st, c, orders=None):
    """Conservation of units, non-negative stock and the cost formula after one period.

    Shared with the property tests (tests/core/test_properties.py). ``orders`` (B, P), when
    given, also checks the ordering cost.
    """
    # units in = on hand + in transit + delivered to the market, every copy
    assert np.array_equal(st.external_in, st.on_hand.sum(1) + st.in_transit.sum(1) + st.delivered)
    assert np.array_equal(st.in_transit, st.pipeline.sum(-1))
    assert np.array_equal(st.demand_total - st.delivered, (st.market_backorder + st.market_new).sum(1))
    assert np.all(st.on_hand >= 0) and np.all(st.edge_backorder >= 0) and np.all(st.market_backorder >= 0)
    assert np.all(st.pipeline >= 0) and np.all(st.edge_new >= 0) and np.all(st.market_new >= 0)
    f = st.cost_factors
    np.testing.assert_allclose(c.holding, st.on_hand * p.holding * f[:, :1], rtol=1e-12)
    expect_b = np.zeros_like(c.backorder)
    expect_b[:, p.retailers] = st.market_backorder * p.backorder * f[:, 1:2]
    np.testing.assert_allclose(c.backorder, expect_b, rtol=1e-12)
    if orders is not None:
        expect_o = (orders > 0) * p.fixed_order_cost + orders * p.unit_order_cost
        np.testing.assert_allclose(c.ordering, expect_o, rtol=1e-12)
    np.testing.assert_allclose(c.total, c.per_node.sum(1), rtol=1e-12)
    assert np.all(np.isfinite(c.total))


@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_conservation_and_cost_formula(sid):
    b = BatchedMEIO(sid, num_envs=16)
    b.reset(7)
    p = b.params
    rng = np.random.default_rng(0)
    for _ in range(60):
        q = rng.integers(0, p.max_order + 1, size=(16, p.num_nodes))
        assert_invariants(p, b.state, b.step_orders(q), q)


def test_ordering_costs():
    net = serial(demand=0)
    net[0]["order_fixed_cost"] = 5.0
    net[0]["order_unit_cost"] = 2.0
    b = batch(net, [0, 0])
    c = b.step_orders(np.array([[3, 0]]))
    assert c.ordering.tolist() == [[11.0, 0.0]]
    c = b.step_orders(np.array([[0, 0]]))
    assert c.ordering.sum() == 0


def test_copies_do_not_depend_on_batch_size():
    small = BatchedMEIO("B3", num_envs=2)
    big = BatchedMEIO("B3", num_envs=9)
    small.reset(11)
    big.reset(10)  # big copy 1 has seed 11 = small copy 0
    q = np.full((9, 9), 20)
    for _ in range(30):
        cs = small.step_orders(q[:2])
        cb = big.step_orders(q)
        np.testing.assert_array_equal(cs.total[0], cb.total[1])
    np.testing.assert_array_equal(small.state.on_hand[0], big.state.on_hand[1])


def test_base_stock_simulation_matches_heuristic_spec_reference():
    """A1 at DA levels (W1 27, R 34): heuristics-spec T9 simulates 44.922 +- 0.036 per period."""
    b = BatchedMEIO("A1", num_envs=200)
    b.reset(5)
    levels = np.array([27, 34, 34, 34])
    total = np.zeros(200)
    for t in range(600):
        c = b.step_orders(np.clip(levels - b.inventory_position(), 0, b.params.max_order))
        if t >= 100:
            total += c.total
    per_period = total / 500
    se = per_period.std(ddof=1) / np.sqrt(per_period.size)
    assert abs(per_period.mean() - 44.922) < 3 * np.hypot(se, 0.036)


def test_state_invariant_checker_detects_a_lost_unit():
    b = BatchedMEIO("A1", num_envs=2)
    b.reset(0)
    b.step_orders(np.full((2, 4), 10))
    b.state.on_hand[0, 1] -= 1
    st = b.state
    assert not np.array_equal(st.external_in, st.on_hand.sum(1) + st.in_transit.sum(1) + st.delivered)


def test_inventory_position_definition():
    b = batch(serial(demand=4), [5, 3])
    b.step_orders(np.array([[6, 2]]))
    st = b.state
    ip = dynamics.inventory_position(b.params, st)
    assert ip[0, 0] == st.on_hand[0, 0] + st.in_transit[0, 0] - st.edge_new[0, 0]
    assert ip[0, 1] == st.on_hand[0, 1] + st.in_transit[0, 1] + st.edge_new[0, 0] - st.market_new[0, 0]
