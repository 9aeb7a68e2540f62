"""Real-life profiles: the builder, the table readers, and the shipped built-in profiles."""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from meio_envs.distributions import EmpiricalPMF
from meio_envs.profiles import (
    BuiltinProfiles,
    build_profile,
    build_profiles,
    builtin_distributions,
    load_builtin_profiles,
    profile_stats,
    read_daily_table,
    round_half_away_from_zero,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "meio_envs" / "data" / "profiles.json"


def _load_regenerate_module():
    spec = importlib.util.spec_from_file_location(
        "regenerate_profiles", REPO / "benchmarks" / "regenerate_profiles.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _mean(pmf: np.ndarray) -> float:
    return float(np.dot(np.arange(pmf.size), pmf))


# --------------------------------------------------------------------------------------------------
# build_profile on hand-made series
# --------------------------------------------------------------------------------------------------


def test_scaling_rounding_and_pmf_by_hand():
    # mean 2 -> factor 5: 1, 2, 3 -> 5, 10, 15
    pmf = build_profile([1, 2, 3], 10, kind="demand")
    assert pmf.dtype == np.float64
    assert pmf.size == 16
    np.testing.assert_allclose(pmf[[5, 10, 15]], [1 / 3, 1 / 3, 1 / 3])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-15)
    assert _mean(pmf) == pytest.approx(10.0)


def test_mean_after_scaling_is_exact_when_no_rounding_is_needed():
    x = np.array([0, 4, 8, 8, 0, 20])  # mean 6.666..., factor 1.5 -> 0, 6, 12, 12, 0, 30
    pmf = build_profile(x, 10, kind="demand")
    assert _mean(pmf) == pytest.approx(10.0)
    assert pmf[0] == pytest.approx(2 / 6)
    assert pmf[12] == pytest.approx(2 / 6)


def test_rounding_is_half_away_from_zero():
    # mean 2, target 5 -> factor 2.5: 1 -> 2.5 -> 3 and 3 -> 7.5 -> 8 (np.rint would give 2 and 8)
    pmf = build_profile([1, 3], 5, kind="demand")
    assert set(np.flatnonzero(pmf)) == {3, 8}
    np.testing.assert_array_equal(round_half_away_from_zero([0.5, 1.5, 2.5, -2.5, 2.4999]), [1, 2, 3, -3, 2])
    # ties survive floating-point noise in the scaling
    assert round_half_away_from_zero(np.nextafter(2.5, 0))[()] == 3


def test_rounding_moves_mean_by_at_most_half():
    rng = np.random.default_rng(3)
    for _ in range(50):
        x = rng.integers(0, 7, size=rng.integers(1, 60))
        if x.sum() == 0:
            continue
        pmf = build_profile(x, 10, kind="demand")
        assert abs(_mean(pmf) - 10) <= 0.5 + 1e-12
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(pmf >= 0)


def test_lead_times_clipped_to_one_after_rounding():
    # mean 10 -> factor 0.3: 1 -> 0.3 -> 0 -> clipped to 1; 19 -> 5.7 -> 6
    x = [1, 1, 1, 1, 1, 19, 19, 19, 19, 19]
    lt = build_profile(x, 3, kind="lead_time")
    assert lt[0] == 0.0
    assert lt[1] == pytest.approx(0.5) and lt[6] == pytest.approx(0.5)
    assert _mean(lt) == pytest.approx(3.5)  # clipping raised the mean above the target
    dem = build_profile(x, 3, kind="demand")
    assert dem[0] == pytest.approx(0.5)  # demand keeps its zeros


def test_order_does_not_matter_and_pandas_series_accepted():
    pd = pytest.importorskip("pandas")
    x = [3, 0, 7, 7, 1, 12]
    a = build_profile(x, 10, kind="demand")
    b = build_profile(pd.Series(x[::-1], dtype="int64"), 10, kind="demand")
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("series", "match"),
    [
        ([], "empty"),
        ([0, 0, 0], "all zeros"),
        ([1, -2, 3], "negative"),
        ([1, float("nan"), 3], "NaN"),
        ([1, float("inf"), 3], "NaN/infinite"),
        (["a", "b"], "non-numeric"),
        ([1, "x"], "non-numeric"),
        ([True, False], "booleans"),
        ([[1, 2], [3, 4]], "one-dimensional"),
        ("123", "string"),
    ],
)
def test_bad_series_give_clear_errors(series, match):
    with pytest.raises(ValueError, match=match):
        build_profile(series, 10, kind="demand")


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        build_profile([1, 2], 10, kind="supply")
    for bad in (0, -1, float("nan"), "ten"):
        with pytest.raises(ValueError, match="target_mean"):
            build_profile([1, 2], bad, kind="demand")


# --------------------------------------------------------------------------------------------------
# Tables: wide and long layouts
# --------------------------------------------------------------------------------------------------

DAYS = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
VALUES = {"A": [4, 0, 6, 10], "B": [1, 2, 2, 3], "C": [0, 0, 5, 0]}


def _wide():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({"date": DAYS, **VALUES})


def _long():
    pd = pytest.importorskip("pandas")
    rows = [(d, p, v[i]) for p, v in VALUES.items() for i, d in enumerate(DAYS)]
    rows = rows[::-1]  # out of date order on purpose
    return pd.DataFrame(rows, columns=["date", "product", "value"])


def test_wide_and_long_layouts_give_identical_pmfs(tmp_path):
    wide, long = _wide(), _long()
    for layout_w, layout_l in [("wide", "long"), ("auto", "auto")]:
        pw = build_profiles(wide, 10, kind="demand", layout=layout_w)
        pl = build_profiles(long, 10, kind="demand", layout=layout_l)
        assert list(pw) == ["A", "B", "C"]
        assert set(pl) == set(pw)
        for k in pw:
            np.testing.assert_array_equal(pw[k], pl[k])
    # and from CSV files
    wide.to_csv(tmp_path / "w.csv", index=False)
    long.to_csv(tmp_path / "l.csv", index=False)
    fw = build_profiles(tmp_path / "w.csv", 3, kind="lead_time")
    fl = build_profiles(str(tmp_path / "l.csv"), 3, kind="lead_time")
    for k in fw:
        np.testing.assert_array_equal(fw[k], fl[k])
        np.testing.assert_array_equal(fw[k], build_profile(VALUES[k], 3, kind="lead_time"))


def test_read_daily_table_sorts_by_date_and_auto_detects():
    long = _long()
    got = read_daily_table(long)  # auto -> long (has product and value columns)
    np.testing.assert_array_equal(got["A"], VALUES["A"])
    wide = _wide().iloc[::-1]
    got = read_daily_table(wide)  # auto -> wide
    assert list(got) == ["A", "B", "C"]
    np.testing.assert_array_equal(got["B"], VALUES["B"])
    # a wide table that happens to have product columns called 'product' and 'value' needs layout=
    pd = pytest.importorskip("pandas")
    odd = pd.DataFrame({"date": DAYS, "product": [1, 2, 3, 4], "value": [4, 3, 2, 1]})
    got = read_daily_table(odd, layout="wide")
    assert list(got) == ["product", "value"]


def test_mabim_style_csv(tmp_path):
    """'#' comment line, 'Date' header, blank line after the header, 2018/7/1 dates."""
    text = (
        "# Demand is filled from something.csv\n"
        "Date,SKU0,SKU1\n"
        "\n"
        "2018/7/2,2,8\n"
        "2018/7/1,4,0\n"
        "2018/7/3,6,4\n"
    )
    path = tmp_path / "mabim.csv"
    path.write_text(text)
    got = read_daily_table(path)
    np.testing.assert_array_equal(got["SKU0"], [4, 2, 6])
    np.testing.assert_array_equal(got["SKU1"], [0, 8, 4])
    sub = read_daily_table(path, products=["SKU1"], start="2018-07-02")
    assert list(sub) == ["SKU1"]
    np.testing.assert_array_equal(sub["SKU1"], [8, 4])


def test_table_errors_name_the_product(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"date": DAYS, "ok": [1, 2, 3, 4], "zeros": [0, 0, 0, 0]})
    with pytest.raises(ValueError, match="'zeros'.*all zeros"):
        build_profiles(df, 10, kind="demand")
    df = pd.DataFrame({"date": DAYS, "neg": [1, -2, 3, 4]})
    with pytest.raises(ValueError, match="'neg'.*negative"):
        build_profiles(df, 10, kind="demand")
    df = pd.DataFrame({"date": DAYS, "gap": [1, None, 3, 4]})
    with pytest.raises(ValueError, match="'gap'.*NaN"):
        build_profiles(df, 10, kind="demand")
    df = pd.DataFrame({"date": DAYS, "txt": ["1", "two", "3", "4"]})
    with pytest.raises(ValueError, match="'txt'.*non-numeric"):
        build_profiles(df, 10, kind="demand")
    with pytest.raises(ValueError, match="products not in the table"):
        build_profiles(_wide(), 10, kind="demand", products=["A", "Z"])
    with pytest.raises(ValueError, match="more than once"):
        read_daily_table(pd.DataFrame({"date": [DAYS[0], DAYS[0]], "A": [1, 2]}))
    dup = pd.DataFrame({"date": [DAYS[0]] * 2, "product": ["A", "A"], "value": [1, 2]})
    with pytest.raises(ValueError, match="more than one row"):
        read_daily_table(dup)
    with pytest.raises(ValueError, match="no date column"):
        read_daily_table(pd.DataFrame({"day": DAYS, "A": [1, 2, 3, 4]}))
    with pytest.raises(ValueError, match="layout"):
        read_daily_table(_wide(), layout="tall")
    with pytest.raises(FileNotFoundError):
        read_daily_table(tmp_path / "missing.csv")


# --------------------------------------------------------------------------------------------------
# Built-in profiles
# --------------------------------------------------------------------------------------------------


def test_builtin_profiles_shape_and_sums():
    prof = load_builtin_profiles()
    assert isinstance(prof, BuiltinProfiles)
    assert load_builtin_profiles() is prof  # cached
    assert prof.products == tuple(f"SKU{i}" for i in range(18))
    assert len(prof.demand) == 18 and len(prof.lead_time) == 18
    for pmf in (*prof.demand, *prof.lead_time):
        assert pmf.dtype == np.float64 and pmf.ndim == 1
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(pmf >= 0)
        assert pmf[-1] > 0  # no trailing zeros
        assert not pmf.flags.writeable
        # every probability is a multiple of 1/155 (155 days)
        np.testing.assert_allclose(pmf * 155, np.round(pmf * 155), atol=1e-8)
    for pmf in prof.lead_time:
        assert pmf[0] == 0.0  # lead times are at least 1
    prov = prof.provenance
    assert prov["license"] == "Apache-2.0"
    assert prov["repository"] == "https://github.com/duc-ph/MABIM"
    assert prov["date_range_used"] == ["2018-07-01", "2018-12-02"]


def test_builtin_means():
    """Means are the targets only up to rounding (see meio_envs.profiles, docs/profiles.md).

    Rounding ``x * 10 / mean(x)`` to integers moves the mean by at most 0.5; with 155 days of
    coarse integer data the shift does not average out (SKU12 ends at 10.19), so the check is the
    0.5 bound per profile plus a tighter one on the average over the 18 products. Lead times also
    get clipped to >= 1 and take only a handful of values, so their means spread more (2.68..3.45).
    """
    prof = load_builtin_profiles()
    dm = np.array([profile_stats(p)["mean"] for p in prof.demand])
    lm = np.array([profile_stats(p)["mean"] for p in prof.lead_time])
    assert np.all(np.abs(dm - 10) <= 0.5)
    assert np.max(np.abs(dm - 10)) < 0.25  # regression guard on the shipped numbers (max 0.19)
    assert abs(dm.mean() - 10) < 0.05
    assert np.all(np.abs(lm - 3) <= 0.5)
    assert abs(lm.mean() - 3) < 0.15


def test_builtin_distributions_wrap_the_pmfs():
    prof = load_builtin_profiles()
    for kind, word in (("demand", "demand"), ("lead_time", "lead time")):
        dists = builtin_distributions(kind)
        assert len(dists) == 18
        assert all(isinstance(d, EmpiricalPMF) for d in dists)
        assert dists[3].label == f"SKU3 {word}"
        for d, p in zip(dists, prof.pmfs(kind)):
            np.testing.assert_allclose(d.pmf(), p, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="kind"):
        builtin_distributions("supply")


@pytest.mark.parametrize("kind", ["demand", "lead_time"])
def test_sampling_reproduces_mean_and_variance(kind):
    rng = np.random.default_rng(20240607)
    n = 200_000
    for dist in builtin_distributions(kind):
        pmf = dist.pmf()
        k = np.arange(pmf.size)
        mu = float(k @ pmf)
        var = float(((k - mu) ** 2) @ pmf)
        mu4 = float(((k - mu) ** 4) @ pmf)
        draws = dist.sample(rng, n)
        assert draws.min() >= (1 if kind == "lead_time" else 0)
        # 4 standard errors: se(mean) = sqrt(var/n), se(var) ~ sqrt((mu4 - var^2)/n)
        assert abs(draws.mean() - mu) <= 4 * math.sqrt(var / n), dist.label
        assert abs(draws.var(ddof=1) - var) <= 4 * math.sqrt((mu4 - var**2) / n), dist.label
        assert dist.mean == pytest.approx(mu) and dist.variance == pytest.approx(var)


# --------------------------------------------------------------------------------------------------
# The shipped file equals what the regeneration script builds from the raw data
# --------------------------------------------------------------------------------------------------


def _data_dir() -> Path:
    env = os.environ.get("MEIO_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def test_shipped_file_matches_regeneration_from_raw_data():
    mod = _load_regenerate_module()
    data_dir = _data_dir()
    if not mod.data_available(data_dir):
        pytest.skip(f"raw MABIM extract not available in {data_dir}")
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped == mod.build_payload(data_dir)
    assert SHIPPED.read_text(encoding="utf-8") == mod.dumps(mod.build_payload(data_dir))


def test_regeneration_script_writes_atomically(tmp_path, monkeypatch):
    mod = _load_regenerate_module()
    # resolution order: --data-dir, then $MEIO_DATA_DIR, then ../shared/data
    monkeypatch.setenv("MEIO_DATA_DIR", str(tmp_path / "env"))
    assert mod.resolve_data_dir("cli") == Path("cli")
    assert mod.resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("MEIO_DATA_DIR")
    assert mod.resolve_data_dir(None) == REPO.parent / "shared" / "data"
    out = tmp_path / "sub" / "p.json"
    mod.write_atomic('{"a": 1}\n', out)
    assert json.loads(out.read_text()) == {"a": 1}
    assert [p.name for p in out.parent.iterdir()] == ["p.json"]  # no temp file left behind
    with pytest.raises(FileNotFoundError):
        mod.build_payload(tmp_path / "nothing")


def test_shipped_file_has_no_raw_rows():
    payload = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert set(payload) == {"format", "version", "products", "method", "provenance", "demand", "lead_time"}
    for kind in ("demand", "lead_time"):
        assert set(payload[kind]) == {"target_mean", "pmfs"}


# --------------------------------------------------------------------------------------------------
# pandas is optional
# --------------------------------------------------------------------------------------------------


def test_builtin_profiles_load_without_pandas():
    """`pip install meio-envs` has no pandas: the built-in profiles must still load."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from meio_envs.profiles import load_builtin_profiles, build_profile, read_daily_table\n"
        "assert len(load_builtin_profiles().demand) == 18\n"
        "assert build_profile([1, 2, 3], 10, kind='demand').sum() == 1.0\n"
        "try:\n"
        "    read_daily_table('x.csv')\n"
        "except ImportError as e:\n"
        "    assert 'pip install pandas' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
