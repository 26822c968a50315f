"""The repository's Python files as step 3 and 4 read them: text, syntax trees and functions,
shared through the model's memo so each file is read and parsed once per run."""

from __future__ import annotations

import ast
from pathlib import Path

from asyncshift.model.exprs import Expr
from asyncshift.model.exprs import dotted as expr_dotted
from asyncshift.model.records import CallFact, Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, dotted


def source_of(model: RepoModel, path: str) -> str:
    sources = model.memo.setdefault("sources", {})
    assert isinstance(sources, dict)
    if path not in sources:
        sources[path] = Path(path).read_text(encoding="utf-8")
    return str(sources[path])


def _trees(model: RepoModel) -> dict[str, ast.Module]:
    trees = model.memo.setdefault("trees", {})
    assert isinstance(trees, dict)
    return trees


def function_node(
    model: RepoModel, path: str, qualname: str, async_too: bool = False
) -> ast.FunctionDef | None:
    """The function's node; ``async def`` ones only when asked (typed alike: same fields)."""
    trees = _trees(model)
    if path not in trees:
        trees[path] = ast.parse(source_of(model, path))
    found: ast.FunctionDef | None = None

    def walk(body: list[ast.stmt], prefix: str) -> None:
        nonlocal found
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + node.name
                if name == qualname and (async_too or isinstance(node, ast.FunctionDef)):
                    found = node  # type: ignore[assignment]
                walk(node.body, name + ".<locals>.")
            elif isinstance(node, ast.ClassDef):
                walk(node.body, prefix + node.name + ".")
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        walk([child], prefix)

    walk(trees[path].body, "")
    return found


def expr_of(node: ast.expr) -> Expr:
    """The model's expression tuple for a name or dotted attribute."""
    if isinstance(node, ast.Name):
        return ("n", node.id)
    if isinstance(node, ast.Attribute):
        return ("a", expr_of(node.value), node.attr)
    return ("?",)


def fact_for(frame: Frame, call: ast.Call, positions: Positions) -> CallFact | None:
    """The model's record of ``call``: same place, same callee as written, same arity."""
    line, col = positions.start(call)
    written = dotted(call.func)
    for fact in frame.calls:
        same_place = fact.line == line and fact.col == col + 1
        if (
            same_place
            and expr_dotted(fact.expr[1]) == written
            and len(fact.expr[2]) == len(call.args)
        ):
            return fact
    return None
