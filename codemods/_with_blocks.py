"""``with SessionLocal() as db:`` and ``with Session(engine) as session:`` in a function that
becomes (or is) ``async def``: the block opens the async twin instead —
``async with AsyncSessionLocal() as db:``, ``async with AsyncSession(async_twin(engine),
expire_on_commit=False) as session:``. Steps 3 (sync endpoints that open their own session) and
4 (async code that still opens a sync one) share it.
"""

from __future__ import annotations

import ast

from asyncshift.model import types as t
from asyncshift.model.exprs import to_expr
from asyncshift.model.records import Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, Rewrite, own_nodes
from ._files import expr_of, source_of
from ._plans import Plan
from ._session_params import imported_from
from ._twins import global_origin, opens_session, session_class_opener, twin_name


def with_blocks(
    model: RepoModel,
    path: str,
    frame: Frame,
    node: ast.FunctionDef,
    plan: Plan,
    positions: Positions,
) -> list[ast.Name]:
    """The names the function's own session blocks bind, each block planned to open the async
    twin; a block whose session has no twin refuses the plan."""
    names: list[ast.Name] = []
    for statement in own_nodes(node):
        if not isinstance(statement, ast.With):
            continue
        for item in statement.items:
            call = item.context_expr
            if not (isinstance(call, ast.Call) and isinstance(item.optional_vars, ast.Name)):
                continue
            if not opens_session(model, path, frame, expr_of(call.func)):
                continue
            if len(statement.items) != 1:
                plan.refuse(statement.lineno, "a `with` of several items")
                continue
            if not _open_twin(model, path, frame, call, plan, positions):
                continue
            plan.rewrites.append(
                Rewrite(positions.start(statement), positions.end(statement), "async-with")
            )
            names.append(item.optional_vars)
    return names


def _open_twin(
    model: RepoModel, path: str, frame: Frame, call: ast.Call, plan: Plan, positions: Positions
) -> bool:
    func = expr_of(call.func)
    if model.types(path, frame, func) != {t.SYNC_FACTORY}:
        opener = session_class_opener(model, path, frame, to_expr(call))
        if opener is None:
            plan.refuse(
                call.lineno,
                "opens a session on an engine the model could not resolve to a module's "
                "engine (or with settings the async session does not take as written)",
            )
            return False
        plan.rewrites.append(positions.rewrite(call, "replace", opener.text))
        plan.imports.update(opener.imports)
        if isinstance(call.func, ast.Name):
            plan.unused.update(imported_from(model, path, call.func.id))
        return True
    origin = global_origin(model, path, frame, func)
    if origin is None or call.args or call.keywords:
        plan.refuse(call.lineno, "opens a session from a sessionmaker the step cannot map")
        return False
    file, name = origin
    twin = twin_name(name, model)
    if twin not in model.files[file].module_frame.locals:
        plan.refuse(call.lineno, f"{name} has no async twin `{twin}` yet")
        return False
    text = ast.get_source_segment(source_of(model, path), call.func) or name
    new = text[: -len(name)] + twin if text.endswith(name) else twin
    plan.rewrites.append(positions.rewrite(call.func, "replace", new))
    if isinstance(call.func, ast.Name) and file != path:
        plan.imports.add((model.module_of(file), twin))
        plan.unused.update(imported_from(model, path, call.func.id))
    return True
