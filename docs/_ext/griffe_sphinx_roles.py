"""Griffe extension for the docs site: Sphinx roles in docstrings become cross-references.

The docstrings name other objects the Sphinx way (``:class:`~meio_envs.envs.single.MEIOEnv```,
``:func:`evaluate```). mkdocstrings does not read roles, so this extension rewrites each one into an
autorefs reference before the docstrings are rendered: a link when the target has an API page,
plain code (with the full name as a tooltip) when it has none, and never a build warning. A
relative name (``Args``) is resolved in the scope of the object whose docstring it is in. A reST
``text::`` before an indented example loses its second colon (Markdown shows the block as code).
Loaded by mkdocs.yml (``extensions``) only when the site is built; the packages never import it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`<>]+)`")
LITERAL = re.compile(r"(?<=\S)::$", re.M)  # reST "text::" before an indented block: Markdown shows "text:"


def _full_name(obj: griffe.Object, target: str) -> str:
    target = target.strip().removesuffix("()")
    head, _, rest = target.partition(".")
    try:
        resolved = obj.resolve(head)
    except Exception:  # not in scope: take the name as written (an absolute path)
        return target
    return f"{resolved}.{rest}" if rest else resolved


def _rewrite(obj: griffe.Object) -> None:
    doc = obj.docstring
    if doc is not None and ":" in doc.value:
        def link(m: re.Match[str]) -> str:
            full = _full_name(obj, m["target"])
            title = full.rsplit(".", 1)[-1] if m["tilde"] else m["target"].strip()
            return f'<autoref identifier="{full}" optional hover><code>{title}</code></autoref>'

        doc.value = LITERAL.sub(":", ROLE.sub(link, doc.value))
    for member in obj.members.values():
        if not member.is_alias:
            _rewrite(member)


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring in a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # griffe >= 2
        _rewrite(pkg)

    def on_package_loaded(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # griffe 1.x
        _rewrite(pkg)
