"""Users' own demand data: profile arguments to gym.make and network files pointing at a CSV."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import meio_envs
from meio_envs.distributions import EmpiricalPMF, Poisson

pytest.importorskip("pandas")


def test_make_with_own_profiles_changes_demand_only_where_given():
    dem = [Poisson(3.0)] * 9
    lead = [EmpiricalPMF((0.0, 0.5, 0.5))] * 9
    env = gym.make("MEIO-B4-v0", demand_profiles=dem, lead_time_profiles=lead).unwrapped
    net = env.params.network
    assert all(net.stock_points[r].demand == Poisson(3.0) for r in net.retailers)
    assert all(sp.lead_time.max_value == 2 for sp in net.stock_points)
    with pytest.raises(ValueError, match="one distribution per stock point"):
        gym.make("MEIO-B4-v0", demand_profiles=dem[:3])


def test_network_file_pointing_at_csv(tmp_path):
    days = np.arange(40)
    (tmp_path / "sales.csv").write_text(
        "date,SKU_A,SKU_B\n" + "\n".join(f"2020-01-{d % 28 + 1:02d},{d % 5},{(d * 7) % 11}" for d in days[:28])
    )
    (tmp_path / "net.yaml").write_text(
        "stock_points:\n"
        "  - {name: W1, suppliers: [external], holding: 0.5, max_order: 80, ip_bounds: [-100, 80], lead_time: 1}\n"
        "  - {name: R1, suppliers: [W1], holding: 1, backorder: 9, max_order: 40, ip_bounds: [-50, 40], lead_time: 1,\n"
        "     demand: {type: profile, path: sales.csv, product: SKU_B, target_mean: 10}}\n"
    )
    env = gym.make("MEIO-A1-v0", network=str(tmp_path / "net.yaml")).unwrapped
    d = env.params.network.stock_points[1].demand
    assert abs(d.mean - 10) < 0.5
    env.reset(seed=0)
    env.step(np.zeros(2, np.float32))
    with pytest.raises(meio_envs.NetworkError, match="SKU_Z"):
        meio_envs.NetworkSpec.from_dict(
            {"stock_points": [
                {"name": "W1", "suppliers": ["external"], "holding": 0.5, "max_order": 8, "ip_bounds": [-1, 8], "lead_time": 1},
                {"name": "R1", "suppliers": ["W1"], "holding": 1, "max_order": 8, "ip_bounds": [-1, 8], "lead_time": 1,
                 "demand": {"type": "profile", "path": "sales.csv", "product": "SKU_Z"}},
            ]},
            base_dir=tmp_path,
        )
