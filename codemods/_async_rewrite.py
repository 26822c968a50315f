"""Apply step 3's planned rewrites to one file in one libcst pass.

Rewrites are found by the exact range Python's parser gave the expression (libcst's positions
exclude parentheses, as ``ast``'s do); several rewrites of one range apply inner first.
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider

from ._async_body import Position, Rewrite

_ORDER = {
    "async-with": 0, "replace": 0, "adapt-new": 1, "adapt": 1,
    "await": 2, "bridge": 2, "validate": 3,
}  # fmt: skip


def rewrite_module(
    module: cst.Module, functions: Iterable[str], rewrites: Iterable[Rewrite]
) -> cst.Module:
    by_range: dict[tuple[Position, Position], list[Rewrite]] = {}
    for rewrite in rewrites:
        by_range.setdefault((rewrite.start, rewrite.end), []).append(rewrite)
    for found in by_range.values():
        found.sort(key=lambda r: _ORDER[r.kind])
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.visit(_Rewriter(set(functions), by_range))


def _parenthesized(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Await) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _adapt(func: cst.BaseExpression, session_param: str) -> cst.Call:
    args = [cst.Arg(func)]
    if session_param:
        args.append(
            cst.Arg(
                cst.SimpleString(f'"{session_param}"'),
                keyword=cst.Name("session_param"),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""),
                    whitespace_after=cst.SimpleWhitespace(""),
                ),
            )
        )
    return cst.Call(cst.Name("adapt"), args)


def _apply(rewrite: Rewrite, node: cst.BaseExpression) -> cst.BaseExpression:
    if rewrite.kind == "replace":
        return cst.parse_expression(rewrite.text).with_changes(lpar=node.lpar, rpar=node.rpar)
    if rewrite.kind == "await":
        return cst.Await(node)
    if rewrite.kind in ("adapt", "adapt-new"):
        assert isinstance(node, cst.Call)
        made = node.with_changes(func=_adapt(node.func, rewrite.text))
        return cst.Await(made) if rewrite.kind == "adapt" else made
    if rewrite.kind == "bridge":
        session = rewrite.text
        lambda_ = cst.Lambda(
            cst.Parameters([cst.Param(cst.Name(session))]),
            node.with_changes(lpar=[], rpar=[]) if isinstance(node, cst.Call) else node,
        )
        run_sync = cst.Attribute(cst.Name(session), cst.Name("run_sync"))
        return cst.Await(cst.Call(run_sync, [cst.Arg(lambda_)]), lpar=node.lpar, rpar=node.rpar)
    if rewrite.kind == "validate":
        model = cst.parse_expression(rewrite.text)
        return cst.Await(
            cst.Call(
                cst.Name("validate_in_bridge"),
                [
                    cst.Arg(model, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    cst.Arg(node),
                ],
            )
        )
    raise AssertionError(rewrite.kind)


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(
        self, functions: set[str], by_range: dict[tuple[Position, Position], list[Rewrite]]
    ) -> None:
        super().__init__()
        self.functions = functions
        self.by_range = by_range
        self.prefix: list[str] = []

    def _qualname(self, name: str) -> str:
        return "".join(self.prefix) + name

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.prefix.append(node.name.value + ".")

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.prefix.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.prefix.append(node.name.value + ".<locals>.")

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.prefix.pop()
        if self._qualname(original.name.value) in self.functions and updated.asynchronous is None:
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated

    def _planned(self, original: cst.CSTNode) -> list[Rewrite]:
        span = self.get_metadata(PositionProvider, original, None)
        if not isinstance(span, CodeRange):
            return []
        key = ((span.start.line, span.start.column), (span.end.line, span.end.column))
        return self.by_range.get(key, [])

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        if any(r.kind == "async-with" for r in self._planned(original)):
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        result = super().on_leave(original, updated)
        if not isinstance(original, cst.BaseExpression) or not isinstance(
            result, cst.BaseExpression
        ):
            return result  # type: ignore[return-value]
        # `await` binds looser than `.attr`, `[i]` and `(...)`: a continued chain needs parens.
        if isinstance(result, cst.Attribute | cst.Subscript):
            result = result.with_changes(value=_parenthesized(result.value))
        elif isinstance(result, cst.Call):
            result = result.with_changes(func=_parenthesized(result.func))
        for rewrite in self._planned(original):
            result = _apply(rewrite, result)
        return result
