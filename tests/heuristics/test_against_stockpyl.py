"""Cross-checks of our Clark-Scarf and Shang-Song against stockpyl 1.0.2 (heuristics-spec T2-T4).

stockpyl needs numpy<2, so these tests run in a separate venv and are skipped elsewhere:

    python3 -m venv /work/main/.venv-stockpyl
    /work/main/.venv-stockpyl/bin/pip install "numpy<2" scipy pytest stockpyl
    cd /work/main && PYTHONPATH=/work/main /work/main/.venv-stockpyl/bin/python -m pytest tests/heuristics/test_against_stockpyl.py

Convention differences that are aligned below:
- stockpyl's ``shipment_lead_time`` in ``ssm_serial`` equals our *protection* lead time (its period ships
  a downstream order in the same period, heuristics-spec 8.1); we pass point masses at those values.
- stockpyl node 1 is the most downstream stage = our stage 1; its dicts are keyed by node index.
- stockpyl's costs truncate lead-time demand at the 1 - Phi(4) tail and come out 0.001-0.01 below the
  exact values (3.4), hence costs are compared within 0.02 and levels exactly.
- both costs include in-transit holding on internal pipelines (3.2); our simulator's accounting
  (``solve_serial_network(...).cost_simulator``) is not what stockpyl reports.
- stockpyl rounds "nearest" half to even (Python round); ours does the same (numpy.round).
"""

import numpy as np
import pytest

stockpyl = pytest.importorskip("stockpyl")

# stockpyl 1.0.2 emits ~10^6 numpy deprecation warnings in ssm_serial; they say nothing about our code.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from stockpyl import ssm_serial  # noqa: E402
from stockpyl.demand_source import DemandSource  # noqa: E402
from stockpyl.instances import load_instance  # noqa: E402
from stockpyl.supply_chain_network import serial_system  # noqa: E402

from heuristics import pmf as P  # noqa: E402
from heuristics.serial import clark_scarf, clark_scarf_evaluate, shang_song  # noqa: E402


def ours_from_stockpyl(net, lam):
    """Stage data of a stockpyl serial network with Poisson(lam) demand at node 1, stage 1 first."""
    nodes = sorted(net.nodes, key=lambda n: n.index)
    lts = []
    for n in nodes:
        L = n.shipment_lead_time
        if float(L).is_integer():
            lts.append(P.point_mass(int(L)))
        else:
            lts.append(None)  # fractional (continuous-review) lead time: handled by caller
    h = [n.echelon_holding_cost for n in nodes]
    return [n.index for n in nodes], lts, np.array(h, dtype=float), float(nodes[0].stockout_cost)


def check(net, demand, lts, h, p, idx, round_types=("up", "down", "nearest")):
    sp_levels, sp_cost = ssm_serial.optimize_base_stock_levels(network=net)
    cs = clark_scarf(demand, lts, h, p)
    assert [sp_levels[i] for i in idx] == cs.levels.tolist()
    assert cs.cost == pytest.approx(sp_cost, abs=0.02)
    sp_ss = ssm_serial.newsvendor_heuristic(network=net, weight=0.5, round_type=None)
    ss = shang_song(demand, lts, h, p)
    np.testing.assert_allclose([sp_ss[i] for i in idx], ss.levels)
    for rt in round_types:
        sp_r = ssm_serial.newsvendor_heuristic(network=net, weight=0.5, round_type=rt)
        ours = shang_song(demand, lts, h, p, rounding=rt).levels
        np.testing.assert_allclose([sp_r[i] for i in idx], ours)
        # stockpyl evaluates echelon dicts keyed by node index
        sp_c = ssm_serial.expected_cost({i: float(v) for i, v in zip(idx, ours)}, network=net)
        assert clark_scarf_evaluate(ours, demand, lts, h, p) == pytest.approx(sp_c, abs=0.02)
    sp_eval = ssm_serial.expected_cost({i: float(v) for i, v in zip(idx, cs.levels)}, network=net)
    assert clark_scarf_evaluate(cs.levels, demand, lts, h, p) == pytest.approx(sp_eval, abs=0.02)


def test_t2_example_6_1_poisson():
    net = load_instance("example_6_1")
    for n in net.nodes:
        n.demand_source = None
    node1 = [n for n in net.nodes if n.index == 1][0]
    node1.demand_source = DemandSource(type="P", mean=5)
    idx, lts, h, p = ours_from_stockpyl(net, 5)
    check(net, P.poisson_pmf(5), lts, h, p, idx)


@pytest.mark.parametrize("name", ["shang_song_1", "shang_song_9", "shang_song_17", "shang_song_25"])
def test_t3_shang_song_instances(name):
    net = load_instance(name)
    idx = [1, 2, 3, 4]
    nodes = {n.index: n for n in net.nodes}
    # continuous review: rate 16 x lead time 0.25 = Poisson(4) per stage = one period of Poisson(4)
    assert nodes[1].shipment_lead_time == 0.25
    h = np.array([nodes[i].echelon_holding_cost for i in idx])
    p = float(nodes[1].stockout_cost)
    check(net, P.poisson_pmf(4), [P.point_mass(1)] * 4, h, p, idx)


@pytest.mark.parametrize("lw,lr", [(1, 1), (2, 2), (1, 2), (2, 1)])
@pytest.mark.parametrize("lam", [5, 10, 15])
def test_t4_two_stage(lw, lr, lam):
    net = serial_system(num_nodes=2, node_order_in_system=[2, 1], echelon_holding_cost=[0.6, 0.4],
                        shipment_lead_time=[lw, lr], stockout_cost={1: 19, 2: 0}, demand_type="P",
                        mean=lam, policy_type="BS", base_stock_level=0)
    check(net, P.poisson_pmf(lam), [P.point_mass(lr), P.point_mass(lw)], np.array([0.4, 0.6]), 19.0, [1, 2])
