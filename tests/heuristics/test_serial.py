"""Serial systems: Clark-Scarf and Shang-Song against heuristics-spec T2-T4 and the section 8.2 example."""

import numpy as np
import pytest

from heuristics import pmf as P
from heuristics.network import PlainNetwork
from heuristics.serial import (
    clark_scarf,
    clark_scarf_evaluate,
    echelon_to_local,
    echelon_to_local_holding,
    local_to_echelon,
    local_to_echelon_holding,
    round_levels,
    shang_song,
    solve_serial_network,
)

pm = P.point_mass

# T3: (h_ech, p, SS lower, SS upper, S~, S*, C*, cost of ceil(S~))
T3 = {
    "ss_1": ((.25, .25, .25, .25), 9, (8, 13, 17, 21), (8, 14, 19, 24), (8, 13.5, 18, 22.5), (8, 13, 18, 22), 12.687898, 12.723897),
    "ss_9": ((.25, 2.5, 2.5, .25), 9, (9, 10, 13, 17), (9, 11, 15, 24), (9, 10.5, 14, 20.5), (9, 10, 13, 19), 53.007605, 53.447515),
    "ss_17": ((.25, .25, .25, .25), 99, (11, 16, 21, 26), (11, 17, 23, 28), (11, 16.5, 22, 27), (11, 17, 22, 27), 16.205544, 16.205544),
    "ss_25": ((.25, 2.5, 2.5, .25), 99, (11, 14, 18, 23), (11, 14, 19, 28), (11, 14, 18.5, 25.5), (11, 14, 18, 26), 74.563640, 74.746659),
}

# T4 rows: (L_W, L_R, lambda, S~ (R, W), C(ceil S~), S*, C*)
T4 = [
    (1, 1, 5, (10, 15.5), 9.726836, (10, 16), 9.726836),
    (1, 1, 10, (17, 28.5), 15.395495, (17, 28), 15.296451),
    (1, 1, 15, (23, 40), 20.277428, (23, 40), 20.277428),
    (2, 2, 5, (17, 28.5), 15.395495, (17, 28), 15.296451),
    (2, 2, 10, (30, 51.5), 24.964142, (30, 51), 24.942321),
    (2, 2, 15, (42, 74), 33.699249, (42, 74), 33.699249),
    (1, 2, 5, (17, 22.5), 14.534326, (17, 22), 14.347386),
    (1, 2, 10, (30, 40), 23.611382, (30, 40), 23.611382),
    (1, 2, 15, (42, 57), 32.082619, (42, 57), 32.082619),
    (2, 1, 5, (10, 22.5), 10.865187, (10, 22), 10.790868),
    (2, 1, 10, (17, 40), 16.783795, (17, 40), 16.783795),
    (2, 1, 15, (23, 57), 22.104696, (23, 57), 22.104696),
]


def test_t2_example_6_1_poisson():
    d, lts, h, p = P.poisson_pmf(5), [pm(1), pm(1), pm(2)], [3, 2, 2], 37.12
    ss = shang_song(d, lts, h, p)
    np.testing.assert_array_equal(ss.lower, [9, 14, 24])
    np.testing.assert_array_equal(ss.upper, [9, 16, 28])
    np.testing.assert_array_equal(ss.levels, [9, 15, 26])
    cs = clark_scarf(d, lts, h, p)
    np.testing.assert_array_equal(cs.levels, [9, 15, 26])
    assert cs.cost == pytest.approx(72.046741, abs=1e-6)
    np.testing.assert_array_equal(echelon_to_local(cs.levels), [9, 6, 11])


@pytest.mark.parametrize("name", list(T3))
def test_t3_shang_song_instances(name):
    h, p, lo, up, sst, sstar, cstar, c_ss = T3[name]
    d, lts = P.poisson_pmf(4), [pm(1)] * 4
    ss = shang_song(d, lts, h, p)
    np.testing.assert_array_equal(ss.lower, lo)
    np.testing.assert_array_equal(ss.upper, up)
    np.testing.assert_array_equal(ss.levels, sst)
    cs = clark_scarf(d, lts, h, p)
    np.testing.assert_array_equal(cs.levels, sstar)
    assert cs.cost == pytest.approx(cstar, abs=1e-6)
    # x.5 levels are evaluated at the next integer up
    assert clark_scarf_evaluate(ss.levels, d, lts, h, p) == pytest.approx(c_ss, abs=1e-6)
    assert clark_scarf_evaluate(cs.levels, d, lts, h, p) == pytest.approx(cstar, abs=1e-6)
    # Shang-Song bounds contain the optimum
    assert np.all(ss.lower <= cs.levels) and np.all(cs.levels <= ss.upper)


@pytest.mark.parametrize("row", T4)
def test_t4_two_stage(row):
    lw, lr, lam, sst, c_ss, sstar, cstar = row
    d, lts, h, p = P.poisson_pmf(lam), [pm(lr), pm(lw)], [0.4, 0.6], 19
    ss = shang_song(d, lts, h, p)
    np.testing.assert_array_equal(ss.levels, sst)
    assert clark_scarf_evaluate(np.ceil(ss.levels), d, lts, h, p) == pytest.approx(c_ss, abs=1e-6)
    cs = clark_scarf(d, lts, h, p)
    np.testing.assert_array_equal(cs.levels, sstar)
    assert cs.cost == pytest.approx(cstar, abs=1e-6)
    assert np.all(ss.lower <= cs.levels) and np.all(cs.levels <= ss.upper)


def test_rounding_options():
    d, lts = P.poisson_pmf(4), [pm(1)] * 4
    h, p = (.25, .25, .25, .25), 9
    assert shang_song(d, lts, h, p, rounding="up").levels.tolist() == [8, 14, 18, 23]
    assert shang_song(d, lts, h, p, rounding="down").levels.tolist() == [8, 13, 18, 22]
    # nearest = half to even: 13.5 -> 14, 22.5 -> 22 (as stockpyl / Python round)
    assert shang_song(d, lts, h, p, rounding="nearest").levels.tolist() == [8, 14, 18, 22]
    with pytest.raises(ValueError, match="rounding"):
        round_levels(np.array([1.5]), "half")


def test_conversions():
    np.testing.assert_array_equal(echelon_to_local([9, 15, 26]), [9, 6, 11])
    np.testing.assert_array_equal(echelon_to_local([10, 8, 20]), [8, 0, 12])  # S- = min over upstream
    np.testing.assert_array_equal(local_to_echelon([9, 6, 11]), [9, 15, 26])
    np.testing.assert_allclose(local_to_echelon_holding([7, 4, 2]), [3, 2, 2])
    np.testing.assert_allclose(echelon_to_local_holding([3, 2, 2]), [7, 4, 2])


def two_stage_net(lam=10):
    return PlainNetwork.from_dict({"nodes": [
        {"name": "W", "suppliers": [], "holding": 0.6, "lead_time_pmf": [0, 1]},
        {"name": "R", "suppliers": ["W"], "holding": 1.0, "backorder": 19,
         "demand_pmf": P.poisson_pmf(lam), "lead_time_pmf": [0, 1]},
    ]})


def test_section_8_2_example_our_convention():
    res = solve_serial_network(two_stage_net(), convention="meio")
    assert res.stages == (1, 0)
    np.testing.assert_array_equal(res.local, [10, 30])  # W 10, R 30
    np.testing.assert_array_equal(res.echelon, [40, 30])
    assert res.cost_clark_scarf == pytest.approx(23.611382, abs=1e-6)
    assert res.pipeline_adjustment == pytest.approx(0.6 * 2 * 10)
    assert res.cost_simulator == pytest.approx(11.611382, abs=1e-6)
    ss = solve_serial_network(two_stage_net(), convention="meio", method="shang_song")
    np.testing.assert_array_equal(ss.local, [10, 30])


def test_convention_matters():
    """What the stockpyl convention would cost in our simulator (section 8.2, T9)."""
    ours = solve_serial_network(two_stage_net(), convention="meio")
    theirs = solve_serial_network(two_stage_net(), convention="stockpyl")
    np.testing.assert_array_equal(theirs.local, [11, 17])  # W 11, R 17: T4 row (1, 1, 10)
    assert theirs.cost_clark_scarf == pytest.approx(15.296451, abs=1e-6)
    # Price the stockpyl-convention levels in our period (protection R 2, W 1): badly under-stocked.
    d, lts, h = P.poisson_pmf(10), [pm(2), pm(1)], [0.4, 0.6]
    wrong = clark_scarf_evaluate(theirs.echelon[[1, 0]], d, lts, h, 19) - 12.0
    assert wrong > 3 * ours.cost_simulator
    assert ours.cost_simulator == pytest.approx(11.611382, abs=1e-6)


def test_serial_errors():
    d = P.poisson_pmf(5)
    with pytest.raises(ValueError, match="echelon holding"):
        shang_song(d, [pm(1), pm(1)], [0.5, -0.1], 10)
    with pytest.raises(ValueError, match="backorder cost"):
        clark_scarf(d, [pm(1)], [1.0], 0)
    with pytest.raises(ValueError, match="one per stage"):
        clark_scarf(d, [pm(1), pm(1)], [1.0], 3)
    with pytest.raises(ValueError, match="sum"):
        shang_song([0.5, 0.4], [pm(1)], [1.0], 3)
