"""A function's session parameters: which receive a sync session from a dependency with an
async twin, and the renames that move their annotation and ``Depends`` to the twin."""

from __future__ import annotations

import ast

from asyncshift.model import types as t
from asyncshift.model.records import Frame
from asyncshift.model.repo import RepoModel

from ._async_body import Positions, Rewrite, dotted
from ._files import expr_of
from ._plans import Plan
from ._twins import async_session_module, twin_name


def session_params(
    model: RepoModel,
    path: str,
    frame: Frame,
    node: ast.FunctionDef,
    plan: Plan,
    positions: Positions,
) -> list[str]:
    """Parameters that receive a sync session from a dependency with an async twin; their
    annotation and ``Depends`` move to the twin."""
    found = []
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    defaults = dict(
        zip(
            [a.arg for a in [*node.args.posonlyargs, *node.args.args]][::-1],
            node.args.defaults[::-1],
            strict=False,
        )
    )
    defaults |= {
        a.arg: d for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d
    }
    by_param = dict(model.routes.dependencies_of(path, frame))
    ctx = model.frame_ctx(model.fq(path, frame.qualname))
    assert ctx is not None
    for argument in arguments:
        if model.param_types(ctx, argument.arg) not in ({t.SYNC_SESSION},):
            continue
        dependency = by_param.get(argument.arg)
        if dependency is None:
            plan.refuse(
                argument.lineno,
                f"`{argument.arg}` is a sync session that does not come from a resolved dependency",
            )
            continue
        dep_path, dep_frame = model.frames[dependency]
        twin = twin_name(dep_frame.name, model)
        module_names = model.files[dep_path].module_frame.locals
        if twin not in module_names or dep_frame.qualname != dep_frame.name:
            plan.refuse(
                argument.lineno,
                f"the session dependency {model.display(dependency)} has no async twin "
                f"`{twin}` (step async-engine makes it where it can)",
            )
            continue
        renames = _param_renames(
            model, path, frame, argument, defaults.get(argument.arg), dependency, positions
        )
        if renames is None:
            plan.refuse(
                argument.lineno,
                f"the parameter `{argument.arg}` names its session in a form the step does not "
                "rewrite",
            )
            continue
        plan.rewrites += renames[0]
        plan.imports |= renames[1]
        plan.unused |= renames[2]
        found.append(argument.arg)
    return found


def imported_from(model: RepoModel, path: str, name: str) -> set[tuple[str, str]]:
    """(module, name) when this file binds ``name`` by ``from module import name``."""
    values = model.files[path].module_frame.locals.get(name, [])
    return {
        (str(v[2]), name)
        for v in values
        if v[0] == "imp" and v[1] == 0 and v[3] == name and isinstance(v[2], str)
    }


def _param_renames(
    model: RepoModel,
    path: str,
    frame: Frame,
    argument: ast.arg,
    default: ast.expr | None,
    dependency: str,
    positions: Positions,
) -> tuple[list[Rewrite], set[tuple[str, str]], set[tuple[str, str]]] | None:
    rewrites: list[Rewrite] = []
    imports: set[tuple[str, str]] = set()
    unused: set[tuple[str, str]] = set()
    module = model.files[path].module_frame
    annotation = argument.annotation
    depends_seen = False

    def rename(node: ast.expr, origin_file: str, name: str) -> None:
        if isinstance(node, ast.Name):
            unused.update(imported_from(model, path, node.id))
        twin = twin_name(name, model)
        text = dotted(node) or name
        new = text[: -len(name)] + twin if text.endswith(name) else twin
        rewrites.append(positions.rewrite(node, "replace", new))
        if isinstance(node, ast.Name) and origin_file != path:
            imports.add((model.module_of(origin_file), twin))

    def depends(call: ast.expr) -> bool:
        if not (isinstance(call, ast.Call) and call.args):
            return False
        if not model.external_names(path, module, expr_of(call.func)) & t.DEPENDS:
            return False
        target = call.args[0]
        if model.targets(path, module, expr_of(target)) != [dependency]:
            return False
        dep_path, dep_frame = model.frames[dependency]
        rename(target, dep_path, dep_frame.name)
        return True

    def session_class(node: ast.expr) -> bool:
        names = model.external_names(path, module, expr_of(node))
        if not names & t.SYNC_SESSION_CLASSES:
            return False
        if isinstance(node, ast.Name):
            unused.update(imported_from(model, path, node.id))
        rewrites.append(positions.rewrite(node, "replace", "AsyncSession"))
        imports.add((async_session_module(names), "AsyncSession"))
        return True

    if default is not None:
        if not depends(default):
            return None
        depends_seen = True
    if annotation is None:
        return (rewrites, imports, unused) if depends_seen else None
    if isinstance(annotation, ast.Subscript):  # Annotated[Session, Depends(get_db)]
        elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        if len(elements) < 2 or not session_class(elements[0]):
            return None
        if not any(depends(e) for e in elements[1:]) and not depends_seen:
            return None
        return rewrites, imports, unused
    if session_class(annotation):
        return (rewrites, imports, unused) if depends_seen else None
    origin = model.routes.origin(path, module, expr_of(annotation))
    if origin is None or depends_seen:
        return None
    alias_file, _, alias = origin
    twin = twin_name(alias, model)
    if twin not in model.files[alias_file].module_frame.locals:
        return None
    rename(annotation, alias_file, alias)
    return rewrites, imports, unused
