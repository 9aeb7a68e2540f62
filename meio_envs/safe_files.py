"""Strict, bounded parsers for the files users hand to the package: YAML, JSON and CSV.

* YAML is read with a safe loader (plain data only, no Python objects). Aliases are bounded: the
  document is checked as a node graph before any Python object is built, and aliases may add at
  most :data:`~meio_envs.validation.MAX_YAML_ALIAS_NODES` nodes when expanded, so a "billion laughs"
  file of a few hundred bytes fails at once instead of expanding into gigabytes. Recursive
  aliases and duplicate mapping keys are errors too (a repeated key would silently replace the first).
* JSON duplicate keys are errors for the same reason; nesting deeper than the parser's recursion
  limit is an error, not a crash.
* CSV rows must all have as many fields as the header (a ragged row would shift a product's values
  into another product's column); errors name the line.

Every error is a :class:`~meio_envs.validation.MEIOInputError` that names the file and the line,
never the file's content.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from meio_envs.validation import MAX_YAML_ALIAS_NODES, MEIOInputError

__all__ = ["parse_csv", "parse_json", "parse_yaml"]


# --------------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------------


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml also caps the nesting depth


def _no_content(problem: str | None) -> str:
    """PyYAML's problem text with quoted file content replaced by '...' (token names like '<scalar>' stay)."""
    if not problem:
        return "syntax error"
    return re.sub(r"'(?!<[a-z ]+>')[^']*'", "'...'", problem)


def _check_node_graph(root: Any, where: str, limit: int) -> None:
    """Refuse recursive aliases, duplicate keys, and aliases that expand by more than ``limit`` nodes.

    The composed graph shares one node object per anchor, so the expanded size of the document is
    a sum over a DAG, computed iteratively with memoisation in time linear in the file.
    """
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.MappingNode):
            return [x for kv in node.value for x in kv]
        return []

    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            size[nid] = min(1 + sum(size[id(c)] for c in children(node)), 2**62)
            continue
        if nid in size:
            continue
        on_path.add(nid)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode):
                    line = k.start_mark.line + 1
                    if k.value in seen:
                        raise MEIOInputError(
                            f"{where}: line {line} repeats the mapping key of line {seen[k.value]}; "
                            "every key may appear once"
                        )
                    seen[k.value] = line
        for c in children(node):
            if id(c) in on_path:
                raise MEIOInputError(
                    f"{where}: line {c.start_mark.line + 1}: a recursive alias (an anchor used inside "
                    "itself); networks are plain trees of data"
                )
            if id(c) not in size:
                stack.append((c, False))
    distinct = len(size)
    expanded = size[id(root)]
    if expanded - distinct > limit:
        raise MEIOInputError(
            f"{where}: YAML aliases may add at most {limit} nodes when expanded, these add "
            f"{expanded - distinct}; write the data out or use fewer nested aliases"
        )


def parse_yaml(source: str, where: str, *, alias_limit: int = MAX_YAML_ALIAS_NODES) -> Any:
    """Plain data of one YAML document, with aliases bounded (see the module docstring)."""
    import yaml

    loader = _yaml_loader()(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_node_graph(node, where, alias_limit)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise MEIOInputError(f"{where}: not valid YAML{at} ({_no_content(exc.problem)})") from None
    except yaml.YAMLError as exc:
        raise MEIOInputError(f"{where}: not valid YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise MEIOInputError(f"{where}: YAML nested too deeply") from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------


def parse_json(source: str, where: str) -> Any:
    """Plain data of a JSON document; duplicate keys and excessive nesting are errors."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise MEIOInputError(f"{where}: a JSON object repeats a key; every key may appear once")
            out[k] = v
        return out

    try:
        return json.loads(source, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise MEIOInputError(f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise MEIOInputError(f"{where}: JSON nested too deeply") from None


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------


def parse_csv(source: str, where: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the file line of each row of a comma-separated table.

    Leading lines starting with ``#`` and empty lines are skipped (the MABIM files have both). The
    header's names are stripped of surrounding spaces and must be non-empty and distinct; every
    row must have exactly as many fields as the header.
    """
    reader = csv.reader(io.StringIO(source, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for rec in reader:
            line, start = start, reader.line_num + 1  # a quoted field may span several lines
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if header is None:
                if rec[0].lstrip().startswith("#"):
                    continue
                header, header_line = [c.strip() for c in rec], line
                _check_header(header, where, line)
                continue
            if len(rec) != len(header):
                raise MEIOInputError(
                    f"{where}: line {line} has {len(rec)} fields but the header (line {header_line}) "
                    f"has {len(header)}; every row needs one value per column"
                )
            rows.append(rec)
            lines.append(line)
    except csv.Error as exc:
        raise MEIOInputError(f"{where}: line {reader.line_num}: malformed CSV ({exc})") from None
    if header is None:
        raise MEIOInputError(f"{where}: no header line; the first line must name the columns")
    return header, rows, lines


def _check_header(header: list[str], where: str, line: int) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            raise MEIOInputError(f"{where}: line {line} (the header): column {i} has no name")
        if name in seen:
            raise MEIOInputError(
                f"{where}: line {line} (the header): columns {seen[name]} and {i} have the same name"
            )
        seen[name] = i
