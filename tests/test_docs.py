"""Every Python block in README.md and docs/ runs as written (blocks marked skip are compiled only).

A block is skipped when the line before its fence is ``<!-- doc-test: skip (reason) -->``: long
runs or data a user brings. Each runnable block runs in a fresh interpreter in an empty folder, so
it cannot lean on another block's variables or write into the repository.

The example scripts in docs/examples/ run for a small budget, and the MkDocs site (mkdocs.yml)
builds with ``mkdocs build --strict`` into a temporary folder.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:^(<!-- doc-test: skip \((?P<why>[^)]*)\) -->)\n)?^```python\n(?P<code>.*?)^```", re.M | re.S)


def _blocks() -> list[tuple[str, str, str | None]]:
    out = []
    for page in PAGES:
        for k, m in enumerate(BLOCK.finditer(page.read_text())):
            out.append((f"{page.relative_to(ROOT)}#{k}", m.group("code"), m.group("why")))
    return out


BLOCKS = _blocks()


def test_the_docs_have_python_blocks() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize(("where", "code", "skip"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_docs_block_runs(where: str, code: str, skip: str | None, tmp_path: Path) -> None:
    compile(code, where, "exec")
    if skip is not None:
        pytest.skip(skip)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, f"{where} failed:\n{p.stderr[-3000:]}"


def test_the_benchmark_example_script_runs(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    script = ROOT / "docs" / "examples" / "benchmark_sb3.py"
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr[-3000:]}"
    assert (tmp_path / "runs" / "example" / "ppo_A1.zip").exists()


def test_the_cleanrl_ppo_example_runs(tmp_path: Path) -> None:
    """docs/examples/cleanrl_ppo.py trains for a few rollouts and prints finite episodic returns."""
    pytest.importorskip("torch")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    script = ROOT / "docs" / "examples" / "cleanrl_ppo.py"
    for vec in ("sync", "native"):
        p = subprocess.run([sys.executable, str(script), "--total-timesteps", "2048", "--num-envs", "4",
                            "--num-steps", "128", "--update-epochs", "2", "--seed", "0", "--vec", vec],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"--vec {vec}: exit {p.returncode}: {p.stderr[-3000:]}"
        returns = [float(x) for x in re.findall(r"^global_step=\d+, episodic_return=(\S+)$", p.stdout, re.M)]
        assert len(returns) == 16, p.stdout[-2000:]  # 4 rollouts x 4 copies, one 128-step episode each
        final = re.search(r"^final mean episodic_return=(\S+) ", p.stdout, re.M)
        assert final is not None, p.stdout[-2000:]
        assert all(math.isfinite(r) and r < 0 for r in returns)  # reward = -cost / 1000
        assert math.isfinite(float(final.group(1)))


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """mkdocs.yml builds with `mkdocs build --strict` (broken links, anchors or API pages fail)."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("material")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    site = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
                        "--site-dir", str(site)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"mkdocs build --strict failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    assert (site / "index.html").exists()
    api = (site / "api" / "envs" / "index.html").read_text()
    assert 'id="meio_envs.envs.single.MEIOEnv"' in api  # the API pages are generated from the docstrings
