"""Planning one function's body for steps 3 and 4: every use of the session read, legacy
calls through ``adapt()``, what else the function runs checked, responses validated in the
bridge."""

from __future__ import annotations

import ast
from collections.abc import Callable

from asyncshift.model import types as t
from asyncshift.model.records import CallFact, Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, Use, inside_nested, own_nodes, parents, read_body
from ._files import source_of
from ._legacy import legacy_call
from ._plans import Plan


def plan_body(
    model: RepoModel,
    path: str,
    frame: Frame,
    node: ast.FunctionDef,
    plan: Plan,
    sessions: list[str],
    binders: frozenset[ast.AST] = frozenset(),
    hand_off: Callable[[Use], bool] | None = None,
) -> None:
    """Add the body's rewrites to ``plan``, or the reason it stays. ``hand_off`` takes the
    session uses it rewrites itself (thread hand-offs in step 4) and says so."""
    positions = Positions(source_of(model, path))
    reading = read_body(node, set(sessions), positions, binders)
    if reading.problem is not None:
        plan.refuse(*reading.problem)
        return
    plan.rewrites += reading.rewrites
    for use in reading.passed:
        if hand_off is None or not hand_off(use):
            legacy_call(model, path, frame, node, use, reading.bound, plan, positions)
        plan.adapted.add((use.call.lineno, use.call.col_offset))
    if plan.problem is None:
        effects(model, path, frame, sessions, plan, positions)
    if plan.problem is None and plan.role == "endpoint":
        validated_returns(model, path, node, plan, positions)


def effects(
    model: RepoModel,
    path: str,
    frame: Frame,
    sessions: list[str],
    plan: Plan,
    positions: Positions,
) -> None:
    summary = model.sessions.summary(path, frame)
    for effect, what in (
        (summary.blocking, "non-database blocking work"),
        (summary.file_io, "file I/O"),
    ):
        if effect is not None:
            plan.refuse(effect.call.line, f"{what} ({effect.what}) would block the event loop")
            return
    if summary.loop is not None:
        plan.refuse(summary.loop.call.line, f"runs an event loop ({summary.loop.what})")
        return
    for op in summary.ops:
        receiver = op.call.expr[1][1]
        if op.io and not (receiver[0] == "n" and receiver[1] in sessions and op.kind == t.SYNC):
            plan.refuse(
                op.call.line,
                f"sync database I/O outside the request's session ({op.receiver}.{op.method}) "
                "would block the event loop",
            )
            return
    for call, callee in summary.callees:
        if call.deferred or _is_adapted(call, plan.adapted, positions.lines):
            continue
        for leaf, what in (
            ("sync_io", "sync database I/O"),
            ("blocking", "non-database blocking work"),
            ("file_io", "file I/O"),
            ("loop", "an event loop"),
        ):
            chain = model.sessions.chain(callee, leaf)
            if chain:
                plan.refuse(call.line, f"reaches {what}: {' -> '.join(chain)}")
                return


def _is_adapted(call: CallFact, adapted: set[tuple[int, int]], lines: list[str]) -> bool:
    text = lines[call.line - 1] if 0 < call.line <= len(lines) else ""
    offset = len(text[: call.col - 1].encode("utf-8"))
    return (call.line, offset) in adapted


# -- response models ------------------------------------------------------------------------------


def validated_returns(
    model: RepoModel, path: str, node: ast.FunctionDef, plan: Plan, positions: Positions
) -> None:
    """Every ``return value`` of an endpoint with a response model: validated in the bridge,
    so relationships the response model reads load through the async driver."""
    source = source_of(model, path)
    response_model = _response_model(node, source)
    if response_model is None:
        return
    up = parents(node)
    for statement in own_nodes(node):
        if not isinstance(statement, ast.Return) or statement.value is None:
            continue
        if isinstance(statement.value, ast.Constant) and statement.value.value is None:
            continue
        if inside_nested(statement, up, node):
            continue
        plan.rewrites.append(positions.rewrite(statement.value, "validate", response_model))
        plan.imports.add(("asyncshift", "validate_in_bridge"))


def _response_model(node: ast.FunctionDef, source: str) -> str | None:
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        if decorator.func.attr not in t.ROUTE_METHODS:
            continue
        for keyword in decorator.keywords:
            if keyword.arg == "response_model":
                if isinstance(keyword.value, ast.Constant) and keyword.value.value is None:
                    return None
                return ast.get_source_segment(source, keyword.value)
    if node.returns is None:
        return None
    if isinstance(node.returns, ast.Constant):
        return None  # a string annotation: its names may exist only for type checkers
    return ast.get_source_segment(source, node.returns)
