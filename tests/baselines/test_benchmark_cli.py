"""meio benchmark: every policy kind, records in the store's format, submissions validated."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from baselines.benchmark_cli import as_policy, benchmark_policy
from baselines.common.records import read_records
from meio_envs.envs.batch import BatchedMEIO, resolve_params
from meio_envs.evaluation import EVAL_SEED, da_policy, evaluate

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "benchmarks" / "results" / "submissions"


def _da(scenario: str):
    return da_policy(resolve_params(scenario)[0])


def test_the_da_policy_submitted_scores_zero_savings() -> None:
    (rec,) = benchmark_policy(_da, "test:da", "da-again", ["A1"], eval_episodes=10)
    r = rec["result"]
    assert r["best_cost"] == r["heuristic_cost"] and r["savings"] == 0.0 and r["paired_saving_mean"] == 0.0
    assert rec["model"] == "da-again" and rec["preset"] == "submission" and rec["config"]["policy"] == "test:da"


def test_policy_kinds_agree() -> None:
    torch = pytest.importorskip("torch")
    obs = np.random.default_rng(0).uniform(-1, 1, (5, 4)).astype(np.float32)
    lin = torch.nn.Linear(4, 4)
    f = as_policy(lin, "A1")(obs, {})
    with torch.no_grad():
        ref = np.clip(lin(torch.as_tensor(obs)).numpy(), -1, 1)
    np.testing.assert_allclose(f, ref, rtol=1e-6)

    class Predictor:  # the SB3 interface
        def predict(self, o, deterministic=True):  # noqa: ANN001, ANN202
            return 2 * o, None

    np.testing.assert_allclose(as_policy(Predictor(), "A1")(obs, {}), np.clip(2 * obs, -1, 1))
    names = BatchedMEIO("A1").params.network.names
    per = as_policy({n: (lambda o, i, k=k: o[:, 0] * 0 + k / 10) for k, n in enumerate(names)}, "A1")(obs, {})
    np.testing.assert_allclose(per, np.tile([0.0, 0.1, 0.2, 0.3], (5, 1)), rtol=1e-6)
    with pytest.raises(ValueError, match="one entry per stock point"):
        as_policy({"W1": lambda o, i: o}, "A1")
    with pytest.raises(TypeError, match="a policy is"):
        as_policy(42, "A1")


def test_cli_with_the_docs_example(tmp_path: Path) -> None:
    store = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "baselines.cli", "benchmark", "docs/examples/benchmark_sb3.py:make_policy",
           "--scenarios", "B1", "--name", "naive", "--results", str(store)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    (rec,) = read_records(store)
    assert rec["scenario"] == "B1" and rec["model"] == "naive" and len(rec["provenance"]["policy_source"]) > 0
    assert rec["config"]["policy_sha256"] and rec["result"]["savings"] < 0  # a naive rule loses to DA
    bad = subprocess.run([*cmd[:4], "no_such_module:f", *cmd[5:]], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("path", sorted(SUBMISSIONS.glob("*.jsonl")), ids=lambda p: p.name)
def test_submission_files_are_valid(path: Path) -> None:
    recs = read_records(path)
    assert recs, f"{path.name} is empty"
    ids = [r["trial_id"] for r in recs]
    assert len(ids) == len(set(ids)), "a trial appears twice"
    for r in recs:
        assert r["model"] == path.stem, f"records of {path.name} must carry model {path.stem!r}"
        res = r["result"]
        assert res["eval_seed"] == EVAL_SEED and res["eval_episodes"] == 100, "not the grid protocol"
        da = evaluate(_da(r["scenario"]), r["scenario"], episodes=100).mean
        assert math.isclose(res["heuristic_cost"], da, rel_tol=1e-9), "the DA cost is not the protocol's"
        assert math.isclose(res["savings"], (da - res["best_cost"]) / da, rel_tol=1e-9)
