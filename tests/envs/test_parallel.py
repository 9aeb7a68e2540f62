"""PettingZoo parallel env and the batched multi-agent interface (issue 4)."""

from __future__ import annotations

import doctest

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import meio_envs
from meio_envs import SCENARIO_IDS, parallel_env
from meio_envs.envs import parallel as parallel_module
from meio_envs.envs.batch import BatchedMEIO
from meio_envs.envs.batched_ma import BatchedMultiAgent, graph_inputs
from meio_envs.envs.parallel import MEIOParallelEnv


def _names(env: BatchedMultiAgent, idx: np.ndarray) -> list[str]:
    return [env.agents[i] for i in idx]


# ---------------------------------------------------------------------------- PettingZoo checkers
@pytest.mark.parametrize("view", ["marl", "imarl"])
@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_parallel_api(sid: str, view: str) -> None:
    # A short episode so the checker also sees the truncation and the agents leaving.
    parallel_api_test(parallel_env(sid, view=view, episode_length=3), num_cycles=5)


@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_parallel_seed(sid: str) -> None:
    parallel_seed_test(lambda: parallel_env(sid), num_cycles=3)


def test_parallel_api_default_length() -> None:
    parallel_api_test(parallel_env("B4"), num_cycles=10)


def test_doctest() -> None:
    res = doctest.testmod(parallel_module)
    assert res.attempted > 0 and res.failed == 0


# ---------------------------------------------------------------------------- views by hand
def test_views_a1() -> None:
    marl = BatchedMultiAgent("A1", view="marl")
    assert marl.agents == ("W1", "R1", "R2", "R3") and marl.num_agents == 4
    assert [ix.tolist() for ix in marl.obs_index] == [[0], [1], [2], [3]]
    assert marl.obs_dims == (1, 1, 1, 1)
    np.testing.assert_array_equal(marl.reward_matrix[:, 0], [1, 1, 1, 1])  # W1: network cost
    np.testing.assert_array_equal(marl.reward_matrix[:, 1:], np.eye(4)[:, 1:])  # retailers: own
    imarl = BatchedMultiAgent("A1", view="imarl")
    assert [ix.tolist() for ix in imarl.obs_index] == [[0, 1, 2, 3], [1], [2], [3]]
    np.testing.assert_array_equal(imarl.reward_matrix, marl.reward_matrix)  # same sets on A


def test_views_b1() -> None:
    names = ("W1", "W2", "W3", "R1", "R2", "R3", "R4", "R5", "R6")
    marl = BatchedMultiAgent("B1", view="marl")
    imarl = BatchedMultiAgent("B1", view="imarl")
    assert marl.agents == names == imarl.agents
    # MARL: own IP only; retailers charged their own cost, warehouses the network cost.
    assert [_names(marl, ix) for ix in marl.obs_index] == [[n] for n in names]
    for i, n in enumerate(names):
        charged = _names(marl, np.nonzero(marl.reward_matrix[:, i])[0])
        assert charged == ([n] if n.startswith("R") else list(names)), n
    # IMARL: W1 supplies R1-R3, W2 supplies R2, R3, R4, R6, W3 supplies R4-R6 (SPEC section 2).
    down = {
        "W1": ["W1", "R1", "R2", "R3"],
        "W2": ["W2", "R2", "R3", "R4", "R6"],
        "W3": ["W3", "R4", "R5", "R6"],
    }
    for i, n in enumerate(names):
        expect = down.get(n, [n])
        assert _names(imarl, imarl.obs_index[i]) == expect, n
        assert _names(imarl, np.nonzero(imarl.reward_matrix[:, i])[0]) == expect, n
    assert imarl.obs_dims == (4, 5, 4, 1, 1, 1, 1, 1, 1)
    assert set(np.unique(imarl.reward_matrix)) <= {0.0, 1.0}


def test_level5_obs_has_cost_factors() -> None:
    ma = BatchedMultiAgent("B5", view="imarl")
    assert ma.obs_index[1].tolist() == [1, 4, 5, 6, 8, 9, 10]
    assert ma.obs_index[3].tolist() == [3, 9, 10]
    env = parallel_env("B5", view="marl")
    assert env.observation_space("R1").shape == (3,) and env.state_space.shape == (11,)


@pytest.mark.parametrize("view", ["marl", "imarl"])
def test_obs_and_rewards_recomputed(view: str) -> None:
    ma = BatchedMultiAgent("B1", view=view, num_envs=3)
    obs = ma.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, rew, trunc, info = ma.step(rng.uniform(-1, 1, (3, ma.num_agents)))
        joint = ma.global_state()
        assert joint.shape == (3, ma.state_dim) and joint.dtype == np.float32
        for i in range(ma.num_agents):
            assert obs[i].shape == (3, ma.obs_dims[i]) and obs[i].dtype == np.float32
            np.testing.assert_array_equal(obs[i], joint[:, ma.obs_index[i]])
            charged = np.nonzero(ma.reward_matrix[:, i])[0]
            expect = -1e-3 * info["node_costs"][:, charged].sum(axis=1)
            np.testing.assert_allclose(rew[:, i], expect, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(info["node_costs"].sum(axis=1), info["cost"])
        assert trunc.shape == (3,) and not trunc.any()


def test_parallel_infos_and_rewards() -> None:
    env = parallel_env("B1", view="imarl")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(10):
        acts = {a: rng.uniform(-1, 1, 1).astype(np.float32) for a in env.agents}
        obs, rew, term, trunc, infos = env.step(acts)
        node = {a: infos[a]["node_cost"] for a in env.agents}
        assert sum(node.values()) == pytest.approx(infos["W1"]["cost"])
        w2 = sum(node[n] for n in ("W2", "R2", "R3", "R4", "R6"))
        assert infos["W2"]["charged_cost"] == pytest.approx(w2)
        assert rew["W2"] == pytest.approx(-1e-3 * w2)
        assert rew["R5"] == pytest.approx(-1e-3 * node["R5"])
        state = env.state()
        np.testing.assert_array_equal(obs["W2"], state[[1, 4, 5, 6, 8]])
        assert not any(term.values()) and not any(trunc.values())


# ---------------------------------------------------------------------------- same core, same costs
@pytest.mark.parametrize("view", ["marl", "imarl"])
def test_matches_single_and_batched(view: str) -> None:
    seed = 123
    single = gym.make("MEIO-B1-v0")
    par = parallel_env("B1", view=view)
    ma = BatchedMultiAgent("B1", view=view, num_envs=4)
    o_s, _ = single.reset(seed=seed)
    o_p, _ = par.reset(seed=seed)
    ma.reset(seed=seed)
    np.testing.assert_array_equal(o_s, par.state())
    rng = np.random.default_rng(7)
    P = ma.num_agents
    for t in range(128):
        a = rng.uniform(-1.1, 1.1, P).astype(np.float32)
        o_s, _, term_s, trunc_s, info_s = single.step(a)
        acts = {n: a[i : i + 1] for i, n in enumerate(par.possible_agents)}
        o_p, r_p, term_p, trunc_p, info_p = par.step(acts)
        batch = rng.uniform(-1, 1, (4, P))
        batch[0] = a
        _, r_b, trunc_b, info_b = ma.step(batch)
        assert info_p["R1"]["cost"] == info_s["cost"] == info_b["cost"][0], t
        np.testing.assert_array_equal(o_s, par.state())
        np.testing.assert_array_equal([r_p[n] for n in par.possible_agents], r_b[0])
        assert trunc_s == all(trunc_p.values()) == bool(trunc_b[0]), t
    assert trunc_s and par.agents == [] and trunc_b.all()
    with pytest.raises(RuntimeError, match="reset"):
        par.step({})
    with pytest.raises(RuntimeError, match="reset"):
        ma.step(np.zeros((4, P)))
    ma.reset()  # the trainer's episode loop: reset when truncated.all()
    ma.step(np.zeros((4, P)))


# ---------------------------------------------------------------------------- bad input
def test_bad_actions_parallel() -> None:
    env = parallel_env("A1")
    env.reset(seed=0)
    ok = {a: np.zeros(1, np.float32) for a in env.agents}
    with pytest.raises(ValueError, match=r"missing actions for agents \['R2'\]"):
        env.step({a: v for a, v in ok.items() if a != "R2"})
    with pytest.raises(ValueError, match="unknown or inactive agents.*'X9'"):
        env.step({**ok, "X9": np.zeros(1)})
    with pytest.raises(ValueError, match="agent 'R1'.*nan"):
        env.step({**ok, "R1": np.array([np.nan])})
    with pytest.raises(ValueError, match="agent 'W1'.*inf"):
        env.step({**ok, "W1": np.array([np.inf], np.float32)})
    with pytest.raises(ValueError, match="agent 'R3'.*shape"):
        env.step({**ok, "R3": np.zeros(2)})
    with pytest.raises(TypeError, match="agent 'R3'"):
        env.step({**ok, "R3": "0.5"})
    with pytest.raises(TypeError, match="dict"):
        env.step(np.zeros(4))  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="X9"):
        env.action_space("X9")
    env.step(ok)  # nothing above advanced the env
    assert env.step({a: 0.0 for a in env.agents})[4]["W1"]["period"] == 2  # plain floats work


def test_bad_actions_batched() -> None:
    ma = BatchedMultiAgent("A1", num_envs=2)
    ma.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        ma.step(np.array([[0, 0, 0, np.nan], [0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="shape"):
        ma.step(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="view"):
        BatchedMultiAgent("A1", view="sarl")  # type: ignore[arg-type]
    core = BatchedMEIO("A1", num_envs=2)
    assert BatchedMultiAgent(core=core).num_envs == 2
    with pytest.raises(TypeError):
        BatchedMultiAgent("A1", core=core)
    with pytest.raises(ValueError, match="num_envs"):
        BatchedMultiAgent(core=core, num_envs=3)
    with pytest.raises(TypeError, match="BatchedMultiAgent"):
        parallel_env("A1", num_envs=2)


def test_user_network() -> None:
    dem = {"type": "poisson_uniform_mean", "low": 5, "high": 15}
    net = {
        "name": "tiny",
        "stock_points": [
            {"name": "R1", "suppliers": ["W1"], "holding": 1.0, "backorder": 19, "max_order": 50,
             "ip_bounds": [-100, 50], "lead_time": 1, "demand": dem},
            {"name": "R2", "suppliers": ["W1"], "holding": 1.0, "backorder": 19, "max_order": 50,
             "ip_bounds": [-100, 50], "lead_time": 1, "demand": dem},
            {"name": "W1", "suppliers": ["F1"], "holding": 0.6, "max_order": 150,
             "ip_bounds": [-300, 150], "lead_time": 1},
            {"name": "F1", "suppliers": ["external"], "holding": 0.4, "max_order": 500,
             "ip_bounds": [-1000, 500], "lead_time": 1},
        ],
    }
    env = parallel_env(network=net, view="imarl")
    obs, _ = env.reset(seed=0)
    assert env.possible_agents == ["F1", "W1", "R1", "R2"]
    assert obs["F1"].shape == (4,) and obs["W1"].shape == (3,) and obs["R2"].shape == (1,)
    parallel_api_test(env, num_cycles=3)
    assert isinstance(meio_envs.parallel_env, type(parallel_env))


# ---------------------------------------------------------------------------- graph accessor
def test_graph_b1() -> None:
    env = parallel_env("B1")
    env.reset(seed=0)
    env.step({a: np.ones(1, np.float32) for a in env.agents})
    x, edge_index = env.graph()
    edges = env.core.params.network.edges
    assert x.shape == (9, 3) and x.dtype == np.float32
    assert edge_index.shape == (2, len(edges)) == (2, 10) and edge_index.dtype == np.int64
    np.testing.assert_array_equal(edge_index.T, edges)
    names = env.possible_agents
    pairs = {(names[s], names[c]) for s, c in edge_index.T}
    assert {c for s, c in pairs if s == "W2"} == {"R2", "R3", "R4", "R6"}
    np.testing.assert_array_equal(x[:, 0], env.state())  # scaled IP
    np.testing.assert_array_equal(x[:, 1], [1, 1, 1, -1, -1, -1, -1, -1, -1])  # echelon scaled
    np.testing.assert_array_equal(x[:, 2], [0, 0, 0, 1, 1, 1, 1, 1, 1])  # is_retailer
    torch = pytest.importorskip("torch")
    tg = pytest.importorskip("torch_geometric")
    data = tg.data.Data(x=torch.as_tensor(x), edge_index=torch.as_tensor(edge_index))
    data.validate(raise_on_error=True)
    assert data.num_nodes == 9 and data.num_edges == 10


def test_graph_batched_and_level5() -> None:
    ma = BatchedMultiAgent("D5", num_envs=3)
    ma.reset(seed=0)
    x, ei = ma.graph()
    assert x.shape == (3, 18, 5) and ei.shape == (2, len(ma.core.params.edges))
    joint = ma.global_state()
    np.testing.assert_array_equal(x[:, :, 0], joint[:, :18])
    np.testing.assert_array_equal(x[:, :, 3:], np.broadcast_to(joint[:, None, 18:], (3, 18, 2)))
    np.testing.assert_array_equal(np.unique(x[0, :, 1]), [-1, 0, 1])  # R, W, F
    x2, _ = graph_inputs(ma.core, joint[0])
    np.testing.assert_array_equal(x2[0], x[0])
    assert isinstance(parallel_env("S1"), MEIOParallelEnv)
    assert parallel_env("S1").graph()[1].tolist() == [[0], [1]]
