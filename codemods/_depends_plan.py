"""Step 4's decisions: async code that still takes or opens a sync session moves to the async
one. An ``async def`` on a sync session dependency (its queries pushed to a thread, or worse,
run on the event loop) gets the async twin; ``with SessionLocal() as db:`` inside ``async def``
becomes ``async with AsyncSessionLocal() as db:``. The body is read as in step 3: session calls
awaited, legacy code through ``adapt()``, ``run_in_threadpool(f, db, ...)`` becomes
``adapt(f)(db, ...)``. What sync code still uses stays: the sync dependency and sessionmaker
remain for it.
"""

from __future__ import annotations

import ast

from asyncshift.model.records import Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, Use
from ._files import expr_of, function_node, source_of
from ._legacy import adapt_finds, legacy_problem
from ._plan_body import plan_body
from ._plans import Plan
from ._session_params import imported_from, session_params
from ._with_blocks import with_blocks

OFFLOADERS = {
    "starlette.concurrency.run_in_threadpool",
    "fastapi.concurrency.run_in_threadpool",
    "asyncio.to_thread",
    "anyio.to_thread.run_sync",
}


def plans(model: RepoModel) -> dict[str, Plan]:
    cached = model.memo.get("depends-plans")
    if isinstance(cached, dict):
        return cached
    result: dict[str, Plan] = {}
    for path, frame in model.all_frames():
        if not frame.is_async or model.serving.is_test(path) or frame.yields:
            continue
        fq = model.fq(path, frame.qualname)
        plan = _plan(model, path, frame, fq)
        if plan is not None:
            result[fq] = plan
    model.memo["depends-plans"] = result
    return result


def _plan(model: RepoModel, path: str, frame: Frame, fq: str) -> Plan | None:
    node = function_node(model, path, frame.qualname, async_too=True)
    if node is None:
        return None
    role = "endpoint" if fq in model.routes.endpoints_fq else "async function"
    plan = Plan(fq, path, frame.qualname, node.lineno, role)
    positions = Positions(source_of(model, path))
    sessions = session_params(model, path, frame, node, plan, positions)
    binders = with_blocks(model, path, frame, node, plan, positions)
    sessions += [b.id for b in binders]
    if not sessions:
        return None
    if plan.problem is not None:
        return plan
    source = source_of(model, path)

    def hand_off(use: Use) -> bool:
        if not model.external_names(path, frame, expr_of(use.call.func)) & OFFLOADERS:
            return False
        _offloaded(model, path, frame, use, plan, positions, source)
        return True

    plan_body(model, path, frame, node, plan, sessions, frozenset(binders), hand_off)
    return plan


def _offloaded(
    model: RepoModel,
    path: str,
    frame: Frame,
    use: Use,
    plan: Plan,
    positions: Positions,
    source: str,
) -> None:
    """``await run_in_threadpool(crud.f, db, x)`` -> ``await adapt(crud.f)(db, x)``."""
    call = use.call
    if use.index is None or use.index < 1 or call.keywords or not call.args:
        plan.refuse(call.lineno, "a thread hand-off with keywords the step does not map")
        return
    function = call.args[0]
    kinds = model.types(path, frame, expr_of(function))
    callee = model.callee(next(iter(kinds))) if len(kinds) == 1 else None
    if callee is None or next(iter(kinds))[0] != "func":
        plan.refuse(call.lineno, "hands the session to a function the model could not resolve")
        return
    target, _ = callee
    problem = legacy_problem(model, target)
    if problem is not None:
        plan.refuse(call.lineno, f"`{model.display(target)}` {problem}")
        return
    _, target_frame = model.frames[target]
    positional = [p for p in target_frame.params if p.kind in ("posonly", "pos")]
    if use.index - 1 >= len(positional):
        plan.refuse(call.lineno, "cannot tell which parameter takes the session")
        return
    param = positional[use.index - 1].name
    session_param = "" if adapt_finds(model, target, 0) == param else param
    head = ast.get_source_segment(source, function) or ""
    adapted = f"adapt({head}" + (f', session_param="{session_param}")' if session_param else ")")
    rest = ", ".join(ast.get_source_segment(source, a) or "" for a in call.args[1:])
    plan.rewrites.append(positions.rewrite(call, "replace", f"{adapted}({rest})"))
    if isinstance(call.func, ast.Name):
        plan.unused.update(imported_from(model, path, call.func.id))
    plan.imports.add(("asyncshift", "adapt"))
