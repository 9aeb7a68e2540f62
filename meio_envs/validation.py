"""One validation layer for every input boundary of the package.

Network dicts and files, distributions, CSV profiles, scenario arguments, ``CostVariation`` and
the simulation parameters all check their inputs with the helpers here, so the rules are written
once: exact types (``True`` is not an integer, ``1.5`` is not an integer, ``"50"`` is not a
number), finite values, documented ranges with upper limits, bounded file sizes. Every failure is
a :class:`MEIOInputError` (a ``ValueError``) whose message names the field, the value and what is
allowed, and never quotes the content of a file.

The limits below keep every integer of the simulator exact: over ``MAX_EPISODE_LENGTH`` periods a
network at every limit moves fewer than ``2**53`` units, so the int64 state and the float64 costs
computed from it are exact (see :func:`units_bound` and docs/reliability.md).
"""

from __future__ import annotations

import math
import os
import reprlib
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_BASE_STOCK",
    "MAX_COST_FACTOR",
    "MAX_CSV_BYTES",
    "MAX_DEMAND",
    "MAX_EPISODE_LENGTH",
    "MAX_IP_BOUND",
    "MAX_LEAD_TIME",
    "MAX_MIXED_POISSON_MEAN",
    "MAX_NAME_LENGTH",
    "MAX_NETWORK_FILE_BYTES",
    "MAX_ORDER",
    "MAX_POISSON_MEAN",
    "MAX_STOCK_POINTS",
    "MAX_SUPPLIERS",
    "MAX_SUPPORT",
    "MAX_UNIT_COST",
    "MAX_YAML_ALIAS_NODES",
    "MEIOFileNotFoundError",
    "MEIOInputError",
    "choice",
    "confined_path",
    "exact_int",
    "finite_float",
    "int_array",
    "range_pair",
    "read_text_file",
    "seed_value",
    "show",
    "text",
    "units_bound",
]

# --------------------------------------------------------------------------------------------------
# Limits (documented in docs/reliability.md; tests/core/test_validation.py checks they fit 2**53)
# --------------------------------------------------------------------------------------------------

MAX_STOCK_POINTS = 10_000
MAX_SUPPLIERS = 32  # suppliers of one stock point
MAX_ORDER = 1_000_000  # units per order
MAX_BASE_STOCK = 1_000_000_000  # initial on-hand units per stock point
MAX_EPISODE_LENGTH = 100_000  # periods
MAX_SUPPORT = 100_000  # largest value of any distribution (its PMF has at most this + 1 entries)
MAX_DEMAND = MAX_SUPPORT  # largest demand of one retailer in one period
MAX_LEAD_TIME = 1_000  # periods; sets the pipeline ring buffer (B, P, MAX_LEAD_TIME + 1)
MAX_POISSON_MEAN = 10_000.0  # Poisson mean; its 1e-12 tail ends near 10,700
MAX_MIXED_POISSON_MEAN = 1_000  # high of PoissonUniformMean: one Poisson PMF per mean (0.1 s at the limit)
MAX_UNIT_COST = 1e6  # holding, backorder, fixed and unit ordering costs
MAX_COST_FACTOR = 100.0  # upper end of a CostVariation range
MAX_IP_BOUND = 1e12  # |ip_bounds| entries
MAX_NAME_LENGTH = 200  # characters of a stock point or network name
MAX_NETWORK_FILE_BYTES = 16 * 2**20
MAX_CSV_BYTES = 64 * 2**20
MAX_YAML_ALIAS_NODES = 100_000  # nodes that YAML aliases may add when expanded
EXACT_UNITS = 2**53  # below this, int64 units convert to float64 exactly


class MEIOInputError(ValueError):
    """Bad input to the package: the message names the field, the value and what is allowed."""


class MEIOFileNotFoundError(MEIOInputError, FileNotFoundError):
    """A named input file does not exist (also a ``FileNotFoundError``)."""


def units_bound(num_nodes: int, periods: int, max_order: float, max_demand: float, base_stock: float) -> int:
    """Most units a network can hold or owe after ``periods`` periods from its initial stock.

    Every unit enters through an external order (at most ``max_order`` per node and period) or
    the initial stock, and every owed unit is market demand (at most ``max_demand`` per retailer
    and period) or an internal order, so no int64 of the state exceeds this in absolute value.
    """
    per_period = num_nodes * (int(max_order) + int(max_demand))
    return int(periods) * per_period + num_nodes * int(base_stock)


# --------------------------------------------------------------------------------------------------
# Showing values in messages
# --------------------------------------------------------------------------------------------------

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def show(value: Any) -> str:
    """A short, bounded repr of ``value`` with its type where the type matters (``True (bool)``)."""
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} (bool)"
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value)!r}"
    if isinstance(value, str):
        return f"{_REPR.repr(value)} (str)"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    try:
        return f"{_REPR.repr(value)} ({type(value).__name__})"
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not hide the real error
        return f"a {type(value).__name__}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


# --------------------------------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------------------------------


def _int_allowed(lo: int, hi: int) -> str:
    if lo == 1:
        return f"a positive integer <= {_fmt(hi)}"
    if lo == 0:
        return f"a non-negative integer <= {_fmt(hi)}"
    return f"an integer in [{_fmt(lo)}, {_fmt(hi)}]"


def exact_int(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int if it is an integer (not a bool, float or string) in ``[lo, hi]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise MEIOInputError(f"{name} must be {_int_allowed(lo, hi)}, got {show(value)}")
    v = int(value)
    if not lo <= v <= hi:
        raise MEIOInputError(f"{name} must be {_int_allowed(lo, hi)}, got {show(v)}")
    return v


def finite_float(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """``value`` as a float if it is a real number (int or float, not a bool or string) in range.

    The range is ``[lo, hi]``, or ``(lo, hi]`` with ``lo_open``.
    """
    allowed = f"a finite number {'>' if lo_open else '>='} {_fmt(lo)} and <= {_fmt(hi)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float range
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}") from None
    if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}")
    return v


def text(name: str, value: Any, max_length: int = MAX_NAME_LENGTH) -> str:
    """``value`` if it is a non-empty string of at most ``max_length`` characters without NUL."""
    if not isinstance(value, str) or not value or len(value) > max_length or "\x00" in value:
        raise MEIOInputError(
            f"{name} must be a non-empty string of at most {max_length} characters, got {show(value)}"
        )
    return value


def choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise MEIOInputError(f"{name} must be one of {list(allowed)}, got {show(value)}")
    return value


def range_pair(name: str, value: Any, lo: float, hi: float) -> tuple[float, float]:
    """A ``(low, high)`` pair of finite numbers with ``lo <= low <= high <= hi``."""
    allowed = f"a pair (low, high) of finite numbers with {_fmt(lo)} <= low <= high <= {_fmt(hi)}"
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or len(value) != 2:
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}")
    a = finite_float(f"{name}[0]", value[0], lo, hi)
    b = finite_float(f"{name}[1]", value[1], lo, hi)
    if a > b:
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)} (low > high)")
    return a, b


def field_mapping(name: str, value: Any, fields: Sequence[str]) -> Mapping[str, Any]:
    """``value`` if it is a mapping whose keys are all in ``fields``, else a MEIOInputError naming them."""
    if not isinstance(value, Mapping):
        raise MEIOInputError(f"{name} must be a mapping with fields {list(fields)}, got {show(value)}")
    unknown = sorted(str(k) for k in value if k not in fields)
    if unknown:
        raise MEIOInputError(f"{name}: unknown fields {unknown}; allowed: {list(fields)}")
    return value


def seed_value(name: str, value: Any, copies: int = 1) -> int:
    """A reset seed: an integer with ``0 <= seed`` and ``seed + copies - 1`` inside int64.

    Copy i of a batch is keyed by ``seed + i`` (the Gymnasium convention), so the last copy's
    key must still fit in int64.
    """
    return exact_int(name, value, 0, 2**63 - int(copies))


# --------------------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------------------


def int_array(name: str, value: Any, shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    """An int64 array of ``shape`` with every entry an integer in ``[lo, hi]``.

    Integer arrays and float arrays whose entries are whole numbers are accepted (levels are often
    computed in floats); booleans, fractions, NaN and non-numeric entries are not.
    """
    allowed = f"{shape[0] if len(shape) == 1 else shape} integers in [{_fmt(lo)}, {_fmt(hi)}]"
    if isinstance(value, (str, bytes)):
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}")
    if isinstance(value, Sequence):  # np.asarray would turn True into 1 and mix in strings
        bad_item = next((x for x in value if isinstance(x, (bool, np.bool_)) or not isinstance(
            x, (int, float, np.integer, np.floating))), None)
        if bad_item is not None or any(isinstance(x, int) and abs(x) >= 2**63 for x in value):
            raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise MEIOInputError(f"{name} must be {allowed}, got {show(value)}") from None
    if arr.shape != shape or arr.dtype.kind not in "iuf":
        raise MEIOInputError(f"{name} must be {allowed}, got {show(arr)}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr) | (arr != np.floor(arr)))[0])
            raise MEIOInputError(f"{name} must be {allowed}, got {show(arr.flat[bad])} at index {bad}")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = int(np.flatnonzero((arr < lo) | (arr > hi))[0])
        raise MEIOInputError(f"{name} must be {allowed}, got {show(arr.flat[bad])} at index {bad}")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def confined_path(
    name: str, value: Any, base_dir: str | os.PathLike[str] | None, *, allow_outside: bool = False
) -> Path:
    """The resolved path of ``value`` (relative to ``base_dir``), which must stay inside ``base_dir``.

    ``base_dir`` None means the working directory. Symlinks are resolved first, so neither
    ``../..`` nor a link can reach a file elsewhere; ``allow_outside=True`` is the explicit opt-in
    for data kept in another folder.
    """
    raw = text(name, value, max_length=4096)
    base = Path.cwd() if base_dir is None else Path(base_dir)
    try:
        base = base.resolve()
        p = Path(raw)
        resolved = (p if p.is_absolute() else base / p).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, an unreadable folder
        raise MEIOInputError(f"{name} {raw!r} cannot be resolved ({type(exc).__name__})") from None
    if not allow_outside and not resolved.is_relative_to(base):
        raise MEIOInputError(
            f"{name} {raw!r} resolves outside the network's folder {base}; allowed: files in that "
            "folder or below it (pass allow_outside_base_dir=True to read data kept elsewhere)"
        )
    return resolved


def read_text_file(path: str | os.PathLike[str], *, max_bytes: int, what: str) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` bytes.

    Devices, pipes and folders are refused before they are opened (``/dev/zero`` never ends, a
    FIFO blocks), and at most ``max_bytes + 1`` bytes are read, so a file that grows while it is
    read cannot exhaust memory either. Errors name the path and the limit, never the content.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MEIOFileNotFoundError(f"{what} not found: {p}") from None
    except (OSError, ValueError) as exc:  # permissions, a NUL in the path, a name too long
        raise MEIOInputError(f"{what} {p} cannot be read ({type(exc).__name__})") from None
    if not stat.S_ISREG(st.st_mode):
        raise MEIOInputError(f"{what} {p} is not a regular file; give the path of a file")
    if st.st_size > max_bytes:
        raise MEIOInputError(f"{what} {p} has {st.st_size} bytes; the limit is {max_bytes} bytes")
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise MEIOInputError(f"{what} {p} cannot be read ({type(exc).__name__})") from None
    if len(data) > max_bytes:
        raise MEIOInputError(f"{what} {p} has more than {max_bytes} bytes; the limit is {max_bytes} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MEIOInputError(f"{what} {p} is not UTF-8 text (bad byte at offset {exc.start})") from None

