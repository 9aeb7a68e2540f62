"""Real-life demand and lead-time profiles (scenario levels 2, 4 and 5).

The report builds a profile from a product's daily series in four steps, and so does
:func:`build_profile`:

1. **Scale** the series to the target mean: ``y = x * target_mean / mean(x)`` (the report uses 10 for
   demand and 3 for lead times).
2. **Round** every value to an integer, *half away from zero* (``2.5 -> 3``, ``3.5 -> 4``; the values
   are non-negative, so this is ``floor(y + 1/2)``), the rounding of a spreadsheet's ``ROUND``.
   NumPy's ``np.rint`` (half to even) would give ``2.5 -> 2``. The choice matters when many scaled
   values are exact halves: built-in lead-time profile SKU13 (raw values 1..3, mean 1.2, so the scaled
   values are 2.5, 5 and 7.5) has mean 3.45 with this rule and would have 2.60 with ``np.rint``.
   A fractional part within 1e-9 of one half counts as a tie (see :func:`round_half_away_from_zero`).
3. **Lead times only:** clip to at least 1 *after* rounding (a shipment never arrives in the period it
   is sent). Clipping only moves mass up, so it can only raise the mean.

The profile's mean is therefore the target only up to rounding: rounding moves it by at most 0.5, and
by more than a few hundredths when the series takes few distinct values, because the rounding errors
then repeat instead of averaging out (a series of 1s, 2s and 3s with mean 1.25 scaled to 3 becomes
2.4, 4.8, 7.2 and rounds to 2, 5, 7, mean 2.68). The built-in demand means lie in 9.83..10.19 and the
lead-time means in 2.68..3.45; ``docs/profiles.md`` lists them and :func:`profile_stats` computes them.
No correction is applied, to stay with the report's method.
4. The **empirical PMF** of the integers: ``pmf[k] = (number of days with value k) / (number of days)``
   on ``0..max``, as float64.

Inputs are daily tables in either layout:

* **wide** (the MABIM benchmark's files): a date column (``date`` or ``Date``) and one column per
  product, one row per day;
* **long**: one row per (date, product) with columns ``date``, ``product``, ``value`` (names configurable).

:func:`read_daily_table` turns either into ``{product: daily values in date order}``, and
:func:`build_profiles` applies :func:`build_profile` to each product. pandas is needed only for these
two table readers (``pip install pandas``); the built-in profiles load with the standard library.

CSV files are read strictly (:func:`meio_envs.safe_files.parse_csv`): at most ``MAX_CSV_BYTES``,
every row with exactly one value per header column, errors naming the file and line but never
quoting the file. :func:`profile_distribution` builds the ``{type: profile, ...}`` distributions of
network files: the path is resolved against the network file's folder and must stay inside it
unless the caller opts out, and each file is parsed once per network however many stock points
use it.

The built-in profiles (:func:`load_builtin_profiles`) are 18 demand PMFs (mean 10) and 18 lead-time
PMFs (mean 3) for products SKU0..SKU17 of the MABIM ``sku2778`` data (Apache-2.0), derived with this
module by ``benchmarks/regenerate_profiles.py``; ``meio_envs/data/PROVENANCE.md`` says what data went in.
Node k of a network (in its documented node order) gets product k.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from meio_envs.distributions import DemandSeries, EmpiricalPMF
from meio_envs.safe_files import parse_csv
from meio_envs.validation import (
    MAX_CSV_BYTES,
    MAX_SUPPORT,
    MEIOInputError,
    choice,
    confined_path,
    finite_float,
    read_text_file,
    show,
    text,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DEMAND_TARGET_MEAN",
    "LEAD_TIME_TARGET_MEAN",
    "BuiltinProfiles",
    "CsvTable",
    "build_profile",
    "build_profiles",
    "builtin_distributions",
    "load_builtin_profiles",
    "profile_distribution",
    "profile_stats",
    "read_csv_table",
    "read_daily_table",
    "replay_values",
    "round_half_away_from_zero",
]

DEMAND_TARGET_MEAN = 10.0
LEAD_TIME_TARGET_MEAN = 3.0
_KINDS = ("demand", "lead_time")
_TIE_TOL = 1e-9
_LAYOUTS = ("auto", "wide", "long")
ProfileKind = Literal["demand", "lead_time"]


# --------------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------------


def round_half_away_from_zero(values: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, ties away from zero (``0.5 -> 1``, ``2.5 -> 3``, ``-2.5 -> -3``).

    Computed as ``floor(|y|) + (frac(|y|) >= 0.5 - 1e-9)``: a fractional part within ``1e-9`` below
    one half counts as a tie. Scaled values are often meant to be exact halves (a lead-time series
    with mean 1.2 scaled to 3 gives ``1 * 3 / 1.2 = 2.5``), and the tolerance makes sure the result
    does not depend on the floating-point evaluation order of the scaling.
    """
    y = np.asarray(values, dtype=np.float64)
    a = np.abs(y)
    f = np.floor(a)
    return np.copysign(f + (a - f >= 0.5 - _TIE_TOL), y)


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise MEIOInputError(f"kind must be 'demand' or 'lead_time', got {show(kind)}")


def _as_float_series(series: Any) -> np.ndarray:
    """The series as a 1-D float64 array, with a clear error for anything non-numeric."""
    if hasattr(series, "to_numpy") and not isinstance(series, np.ndarray):
        series = series.to_numpy()
    if isinstance(series, (str, bytes)):
        raise MEIOInputError(f"series must be a sequence of numbers, got a string {show(series)}")
    arr = np.asarray(series)
    if arr.dtype == bool:
        raise MEIOInputError("series must hold numbers, got booleans")
    if arr.dtype.kind not in "iuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            bad = next((v for v in np.ravel(arr) if not _is_number(v)), None)
            raise MEIOInputError(
                f"series must hold numbers; found non-numeric value {bad!r} (dtype {arr.dtype})"
            ) from None
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise MEIOInputError(f"series must be one-dimensional (one value per day), got shape {arr.shape}")
    return arr


def _is_number(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return False
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _validate_series(arr: np.ndarray) -> None:
    if arr.size == 0:
        raise MEIOInputError("series is empty: need at least one daily value")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise MEIOInputError(
            f"series contains {idx.size} NaN/infinite value(s) (first at position {idx[0]}); "
            "fill or drop missing days before building a profile"
        )
    neg = arr < 0
    if neg.any():
        idx = np.flatnonzero(neg)
        raise MEIOInputError(
            f"series contains {idx.size} negative value(s) (first at position {idx[0]}); "
            "demand and lead times must be >= 0"
        )
    if float(arr.sum()) == 0.0:
        raise MEIOInputError(
            "series is all zeros (mean 0), so it cannot be scaled to a target mean; "
            "drop this product"
        )


def build_profile(series: Any, target_mean: float, *, kind: ProfileKind) -> np.ndarray:
    """Turn one daily series into an integer PMF the way the report does.

    Args:
        series: the daily values (list, NumPy array or pandas Series), in any order (order does not
            change the PMF). Must be non-empty, finite, non-negative and not all zero.
        target_mean: the mean to scale to (10 for the report's demand, 3 for its lead times); > 0.
        kind: ``"demand"`` or ``"lead_time"``; lead times are clipped to at least 1 after rounding.

    Returns:
        float64 array ``pmf`` on ``0..K`` (K = largest rounded value), summing to 1. Its mean is
        ``target_mean`` up to rounding (and, for lead times, clipping); see :func:`profile_stats`.

    Raises:
        ValueError: empty series, NaN/inf, negative values, all zeros, non-numeric values, a bad
            ``target_mean`` or ``kind``.
    """
    _check_kind(kind)
    tm = finite_float("target_mean", target_mean, 0.0, MAX_SUPPORT, lo_open=True)
    x = _as_float_series(series)
    _validate_series(x)
    scaled = x * tm / float(np.mean(x))
    rounded = round_half_away_from_zero(scaled)
    if kind == "lead_time":
        rounded = np.maximum(rounded, 1.0)
    top = float(rounded.max())
    if top > MAX_SUPPORT:  # checked before np.bincount allocates a table that long
        raise MEIOInputError(
            f"target_mean={tm:g} scales the series up to {top:.0f}; values must stay <= {MAX_SUPPORT} "
            "(lower target_mean)"
        )
    ints = rounded.astype(np.int64)
    counts = np.bincount(ints)
    return counts.astype(np.float64) / float(ints.size)


def replay_values(series: Any, target_mean: float) -> np.ndarray:
    """The daily values in their order, scaled to ``target_mean`` and rounded as :func:`build_profile` does."""
    tm = finite_float("target_mean", target_mean, 0.0, MAX_SUPPORT, lo_open=True)
    x = _as_float_series(series)
    _validate_series(x)
    rounded = round_half_away_from_zero(x * tm / float(np.mean(x)))
    if float(rounded.max()) > MAX_SUPPORT:
        raise MEIOInputError(f"target_mean={tm:g} scales the series above {MAX_SUPPORT} (lower target_mean)")
    return rounded.astype(np.int64)


def profile_stats(pmf: Any) -> dict[str, float]:
    """Mean, standard deviation, coefficient of variation, P(0), min and max of an integer PMF."""
    p = np.asarray(pmf, dtype=np.float64)
    k = np.arange(p.size)
    mean = float(np.dot(k, p))
    std = float(math.sqrt(max(float(np.dot((k - mean) ** 2, p)), 0.0)))
    nz = np.flatnonzero(p > 0)
    return {
        "mean": mean,
        "std": std,
        "cv": std / mean if mean > 0 else float("nan"),
        "p_zero": float(p[0]),
        "min": int(nz[0]) if nz.size else 0,
        "max": int(nz[-1]) if nz.size else 0,
    }


# --------------------------------------------------------------------------------------------------
# Reading daily tables (pandas, imported lazily)
# --------------------------------------------------------------------------------------------------


def _require_pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading daily tables needs pandas, an optional dependency of meio-envs: "
            "`pip install pandas` (or `pip install meio-envs[rl]`). The built-in profiles "
            "(load_builtin_profiles) do not need it."
        ) from exc
    return pd


_NA_TOKENS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
     "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # pandas' default missing-value markers, so strict parsing reads missing days as pandas did


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A CSV file parsed strictly: string cells, and the file line of every row (for messages)."""

    path: Path
    frame: pd.DataFrame  # one column per header name, str cells, RangeIndex
    lines: np.ndarray  # (rows,) int64 file line of each row


def read_csv_table(path: str | os.PathLike[str], *, max_bytes: int = MAX_CSV_BYTES) -> CsvTable:
    """Read a daily CSV file with the strict parser (see :func:`meio_envs.safe_files.parse_csv`)."""
    pd = _require_pandas()
    p = Path(path)
    header, rows, lines = parse_csv(read_text_file(p, max_bytes=max_bytes, what="daily table"), str(p))
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header)
    return CsvTable(p, frame, np.asarray(lines, dtype=np.int64))


class _Rows:
    """Where a table's rows come from: a file (line numbers, content withheld) or a DataFrame."""

    def __init__(self, table: CsvTable | None) -> None:
        self.table = table

    @property
    def is_file(self) -> bool:
        return self.table is not None

    def at(self, label: Any) -> str:
        if self.table is None:
            return f"row {label!r}"
        return f"{self.table.path} line {int(self.table.lines[int(label)])}"

    def value(self, v: Any) -> str:
        """`` 'v'`` for a DataFrame the caller built; nothing for a file (never echo a file)."""
        return "" if self.is_file else f" {show(v)}"


def _find_column(df: pd.DataFrame, name: str, what: str, rows: _Rows) -> Any:
    """Column ``name``; failing that the only column equal to it ignoring case (``Date``/``date``)."""
    if name in df.columns:
        return name
    matches = [c for c in df.columns if str(c).strip().lower() == name.strip().lower()]
    if len(matches) == 1:
        return matches[0]
    cols = f"{df.shape[1]} columns" if rows.is_file else f"columns: {_show_columns(df)}"
    where = f" of {rows.table.path}" if rows.table is not None else ""
    raise MEIOInputError(
        f"no {what} column {name!r} in the table{where} ({cols}); pass {what}_column=... to name it"
    )


def _show_columns(df: pd.DataFrame, limit: int = 8) -> str:
    cols = [str(c) for c in df.columns]
    more = f", ... ({len(cols)} in all)" if len(cols) > limit else ""
    return ", ".join(cols[:limit]) + more


def _has_column(df: pd.DataFrame, name: str) -> bool:
    try:
        _find_column(df, name, "x", _Rows(None))
    except MEIOInputError:
        return False
    return True


_FILE_DATE = re.compile(r"\s*\d{4}([-/.])\d{1,2}\1\d{1,2}(?:[ T][0-9:.]+)?\s*")  # 2018-07-01, 2018/7/1


def _parse_dates(values: pd.Series, rows: _Rows) -> pd.Series:
    """Dates of a column; in files every cell must be year-month-day (no guessing at '12' or 'x')."""
    pd = _require_pandas()
    if rows.is_file:
        bad = values.map(lambda c: _FILE_DATE.fullmatch(c) is None)
        if not bad.any():
            norm = values.str.strip().str.replace(r"[/.]", "-", regex=True)
            dates = pd.to_datetime(norm, format="ISO8601", errors="coerce")
            bad = dates.isna()
            if not bad.any():
                return dates
        label = values.index[np.flatnonzero(bad.to_numpy())[0]]
        raise MEIOInputError(
            f"{rows.at(label)}: the date is missing or not a valid date; write dates as YYYY-MM-DD or YYYY/M/D"
        )
    with warnings.catch_warnings():  # element-wise parsing is the intended fallback for DataFrames
        warnings.simplefilter("ignore", UserWarning)
        try:
            dates = pd.to_datetime(values)
        except (ValueError, TypeError, OverflowError):
            dates = None
        if dates is not None and not dates.isna().any():
            return dates
        for label, v in values.items():  # error path only: find the first bad date
            try:
                ok = not pd.isna(pd.to_datetime(v))
            except (ValueError, TypeError, OverflowError):
                ok = False
            if not ok or (dates is not None and pd.isna(dates[label])):
                raise MEIOInputError(f"{rows.at(label)}: the date{rows.value(v)} is missing or cannot be parsed")
    raise MEIOInputError("date column: the dates do not share one format; write them all as YYYY-MM-DD")


def _numeric(values: pd.Series, product: str, rows: _Rows) -> np.ndarray:
    """Values as float64; missing stays NaN (build_profile rejects it), text is an error here."""
    pd = _require_pandas()
    if rows.is_file:
        values = values.map(lambda c: np.nan if c.strip() in _NA_TOKENS else c)
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & values.notna()
    if bad.any():
        label = values.index[np.flatnonzero(bad.to_numpy())[0]]
        raise MEIOInputError(
            f"product {product!r}: {rows.at(label)}: non-numeric value{rows.value(values[label])}; "
            "values must be numbers (an empty cell or NA marks a missing day)"
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def _date_mask(dates: pd.Series, start: Any, end: Any) -> pd.Series:
    pd = _require_pandas()
    mask = pd.Series(True, index=dates.index)
    try:
        if start is not None:
            mask &= dates >= pd.Timestamp(start)
        if end is not None:
            mask &= dates <= pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise MEIOInputError(f"start and end must be dates, got start={show(start)}, end={show(end)} ({exc})") from None
    return mask


def read_daily_table(
    source: str | os.PathLike[str] | pd.DataFrame | CsvTable,
    *,
    layout: Literal["auto", "wide", "long"] = "auto",
    date_column: str = "date",
    product_column: str = "product",
    value_column: str = "value",
    products: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
) -> dict[str, np.ndarray]:
    """Read a daily table into ``{product: float64 values in date order}``.

    Args:
        source: a pandas DataFrame, the path of a CSV file, or a :class:`CsvTable` already read.
            CSV files may start with ``#`` comment lines and contain blank lines (both occur in the
            MABIM files), and dates in any format pandas parses (``2018-07-01``, ``2018/7/1``).
            Every other line must have one value per header column.
        layout: ``"wide"`` (date column + one column per product), ``"long"`` (one row per date and
            product) or ``"auto"``: long when the table has both ``product_column`` and
            ``value_column``, wide otherwise.
        date_column: the date column's name; matched case-insensitively when there is no exact match,
            so MABIM's ``Date`` works with the default.
        product_column, value_column: column names of the long layout.
        products: keep only these products, in this order (default: all, in table order).
        start, end: optional inclusive date bounds (anything ``pandas.Timestamp`` accepts).

    Rows are sorted by date (stable). Repeated dates (wide) or repeated (date, product) pairs (long)
    are errors; missing days are *not* filled in (each product's series is the rows it has), and
    missing values come back as NaN, which :func:`build_profile` rejects with a clear error. Errors
    about a file name its lines and never quote its content.

    Raises:
        ImportError: pandas is not installed.
        MEIOFileNotFoundError: the CSV path does not exist (also a ``FileNotFoundError``).
        MEIOInputError: bad layout, a file too large or malformed (ragged rows, bad header), missing
            columns or products, unparseable dates, duplicates, text values.
    """
    pd = _require_pandas()
    choice("layout", layout, _LAYOUTS)
    if isinstance(source, CsvTable):
        table: CsvTable | None = source
    elif isinstance(source, (str, os.PathLike)):
        table = read_csv_table(source)
    elif isinstance(source, pd.DataFrame):
        table = None
    else:
        raise MEIOInputError(f"source must be a pandas DataFrame or a CSV path, got {show(source)}")
    df = source if table is None else table.frame
    rows = _Rows(table)
    if df.shape[0] == 0:
        raise MEIOInputError("the daily table has no rows" + (f" ({table.path})" if table else ""))
    if layout == "auto":
        layout = (
            "long" if _has_column(df, product_column) and _has_column(df, value_column) else "wide"
        )

    dcol = _find_column(df, date_column, "date", rows)
    dates = _parse_dates(df[dcol], rows)
    keep = _date_mask(dates, start, end)
    if not keep.any():
        raise MEIOInputError(f"no rows between start={show(start)} and end={show(end)}")

    out: dict[str, np.ndarray] = {}
    if layout == "wide":
        dup = dates.duplicated()
        if dup.any():
            label = dates.index[np.flatnonzero(dup.to_numpy())[0]]
            first = dates.index[np.flatnonzero((dates == dates[label]).to_numpy())[0]]
            what = f"the date of {rows.at(label)} (first at {rows.at(first)})" if rows.is_file else (
                f"date {dates[label].date()}"
            )
            raise MEIOInputError(f"wide table: {what} appears more than once")
        sub = df.loc[keep]
        order = np.argsort(dates[keep].to_numpy(), kind="stable")
        available = [c for c in df.columns if c != dcol]
        if not available:
            raise MEIOInputError("wide table has a date column but no product columns")
        names = {str(c): c for c in available}
        wanted = list(names) if products is None else [str(p) for p in products]
        missing = [p for p in wanted if p not in names]
        if missing:
            cols = f"{len(available)} product columns" if rows.is_file else f"columns: {_show_columns(df)}"
            raise MEIOInputError(f"products not in the table: {missing} ({cols})")
        for p in wanted:
            out[p] = _numeric(sub[names[p]], p, rows)[order]
        return out

    pcol = _find_column(df, product_column, "product", rows)
    vcol = _find_column(df, value_column, "value", rows)
    sub = pd.DataFrame(
        {"date": dates[keep], "product": df.loc[keep, pcol].astype(str), "value": df.loc[keep, vcol]}
    )
    dup = sub.duplicated(["date", "product"])
    if dup.any():
        label = sub.index[np.flatnonzero(dup.to_numpy())[0]]
        row = sub.loc[label]
        what = f"{rows.at(label)}: its product" if rows.is_file else f"product {row['product']!r}"
        raise MEIOInputError(
            f"long table: {what} has more than one row for "
            + ("its date" if rows.is_file else f"{row['date'].date()}")
        )
    table_order = list(dict.fromkeys(sub["product"]))
    wanted = table_order if products is None else [str(p) for p in products]
    missing = [p for p in wanted if p not in set(table_order)]
    if missing:
        raise MEIOInputError(f"products not in the table: {missing}")
    sub = sub.sort_values("date", kind="stable")
    groups = {name: g for name, g in sub.groupby("product", sort=False)}
    for p in wanted:
        out[p] = _numeric(groups[p]["value"], p, rows)
    return out


_PROFILE_FIELDS = ("type", "path", "product", "target_mean", "layout", "replay", "start")


def profile_distribution(
    spec: Mapping[str, Any],
    *,
    kind: ProfileKind,
    base_dir: str | os.PathLike[str] | None = None,
    allow_outside_base_dir: bool = False,
    cache: dict[Path, CsvTable] | None = None,
) -> EmpiricalPMF | DemandSeries:
    """The distribution of a network file's ``{type: profile, path, product, target_mean, layout}``.

    With ``replay: true`` (demand only) the result is a :class:`DemandSeries`: the scaled and
    rounded daily values in date order, replayed period by period from index ``start`` (default
    0), rather than their PMF.

    ``path`` is resolved against ``base_dir`` (the network file's folder; the working directory
    when None) and, after symlinks are resolved, must lie inside it unless
    ``allow_outside_base_dir``. ``cache`` maps resolved paths to parsed tables, so one file is
    parsed once however many stock points read it. ``target_mean`` defaults to 10 for demand and
    3 for lead times.
    """
    _check_kind(kind)
    unknown = sorted(str(k) for k in spec if k not in _PROFILE_FIELDS)
    if unknown or "path" not in spec or "product" not in spec:
        raise MEIOInputError(
            f"profile fields must be {list(_PROFILE_FIELDS)} (path and product required), got {sorted(map(str, spec))}"
        )
    path = confined_path("profile path", spec["path"], base_dir, allow_outside=allow_outside_base_dir)
    product = text("profile product", spec["product"])
    default = DEMAND_TARGET_MEAN if kind == "demand" else LEAD_TIME_TARGET_MEAN
    target = finite_float("profile target_mean", spec.get("target_mean", default), 0.0, MAX_SUPPORT, lo_open=True)
    layout = choice("profile layout", spec.get("layout", "auto"), _LAYOUTS)
    cache = {} if cache is None else cache
    if path not in cache:
        cache[path] = read_csv_table(path)
    series = read_daily_table(cache[path], layout=layout, products=[product])  # type: ignore[arg-type]
    replay = spec.get("replay", False)
    if not isinstance(replay, bool):
        raise MEIOInputError(f"profile replay must be true or false, got {show(replay)}")
    if replay:
        if kind != "demand":
            raise MEIOInputError("profile replay: only demand series can be replayed in order (lead times use the PMF)")
        try:
            values = replay_values(series[product], target)
        except MEIOInputError as exc:
            raise MEIOInputError(f"product {product!r} of {path}: {exc}") from None
        return DemandSeries(tuple(values), start=spec.get("start", 0), label=f"{product} demand series")
    if "start" in spec:
        raise MEIOInputError("profile start is only for replay: true")
    try:
        pmf = build_profile(series[product], target, kind=kind)
    except MEIOInputError as exc:
        raise MEIOInputError(f"product {product!r} of {path}: {exc}") from None
    return EmpiricalPMF(tuple(pmf), label=f"{product} {kind}")


def build_profiles(
    source: str | os.PathLike[str] | pd.DataFrame | Mapping[str, Any],
    target_mean: float,
    *,
    kind: ProfileKind,
    products: Iterable[str] | None = None,
    layout: Literal["auto", "wide", "long"] = "auto",
    **read_kwargs: Any,
) -> dict[str, np.ndarray]:
    """Build one profile per product: ``{product: pmf}`` (see :func:`build_profile`).

    ``source`` is anything :func:`read_daily_table` reads (a DataFrame or a CSV path, wide or long
    layout) or an already-read mapping ``{product: daily values}``. ``read_kwargs`` go to
    :func:`read_daily_table` (``date_column``, ``product_column``, ``value_column``, ``start``, ``end``).
    Errors name the product they come from.
    """
    _check_kind(kind)
    if isinstance(source, Mapping):
        wanted = list(source) if products is None else [str(p) for p in products]
        missing = [p for p in wanted if p not in source]
        if missing:
            raise MEIOInputError(f"products not in the mapping: {missing}")
        series = {p: source[p] for p in wanted}
    else:
        series = read_daily_table(source, layout=layout, products=products, **read_kwargs)
    out: dict[str, np.ndarray] = {}
    for name, values in series.items():
        try:
            out[name] = build_profile(values, target_mean, kind=kind)
        except MEIOInputError as exc:
            raise MEIOInputError(f"product {name!r} ({kind}): {exc}") from None
    return out


# --------------------------------------------------------------------------------------------------
# Built-in profiles
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BuiltinProfiles:
    """The shipped profiles: ``demand[k]`` and ``lead_time[k]`` are product ``products[k]``'s PMFs.

    PMFs are read-only float64 arrays on ``0..K`` summing to 1. ``provenance`` is the JSON file's
    provenance record (source repository, paths, commits, date ranges, licence, citation).
    """

    demand: tuple[np.ndarray, ...]
    lead_time: tuple[np.ndarray, ...]
    products: tuple[str, ...]
    provenance: dict[str, Any]
    method: dict[str, Any]

    def pmfs(self, kind: ProfileKind) -> tuple[np.ndarray, ...]:
        """``demand`` or ``lead_time``."""
        _check_kind(kind)
        return self.demand if kind == "demand" else self.lead_time


def _builtin_json_text() -> str:
    try:
        from importlib import resources

        return (resources.files("meio_envs") / "data" / "profiles.json").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, TypeError, AttributeError, NotADirectoryError):
        return (Path(__file__).resolve().parent / "data" / "profiles.json").read_text(encoding="utf-8")


def _frozen_pmf(values: Any, label: str) -> np.ndarray:
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise MEIOInputError(f"built-in profile {label}: not a valid PMF")
    total = float(p.sum())
    if abs(total - 1.0) > 1e-9:
        raise MEIOInputError(f"built-in profile {label}: sums to {total!r}, not 1")
    p = p / total  # the file stores 12 significant digits; renormalise the last ulps away
    p.setflags(write=False)
    return p


def parse_profiles_payload(payload: Mapping[str, Any]) -> BuiltinProfiles:
    """Turn the JSON payload (as written by ``benchmarks/regenerate_profiles.py``) into profiles."""
    products = tuple(str(p) for p in payload["products"])
    pmfs = {}
    for kind in _KINDS:
        table = payload[kind]["pmfs"]
        if list(table) != list(products):
            raise MEIOInputError(f"built-in {kind} profiles do not list the products in order {products}")
        pmfs[kind] = tuple(_frozen_pmf(table[p], f"{p} {kind}") for p in products)
    return BuiltinProfiles(
        demand=pmfs["demand"],
        lead_time=pmfs["lead_time"],
        products=products,
        provenance=dict(payload["provenance"]),
        method=dict(payload.get("method", {})),
    )


@functools.cache
def load_builtin_profiles() -> BuiltinProfiles:
    """The 18 demand (mean 10) and 18 lead-time (mean 3) profiles shipped in ``data/profiles.json``."""
    return parse_profiles_payload(json.loads(_builtin_json_text()))


def builtin_distributions(kind: ProfileKind) -> list[EmpiricalPMF]:
    """The built-in profiles of one kind as distributions, labelled e.g. ``"SKU3 demand"``."""
    _check_kind(kind)
    prof = load_builtin_profiles()
    word = "demand" if kind == "demand" else "lead time"
    return [
        EmpiricalPMF(tuple(float(x) for x in pmf), label=f"{name} {word}")
        for name, pmf in zip(prof.products, prof.pmfs(kind))
    ]
