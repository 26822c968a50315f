"""One sync function's body, read for step 3: every use of its session, sorted into what can
become async and what cannot.

The reading is syntactic (Python's own ``ast``), the meaning comes from the repository model:
which function a call reaches, what a value is. A use of the session that fits no known shape
refuses the whole function; nothing is half-converted.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

Position = tuple[int, int]  # (line, 0-based column in characters), as libcst counts
Kind = Literal["await", "adapt", "adapt-new", "bridge", "validate", "replace", "async-with"]

# AsyncSession methods that are coroutines with the sync method's meaning.
AWAITED = {
    "execute", "scalar", "scalars", "get", "get_one", "commit", "flush", "refresh", "delete",
    "merge", "rollback", "exec",
}  # fmt: skip
# Methods AsyncSession keeps sync (no I/O): the same call works unchanged.
KEPT = {"add", "add_all", "expunge", "expunge_all", "expire", "expire_all", "is_modified"}
ATTRIBUTES = {"info", "bind", "dirty", "new", "deleted", "identity_map", "is_active"}
# The methods that end a legacy Query chain with its rows (or its count, or its DML).
QUERY_TERMINALS = {
    "all", "first", "one", "one_or_none", "scalar", "count", "get", "delete", "update",
}  # fmt: skip


@dataclass(frozen=True)
class Rewrite:
    start: Position
    end: Position
    kind: Kind
    text: str = ""


@dataclass
class Use:
    """A call that takes the session as an argument: the model decides what it reaches."""

    call: ast.Call
    session: str
    index: int | None  # passed by position; None: by keyword


@dataclass
class BodyReading:
    rewrites: list[Rewrite] = field(default_factory=list)
    passed: list[Use] = field(default_factory=list)  # legacy calls given the session
    bound: dict[str, ast.Call] = field(default_factory=dict)  # repo = Repository(db)
    problem: tuple[int, str] | None = None

    def refuse(self, line: int, reason: str) -> None:
        if self.problem is None:
            self.problem = (line, reason)


class Positions:
    """ast's byte columns to libcst's character columns."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()

    def _col(self, line: int, offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return offset
        return len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))

    def start(self, node: ast.expr | ast.stmt) -> Position:
        return node.lineno, self._col(node.lineno, node.col_offset)

    def end(self, node: ast.expr | ast.stmt) -> Position:
        line = node.end_lineno or node.lineno
        return line, self._col(line, node.end_col_offset or 0)

    def rewrite(self, node: ast.expr, kind: Kind, text: str = "") -> Rewrite:
        return Rewrite(self.start(node), self.end(node), kind, text)


def parents(function: ast.AST) -> dict[ast.AST, ast.AST]:
    found: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(function):
        for child in ast.iter_child_nodes(node):
            found[child] = node
    return found


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def own_nodes(function: ast.FunctionDef) -> list[ast.AST]:
    """The function body's nodes, nested functions, lambdas and classes included (their use of
    the session is found and refused by the reader)."""
    found: list[ast.AST] = []
    for statement in function.body:
        found.extend(ast.walk(statement))
    return found


def inside_nested(node: ast.AST, up: dict[ast.AST, ast.AST], function: ast.AST) -> bool:
    current = up.get(node)
    while current is not None and current is not function:
        if isinstance(current, _NESTED):
            return True
        current = up.get(current)
    return False


def dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def read_body(
    function: ast.FunctionDef,
    sessions: set[str],
    positions: Positions,
    binders: frozenset[ast.AST] = frozenset(),
) -> BodyReading:
    """Sort every use of the ``sessions`` in ``function``'s body; ``binders`` are the names
    that bind them (``with SessionLocal() as db``), the only stores allowed."""
    reading = BodyReading()
    up = parents(function)
    nodes = own_nodes(function)
    for node in nodes:
        if node in binders:
            continue
        stored = isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
        if stored and isinstance(node, ast.Name) and node.id in sessions:
            reading.refuse(node.lineno, f"the session `{node.id}` is rebound in the function")
        if isinstance(node, (ast.Global, ast.Nonlocal)) and set(node.names) & sessions:
            reading.refuse(node.lineno, "the session's name is declared global/nonlocal")
    for node in nodes:
        if node in binders or not (isinstance(node, ast.Name) and node.id in sessions):
            continue
        if inside_nested(node, up, function):
            reading.refuse(
                node.lineno,
                f"the session `{node.id}` is used inside a nested function or lambda, which "
                "would run outside the async call",
            )
            continue
        _classify(node, up, reading, positions)
    _bound_instances(up, reading)
    return reading


def _classify(
    name: ast.Name, up: dict[ast.AST, ast.AST], reading: BodyReading, positions: Positions
) -> None:
    parent = up.get(name)
    if isinstance(parent, ast.Attribute) and parent.value is name:
        call = up.get(parent)
        method = parent.attr
        if isinstance(call, ast.Call) and call.func is parent:
            if method in AWAITED:
                reading.rewrites.append(positions.rewrite(call, "await"))
            elif method == "query":
                _query_chain(call, name.id, up, reading, positions)
            elif method not in KEPT:
                reading.refuse(
                    call.lineno,
                    f"`{name.id}.{method}()` has no AsyncSession counterpart this step knows",
                )
            return
        if method not in ATTRIBUTES:
            reading.refuse(name.lineno, f"`{name.id}.{method}` is read from the session")
        return
    if isinstance(parent, ast.Call) and name in parent.args:
        reading.passed.append(Use(parent, name.id, parent.args.index(name)))
        return
    if isinstance(parent, ast.keyword) and parent.arg is not None:
        call = up.get(parent)
        if isinstance(call, ast.Call):
            reading.passed.append(Use(call, name.id, None))
            return
    reading.refuse(
        name.lineno,
        f"the session `{name.id}` is used as a value here (returned, stored or compared), "
        "which the step cannot follow",
    )


def _query_chain(
    call: ast.Call, session: str, up: dict[ast.AST, ast.AST], reading: BodyReading,
    positions: Positions,
) -> None:  # fmt: skip
    """``db.query(M).filter(...).first()`` runs as one piece inside the bridge."""
    top: ast.Call = call
    while True:
        attribute = up.get(top)
        outer = up.get(attribute) if isinstance(attribute, ast.Attribute) else None
        if isinstance(outer, ast.Call) and outer.func is attribute:
            top = outer
            continue
        break
    method = top.func.attr if isinstance(top.func, ast.Attribute) else ""
    if top is call or method not in QUERY_TERMINALS:
        reading.refuse(
            call.lineno,
            f"a legacy Query from `{session}.query()` is kept past its expression (no "
            "`.all()`/`.first()`/... ends it there): it would fetch outside the bridge",
        )
        return
    reading.rewrites.append(positions.rewrite(top, "bridge", session))


def _bound_instances(up: dict[ast.AST, ast.AST], reading: BodyReading) -> None:
    """``repo = Repository(db)``: remember the name; its method calls are awaited later, once
    the model has said the constructor is a repository class."""
    for use in reading.passed:
        statement = up.get(use.call)
        if (
            isinstance(statement, ast.Assign)
            and statement.value is use.call
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            reading.bound[statement.targets[0].id] = use.call


def instance_uses(
    function: ast.FunctionDef, name: str
) -> tuple[list[tuple[ast.Call, str]], tuple[int, str] | None]:
    """Method calls on a bound repository instance; a problem for any other use."""
    up = parents(function)
    calls: list[tuple[ast.Call, str]] = []
    stores = 0
    for node in own_nodes(function):
        if not (isinstance(node, ast.Name) and node.id == name):
            continue
        if not isinstance(node.ctx, ast.Load):
            stores += 1
            continue
        parent = up.get(node)
        call = up.get(parent) if isinstance(parent, ast.Attribute) else None
        if inside_nested(node, up, function):
            return [], (node.lineno, f"`{name}` is used inside a nested function or lambda")
        if isinstance(parent, ast.Attribute) and isinstance(call, ast.Call) and call.func is parent:
            calls.append((call, parent.attr))
            continue
        return [], (node.lineno, f"`{name}` (a repository on the session) is used as a value")
    if stores != 1:
        return [], (function.lineno, f"`{name}` is bound more than once")
    return calls, None
