"""Griffe extension: show the docstrings' Sphinx roles (``:func:`~sorlib.x.y```) as Markdown code (`y`).

The code's docstrings use reST cross-reference roles; mkdocstrings reads Markdown, where a role would show
as the literal text ``:func:``.  A role with ``~`` shows the last dotted component, as Sphinx does.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|obj|exc|const):`(~?)([^`]+)`")


def _code(m: re.Match) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1]}`" if m.group(1) else f"`{target}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)
