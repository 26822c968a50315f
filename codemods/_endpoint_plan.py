"""Step 3's decisions, made once per repository: which sync endpoints and dependencies become
``async def``, and every change in each; or why one stays as it is.

A function is converted only when every use of its session is understood (see ``_async_body``)
and everything it runs was resolved by the model and is safe on the event loop: legacy code
that takes the session runs through ``adapt()`` (its own I/O on that session, nothing else),
anything else it calls does no I/O. A sync dependency becomes async only if every consumer
left as it is can still use what it returns.
"""

from __future__ import annotations

import ast

from asyncshift.model import types as t
from asyncshift.model.records import Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, own_nodes, parents
from ._files import fact_for, function_node, source_of
from ._plan_body import plan_body
from ._plans import Plan
from ._session_params import session_params
from ._with_blocks import with_blocks

ROUNDS = 6


def plans(model: RepoModel) -> dict[str, Plan]:
    """Every candidate's plan, by fq; computed once per repository."""
    cached = model.memo.get("endpoint-plans")
    if isinstance(cached, dict):
        return cached
    endpoints = {
        e.fq: e
        for e in model.routes.endpoints
        if not e.is_async and not model.serving.is_test(e.path)
    }
    dependencies = set()
    for fq in model.routes.depends_targets:
        if fq in endpoints or fq not in model.frames:
            continue
        path, frame = model.frames[fq]
        if frame.is_async or frame.yields or model.serving.is_test(path):
            continue
        provided = model.provided_types(fq)
        if model.is_context_manager(fq) or any(t.is_session(p) for p in provided):
            continue
        dependencies.add(fq)
    converted = set(dependencies)
    result: dict[str, Plan] = {}
    for _ in range(ROUNDS):
        result = {}
        for fq in [*endpoints, *sorted(dependencies)]:
            plan = _plan(model, fq, "endpoint" if fq in endpoints else "dependency", converted)
            if plan is not None:
                result[fq] = plan
        still = {
            fq
            for fq in converted
            if fq in result and result[fq].problem is None and _consumers_cope(model, fq, result)
        }
        if still == converted:
            break
        converted = still
    for fq in dependencies - converted:
        if fq in result and result[fq].problem is None:
            result[fq].refuse(
                result[fq].line,
                "a consumer that stays as it is uses what it returns in a way that could load "
                "from the database (a relationship, or the object passed on): it would load "
                "outside the async session's greenlet",
            )
    model.memo["endpoint-plans"] = result
    return result


def _consumers(model: RepoModel, fq: str) -> list[tuple[str, Frame, str]]:
    """(path, frame, parameter) of every function whose ``Depends`` resolves to ``fq``."""
    index = model.memo.get("dependency-consumers")
    if not isinstance(index, dict):
        made: dict[str, list[tuple[str, Frame, str]]] = {}
        for path, frame in model.all_frames():
            for param, target in model.routes.dependencies_of(path, frame):
                made.setdefault(target, []).append((path, frame, param))
        model.memo["dependency-consumers"] = index = made
    found = index.get(fq, [])
    assert isinstance(found, list)
    return found


def _consumers_cope(model: RepoModel, fq: str, result: dict[str, Plan]) -> bool:
    for path, frame, param in _consumers(model, fq):
        consumer = model.fq(path, frame.qualname)
        plan = result.get(consumer)
        if plan is not None and plan.problem is None:
            continue  # converted too: it validates or bridges what it returns
        if not _uses_only_columns(model, path, frame, param, 0):
            return False
    return True


def _uses_only_columns(model: RepoModel, path: str, frame: Frame, name: str, depth: int) -> bool:
    """``name`` (an ORM object from the dependency) is only read for its columns here, or
    handed to repository code that only reads its columns."""
    node = function_node(model, path, frame.qualname, async_too=True)
    if node is None or depth > 3:
        return False
    objects = model.types(path, frame, ("n", name))
    if not objects or not all(o[0] == "obj" for o in objects):
        return False
    positions = Positions(source_of(model, path))
    up = parents(node)
    for found in own_nodes(node):
        if not (isinstance(found, ast.Name) and found.id == name):
            continue
        parent = up.get(found)
        if isinstance(parent, ast.Attribute):
            outer = up.get(parent)
            if (isinstance(outer, ast.Call) and outer.func is parent) or any(
                model.orm.relationship(str(o[1]), parent.attr) for o in objects
            ):
                return False
            continue
        call = up.get(parent) if isinstance(parent, ast.keyword) else parent
        if not isinstance(call, ast.Call) or call.func is found:
            return False
        fact = fact_for(frame, call, positions)
        kinds = model.types(path, frame, fact.expr[1]) if fact is not None else frozenset()
        callee = model.callee(next(iter(kinds))) if fact is not None and len(kinds) == 1 else None
        if fact is None or callee is None:
            return False
        target, skip = callee
        callee_path, callee_frame = model.frames[target]
        bound = [p for p, a in model.bind_arguments(target, skip, fact.expr) if a == ("n", name)]
        if not bound or not all(
            _uses_only_columns(model, callee_path, callee_frame, p.name, depth + 1) for p in bound
        ):
            return False
    return True


# -- one function -------------------------------------------------------------------------------


def _plan(model: RepoModel, fq: str, role: str, converted: set[str]) -> Plan | None:
    path, frame = model.frames[fq]
    node = function_node(model, path, frame.qualname)
    if node is None:
        return None
    plan = Plan(fq, path, frame.qualname, node.lineno, role)
    positions = Positions(source_of(model, path))
    sessions = session_params(model, path, frame, node, plan, positions)
    binders = with_blocks(model, path, frame, node, plan, positions)
    sessions += [b.id for b in binders]
    takes_converted = any(dep in converted for _, dep in model.routes.dependencies_of(path, frame))
    if not sessions and not takes_converted and plan.problem is None:
        return None  # takes no session: not this step's
    if plan.problem is not None:
        return plan
    if any(isinstance(n, ast.Yield | ast.YieldFrom | ast.Await) for n in own_nodes(node)):
        plan.refuse(node.lineno, "a generator: step 4 (depends) converts those")
        return plan
    plan_body(model, path, frame, node, plan, sessions, frozenset(binders))
    return plan
