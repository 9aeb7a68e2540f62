"""Checkpoints load with weights_only=True: crafted, truncated and foreign files are refused, never run."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from baselines.common.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from meio_envs.envs.batch import BatchedMEIO  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this runs code (it writes a marker file)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.write_text, (Path(self.marker), "pwned"))


def test_round_trip_of_arrays_state_and_rng(tmp_path: Path) -> None:
    core = BatchedMEIO("B4", num_envs=3)
    core.reset(5)
    rng = np.random.default_rng(1)
    payload = {"model": "x", "state": core.state, "keys": np.arange(3, dtype=np.uint64), "t": torch.ones(2),
               "np_global": np.random.get_state(), "gen": rng.bit_generator.state, "nested": [(1, 2.5, None, b"z")]}
    save_checkpoint(tmp_path / "c.pt", payload)
    back = load_checkpoint(tmp_path / "c.pt")
    assert type(back["state"]) is type(core.state)
    np.testing.assert_array_equal(back["state"].pipeline, core.state.pipeline)
    assert back["keys"].dtype == np.uint64 and back["gen"] == rng.bit_generator.state
    assert back["np_global"][0] == "MT19937" and np.array_equal(back["np_global"][1], np.random.get_state()[1])
    assert back["nested"] == [(1, 2.5, None, b"z")]
    with pytest.raises(TypeError, match="cannot go into a checkpoint"):
        save_checkpoint(tmp_path / "bad.pt", {"f": object()})


def test_a_crafted_file_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    evil = tmp_path / "checkpoint.pt"
    torch.save({"format": "meio-envs.checkpoint/1", "payload": _Payload(str(marker))}, evil)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(evil)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)
    assert not marker.exists()
    # through the command line too: one clear message, exit code 2
    p = subprocess.run([sys.executable, "-m", "baselines.cli", "evaluate", str(evil)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "cannot be loaded safely" in p.stderr and "Traceback" not in p.stderr
    assert not marker.exists()


def test_truncated_foreign_and_mismatched_files(tmp_path: Path) -> None:
    good = tmp_path / "c.pt"
    save_checkpoint(good, {"model": "sarl", "scenario": "A1"})
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt"):
        load_checkpoint(cut)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)  # a plain torch file, not ours
    with pytest.raises(CheckpointError, match="is not a meio-envs.checkpoint/1 checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="scenario 'A1', not 'B1'"):
        load_checkpoint(good, expect={"scenario": "B1"})
    assert load_checkpoint(tmp_path / "none.pt") is None
    with pytest.raises(CheckpointError, match="not a file"):
        load_checkpoint(tmp_path)


def test_empty_arrays_round_trip(tmp_path):
    # A network without disruptions has (B, 0) disruption arrays in its state (issue 16).
    core = BatchedMEIO("A1", num_envs=2)
    core.reset(seed=0)
    save_checkpoint(tmp_path / "c.pt", {"state": core.state})
    st = load_checkpoint(tmp_path / "c.pt")["state"]
    assert st.spell_left.shape == (2, 0) and st.down.dtype == bool
    np.testing.assert_array_equal(st.on_hand, core.state.on_hand)
