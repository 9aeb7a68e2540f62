"""Property tests (Hypothesis): random invalid inputs always raise the package's own error.

Every boundary is fed generated bad input: stock-point fields (by class: bools, floats, strings,
containers, non-finite, out of range, huge), distributions, arbitrary JSON-like data, random
YAML/JSON text and alias bombs, random and ragged CSV files, profile paths, CostVariation ranges,
base-stock arrays and scenario arguments. Each must raise :class:`MEIOInputError` with a message,
never a NumPy or Python internal error, and never hang (pytest-timeout). Run with
``--hypothesis-show-statistics`` to see the cases per class.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from meio_envs import SCENARIO_IDS, MEIOInputError, NetworkSpec, make_scenario  # noqa: E402
from meio_envs import validation as V  # noqa: E402
from meio_envs.core.params import CostVariation, SimParams  # noqa: E402
from meio_envs.distributions import distribution_from_dict  # noqa: E402
from meio_envs.validation import show  # noqa: E402
from tests.conftest import sp  # noqa: E402
from tests.core.net_strategies import invalid_distribution, invalid_float, invalid_int  # noqa: E402

# derandomize: CI runs the same generated cases every time, so a failure always reproduces
FUZZ = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
ALLOWED = re.compile(r"must|allowed|at most|need|only|limit|unknown|duplicate|cycle|not ")


def base_nodes() -> list[dict]:
    return [
        sp("W1", ["external"], holding=0.5),
        sp("R1", ["W1"], backorder=9.0, demand=3),
        sp("R2", ["W1"], backorder=9.0, demand={"type": "poisson", "mu": 4}),
    ]


def raises_package_error(fn, *args, **kwargs) -> str:
    """Call ``fn``; it must raise MEIOInputError (anything else fails the test). Returns the message."""
    with pytest.raises(MEIOInputError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert msg and ALLOWED.search(msg), msg
    return msg


# --------------------------------------------------------------------------------------------------
# Stock-point fields
# --------------------------------------------------------------------------------------------------

# field -> (strategy of (class, value), nodes it may be set on, the word the message must contain)
FIELDS = {
    "max_order": (invalid_int(1, V.MAX_ORDER), (0, 1, 2), "max_order"),
    "base_stock": (invalid_int(0, V.MAX_BASE_STOCK, none=False), (0, 1, 2), "base_stock"),  # None: use DA
    "holding": (invalid_float(0, V.MAX_UNIT_COST), (0, 1, 2), "holding"),
    "backorder": (invalid_float(0, V.MAX_UNIT_COST), (1, 2), "backorder"),
    "order_fixed_cost": (invalid_float(0, V.MAX_UNIT_COST), (0, 1, 2), "order_fixed_cost"),
    "order_unit_cost": (invalid_float(0, V.MAX_UNIT_COST), (0, 1, 2), "order_unit_cost"),
    "lead_time": (invalid_distribution(V.MAX_LEAD_TIME), (0, 1, 2), "lead_time"),
    "demand": (invalid_distribution(V.MAX_DEMAND), (1, 2), "demand"),
    "ip_bounds": (st.one_of(
        st.tuples(st.just("wrong length"), st.lists(st.integers(-5, 5), max_size=4).filter(lambda x: len(x) != 2)),
        st.tuples(st.just("margin <= 0"), st.tuples(st.integers(-9, 0), st.integers(-9, 0)).map(list)),
        st.tuples(st.just("non-finite"), st.tuples(st.sampled_from([math.nan, math.inf]), st.just(5)).map(list)),
        st.tuples(st.just("string"), st.one_of(st.text(max_size=4), st.just(["-1", "5"]))),
        st.tuples(st.just("bool"), st.just([True, 5])),
    ), (0, 1, 2), "ip_bounds"),
    "suppliers": (st.one_of(
        st.tuples(st.just("int"), st.integers()),
        st.tuples(st.just("unknown"), st.just(["W9"])),
        st.tuples(st.just("self"), st.just(["R1"])),
        st.tuples(st.just("empty"), st.just([])),
        st.tuples(st.just("duplicate"), st.just(["W1", "W1"])),
        st.tuples(st.just("external mixed"), st.just(["external", "W1"])),
        st.tuples(st.just("nested"), st.just([["W1"]])),
        st.tuples(st.just("too many"), st.just([f"S{i}" for i in range(V.MAX_SUPPLIERS + 1)])),
    ), (1,), "supplier"),
    "name": (st.one_of(
        st.tuples(st.just("not a string"), st.one_of(st.integers(), st.booleans(), st.none(), st.just(["R"]))),
        st.tuples(st.just("empty"), st.just("")),
        st.tuples(st.just("too long"), st.text(min_size=V.MAX_NAME_LENGTH + 1, max_size=V.MAX_NAME_LENGTH + 5)),
        st.tuples(st.just("reserved"), st.just("external")),
        st.tuples(st.just("duplicate"), st.just("R2")),
    ), (1,), "name"),
}


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.data())
def test_invalid_stock_point_fields_raise_package_error(data):
    field = data.draw(st.sampled_from(sorted(FIELDS)), label="field")
    strategy, targets, word = FIELDS[field]
    cls, value = data.draw(strategy, label="value")
    node = data.draw(st.sampled_from(targets), label="node")
    nodes = base_nodes()
    nodes[node][field] = value
    event(f"field: {field}")
    event(f"class: {cls}")
    msg = raises_package_error(NetworkSpec.from_dict, {"stock_points": nodes})
    assert word in msg, msg
    if field in ("max_order", "holding", "backorder", "order_fixed_cost", "order_unit_cost", "base_stock"):
        if not (field == "backorder" and node == 0):
            assert show(value) in msg, msg  # the message names the value


@pytest.mark.timeout(60)
@FUZZ
@given(value=invalid_float(0, V.MAX_UNIT_COST).map(lambda cv: cv[1]).filter(lambda v: v != 0))
def test_backorder_on_a_supplier_is_an_error(value):
    nodes = base_nodes()
    nodes[0]["backorder"] = value
    raises_package_error(NetworkSpec.from_dict, {"stock_points": nodes})


@pytest.mark.timeout(60)
@FUZZ
@given(weights=st.lists(st.floats(0, 1), min_size=1, max_size=6), p0=st.floats(1e-9, 1))
def test_lead_time_mass_on_zero_is_an_error(weights, p0):
    total = p0 + math.fsum(weights)
    pmf = [p0 / total, *(w / total for w in weights)]
    nodes = base_nodes()
    nodes[1]["lead_time"] = pmf
    msg = raises_package_error(NetworkSpec.from_dict, {"stock_points": nodes})
    assert "lead_time" in msg


# --------------------------------------------------------------------------------------------------
# Arbitrary data, distributions, files
# --------------------------------------------------------------------------------------------------

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.text(max_size=8), ch, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = ["name", "suppliers", "holding", "backorder", "max_order", "ip_bounds", "lead_time", "demand",
               "order_fixed_cost", "order_unit_cost", "base_stock", "echelon", "colour"]


@st.composite
def garbled_networks(draw: st.DrawFn) -> object:
    """Whole garbage, garbage stock points, or a valid network with one field replaced by garbage."""
    kind = draw(st.sampled_from(["anything", "stock points", "one field"]))
    event(f"class: {kind}")
    if kind == "anything":
        return draw(json_like)
    if kind == "stock points":
        return {"stock_points": draw(st.lists(json_like, max_size=3))}
    nodes = base_nodes()
    nodes[draw(st.integers(0, 2))][draw(st.sampled_from(FIELD_NAMES))] = draw(json_like)
    return {"stock_points": nodes, **draw(st.dictionaries(st.sampled_from(["name", "metadata", "x"]), json_like, max_size=1))}


@pytest.mark.timeout(120)
@FUZZ
@given(data=garbled_networks())
def test_arbitrary_data_builds_or_raises_package_error(data):
    try:
        NetworkSpec.from_dict(data)
    except MEIOInputError as exc:
        assert str(exc)


numbers = st.one_of(st.integers(-10, 10**6), st.floats(), st.booleans(), st.text(max_size=3), st.none(), st.just(10**400))


near_limits = st.one_of(  # specs on both sides of each documented limit
    st.floats(0, 1.01 * V.MAX_POISSON_MEAN).map(lambda m: {"type": "poisson", "mu": m}),
    st.integers(V.MAX_SUPPORT - 3, V.MAX_SUPPORT + 3).map(lambda h: {"type": "uniform_int", "low": 0, "high": h}),
    st.integers(V.MAX_SUPPORT - 3, V.MAX_SUPPORT + 3).map(lambda v: {"type": "fixed", "value": v}),
    st.integers(V.MAX_MIXED_POISSON_MEAN - 1, V.MAX_MIXED_POISSON_MEAN + 1).map(
        lambda h: {"type": "poisson_uniform_mean", "low": h - 2, "high": h}),
    st.floats(1e4, 1.6e4).map(lambda s: {"type": "rounded_normal", "mu": 0.0, "sigma": s}),
)


@pytest.mark.timeout(120)
@FUZZ
@given(spec=st.one_of(
    near_limits,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["fixed", "uniform_int", "poisson", "poisson_uniform_mean", "rounded_normal", "pmf"])},
        optional={"value": numbers, "low": numbers, "high": numbers, "mu": numbers, "sigma": numbers,
                  "probabilities": st.lists(numbers, max_size=5), "label": numbers},
    ),
    json_like,
))
def test_distribution_specs_are_bounded_or_raise_package_error(spec):
    try:
        d = distribution_from_dict(spec)
    except MEIOInputError as exc:
        event("rejected")
        assert str(exc)
        return
    event("accepted")
    p = d.pmf()
    assert 1 <= p.size <= V.MAX_SUPPORT + 1 and abs(p.sum() - 1) < 1e-9 and np.all(p >= 0)


@pytest.mark.timeout(120)
@FUZZ
@given(content=st.one_of(
    st.text(max_size=200).map(lambda t: ("text", t)),
    json_like.map(lambda d: ("yaml of data", __import__("yaml").safe_dump(d))),
    json_like.map(lambda d: ("json of data", json.dumps(d))),
    st.binary(max_size=100).map(lambda b: ("bytes", b)),
), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_network_files_load_or_raise_package_error(tmp_path_factory, content, suffix):
    cls, body = content
    event(f"class: {cls}")
    path = tmp_path_factory.mktemp("f") / f"net{suffix}"
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"))
    try:
        NetworkSpec.from_file(path)
    except MEIOInputError as exc:
        assert str(exc)
    except UnicodeEncodeError:  # pragma: no cover - hypothesis text with lone surrogates
        pass


@pytest.mark.timeout(60)
@settings(FUZZ, max_examples=60)
@given(width=st.integers(2, 12), depth=st.integers(1, 9))
def test_yaml_alias_bombs_fail_fast(tmp_path_factory, width, depth):
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for k in range(1, depth + 1):
        lines.append(f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * width)}]")
    lines.append(f"name: *a{depth}")
    path = tmp_path_factory.mktemp("bomb") / "net.yaml"
    path.write_text("\n".join(lines) + "\nstock_points: []\n")
    expanded = sum(width**k for k in range(1, depth + 2))  # nodes below all alias uses, roughly
    event("bomb" if expanded > 10 * V.MAX_YAML_ALIAS_NODES else "small")
    msg = raises_package_error(NetworkSpec.from_file, path)
    if expanded > 10 * V.MAX_YAML_ALIAS_NODES:
        assert "aliases" in msg


# --------------------------------------------------------------------------------------------------
# CSV profiles and paths
# --------------------------------------------------------------------------------------------------

pd = pytest.importorskip("pandas")
from meio_envs.profiles import build_profiles, read_daily_table  # noqa: E402

cells = st.one_of(st.integers(0, 99).map(str), st.sampled_from(["", "NA", "x", "1.5", "-2", "2020-01-01", '"q"']))
dates = st.one_of(st.integers(1, 9).map(lambda d: f"2020-01-0{d}"), cells)


@pytest.mark.timeout(120)
@FUZZ
@given(header=st.one_of(st.just(["date", "A", "B"]),
                        st.lists(st.sampled_from(["date", "Date", "A", "B", "product", "value", ""]), max_size=4)),
       rows=st.lists(st.one_of(st.tuples(dates, cells, cells).map(list), st.lists(cells, max_size=5)), max_size=6),
       layout=st.sampled_from(["auto", "wide", "long"]))
def test_random_csv_reads_or_raises_package_error(tmp_path_factory, header, rows, layout):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]))
    try:
        out = read_daily_table(path, layout=layout)
        event("read")
    except MEIOInputError as exc:
        event("rejected")
        assert str(exc) and "2020-01-01" not in str(exc) and '"q"' not in str(exc)  # no file content
        return
    assert all(isinstance(v, np.ndarray) for v in out.values())


@pytest.mark.timeout(120)
@FUZZ
@given(days=st.integers(2, 30), products=st.integers(1, 4), data=st.data())
def test_ragged_csv_rows_raise_naming_the_line(tmp_path_factory, days, products, data):
    names = [f"P{i}" for i in range(products)]
    rows = [[f"2020-01-{d + 1:02d}", *(str((d * 7 + i) % 13) for i in range(products))] for d in range(days)]
    k = data.draw(st.integers(0, days - 1), label="row")
    extra = data.draw(st.sampled_from(["more", "fewer"]), label="kind")
    event(f"class: {extra} fields")
    rows[k] = [*rows[k], "5"] if extra == "more" else rows[k][:-1]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("\n".join(",".join(r) for r in [["date", *names], *rows]) + "\n")
    msg = raises_package_error(read_daily_table, path)
    assert f"line {k + 2} " in msg  # header is line 1


@pytest.mark.timeout(120)
@FUZZ
@given(days=st.integers(2, 20), data=st.data())
def test_corrupt_csv_cells_raise_naming_the_line(tmp_path_factory, days, data):
    rows = [[f"2020-02-{d + 1:02d}", str(d % 7), str((3 * d) % 5 + 1)] for d in range(days)]
    k = data.draw(st.integers(0, days - 1), label="row")
    col = data.draw(st.sampled_from([0, 1, 2]), label="column")
    bad = data.draw(
        st.sampled_from(["x1", "1_000", "0x10", "12", "2020-13-01", "1e", "--1", "tomorrow"])
        if col == 0 else st.sampled_from(["x1", "1_000", "0x10", "1e", "--1", "one", "3 4"]),
        label="cell",
    )
    event(f"class: bad {'date' if col == 0 else 'value'}")
    rows[k][col] = bad
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("date,A,B\n" + "\n".join(",".join(r) for r in rows) + "\n")
    msg = raises_package_error(build_profiles, path, 10, kind="demand")
    after = msg.replace(str(path), "").split(f"line {k + 2}:", 1)
    assert len(after) == 2 and bad not in after[1], msg  # names the line, never quotes the cell


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=60)
@given(parts=st.lists(st.sampled_from(["..", "sub", ".", "data.csv", "x"]), min_size=1, max_size=5))
def test_profile_paths_stay_in_the_network_folder(tmp_path_factory, parts):
    root = tmp_path_factory.mktemp("net")
    (root / "sub").mkdir()
    rel = "/".join(parts)
    inside = (root / rel).resolve().is_relative_to(root.resolve())
    event("inside" if inside else "outside")
    nodes = base_nodes()
    nodes[1]["demand"] = {"type": "profile", "path": rel, "product": "A"}
    with pytest.raises(MEIOInputError) as info:  # inside: the file does not exist
        NetworkSpec.from_dict({"stock_points": nodes}, base_dir=root)
    assert ("outside the network's folder" in str(info.value)) == (not inside)


# --------------------------------------------------------------------------------------------------
# CostVariation, base stock, scenario arguments
# --------------------------------------------------------------------------------------------------


def _valid_range(pair: object) -> bool:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        return False
    a, b = pair
    real = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    return real and all(math.isfinite(float(x)) if abs(x) < 1e300 else False for x in (a, b)) and 0 <= a <= b <= V.MAX_COST_FACTOR


@pytest.mark.timeout(60)
@FUZZ
@given(holding=st.one_of(
    st.tuples(numbers, numbers), st.lists(numbers, max_size=3), numbers,
    st.lists(st.floats(0, 2 * V.MAX_COST_FACTOR), min_size=2, max_size=2).map(sorted),  # mostly valid
),
       backorder=st.just((0.5, 1.5)))
def test_cost_variation_is_valid_exactly_when_documented(holding, backorder):
    if _valid_range(holding):
        event("valid")
        cv = CostVariation(holding=holding, backorder=backorder)
        assert all(math.isfinite(x) for x in cv.holding)
    else:
        event("invalid")
        msg = raises_package_error(CostVariation, holding=holding, backorder=backorder)
        assert "CostVariation.holding" in msg


@pytest.mark.timeout(60)
@FUZZ
@given(bs=st.one_of(
    st.lists(st.one_of(st.integers(-5, 10**10), st.floats(), st.booleans(), st.text(max_size=2)), min_size=0, max_size=5),
    numbers.filter(lambda v: v is not None),  # None means DA levels
    st.lists(st.one_of(st.integers(0, V.MAX_BASE_STOCK + 2), st.integers(0, 99).map(float)), min_size=3, max_size=3),
))
def test_base_stock_arrays_are_validated(bs):
    net = NetworkSpec.from_dict({"stock_points": base_nodes()})
    ok = isinstance(bs, list) and len(bs) == 3 and all(
        (isinstance(x, int) and not isinstance(x, bool) or isinstance(x, float) and math.isfinite(x) and x.is_integer())
        and 0 <= x <= V.MAX_BASE_STOCK
        for x in bs
    )
    if ok:
        event("valid")
        SimParams.from_network(net, np.asarray(bs))
    else:
        event("invalid")
        raises_package_error(SimParams.from_network, net, bs)


@pytest.mark.timeout(60)
@FUZZ
@given(scenario=st.one_of(st.text(max_size=3), st.integers(), st.none(), st.booleans(),
                          st.sampled_from(SCENARIO_IDS), st.sampled_from(SCENARIO_IDS).map(str.lower)),
       profiles=st.sampled_from(["none", "demand", "lead"]))
def test_scenario_arguments_are_validated(scenario, profiles):
    from meio_envs.distributions import Fixed

    kw = {"demand": {"demand_profiles": [Fixed(1)] * 18}, "lead": {"lead_time_profiles": [Fixed(1)] * 18}}.get(profiles, {})
    ok_id = isinstance(scenario, str) and len(scenario) == 2 and scenario[0].upper() in "SLABCD" and scenario[1] in "12345"
    level = int(scenario[1]) if ok_id else 0
    used = profiles == "none" or (profiles == "demand" and level in (2, 4, 5)) or (profiles == "lead" and level in (4, 5))
    event(f"class: {'valid' if ok_id and used else 'bad id' if not ok_id else 'ignored profiles'}")
    if ok_id and used:
        make_scenario(scenario, **kw)
    else:
        raises_package_error(make_scenario, scenario, **kw)


def test_profile_path_outside_is_refused_without_content(tmp_path: Path) -> None:
    """An absolute path elsewhere is refused before the file is opened, so nothing of it is shown."""
    nodes = base_nodes()
    nodes[1]["demand"] = {"type": "profile", "path": "/etc/passwd", "product": "root"}
    msg = raises_package_error(NetworkSpec.from_dict, {"stock_points": nodes}, base_dir=tmp_path)
    assert "root:" not in msg
