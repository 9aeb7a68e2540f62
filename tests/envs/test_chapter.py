"""MEIO-Chapter2L-v0 (issue 8): env checks, hand-computed traces, open-order tracker, benchmark, A2C smoke."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import meio_envs  # noqa: F401
from meio_envs.core import open_orders
from meio_envs.distributions import Fixed
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.chapter import ACTION_TABLE, ChapterBatch, ChapterEnv, ChapterParams, evaluate_chapter

# Deterministic configuration: lead times factory->M1 = 2, M1->leaves = 1; demand L1 = 10, L2 = 6.
DET = ChapterParams(demand=(Fixed(10), Fixed(6)), lead_time=(Fixed(2), Fixed(1), Fixed(1)))
SIZES = np.asarray(DET.order_sizes)
H = np.asarray([0.4, 0.5, 0.5])  # k_holding * price
FIXED = np.asarray([150.0, 50.0, 50.0])
UNIT = np.asarray([0.8, 1.0, 1.0])


@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_check_env(action_type: str) -> None:
    env = gym.make("MEIO-Chapter2L-v0", action_type=action_type)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (12,) and env.observation_space.contains(obs)
    for _ in range(60):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and not term
        assert r == pytest.approx(-info["cost"] / 100.0)
        if trunc:
            break
    assert trunc and info["period"] == 52


def test_spaces() -> None:
    assert isinstance(ChapterEnv().action_space, gym.spaces.Discrete) and ChapterEnv().action_space.n == 13
    assert ChapterEnv("continuous").action_space.shape == (3,)
    with pytest.raises(ValueError):
        ChapterEnv("other")  # type: ignore[arg-type]
    b = ChapterBatch(DET, num_envs=2)
    with pytest.raises(ValueError):
        b.discrete_to_orders([0, 13])
    with pytest.raises(TypeError):
        b.discrete_to_orders([0.5, 1])


@pytest.mark.parametrize("action", range(13))
def test_each_discrete_action_trace(action: int) -> None:
    """Action a at period 0, then nobody orders: orders, reorder cost, open orders, arrivals by hand."""
    q = np.zeros(3, dtype=np.int64)
    if ACTION_TABLE[action] is not None:
        w, s = ACTION_TABLE[action]
        q[w] = SIZES[w, s]
    q_leaf = q[1] + q[2]
    env = ChapterEnv(params=DET)
    env.reset(seed=0)

    # Period 0: nothing owed yet; holding on the initial stock (80, 40, 24); orders q.
    _, r, _, _, info = env.step(action)
    ordering = float(((q > 0) * FIXED + q * UNIT).sum())
    assert (info["holding_cost"], info["backorder_cost"], info["ordering_cost"]) == pytest.approx((64.0, 0.0, ordering))
    assert r == pytest.approx(-(64.0 + ordering) / 100)
    oo = info["open_orders"]  # rows M1, L1, L2: oldest qty, age, total open
    np.testing.assert_array_equal(oo, np.stack([q, (q > 0).astype(int), q], axis=1))
    # Net inventory: leaves owe this period's demand; M1 owes the leaf's order (shipped next period).
    np.testing.assert_array_equal(info["net_inventory"], [80 - q_leaf, 30, 18])
    np.testing.assert_array_equal(info["inventory_position"], [80 - q_leaf + q[0], 30 + q[1], 18 + q[2]])

    # Period 1: leaves serve demand (30, 18 left); M1 ships the leaf order (lead time 1).
    _, _, _, _, info = env.step(0)
    assert info["holding_cost"] == pytest.approx(0.4 * (80 - q_leaf) + 0.5 * 30 + 0.5 * 18)
    assert info["ordering_cost"] == 0.0
    np.testing.assert_array_equal(info["open_orders"], np.stack([q, 2 * (q > 0), q], axis=1))

    # Period 2: M1's order (lead 2) and the leaf shipment (lead 1) arrive: orders closed.
    _, _, _, _, info = env.step(0)
    on_hand = np.asarray([80 - q_leaf + q[0], 20 + q[1], 12 + q[2]])
    np.testing.assert_array_equal(info["on_hand"], on_hand)
    assert info["holding_cost"] == pytest.approx(float(H @ on_hand))
    np.testing.assert_array_equal(info["open_orders"], np.zeros((3, 3)))
    np.testing.assert_array_equal(info["net_inventory"], on_hand - [0, 10, 6])


def test_shortage_cost_and_negative_net_inventory() -> None:
    env = ChapterEnv(params=DET)
    env.reset(seed=0)
    for _ in range(5):  # L1 40 - 10 k, L2 24 - 6 k on hand after fulfilment in period k: 0 in period 4
        _, _, _, _, info = env.step(0)
    assert info["on_hand"][2] == 0 and info["backorder_cost"] == 0.0
    _, _, _, _, info = env.step(0)  # period 5: 10 + 6 units backlogged -> 16 * 0.1 * 100
    assert info["market_backorders"].tolist() == [10, 6]
    assert info["backorder_cost"] == pytest.approx(160.0)
    assert info["net_inventory"][2] == -12  # 6 backlogged + this period's 6 not yet served
    obs = env.batch.observe()[0]
    assert obs[8] == pytest.approx(2 * (-12 + 72) / (108 + 72) - 1, abs=1e-6)  # L2 bounds [-2 XL, 3 XL]


def test_open_orders_fifo_with_split_shipments() -> None:
    """L1 orders XL (60) twice; M1 (80 on hand) ships 60, then 20 + 40 backordered."""
    env = ChapterEnv(params=DET)
    env.reset(seed=0)
    env.step(8)  # period 0: L1 orders 60
    _, _, _, _, info = env.step(8)  # period 1: M1 ships 60 (20 left); L1 orders 60 again
    np.testing.assert_array_equal(info["open_orders"][1], [60, 2, 120])
    _, _, _, _, info = env.step(0)  # period 2: first 60 arrive; M1 ships its last 20
    np.testing.assert_array_equal(info["open_orders"][1], [60, 2, 60])  # second order, placed in period 1
    assert info["on_hand"][0] == 0
    _, _, _, _, info = env.step(0)  # period 3: 20 arrive -> 40 still due on the second order
    np.testing.assert_array_equal(info["open_orders"][1], [40, 3, 40])


def test_open_orders_update_unit() -> None:
    """FIFO matching when receipts cover several orders, and the overflow rule."""
    qty, placed = open_orders.allocate(1, 1, slots=3)
    for t, q in enumerate([5, 0, 7, 4]):
        open_orders.update(qty, placed, np.zeros((1, 1), np.int64), np.asarray([[q]]), np.asarray([t]))
    assert qty[0, 0].tolist() == [5, 7, 4] and placed[0, 0].tolist() == [0, 2, 3]
    open_orders.update(qty, placed, np.asarray([[9]]), np.asarray([[2]]), np.asarray([4]))  # 5 + 4 of 7
    assert qty[0, 0].tolist() == [3, 4, 2] and placed[0, 0].tolist() == [2, 3, 4]
    open_orders.update(qty, placed, np.zeros((1, 1), np.int64), np.asarray([[1]]), np.asarray([5]))  # full
    assert qty[0, 0].tolist() == [3, 4, 3] and placed[0, 0].tolist() == [2, 3, 4]
    f = open_orders.features(qty, placed, np.asarray([6]))
    assert f[0, 0].tolist() == [3, 4, 10]


@pytest.mark.parametrize("scenario", ["A1", "B3", "C4"])
def test_tracker_off_by_default_and_costs_unchanged(scenario: str) -> None:
    runs = []
    for track in (False, True):
        b = BatchedMEIO(scenario, num_envs=8, track_open_orders=track)
        b.reset(11)
        rng = np.random.default_rng(0)
        total = np.zeros(8)
        for _ in range(40):
            total += b.step_orders(rng.integers(0, b.params.max_order + 1, (8, b.num_nodes))).total
            st = b.state
            if track:  # total open = in transit to p + ordered by p and not yet shipped
                owed = np.concatenate([st.edge_backorder + st.edge_new, np.zeros((8, 1), np.int64)], axis=1)
                due = st.in_transit + owed[:, b.params.edges_in].sum(-1)
                np.testing.assert_array_equal(st.open_qty.sum(-1), due)
            else:
                assert st.open_qty is None and st.open_placed is None
        runs.append(total)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert BatchedMEIO(scenario).state.open_qty is None


def test_benchmark_respects_one_order_per_period() -> None:
    from baselines.chapter_benchmark import SEARCHED_LEVELS, ss_actions, ss_policy

    cp = ChapterParams()
    lv = np.asarray([[3, 113], [45, 84], [24, 59]])  # (s, S) of M1, L1, L2
    ip = np.asarray([[0, 40, 20], [200, 0, 100], [200, 100, 100], [0, 100, 100]])
    a = ss_actions(ip, lv[:, 0], lv[:, 1], cp, "discrete")
    assert a[2] == 0  # nobody below s
    # Row 0: deficits in weeks of demand: M1 3/16, L1 5/10, L2 4/6 -> L2 orders the size closest to 59-20.
    assert a[0] == 1 + 4 * 2 + 3  # 39 -> XL (36)
    assert a[1] == 1 + 4 * 1 + 3  # L1 wants 84: XL (60) is the closest size
    assert a[3] == 1 + 3  # M1: 113 -> XL (96)
    q = ss_actions(ip, lv[:, 0], lv[:, 1], cp, "continuous")
    assert q[0].tolist() == [96, 44, 36] and q[3].tolist() == [96, 0, 0]  # all three order, capped at XL
    res = evaluate_chapter(ss_policy(SEARCHED_LEVELS["discrete"], cp, "discrete"), cp, "discrete", episodes=10)
    res_c = evaluate_chapter(ss_policy(SEARCHED_LEVELS["continuous"], cp, "continuous"), cp, "continuous", episodes=10)
    assert 0 < res_c.mean < 20_000 and 0 < res.mean < 20_000


def test_a2c_smoke(tmp_path, capsys) -> None:  # noqa: ANN001
    pytest.importorskip("stable_baselines3")
    from baselines.chapter_a2c import main

    argv = ["--seed", "1", "--timesteps", "300", "--n-envs", "4", "--eval-freq", "128",
            "--eval-episodes", "4", "--out", str(tmp_path), "--quiet"]
    rec = main(argv)
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 1
    saved = json.loads(lines[0])
    assert saved == rec and saved["scenario"] == "Chapter2L" and saved["model"] == "a2c" and saved["seed"] == 1
    r = rec["result"]
    assert r["env_steps"] == 288 and rec["config"]["timesteps"] == 288  # rounded down to whole rollouts of 32
    assert np.isfinite(r["best_cost"]) and r["benchmark_cost"] > 0
    assert r["savings"] == pytest.approx((r["benchmark_cost"] - r["best_cost"]) / r["benchmark_cost"])
    best = tmp_path / "a2c" / "Chapter2L" / "seed1" / "best.pt"
    from baselines.chapter_a2c import evaluate_cli

    capsys.readouterr()
    assert evaluate_cli(str(best), ["--episodes", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cost"] == pytest.approx(r["best_model_cost"])
    assert main(argv) == rec and len((tmp_path / "results.jsonl").read_text().splitlines()) == 1  # skipped
    with pytest.raises(SystemExit):
        main([*argv[:2], "--timesteps", "0", *argv[4:]])
