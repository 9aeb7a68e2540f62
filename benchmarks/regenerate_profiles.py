"""Regenerate ``meio_envs/data/profiles.json`` from the raw MABIM extract.

Usage::

    python benchmarks/regenerate_profiles.py [--data-dir DIR] [--output PATH] [--check]

The data directory is, in order of precedence: ``--data-dir``, the environment variable
``MEIO_DATA_DIR``, or ``DEFAULT_DATA_DIR`` (``Path(__file__).parents[2] / "shared" / "data"``, a
folder beside the repository). It must hold the two CSV files:

* ``mabim_sku0-17_demand.csv``: 155 days, 2018-07-01 .. 2018-12-02;
* ``mabim_sku0-17_store1_dynamic_vlt.csv``: 156 days, 2018-07-01 .. 2018-12-03.

Both profiles are built from the same 155 days, 2018-07-01 .. 2018-12-02: the VLT file's extra last
day (2018-12-03) is dropped so that demand and lead time describe the same period (one day of 156
changes a lead-time PMF by at most 1/155 per value).

The output holds only derived PMFs (12 significant digits) and a provenance record, never raw rows.
It is written atomically (temporary file + ``os.replace``). ``--check`` writes nothing and exits 1
when the shipped file differs from what the data gives. ``tests/core/test_profiles.py`` calls
:func:`build_payload` and compares it to the shipped file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from meio_envs.profiles import (  # noqa: E402
    DEMAND_TARGET_MEAN,
    LEAD_TIME_TARGET_MEAN,
    build_profiles,
)

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUTPUT = REPO / "meio_envs" / "data" / "profiles.json"

DEMAND_FILE = "mabim_sku0-17_demand.csv"
VLT_FILE = "mabim_sku0-17_store1_dynamic_vlt.csv"
PRODUCTS = tuple(f"SKU{i}" for i in range(18))
START, END = "2018-07-01", "2018-12-02"
SIGNIFICANT_DIGITS = 12

PROVENANCE: dict[str, Any] = {
    "source": "MABIM: Multi-Agent Benchmark for Inventory Management (ReplenishmentEnv), dataset sku2778",
    "repository": "https://github.com/duc-ph/MABIM",
    "files": [
        {
            "kind": "demand",
            "path": "ReplenishmentEnv/data/sku2778/sku2778.demand.csv",
            "commit": "f62543d3425c15390464fc4896e4f6f3dcbce320",
            "extract": DEMAND_FILE,
            "extract_date_range": ["2018-07-01", "2018-12-02"],
            "note": "NA-filled demand (the source file's first line says it is filled from "
            "sku2778.demand_with_na.csv by the upstream fill_missing step)",
        },
        {
            "kind": "lead_time",
            "path": "ReplenishmentEnv/data/sku2778/sku2778.store1.dynamic_vlt.csv",
            "commit": "b3c2c8f237b3b375eab3127b968aa59fdd99ebfd",
            "extract": VLT_FILE,
            "extract_date_range": ["2018-07-01", "2018-12-03"],
            "note": "dynamic vendor lead time of store 1, in days",
        },
    ],
    "products": list(PRODUCTS),
    "date_range_used": [START, END],
    "days_used": 155,
    "date_range_note": "Both profiles use the same 155 days 2018-07-01..2018-12-02; the VLT extract's "
    "extra last day 2018-12-03 is dropped so the two ranges match.",
    "license": "Apache-2.0",
    "license_note": "The MABIM data is Apache-2.0; meio-envs ships only PMFs derived from it.",
    "citation": "Yang et al. (2023), MABIM: Multi-Agent Benchmark for Inventory Management, "
    "arXiv:2306.07542",
    "generated_by": "benchmarks/regenerate_profiles.py",
}


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir``, else ``$MEIO_DATA_DIR``, else ``DEFAULT_DATA_DIR``."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("MEIO_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


def data_available(data_dir: str | os.PathLike[str]) -> bool:
    """Whether both raw CSV files are in ``data_dir``."""
    d = Path(data_dir)
    return (d / DEMAND_FILE).is_file() and (d / VLT_FILE).is_file()


def _rounded(pmf: Any) -> list[float]:
    return [float(f"{float(x):.{SIGNIFICANT_DIGITS}g}") for x in pmf]


def build_payload(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON payload of ``profiles.json`` built from the raw CSVs in ``data_dir``."""
    d = Path(data_dir)
    if not data_available(d):
        raise FileNotFoundError(f"{d} does not hold {DEMAND_FILE} and {VLT_FILE}")
    demand = build_profiles(
        d / DEMAND_FILE, DEMAND_TARGET_MEAN, kind="demand", products=PRODUCTS,
        layout="wide", start=START, end=END,
    )
    lead = build_profiles(
        d / VLT_FILE, LEAD_TIME_TARGET_MEAN, kind="lead_time", products=PRODUCTS,
        layout="wide", start=START, end=END,
    )
    return {
        "format": "meio-envs/profiles",
        "version": 1,
        "products": list(PRODUCTS),
        "method": {
            "scaling": "x * target_mean / mean(x) over the days used",
            "rounding": "half away from zero (0.5 -> 1, 2.5 -> 3)",
            "lead_time_minimum": 1,
            "lead_time_clipping": "after rounding; the mean can then exceed 3 slightly",
            "pmf": "empirical: share of days with each integer value, on 0..max",
            "significant_digits": SIGNIFICANT_DIGITS,
        },
        "provenance": PROVENANCE,
        "demand": {
            "target_mean": DEMAND_TARGET_MEAN,
            "pmfs": {p: _rounded(demand[p]) for p in PRODUCTS},
        },
        "lead_time": {
            "target_mean": LEAD_TIME_TARGET_MEAN,
            "pmfs": {p: _rounded(lead[p]) for p in PRODUCTS},
        },
    }


def dumps(payload: dict[str, Any]) -> str:
    """The file's text: stable key order, one PMF per line."""
    return json.dumps(payload, indent=1) + "\n"


def write_atomic(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder with the raw CSVs (default: see module doc)")
    ap.add_argument("--output", default=str(DEFAULT_OUTPUT), help="JSON file to write")
    ap.add_argument("--check", action="store_true", help="compare with --output, write nothing")
    args = ap.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    if not data_available(data_dir):
        print(
            f"error: {data_dir} does not hold {DEMAND_FILE} and {VLT_FILE}; "
            "pass --data-dir or set MEIO_DATA_DIR",
            file=sys.stderr,
        )
        return 2
    payload = build_payload(data_dir)
    if args.check:
        shipped = json.loads(Path(args.output).read_text(encoding="utf-8"))
        same = shipped == payload
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from'} {data_dir}")
        return 0 if same else 1
    write_atomic(dumps(payload), args.output)
    print(f"wrote {args.output} from {data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
