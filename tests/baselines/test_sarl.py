"""SARL / SARL+GNN: GAT batching, the GAT-critic policy, tiny training runs, exact kill/resume."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")
pytest.importorskip("torch_geometric")

from stable_baselines3 import PPO  # noqa: E402

from baselines.common.checkpoint import load_checkpoint  # noqa: E402
from baselines.common.records import read_records  # noqa: E402
from baselines.gnn import GATEncoder  # noqa: E402
from baselines.cli import main as meio  # noqa: E402
from baselines.sarl import Args, train  # noqa: E402
from baselines.sb3_policies import GraphCriticPolicy, graph_policy_kwargs  # noqa: E402
from meio_envs.adapters.sb3 import MEIOSB3VecEnv  # noqa: E402
from meio_envs.envs.batched_ma import graph_inputs  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]


def _tiny(tmp_path: Path, model: str = "sarl", **kw: object) -> Args:
    base = dict(scenario="A1", model=model, seed=3, episodes=24, n_envs=2, n_steps=32, n_minibatches=4,
                episode_length=16, eval_every=8, eval_episodes=4, checkpoint_every=1, out=str(tmp_path / "runs"),
                results=str(tmp_path / "results.jsonl"), progress=False, net_arch=(32, 32))
    base.update(kw)
    return Args(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- GAT encoder
@pytest.mark.parametrize("scenario", ["A1", "B1"])
def test_gat_batching_equals_per_graph_forward(scenario: str) -> None:
    core = MEIOSB3VecEnv(scenario, 6).core
    core.reset(0)
    x, ei = graph_inputs(core, np.random.default_rng(1).uniform(-1, 1, (6, core.obs_dim)).astype(np.float32))
    torch.manual_seed(0)
    enc = GATEncoder(x.shape[2], heads=2)
    xt, et = torch.as_tensor(x), torch.as_tensor(ei)
    batched = enc(xt, et)
    single = torch.cat([enc(xt[i : i + 1], et) for i in range(6)])
    assert batched.shape == (6, core.num_nodes * 16)
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-6)
    assert GATEncoder(x.shape[2], pool="mean")(xt, et).shape == (6, 16)


@pytest.mark.parametrize("direction", ["supply", "both"])
def test_gat_encoder_computes_what_pyg_gatconv_computes_with_its_own_self_loops(direction: str) -> None:
    """The encoder adds the self loops once per batch size instead of on every call: bit for bit the same."""
    from torch_geometric.nn import GATConv

    from baselines.gnn import batch_edge_index

    torch.manual_seed(3)
    enc = GATEncoder(3, heads=2, direction=direction)
    ei = torch.tensor([[0, 0, 1, 2, 2], [1, 2, 3, 2, 4]])  # a self loop on node 2: GATConv drops and re-adds it
    x = torch.randn(7, 5, 3)
    ref_convs = []
    for c in enc.convs:
        ref = GATConv(c.in_channels, c.out_channels, heads=c.heads, concat=c.concat)  # add_self_loops=True
        ref.load_state_dict(c.state_dict())
        ref_convs.append(ref)
    edges = torch.cat([ei, ei.flip(0)], dim=1) if direction == "both" else ei
    big = batch_edge_index(edges, 7, 5)
    h = x.reshape(35, 3)
    for ref in ref_convs:
        h = torch.nn.functional.elu(ref(h, big))
    assert torch.equal(enc(x, ei), h.reshape(7, -1))
    assert torch.equal(enc(x, ei), enc(x, ei))  # the cached edge list gives the same again


# ---------------------------------------------------------------------- GAT-critic policy
@pytest.mark.parametrize("scenario", ["A1", "B1"])
def test_graph_policy_forward_backward(scenario: str) -> None:
    venv = MEIOSB3VecEnv(scenario, 4)
    venv.seed(0)
    kw = graph_policy_kwargs(venv.core)
    torch.manual_seed(0)
    pol = GraphCriticPolicy(venv.observation_space, venv.action_space, lambda _: 1e-4, **kw)
    obs = torch.as_tensor(venv.reset())
    # node features on the torch side equal the shared builder's
    np.testing.assert_allclose(pol.vf_features_extractor.node_features(obs).numpy(), graph_inputs(venv.core)[0])
    actions, values, logp = pol(obs)
    assert actions.shape == (4, venv.core.num_nodes) and values.shape == (4, 1)
    v, lp, ent = pol.evaluate_actions(obs, actions)
    (v.sum() + lp.sum()).backward()
    gat = pol.vf_features_extractor.encoder
    assert all(p.grad is not None for p in gat.parameters())
    assert pol.mlp_extractor.policy_net[0].in_features == venv.core.obs_dim  # actor: flat obs


@pytest.mark.parametrize("scenario", ["A1", "B1"])
def test_graph_policy_tiny_learn_and_reload(scenario: str) -> None:
    venv = MEIOSB3VecEnv(scenario, 2, episode_length=16)
    m = PPO(GraphCriticPolicy, venv, n_steps=32, batch_size=16, n_epochs=1, seed=0,
            policy_kwargs=graph_policy_kwargs(venv.core), verbose=0)
    m.learn(64)
    buf = io.BytesIO()
    m.save(buf)
    m2 = PPO.load(io.BytesIO(buf.getvalue()))
    obs = venv.reset()
    np.testing.assert_array_equal(m.predict(obs, deterministic=True)[0], m2.predict(obs, deterministic=True)[0])


# ---------------------------------------------------------------------- training protocol
def test_tiny_sarl_run_writes_curve_checkpoint_and_record(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = _tiny(tmp_path)
    rec = train(args)
    assert rec is not None and rec["result"]["episodes"] == 24 and rec["result"]["env_steps"] == 384
    assert rec["status"] == "finished" and rec["config"]["episodes"] == 24 and "device" not in rec["config"]
    assert rec["provenance"]["versions"]["torch"] and rec["provenance"]["cpu_count"] >= 1
    # the CPU's model and the kernels torch dispatched to: a re-run elsewhere may round differently
    import torch

    cpu = rec["provenance"]["cpu"]
    assert cpu["isa"] == torch.backends.cpu.get_cpu_capability() and cpu["threads"] == torch.get_num_threads() >= 1
    if Path("/proc/cpuinfo").exists():
        assert cpu["model"] and cpu["model"] in Path("/proc/cpuinfo").read_text()
    run = args.run_dir
    lines = (run / "curve.csv").read_text().splitlines()
    assert lines[0].startswith("episodes,env_steps,wall_time_s,eval_cost,best_cost")
    assert [int(r.split(",")[0]) for r in lines[1:]] == [8, 16, 24]
    # the documented layout: evaluation events in tb/eval, SB3's losses in tb/sb3, one curve.csv
    assert list((run / "tb" / "eval").glob("events.out.tfevents.*"))
    assert list((run / "tb" / "sb3").glob("events.out.tfevents.*"))
    assert [p.relative_to(run) for p in run.rglob("curve.csv")] == [Path("curve.csv")]
    ck = load_checkpoint(run / "checkpoint.pt")
    assert ck["model"] == "sarl" and ck["finished"] and ck["num_timesteps"] == 384
    best = load_checkpoint(run / "best.pt")
    assert best["best_cost"] == rec["result"]["best_cost"]
    (saved,) = read_records(args.store)
    assert saved == rec and saved["result"]["heuristic_cost"] > 0
    # a finished trial is not trained nor recorded again
    assert train(args) == rec
    assert len(read_records(args.store)) == 1
    assert meio(["evaluate", str(run / "best.pt"), "--episodes", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["cost"] == pytest.approx(rec["result"]["best_cost"])  # same protocol, same seeds


def _final_params(args: Args) -> dict[str, torch.Tensor]:
    ck = load_checkpoint(args.run_dir / "checkpoint.pt")
    return PPO.load(io.BytesIO(ck["sb3_zip"])).policy.state_dict()


@pytest.mark.parametrize("model", ["sarl", "sarl-gnn"])
def test_stop_and_resume_equals_uninterrupted(tmp_path: Path, model: str) -> None:
    full = _tiny(tmp_path / "full", model)
    rec_full = train(full)
    part = _tiny(tmp_path / "part", model, stop_after_chunks=2)
    assert train(part) is None  # "killed" after 2 of 6 rollouts
    cpu_before = load_checkpoint(part.run_dir / "checkpoint.pt")["cpu_time_s"]
    rec_res = train(replace(part, stop_after_chunks=None))
    assert rec_res["result"]["best_cost"] == rec_full["result"]["best_cost"]
    assert rec_res["provenance"]["cpu_time_s"] > cpu_before > 0  # the killed part's CPU time is carried
    a = load_checkpoint(full.run_dir / "checkpoint.pt")["tracker"]["history"]
    b = load_checkpoint(part.run_dir / "checkpoint.pt")["tracker"]["history"]
    assert a == b
    pa, pb = _final_params(full), _final_params(part)
    for k in pa:
        torch.testing.assert_close(pa[k], pb[k], rtol=0, atol=0, msg=k)
    assert (full.run_dir / "curve.csv").read_text().split("\n")[0] == (part.run_dir / "curve.csv").read_text().split("\n")[0]


def test_sigkill_and_resume_equals_uninterrupted(tmp_path: Path) -> None:
    """A real kill at an arbitrary moment (mid-rollout): resume from the last checkpoint."""
    cli = [sys.executable, "-m", "baselines.cli", "train", "sarl", "A1", "--seed", "1", "--episodes", "64",
           "--n-envs", "2", "--n-steps", "32", "--n-minibatches", "4", "--episode-length", "16",
           "--eval-every", "8", "--eval-episodes", "4", "--checkpoint-every", "1", "--net-arch", "32", "32",
           "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(out: Path, kill: bool) -> dict:
        argv = [*cli, "--out", str(out), "--results", str(out / "r.jsonl")]
        if kill:
            p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ck = out / "sarl" / "A1" / "seed1" / "checkpoint.pt"
            t0 = time.time()
            while not ck.exists() and time.time() - t0 < 120 and p.poll() is None:
                time.sleep(0.05)
            time.sleep(0.05)
            p.send_signal(signal.SIGKILL)
            p.wait()
            assert not load_checkpoint(ck)["finished"], "the run ended before it was killed"
        subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        return json.loads((out / "sarl" / "A1" / "seed1" / "result.json").read_text())["result"]

    a = run(tmp_path / "a", kill=False)
    b = run(tmp_path / "b", kill=True)
    assert a["best_cost"] == b["best_cost"] and a["env_steps"] == b["env_steps"] == 1024
    ha = load_checkpoint(tmp_path / "a" / "sarl" / "A1" / "seed1" / "checkpoint.pt")["tracker"]["history"]
    hb = load_checkpoint(tmp_path / "b" / "sarl" / "A1" / "seed1" / "checkpoint.pt")["tracker"]["history"]
    assert ha == hb
    assert len(read_records(tmp_path / "b" / "r.jsonl")) == 1
