"""Hand-written cases for every input class of issue 15: each raises MEIOInputError naming the field,
the value and what is allowed, fast, without quoting any file."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest

import meio_envs
from meio_envs import MEIOInputError, NetworkError, NetworkSpec
from meio_envs import validation as V
from meio_envs.core.params import CostVariation, SimParams
from meio_envs.distributions import distribution_from_dict
from meio_envs.envs.batch import BatchedMEIO
from tests.conftest import sp


def nodes() -> list[dict]:
    return [
        sp("W1", ["external"], holding=0.5),
        sp("R1", ["W1"], backorder=9.0, demand=3),
        sp("R2", ["W1"], backorder=9.0, demand=2),
    ]


def build(mutate=None, **kw) -> NetworkSpec:
    n = nodes()
    if mutate:
        mutate(n)
    return NetworkSpec.from_dict({"stock_points": n}, **kw)


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(MEIOInputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------------------------------
# The package error and the helpers
# --------------------------------------------------------------------------------------------------


def test_package_errors_are_value_errors():
    assert issubclass(MEIOInputError, ValueError) and issubclass(NetworkError, MEIOInputError)
    assert issubclass(V.MEIOFileNotFoundError, FileNotFoundError)
    assert meio_envs.MEIOInputError is MEIOInputError


@pytest.mark.parametrize(
    ("value", "ok"),
    [(5, True), (np.int64(5), True), (True, False), (np.bool_(True), False), (5.0, False), (1.5, False),
     ("5", False), (None, False), (0, False), (11, False), (10**400, False)],
)
def test_exact_int(value, ok):
    if ok:
        assert V.exact_int("n", value, 1, 10) == 5
    else:
        msg = error_of(V.exact_int, "n", value, 1, 10)
        assert msg.startswith("n must be a positive integer <= 10, got ")


@pytest.mark.parametrize("value", [True, "1", None, float("nan"), float("inf"), -1.0, 11, 10**400, [1]])
def test_finite_float_rejects(value):
    assert "x must be a finite number >= 0 and <= 10" in error_of(V.finite_float, "x", value, 0, 10)


def test_show_is_bounded():
    assert V.show(True) == "True (bool)"
    assert len(V.show("y" * 10_000)) < 80
    assert V.show(10**5000) == "an integer of 16610 bits"  # repr would raise (int max str digits)
    nested: list = []
    nested.append(nested)
    assert len(V.show(nested)) < 80


def test_seed_helper_for_env_resets():
    assert V.seed_value("seed", 2**63 - 4, copies=4) == 2**63 - 4
    for bad in (2**64, 2**63 - 3, -1, 1.0, True, "0"):
        assert "seed must be" in error_of(V.seed_value, "seed", bad, copies=4)


def test_limits_keep_every_integer_exact():
    bound = V.units_bound(V.MAX_STOCK_POINTS, V.MAX_EPISODE_LENGTH, V.MAX_ORDER, V.MAX_DEMAND, V.MAX_BASE_STOCK)
    assert bound < V.EXACT_UNITS < np.iinfo(np.int64).max


def test_units_stay_exact_at_the_order_limit():
    big = [sp("W1", ["external"], max_order=V.MAX_ORDER, ip_bounds=[-1, 1], holding=0.75),
           sp("R1", ["W1"], max_order=V.MAX_ORDER, ip_bounds=[-1, 1], backorder=1.0, demand=0)]
    b = BatchedMEIO(network={"stock_points": big}, base_stock=[V.MAX_BASE_STOCK] * 2, num_envs=2)
    b.reset(0)
    T = 500
    for _ in range(T):
        c = b.step_orders(np.full((2, 2), V.MAX_ORDER))
    st = b.state
    expect = 2 * V.MAX_BASE_STOCK + T * V.MAX_ORDER  # exact in Python ints
    assert int(st.external_in[0]) == expect == int(st.on_hand[0].sum() + st.in_transit[0].sum())
    assert c.holding[0, 0] == float(st.on_hand[0, 0]) * 0.75  # exact: below 2**53


# --------------------------------------------------------------------------------------------------
# Network fields: exact types, ranges, messages
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("max_order", True, "max_order must be a positive integer <= 1000000, got True (bool)"),
        ("max_order", 1.5, "max_order must be a positive integer <= 1000000, got 1.5"),
        ("max_order", 50.0, "max_order must be a positive integer <= 1000000, got 50.0"),
        ("max_order", "50", "max_order must be a positive integer <= 1000000, got '50' (str)"),
        ("max_order", 10**19, "max_order must be a positive integer <= 1000000, got 10000000000000000000"),
        ("holding", float("nan"), "holding must be a finite number >= 0 and <= 1000000, got nan"),
        ("holding", True, "holding must be a finite number >= 0 and <= 1000000, got True (bool)"),
        ("holding", 1e7, "holding must be a finite number >= 0 and <= 1000000, got 10000000.0"),
        ("order_unit_cost", "1", "order_unit_cost must be a finite number >= 0"),
        ("base_stock", 2.0, "base_stock must be a non-negative integer <= 1000000000, got 2.0"),
        ("suppliers", 5, "suppliers must be a list of stock point names or ['external'], got 5"),
        ("suppliers", ["W1", 3], "suppliers[1] must be a non-empty string"),
        ("ip_bounds", 5, "ip_bounds must be two finite numbers [low, margin], got 5"),
        ("ip_bounds", [-1, float("inf")], "ip_bounds margin must be a finite number > 0"),
        ("lead_time", 10**8, "lead_time: Fixed: value must be a non-negative integer <= 100000, got 100000000"),
        ("lead_time", 5000, "lead_time: values must be <= 1000, but the distribution reaches 5000"),
        ("lead_time", 1.5, "a distribution must be an int, a list of probabilities"),
        ("demand", {"type": "poisson", "mu": 1e10}, "demand: Poisson: mu must be a finite number >= 0 and <= 10000"),
        ("demand", {"type": "uniform_int", "low": 0, "high": 10**9}, "UniformInt: high must be a non-negative integer <= 100000"),
        ("demand", {"type": "poisson", "lam": 3}, "fields must be ['mu']"),
        ("demand", [0.5, "0.5"], "a PMF must be a list of 1 to 100001 probabilities"),
        ("name", "x" * 300, "stock point name must be a non-empty string of at most 200 characters"),
    ],
)
def test_stock_point_fields(field, value, expect):
    msg = error_of(build, lambda n: n[1].update({field: value}))
    assert expect in msg, msg
    assert msg.startswith("stock point 'R1'") or field == "name"


def test_network_structure_errors():
    assert "unknown top-level fields ['colour']" in error_of(NetworkSpec.from_dict, {"stock_points": nodes(), "colour": 1})
    assert "must be a mapping" in error_of(NetworkSpec.from_dict, [1, 2])
    assert "network name must be a non-empty string" in error_of(NetworkSpec.from_dict, {"stock_points": nodes(), "name": ["x"]})
    assert "metadata must be a mapping" in error_of(NetworkSpec.from_dict, {"stock_points": nodes(), "metadata": 3})
    msg = error_of(build, lambda n: n[1].update(echelon=2))
    assert "echelon is 2 but the structure gives 1" in msg
    assert build(lambda n: n[0].update(echelon=2)).names[0] == "W1"  # a correct echelon is fine
    too_many = [sp(f"S{i}", ["external"]) for i in range(V.MAX_SUPPLIERS + 1)] + [
        sp("R", [f"S{i}" for i in range(V.MAX_SUPPLIERS + 1)], backorder=1.0, demand=1)]
    assert f"at most {V.MAX_SUPPLIERS}" in error_of(NetworkSpec.from_dict, {"stock_points": too_many})


def test_random_draws_per_period_are_bounded():
    ups = [sp(f"W{i}", ["external"]) for i in range(V.MAX_SUPPLIERS)]
    rets = [sp(f"R{j}", [f"W{i}" for i in range(V.MAX_SUPPLIERS)], backorder=1.0, demand=1) for j in range(2100)]
    msg = error_of(NetworkSpec.from_dict, {"stock_points": ups + rets})
    assert "random draws per period" in msg and "65536" in msg


def test_too_many_stock_points():
    msg = error_of(NetworkSpec.from_dict, {"stock_points": [{}] * (V.MAX_STOCK_POINTS + 1)})
    assert f"at most {V.MAX_STOCK_POINTS} stock points" in msg


# --------------------------------------------------------------------------------------------------
# Distributions: bounded supports
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [{"type": "poisson", "mu": 1e10}, {"type": "uniform_int", "low": 1, "high": 10**9}, {"type": "fixed", "value": 10**8},
     {"type": "poisson_uniform_mean", "low": 1, "high": 10**6}, {"type": "rounded_normal", "mu": 0, "sigma": 1e9},
     {"type": "pmf", "probabilities": [0.0] * (V.MAX_SUPPORT + 1) + [1.0]}, 10**8],
)
def test_huge_supports_fail_fast(spec):
    t = time.perf_counter()
    error_of(distribution_from_dict, spec)
    assert time.perf_counter() - t < 1.0


def test_distribution_limits_themselves_are_cheap():
    t = time.perf_counter()
    for spec in ({"type": "poisson", "mu": V.MAX_POISSON_MEAN}, {"type": "uniform_int", "low": 0, "high": V.MAX_SUPPORT},
                 {"type": "poisson_uniform_mean", "low": 0, "high": V.MAX_MIXED_POISSON_MEAN}):
        assert distribution_from_dict(spec).pmf().size <= V.MAX_SUPPORT + 1
    assert time.perf_counter() - t < 5.0


# --------------------------------------------------------------------------------------------------
# Files: sizes, devices, YAML aliases, duplicates, nesting
# --------------------------------------------------------------------------------------------------

BOMB = "\n".join(
    [f"a: &a [{', '.join(['lol'] * 9)}]"]
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    + ["name: *i", "stock_points: []", ""]
)


def test_yaml_alias_bomb_fails_fast(tmp_path):
    assert len(BOMB) < 742
    (tmp_path / "bomb.yaml").write_text(BOMB)
    t = time.perf_counter()
    msg = error_of(NetworkSpec.from_file, tmp_path / "bomb.yaml")
    assert time.perf_counter() - t < 1.0
    assert "YAML aliases may add at most 100000 nodes when expanded" in msg and "lol" not in msg


def test_a_few_aliases_are_fine(tmp_path):
    text = (
        "stock_points:\n"
        "  - {name: W1, suppliers: [external], holding: 1, max_order: 9, ip_bounds: &b [-9, 9], lead_time: &lt 2}\n"
        "  - {name: R1, suppliers: [W1], holding: 1, backorder: 1, max_order: 9, ip_bounds: *b, lead_time: *lt, demand: 1}\n"
    )
    (tmp_path / "n.yaml").write_text(text)
    assert NetworkSpec.from_file(tmp_path / "n.yaml").num_nodes == 2


@pytest.mark.parametrize(
    ("name", "body", "expect"),
    [
        ("rec.yaml", "a: &a [1, *a]\nstock_points: []\n", "recursive alias"),
        ("dup.yaml", "stock_points: []\nstock_points: []\n", "line 2 repeats the mapping key of line 1"),
        ("dup.json", '{"stock_points": [], "stock_points": []}', "repeats a key"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("deep.yaml", "[" * 100_000 + "]" * 100_000, "not valid YAML"),
        ("bad.yaml", "stock_points: [secret-token-123, \n", "not valid YAML at line"),
        ("tag.yaml", "!!python/object:os.system {}\n", "not valid YAML"),
        ("bin.json", b"\xff\xfe\x00", "not UTF-8 text"),
        ("list.json", "[1, 2]", "must be a mapping with a 'stock_points' list"),
        ("net.txt", "", "network files must end in .yaml, .yml or .json"),
    ],
)
def test_bad_network_files(tmp_path, name, body, expect):
    p = tmp_path / name
    p.write_bytes(body if isinstance(body, bytes) else body.encode())
    msg = error_of(NetworkSpec.from_file, p)
    assert expect in msg and "secret-token" not in msg, msg


def test_devices_pipes_and_size_limits(tmp_path, monkeypatch):
    import os

    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.yaml")
    for name in ("zero.yaml", "pipe.yaml"):
        t = time.perf_counter()
        assert "is not a regular file" in error_of(NetworkSpec.from_file, tmp_path / name)
        assert time.perf_counter() - t < 1.0
    assert isinstance(pytest.raises(FileNotFoundError, NetworkSpec.from_file, tmp_path / "none.yaml").value, MEIOInputError)
    monkeypatch.setattr("meio_envs.network.MAX_NETWORK_FILE_BYTES", 100)
    (tmp_path / "big.json").write_text(json.dumps({"stock_points": nodes()}))
    assert "the limit is 100 bytes" in error_of(NetworkSpec.from_file, tmp_path / "big.json")


# --------------------------------------------------------------------------------------------------
# CSV profiles and their paths
# --------------------------------------------------------------------------------------------------

pd = pytest.importorskip("pandas")
from meio_envs.profiles import build_profile, read_csv_table, read_daily_table  # noqa: E402

WIDE = "date,A,B\n" + "".join(f"2020-01-{d:02d},{d % 4},{(d * 3) % 7}\n" for d in range(1, 21))


def profile_net(path: str, product: str = "A", **extra) -> dict:
    n = nodes()
    n[1]["demand"] = {"type": "profile", "path": path, "product": product, **extra}
    return {"stock_points": n}


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (WIDE.replace("2020-01-05,1,1", "2020-01-05,1,1,9"), "line 6 has 4 fields but the header (line 1) has 3"),
        (WIDE.replace("2020-01-05,1,1", "2020-01-05,1"), "line 6 has 2 fields but the header (line 1) has 3"),
        ("date,A\n" + WIDE.split("\n", 1)[1], "line 2 has 3 fields but the header (line 1) has 2"),  # pandas would shift columns
        ("date,A,A\n2020-01-01,1,2\n", "columns 2 and 3 have the same name"),
        ("date,,B\n2020-01-01,1,2\n", "column 2 has no name"),
        ('date,A\n2020-01-01,"1\n', "malformed CSV"),
        ("date,A\n2020-01-01,1\x00\n", "line 2: non-numeric value"),
        (WIDE.replace("2020-01-07,3,0", "2020-01-07,seven,0"), "line 8: non-numeric value"),
        (WIDE.replace("2020-01-07", "07/01/2020"), "line 8: the date is missing or not a valid date"),
        (WIDE.replace("2020-01-07", "2020-01-06"), "the date of"),
        ("# only a comment\n", "no header line"),
    ],
)
def test_strict_csv(tmp_path, text, expect):
    p = tmp_path / "t.csv"
    p.write_text(text)
    msg = error_of(read_daily_table, p)
    assert expect in msg, msg
    assert "seven" not in msg and "07/01/2020" not in msg


def test_profile_paths_are_confined_and_show_no_content(tmp_path):
    (tmp_path / "net").mkdir()
    (tmp_path / "secret.csv").write_text("date,TOKEN_abc\n2020-01-01,1\n")
    (tmp_path / "net" / "link.csv").symlink_to(tmp_path / "secret.csv")
    for path in ("/etc/passwd", "../secret.csv", "link.csv", "../../../../etc/passwd"):
        msg = error_of(NetworkSpec.from_dict, profile_net(path), base_dir=tmp_path / "net")
        assert "resolves outside the network's folder" in msg and "allow_outside_base_dir=True" in msg
        assert "root:" not in msg and "TOKEN" not in msg
    msg = error_of(NetworkSpec.from_dict, profile_net("link.csv"), base_dir=tmp_path / "net", allow_outside_base_dir=True)
    assert "products not in the table: ['A'] (1 product columns)" in msg and "TOKEN" not in msg
    net = NetworkSpec.from_dict(profile_net("link.csv", product="TOKEN_abc"), base_dir=tmp_path / "net",
                                allow_outside_base_dir=True)
    assert net.stock_points[1].demand.mean == pytest.approx(10)


def test_etc_passwd_as_a_table_shows_no_content(tmp_path):
    msg = error_of(read_daily_table, "/etc/passwd")
    assert "root" not in msg.replace("/root", "") and ":x:" not in msg


def test_profile_target_mean_and_fields(tmp_path):
    (tmp_path / "s.csv").write_text(WIDE)
    msg = error_of(NetworkSpec.from_dict, profile_net("s.csv", target_mean=1e9), base_dir=tmp_path)
    assert "target_mean must be a finite number > 0 and <= 100000, got 1000000000.0" in msg
    msg = error_of(NetworkSpec.from_dict, profile_net("s.csv", target_mean=90_000), base_dir=tmp_path)
    assert "values must stay <= 100000" in msg
    assert "profile fields must be" in error_of(NetworkSpec.from_dict, profile_net("s.csv", colour=1), base_dir=tmp_path)
    assert "profile layout must be one of" in error_of(NetworkSpec.from_dict, profile_net("s.csv", layout="tall"), base_dir=tmp_path)
    assert "target_mean must be" in error_of(build_profile, [1, 2], 1e9, kind="demand")


def test_a_csv_used_by_several_stock_points_is_parsed_once(tmp_path, monkeypatch):
    (tmp_path / "s.csv").write_text(WIDE)
    calls = []
    import meio_envs.profiles as profiles

    real = profiles.read_csv_table
    monkeypatch.setattr(profiles, "read_csv_table", lambda p, **kw: calls.append(p) or real(p, **kw))
    n = nodes()
    for i, prod in ((1, "A"), (2, "B")):
        n[i]["demand"] = {"type": "profile", "path": "s.csv", "product": prod}
    n[0]["lead_time"] = {"type": "profile", "path": "./s.csv", "product": "A"}
    net = NetworkSpec.from_dict({"stock_points": n}, base_dir=tmp_path)
    assert len(calls) == 1 and net.stock_points[2].demand.label == "B demand"


def test_csv_size_limit(tmp_path):
    (tmp_path / "s.csv").write_text(WIDE)
    assert "the limit is 50 bytes" in error_of(read_csv_table, tmp_path / "s.csv", max_bytes=50)


# --------------------------------------------------------------------------------------------------
# CostVariation, base stock, cost_variation argument, scenario arguments
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holding", "expect"),
    [((0, float("inf")), "CostVariation.holding[1] must be a finite number >= 0 and <= 100, got inf"),
     ((1.5, 0.5), "(low > high)"), ((-1, 1), "got -1"), ((0, 1000), "<= 100, got 1000"),
     ("ab", "CostVariation.holding must be a pair (low, high)"), ((True, 1), "got True (bool)"), (0.5, "got 0.5")],
)
def test_cost_variation(holding, expect):
    assert expect in error_of(CostVariation, holding=holding)


def test_cost_variation_argument_and_base_stock():
    net = build()
    assert "cost_variation must be a CostVariation, None or 'auto', got 'foo' (str)" in error_of(
        SimParams.from_network, net, None, "foo")
    for bs, expect in (([1.5, 2, 3], "got 1.5 at index 0"), ([1, 2], "3 integers"), ([True, 1, 2], "got [True, 1, 2]"),
                       ([-1, 0, 0], "got -1"), ([0, 0, 10**10], "got 10000000000"), ([float("nan")] * 3, "got nan")):
        msg = error_of(SimParams.from_network, net, bs)
        assert msg.startswith("base_stock (one per stock point, node order) must be 3 integers in [0, 1000000000]")
        assert expect in msg, msg


def test_scenario_arguments_the_level_ignores_are_rejected():
    from meio_envs.distributions import Fixed

    prof = [Fixed(2)] * 18
    msg = error_of(meio_envs.make_scenario, "A1", demand_profiles=prof)
    assert "demand_profiles: scenario level 1" in msg and "allowed only at levels [2, 4, 5]" in msg
    assert "allowed only at levels [4, 5]" in error_of(meio_envs.make_scenario, "B2", lead_time_profiles=prof)
    assert "allowed only at levels [4, 5]" in error_of(meio_envs.make_scenario, "C3", lead_time_profiles=prof)
    meio_envs.make_scenario("B2", demand_profiles=prof)  # used: fine
    assert "must be a list of distributions" in error_of(meio_envs.make_scenario, "B4", demand_profiles="SKU0")
    assert "unknown scenario 5" in error_of(meio_envs.make_scenario, 5)


# --------------------------------------------------------------------------------------------------
# Deep and wide networks: no recursion, bounded DA work
# --------------------------------------------------------------------------------------------------


def chain(depth: int) -> dict:
    pts = [sp("N0", ["external"], holding=0.1)]
    pts += [sp(f"N{i}", [f"N{i - 1}"], holding=0.1 + i * 1e-4) for i in range(1, depth)]
    pts[-1].update(backorder=10.0, demand={"type": "poisson", "mu": 0.3})
    return {"stock_points": pts}


@pytest.mark.timeout(120)
def test_deep_serial_network_needs_no_recursion():
    depth = 300
    net = NetworkSpec.from_dict(chain(depth))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)  # below the depth: any recursive walk over the chain would fail
    try:
        params = SimParams.from_network(net)  # DA levels
    finally:
        sys.setrecursionlimit(limit)
    assert params.base_stock.shape == (depth,)
    msg = error_of(SimParams.from_network, NetworkSpec.from_dict(chain(5000)))
    assert "serial systems" in msg and "5000 stages" in msg


def test_da_refuses_exponentially_many_paths_and_huge_supports():
    layers = [[sp("A0", ["external"]), sp("B0", ["external"])]]
    for k in range(1, 20):
        layers.append([sp(f"{c}{k}", [f"A{k - 1}", f"B{k - 1}"]) for c in "AB"])
    pts = [p for lay in layers for p in lay] + [sp("R", ["A19", "B19"], backorder=1.0, demand=1)]
    msg = error_of(SimParams.from_network, NetworkSpec.from_dict({"stock_points": pts}))
    assert "supply paths" in msg and "give base_stock for every stock point" in msg
    big = nodes()
    big[0]["lead_time"] = 1000
    big[1]["demand"] = {"type": "uniform_int", "low": 0, "high": 50_000}
    msg = error_of(SimParams.from_network, NetworkSpec.from_dict({"stock_points": big}))
    assert "lead-time demand would reach" in msg
    assert SimParams.from_network(NetworkSpec.from_dict({"stock_points": big}), [10, 10, 10]).num_nodes == 3
