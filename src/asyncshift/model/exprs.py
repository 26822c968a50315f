"""Expressions as small picklable tuples: what a value was built from, to be typed after the merge.

The per-file pass cannot know what a name means (it may be imported from a file not read yet),
so it records the shape of each interesting expression, and the repository model types it once
every file is known. The forms:

    ("n", name)                      a name
    ("a", base, attr)                an attribute read
    ("c", func, args, kwargs)        a call; args a tuple of Expr, kwargs a tuple of (name, Expr);
                                     ("*",) in args stops positional binding (a *splat)
    ("aw", expr)                     await expr
    ("s", base, items)               a subscript (annotations: Annotated[...], list[...])
    ("str", text) / ("num", n) / ("none",) / ("k",)   literals (("k",): any other constant)
    ("list", items)                  a list or tuple display
    ("union", items)                 `a | b` in annotations, `x if c else y`, `a or b`
    ("enter", expr, is_async)        the target of `with expr as name`
    ("iter", expr)                   the target of `for name in expr`
    ("def", qualname)                a function or class defined in the enclosing body
    ("imp", level, module, name)     an import (name None: the module itself)
    ("?",)                           anything else: never typed, never guessed
"""

from __future__ import annotations

import ast
from typing import Any

Expr = tuple[Any, ...]
UNKNOWN: Expr = ("?",)
MAX_CHAIN = 60  # attribute/call chains longer than this are not worth typing


def to_expr(node: ast.expr | None, depth: int = 0) -> Expr:
    if node is None or depth > MAX_CHAIN:
        return UNKNOWN
    deeper = depth + 1
    if isinstance(node, ast.Name):
        return ("n", node.id)
    if isinstance(node, ast.Attribute):
        return ("a", to_expr(node.value, deeper), node.attr)
    if isinstance(node, ast.Call):
        args = tuple(
            ("*",) if isinstance(arg, ast.Starred) else to_expr(arg, deeper) for arg in node.args
        )
        kwargs = tuple((k.arg, to_expr(k.value, deeper)) for k in node.keywords if k.arg)
        if any(k.arg is None for k in node.keywords):
            kwargs += (("**", UNKNOWN),)
        return ("c", to_expr(node.func, deeper), args, kwargs)
    if isinstance(node, ast.Await):
        return ("aw", to_expr(node.value, deeper))
    if isinstance(node, ast.Subscript):
        index = node.slice
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        return ("s", to_expr(node.value, deeper), tuple(to_expr(i, deeper) for i in items))
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return ("str", value)
        if value is None:
            return ("none",)
        if isinstance(value, bool):
            return ("n", str(value))  # compared as written: ("n", "True")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return ("num", value)
        return ("k",)
    if isinstance(node, ast.List | ast.Tuple):
        return ("list", tuple(to_expr(e, deeper) for e in node.elts))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return ("union", (to_expr(node.left, deeper), to_expr(node.right, deeper)))
    if isinstance(node, ast.IfExp):
        return ("union", (to_expr(node.body, deeper), to_expr(node.orelse, deeper)))
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return ("union", tuple(to_expr(v, deeper) for v in node.values))
    if isinstance(node, ast.NamedExpr):
        return to_expr(node.value, deeper)
    return UNKNOWN


def annotation_expr(node: ast.expr | None) -> Expr | None:
    """Annotations may be strings (forward references): parse them as expressions."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value.strip(), mode="eval")
        except SyntaxError:
            return UNKNOWN
        return annotation_expr(parsed.body)
    converted = to_expr(node)
    return _unquote(converted)


def _unquote(expr: Expr) -> Expr:
    """`list["Item"]`, `Mapped["User"]`: the strings inside an annotation are names too."""
    kind = expr[0]
    if kind == "str":
        try:
            parsed = ast.parse(expr[1].strip(), mode="eval")
        except SyntaxError:
            return UNKNOWN
        return to_expr(parsed.body)
    if kind == "s":
        return ("s", _unquote(expr[1]), tuple(_unquote(i) for i in expr[2]))
    if kind == "union":
        return ("union", tuple(_unquote(i) for i in expr[1]))
    return expr


def dotted(expr: Expr) -> str | None:
    """("a", ("n", "orm"), "Session") -> "orm.Session"."""
    if expr[0] == "n":
        return str(expr[1])
    if expr[0] == "a":
        head = dotted(expr[1])
        return f"{head}.{expr[2]}" if head else None
    return None


def call_arg(call: Expr, position: int, keyword: str) -> Expr | None:
    """The argument given at ``position`` or as ``keyword=``; None if not given."""
    args, kwargs = call[2], call[3]
    for name, value in kwargs:
        if name == keyword:
            return value  # type: ignore[no-any-return]
    if position < len(args) and all(a != ("*",) for a in args[: position + 1]):
        return args[position]  # type: ignore[no-any-return]
    return None
