"""Issue 16's options: lost sales, demand patterns and series, disruptions.

Hand-computed traces on tiny networks with point-mass distributions (every number below follows
from the period's rules by hand), conservation with lost units, options off (or neutral) equal to
the frozen oracle on all 30 grid ids, determinism under seeds, validation errors.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from meio_envs import NetworkError, NetworkSpec
from meio_envs.core import dynamics
from meio_envs.core.params import SimParams
from meio_envs.demand_patterns import DemandPattern
from meio_envs.distributions import DemandSeries
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.scenarios import SCENARIO_IDS, make_scenario
from tests.core import oracle_dynamics as oracle


def _two_stage(r1: dict | None = None, w1: dict | None = None, *, demand=4, w_bs=20, r_bs=0) -> NetworkSpec:
    """W1 (external supply) -> R1 (market); lead times 1; holding 0.5 / 1, backorder 2."""
    return NetworkSpec.from_dict({"name": "tiny", "stock_points": [
        {"name": "W1", "suppliers": ["external"], "holding": 0.5, "max_order": 50, "ip_bounds": [-50, 50],
         "lead_time": 1, "base_stock": w_bs, **(w1 or {})},
        {"name": "R1", "suppliers": ["W1"], "holding": 1.0, "backorder": 2.0, "max_order": 50,
         "ip_bounds": [-50, 50], "lead_time": 1, "demand": demand, "base_stock": r_bs, **(r1 or {})},
    ]})


def _run(net: NetworkSpec, orders: list[tuple[int, int]], seed: int = 0):
    """Step one copy with the given (W1, R1) orders; per period: the state after it and its costs."""
    params = SimParams.from_network(net)
    st = dynamics.new_state(params, np.array([seed]))
    out = []
    for q in orders:
        c = dynamics.step(params, st, np.array([q], dtype=np.int64))
        out.append((copy.deepcopy(st), c.sums()[:, 0].copy(), int(c.lost_units[0])))
    return params, st, out


# ------------------------------------------------------------------------------------------ lost sales
def test_lost_sales_trace_by_hand():
    # R1 starts with 3 units, demand 5 per period, nothing ordered; every unmet unit is lost at 7.
    net = _two_stage({"lost_sales_cost": 7.0, "backorder_fraction": 0.0}, demand=5, w_bs=0, r_bs=3)
    _, st, out = _run(net, [(0, 0)] * 3)
    # t=0: no demand is owed yet; t=1: 3 of 5 shipped, 2 lost; t=2: 5 lost.
    assert [u for *_, u in out] == [0, 2, 5]
    assert [s[4] for _, s, _ in out] == [0.0, 14.0, 35.0]  # lost_sales_cost
    assert [s[1] for _, s, _ in out] == [0.0, 0.0, 0.0]  # nothing backordered
    assert [s[0] for _, s, _ in out] == [3.0, 0.0, 0.0]  # holding at R1
    assert [s[3] for _, s, _ in out] == [3.0, 14.0, 35.0]  # the total includes the penalty
    assert st.market_backorder[0, 0] == 0 and st.lost[0] == 7
    assert st.demand_total[0] == st.delivered[0] + st.market_new.sum() + st.market_backorder.sum() + st.lost[0]


def test_partial_backordering_trace_by_hand():
    net = _two_stage({"lost_sales_cost": 7.0, "backorder_fraction": 0.5}, demand=5, w_bs=0, r_bs=3)
    _, st, out = _run(net, [(0, 0)] * 3)
    # t=1: owed 5, shipped 3, unmet 2: floor(0.5 * 2) = 1 backordered, 1 lost.
    # t=2: owed 1 + 5, shipped 0; the old backorder stays, unmet new 5: 2 backordered, 3 lost.
    assert [u for *_, u in out] == [0, 1, 3]
    assert [int(s.market_backorder[0, 0]) for s, *_ in out] == [0, 1, 3]
    assert [s[1] for _, s, _ in out] == [0.0, 2.0, 6.0]  # backorder cost 2 per unit owed
    assert [s[4] for _, s, _ in out] == [0.0, 7.0, 21.0]


def test_lost_sales_keep_inventory_position_of_what_is_owed():
    net = _two_stage({"backorder_fraction": 0.0, "lost_sales_cost": 1.0}, demand=5, w_bs=0, r_bs=3)
    params, st, _ = _run(net, [(0, 0)] * 3)
    # R1's position: nothing on hand or in transit, owes only the last period's demand (5).
    assert dynamics.inventory_position(params, st)[0, 1] == -5


# ------------------------------------------------------------------------------------ demand patterns
@pytest.mark.parametrize(("pattern", "expected"), [
    ({"season_length": 4, "season_amplitude": 0.5}, [10, 15, 10, 5, 10, 15]),
    ({"shocks": [[2, 2.0]]}, [10, 10, 20, 20, 20, 20]),
    ({"season_length": 4, "season_amplitude": 0.5, "shocks": [[2, 2.0], [4, 0.5]]}, [10, 15, 20, 10, 10, 15]),
    ({"trend": 0.5}, [10, 15, 20, 25, 30, 35]),
])
def test_demand_pattern_trace_by_hand(pattern, expected):
    # Demand 10 every period times m(t); m(t) * 10 is a whole number here, so rounding changes nothing.
    net = _two_stage({"demand_pattern": pattern}, demand=10)
    _, _, out = _run(net, [(0, 0)] * 6)
    assert [int(s.market_new[0, 0]) for s, *_ in out] == expected
    np.testing.assert_allclose(DemandPattern.from_dict(pattern).multiplier(np.arange(6)) * 10, expected, atol=1e-9)


def test_demand_pattern_stochastic_rounding_keeps_the_mean():
    net = _two_stage({"demand_pattern": {"shocks": [[0, 1.25]]}}, demand=10)  # 12.5: 12 or 13, half each
    params = SimParams.from_network(net)
    st = dynamics.new_state(params, np.arange(4000))
    dynamics.step(params, st, np.zeros((4000, 2), np.int64))
    d = st.market_new[:, 0]
    assert set(np.unique(d)) == {12, 13}
    assert abs(d.mean() - 12.5) < 0.05


def test_demand_series_replays_in_order():
    net = _two_stage({"demand": DemandSeries((3, 1, 4, 1, 5), start=1)})
    _, _, out = _run(net, [(0, 0)] * 6)
    assert [int(s.market_new[0, 0]) for s, *_ in out] == [1, 4, 1, 5, 3, 1]


def test_demand_series_from_a_csv_profile(tmp_path):
    pytest.importorskip("pandas")
    (tmp_path / "d.csv").write_text("date,SKU\n2024-01-01,2\n2024-01-02,4\n2024-01-03,6\n")
    spec = _two_stage().to_dict()
    spec["stock_points"][1]["demand"] = {"type": "profile", "path": "d.csv", "product": "SKU", "target_mean": 10,
                                         "replay": True}
    net = NetworkSpec.from_dict(spec, base_dir=tmp_path)
    assert net.stock_points[1].demand.values == (5, 10, 15)  # scaled to mean 10, date order kept
    _, _, out = _run(net, [(0, 0)] * 4)
    assert [int(s.market_new[0, 0]) for s, *_ in out] == [5, 10, 15, 5]


def test_phase_observation():
    net = _two_stage({"demand_pattern": {"season_length": 4, "season_amplitude": 0.5}})
    core = BatchedMEIO(network=net, observe_phase=True)
    core.reset(seed=0)
    assert core.obs_dim == 4
    np.testing.assert_allclose(core.observe()[0, 2:], [0.0, 1.0], atol=1e-7)
    core.step_orders(np.zeros((1, 2), np.int64))
    np.testing.assert_allclose(core.observe()[0, 2:], [1.0, 0.0], atol=1e-7)
    with pytest.raises(ValueError, match="observe_phase=True needs a seasonal"):
        BatchedMEIO(network=_two_stage(), observe_phase=True)


# -------------------------------------------------------------------------------------- disruptions
_DOWN_2_TO_4 = {"schedule": [[2, 4]]}


@pytest.mark.parametrize("where", ["edge", "node"])
def test_disrupted_edge_trace_by_hand(where):
    # R1 orders 4 every period from W1 (20 on hand). W1 -> R1 is down in periods 2 and 3.
    r1 = {"supply_disruptions": {"W1": _DOWN_2_TO_4}} if where == "edge" else {}
    w1 = {"disruption": _DOWN_2_TO_4} if where == "node" else {}
    _, _, out = _run(_two_stage(r1, w1), [(0, 4)] * 6)
    on_hand_w1 = [int(s.on_hand[0, 0]) for s, *_ in out]
    edge_bo = [int(s.edge_backorder[0, 0]) for s, *_ in out]
    on_hand_r1 = [int(s.on_hand[0, 1]) for s, *_ in out]
    # t=1 ships the order of t=0; t=2, 3 ship nothing (the orders wait as backorders: 4, 8);
    # t=4 ships the 8 owed and the order of t=3 (12); t=5 the order of t=4.
    assert on_hand_w1 == [20, 16, 16, 16, 4, 0]
    assert edge_bo == [0, 0, 4, 8, 0, 0]
    assert on_hand_r1 == [0, 0, 0, 0, 0, 0]  # everything received is sold at once (demand 4 > 0 owed)
    assert [bool(s.down[0, 0]) for s, *_ in out] == [False, False, True, True, False, False]


def test_a_retailer_that_is_down_sells_nothing_and_loses_under_lost_sales():
    net = _two_stage({"disruption": {"schedule": [[1, 3]]}, "backorder_fraction": 0.0, "lost_sales_cost": 1.0},
                     demand=4, w_bs=0, r_bs=100)
    _, st, out = _run(net, [(0, 0)] * 4)
    # t=0 owes nothing; t=1, 2: down, the 4 owed each period are lost; t=3 sells 4 again.
    assert [u for *_, u in out] == [0, 4, 4, 0]
    assert [int(s.on_hand[0, 1]) for s, *_ in out] == [100, 100, 100, 96]
    assert st.delivered[0] == 4 and st.lost[0] == 8


def test_disrupted_external_supply_keeps_a_backlog():
    net = _two_stage(w1={"supply_disruptions": {"external": {"schedule": [[0, 2]]}}}, w_bs=0)
    params, _, out = _run(net, [(5, 0)] * 4)
    backlog = [int(s.ext_backlog[0, 0]) for s, *_ in out]
    in_transit = [int(s.in_transit[0, 0]) for s, *_ in out]
    assert backlog == [5, 10, 0, 0]
    assert in_transit == [0, 0, 15, 5]  # t=2 ships the 10 held and its own 5; t=3 its 5 (t=2's 15 arrived)
    st = out[1][0]
    assert dynamics.inventory_position(params, st)[0, 0] == 10  # the backlog counts as ordered


def test_reroute_avoids_a_supplier_that_is_down():
    def net(mode):
        return NetworkSpec.from_dict({"name": "two-sup", "stock_points": [
            {"name": "W1", "suppliers": ["external"], "holding": 0.5, "max_order": 50, "ip_bounds": [-50, 50],
             "lead_time": 1, "base_stock": 100, "disruption": {"schedule": [[0, 1000]]}},
            {"name": "W2", "suppliers": ["external"], "holding": 0.5, "max_order": 50, "ip_bounds": [-50, 50],
             "lead_time": 1, "base_stock": 100},
            {"name": "R1", "suppliers": ["W1", "W2"], "holding": 1.0, "backorder": 2.0, "max_order": 50,
             "ip_bounds": [-50, 50], "lead_time": 1, "demand": 4, "base_stock": 0, "on_disrupted_supplier": mode},
        ]})
    B = 256
    for mode, want in (("wait", 0.5), ("reroute", 0.0)):
        params = SimParams.from_network(net(mode))
        st = dynamics.new_state(params, np.arange(B))
        dynamics.step(params, st, np.full((B, 3), 4, np.int64))
        share_w1 = (st.edge_new[:, 0] > 0).mean()  # edges sorted by supplier: 0 = W1 -> R1
        assert abs(share_w1 - want) < 0.1, mode


def test_random_spells_fraction_and_determinism():
    net = _two_stage(w1={"disruption": {"start_probability": 0.1, "spell_length": 4}})
    params = SimParams.from_network(net)
    B, T = 1000, 120
    runs = []
    for _ in range(2):
        st = dynamics.new_state(params, np.arange(B))
        downs = np.zeros((B, T), bool)
        for t in range(T):
            dynamics.step(params, st, np.zeros((B, 2), np.int64))
            downs[:, t] = st.down[:, 0]
        runs.append(downs)
    np.testing.assert_array_equal(runs[0], runs[1])
    # Renewal: up periods before a spell ~ geometric with mean (1 - p) / p; spells last 4.
    assert abs(runs[0][:, 20:].mean() - 4 / (4 + 9)) < 0.02
    # Spells last exactly 4 periods: every maximal run of down periods has a length multiple of 4.
    starts = runs[0][:, 1:] & ~runs[0][:, :-1]
    assert starts.any()


def test_random_spells_leave_every_other_draw_unchanged():
    # The same network with and without a disruption that is never triggered in practice draws
    # the same demand (its slots come after every existing slot).
    base = _two_stage({"demand": {"type": "uniform_int", "low": 0, "high": 9}})
    dis = _two_stage({"demand": {"type": "uniform_int", "low": 0, "high": 9}},
                     {"disruption": {"schedule": [[10_000, 10_001]]}})
    a = [int(s.market_new[0, 0]) for s, *_ in _run(base, [(1, 1)] * 20, seed=3)[2]]
    b = [int(s.market_new[0, 0]) for s, *_ in _run(dis, [(1, 1)] * 20, seed=3)[2]]
    assert a == b


# ------------------------------------------------------------------------------------- conservation
@pytest.mark.parametrize("sid", ["A1-LostSales", "B4-Seasonal", "D1-Disrupted"])
def test_conservation_with_lost_units(sid):
    core = BatchedMEIO(sid, num_envs=8, episode_length=200)
    core.reset(seed=1)
    rng = np.random.default_rng(0)
    ever_down = False
    for _ in range(200):
        core.step_orders(rng.integers(0, 15, size=(8, core.num_nodes)))  # too little: shortages happen
        st = core.state
        ever_down |= bool(st.down.any())
        owed = st.market_backorder.sum(axis=1) + st.market_new.sum(axis=1)
        np.testing.assert_array_equal(st.demand_total, st.delivered + owed + st.lost)
        np.testing.assert_array_equal(st.external_in,
                                      st.on_hand.sum(axis=1) + st.in_transit.sum(axis=1) + st.delivered)
    if sid == "A1-LostSales":
        assert st.lost.sum() > 0
    if sid == "D1-Disrupted":
        assert ever_down


# ------------------------------------------------------------------------ options off: bit for bit
@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_grid_ids_equal_the_frozen_oracle(sid):
    params = SimParams.from_network(make_scenario(sid).network)
    rng = np.random.default_rng(5)
    B = 3
    st = dynamics.new_state(params, np.arange(B) + 11)
    ref = copy.deepcopy(st)
    for _ in range(12):
        q = rng.integers(0, params.max_order + 1, size=(B, params.num_nodes))
        c = dynamics.step(params, st, q)
        c_ref = oracle.step(params, ref, q)
        for f in ("on_hand", "pipeline", "edge_backorder", "edge_new", "market_backorder", "market_new", "delivered"):
            np.testing.assert_array_equal(getattr(st, f), getattr(ref, f), err_msg=f)
        np.testing.assert_array_equal(c.total, c_ref.total)
        np.testing.assert_array_equal(c.sums()[4], 0.0)
        np.testing.assert_array_equal(c.lost_units, 0)


def test_neutral_options_equal_options_off():
    off = _two_stage({"demand": {"type": "poisson", "mu": 6}})
    neutral = _two_stage({"demand": {"type": "poisson", "mu": 6}, "backorder_fraction": 1.0, "lost_sales_cost": 3.0,
                          "demand_pattern": {"season_length": 0}})
    orders = [(5, 6)] * 30
    a, b = _run(off, orders, seed=9)[2], _run(neutral, orders, seed=9)[2]
    for (sa, ca, _), (sb, cb, _) in zip(a, b):
        np.testing.assert_array_equal(sa.market_new, sb.market_new)
        np.testing.assert_array_equal(sa.on_hand, sb.on_hand)
        np.testing.assert_array_equal(ca, cb)


# ---------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(("r1", "w1", "match"), [
    ({"backorder_fraction": 1.5}, {}, "backorder_fraction"),
    ({}, {"lost_sales_cost": 1.0}, "lost_sales_cost applies to market demand"),
    ({"demand_pattern": {"season_length": 1}}, {}, "season_length must be 0"),
    ({"demand_pattern": {"season_amplitude": 2}}, {}, "season_amplitude"),
    ({"demand_pattern": {"shocks": [[3]]}}, {}, r"shocks\[0\]"),
    ({"demand_pattern": {"weekly": 1}}, {}, "unknown fields"),
    ({"supply_disruptions": {"W9": {"schedule": [[0, 1]]}}}, {}, "not one of its suppliers"),
    ({}, {"disruption": {"start_probability": 0.0}}, "never down"),
    ({}, {"disruption": {"start_probability": 0.1, "spell_length": 0}}, "spells last >= 1"),
    ({}, {"disruption": {"schedule": [[4, 2]]}}, "need start < end"),
    ({"on_disrupted_supplier": "skip"}, {}, "on_disrupted_supplier"),
])
def test_clear_errors(r1, w1, match):
    with pytest.raises(NetworkError, match=match):
        _two_stage(r1, w1)


def test_round_trip_of_option_fields():
    net = _two_stage({"lost_sales_cost": 3.0, "backorder_fraction": 0.25,
                      "demand_pattern": {"season_length": 8, "season_amplitude": 0.3, "trend": 0.01,
                                         "shocks": [[5, 1.5]]},
                      "supply_disruptions": {"W1": {"start_probability": 0.1, "spell_length": 2}}},
                     {"disruption": {"schedule": [[1, 3]]}})
    assert NetworkSpec.from_dict(net.to_dict()) == net


def test_patterned_demand_is_capped_at_the_validated_limit():
    from meio_envs.core import kernel
    from meio_envs.validation import MAX_DEMAND

    assert kernel._MAX_DEMAND == MAX_DEMAND
    net = _two_stage({"demand_pattern": {"shocks": [[0, 100.0], [0, 100.0]]}}, demand=50)
    _, st, _ = _run(net, [(0, 0)])
    assert st.market_new[0, 0] == MAX_DEMAND
