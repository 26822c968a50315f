"""Qualified names from a file's own imports: cheap, and enough for what the model asks.

libcst's QualifiedNameProvider needs a full scope analysis, which costs several times the parse
itself. The model only asks "is this expression sqlalchemy.orm.scoped_session?", which the
file's import statements answer. What it gives up: a local variable that shadows an imported
name is still taken for the import.
"""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


class ImportAliases(cst.CSTVisitor):
    """Collects ``local name -> qualified name`` from every import in the file."""

    def __init__(self) -> None:
        super().__init__()
        self.aliases: dict[str, str] = {}

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = name
            else:
                head = name.split(".")[0]
                self.aliases[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
            return
        module = dotted(node.module)
        for alias in node.names:
            name = dotted(alias.name)
            if module is None or name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{name}"


def qualify(node: cst.BaseExpression, aliases: dict[str, str]) -> str | None:
    """`orm.scoped_session` after `from sqlalchemy import orm`: `sqlalchemy.orm.scoped_session`."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head not in aliases:
        return None
    return f"{aliases[head]}.{rest}" if rest else aliases[head]
