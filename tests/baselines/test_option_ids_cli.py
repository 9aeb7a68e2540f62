"""The command line takes the option example ids (issue 16) like grid ids."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from baselines.cli import main as meio
from meio_envs.scenarios import canonical_scenario_id, parse_scenario_id


def test_example_ids_parse_to_their_grid_scenario():
    assert parse_scenario_id("a1-lostsales") == ("A", 1)
    assert canonical_scenario_id("d1-DISRUPTED") == "D1-Disrupted"
    assert canonical_scenario_id("b4") == "B4"
    with pytest.raises(ValueError, match="example id"):
        canonical_scenario_id("A1-Flooded")


def test_heuristic_cli_on_an_example_id(tmp_path: Path) -> None:
    out = tmp_path / "h.csv"
    assert meio(["heuristic", "a1-lostsales", "--no-search", "--episodes", "4", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["scenario"], r["method"]) for r in rows] == [("A1-LostSales", "DA")]
