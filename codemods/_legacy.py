"""Legacy code the session is passed to, run through ``adapt()`` at the call site: which
function or repository class the call reaches, which parameter takes the session, and whether
the code is safe inside the bridge."""

from __future__ import annotations

import ast

from asyncshift.model import types as t
from asyncshift.model.records import CallFact, Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, Use, dotted, instance_uses, parents
from ._files import fact_for
from ._plans import Plan

MAX_DEPTH = 8


def legacy_call(
    model: RepoModel,
    path: str,
    frame: Frame,
    node: ast.FunctionDef,
    use: Use,
    bound: dict[str, ast.Call],
    plan: Plan,
    positions: Positions,
) -> None:
    call = use.call
    fact = fact_for(frame, call, positions)
    written = dotted(call.func) or "the callee"
    kinds = model.types(path, frame, fact.expr[1]) if fact is not None else frozenset()
    if fact is None or len(kinds) != 1:
        plan.refuse(
            call.lineno,
            f"passes the session to `{written}`, which the model could not resolve",
        )
        return
    kind = next(iter(kinds))
    callee = model.callee(kind)
    if callee is None or kind[0] not in ("func", "class"):
        plan.refuse(
            call.lineno,
            f"passes the session to `{written}`, which is not a repository function or class",
        )
        return
    target, skip = callee
    param = next(
        (p for p, a in model.bind_arguments(target, skip, fact.expr) if a == ("n", use.session)),
        None,
    )
    if param is None:
        plan.refuse(call.lineno, f"cannot tell which parameter of `{written}` takes the session")
        return
    session_param = "" if adapt_finds(model, target, skip) == param.name else param.name
    if kind[0] == "func":
        problem = legacy_problem(model, target)
        if problem is not None:
            plan.refuse(call.lineno, f"`{written}` {problem}")
            return
        plan.rewrites.append(positions.rewrite(call, "adapt", session_param))
    else:
        _repository(model, kind[1], target, call, node, bound, plan, positions, session_param)
    plan.imports.add(("asyncshift", "adapt"))


def adapt_finds(model: RepoModel, fq: str, skip: int) -> str | None:
    """The parameter ``adapt()`` picks at run time: annotated Session first, then by name."""
    path, frame = model.frames[fq]
    ctx = model.module_ctx(path)
    positional = [p for p in frame.params[skip:] if p.kind in ("posonly", "pos", "kwonly")]
    for param in positional:
        if param.annotation is not None and model.typer.annotation(ctx, param.annotation) == {
            t.SYNC_SESSION
        }:
            return param.name
    return next((p.name for p in positional if p.name in ("session", "db")), None)


def _repository(
    model: RepoModel,
    cls: str,
    init: str,
    call: ast.Call,
    node: ast.FunctionDef,
    bound: dict[str, ast.Call],
    plan: Plan,
    positions: Positions,
    session_param: str,
) -> None:
    """``Repo(db).method(...)`` or ``repo = Repo(db)`` then ``repo.method(...)``."""
    name = model.display(cls)
    problem = legacy_problem(model, init, io_allowed=False)
    if problem is not None:
        plan.refuse(call.lineno, f"the constructor of {name} {problem}")
        return
    up = parents(node)
    parent = up.get(call)
    methods: list[tuple[ast.Call, str]] = []
    outer = up.get(parent) if isinstance(parent, ast.Attribute) else None
    if isinstance(parent, ast.Attribute) and isinstance(outer, ast.Call) and outer.func is parent:
        methods = [(outer, parent.attr)]
    else:
        local = next((n for n, c in bound.items() if c is call), None)
        if local is None:
            plan.refuse(call.lineno, f"the {name} instance is used in a way the step cannot follow")
            return
        methods, problem_at = instance_uses(node, local)
        if problem_at is not None:
            plan.refuse(*problem_at)
            return
    for method_call, method in methods:
        members = model.member_types(cls, method, ("inst", cls))
        targets = [m[1] for m in members if m[0] == "bound" and m[1] in model.frames]
        if method.startswith("_") or len(targets) != 1 or len(members) != 1:
            plan.refuse(method_call.lineno, f"`{name}.{method}` is not a method the model resolved")
            return
        problem = legacy_problem(model, targets[0])
        if problem is not None:
            plan.refuse(method_call.lineno, f"`{name}.{method}` {problem}")
            return
        plan.rewrites.append(positions.rewrite(method_call, "await"))
        plan.adapted.add((method_call.lineno, method_call.col_offset))
    plan.rewrites.append(positions.rewrite(call, "adapt-new", session_param))


def legacy_problem(model: RepoModel, fq: str, io_allowed: bool = True) -> str | None:
    """Why legacy code reached through adapt() is not safe there, or None.

    Inside run_sync it may do I/O on the session it was given (that is the bridge); anything
    else that blocks — another session, an engine, sleep, files, an event loop — would block
    the event loop from inside the greenlet.
    """
    seen: set[str] = set()

    def walk(current: str, depth: int) -> str | None:
        if current in seen or depth > MAX_DEPTH or current not in model.frames:
            return None
        seen.add(current)
        path, frame = model.frames[current]
        shown = model.display(current)
        if frame.is_async:
            return None
        if frame.yields:
            return f"reaches {shown}, a generator, which adapt() cannot run"
        summary = model.sessions.summary(path, frame)
        for effect in (summary.blocking, summary.file_io):
            if effect is not None:
                return f"reaches {shown}, which blocks ({effect.what})"
        if summary.loop is not None:
            return f"reaches {shown}, which runs an event loop ({summary.loop.what})"
        for op in summary.ops:
            if not op.io:
                continue
            if not io_allowed:
                return f"does I/O ({shown}: {op.receiver}.{op.method}) before the bridge"
            if op.kind != t.SYNC or not _on_given_session(model, path, frame, op.call):
                return (
                    f"reaches sync database I/O outside the request's session ({shown}: "
                    f"{op.receiver}.{op.method}), which would block the event loop"
                )
        for call in frame.calls:
            if not call.deferred and model.sessions.creates_session(path, frame, call):
                return f"reaches {shown}, which opens a session of its own"
        for call, callee in summary.callees:
            if call.deferred:
                continue
            found = walk(callee, depth + 1)
            if found is not None:
                return found
        return None

    return walk(fq, 0)


def _on_given_session(model: RepoModel, path: str, frame: Frame, call: CallFact) -> bool:
    receiver = call.expr[1][1]
    if model.types(path, frame, receiver) != {t.SYNC_SESSION}:
        return False
    params = {p.name for p in frame.params}
    root = receiver
    if root[0] == "a" and root[1] == ("n", "self"):
        return True
    return root[0] == "n" and root[1] in params
