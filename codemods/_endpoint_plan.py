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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr
from asyncshift.model.exprs import dotted as expr_dotted
from asyncshift.model.records import CallFact, Frame
from asyncshift.model.repo import RepoModel
from asyncshift.runner.steps import Report, StepInput, Transformed

from ._async_body import (
    Positions,
    Rewrite,
    Use,
    dotted,
    instance_uses,
    own_nodes,
    parents,
    read_body,
)
from ._async_rewrite import rewrite_module
from ._edits import Edits
from ._twins import twin_name

MAX_DEPTH = 8
ROUNDS = 6
SQLMODEL_ASYNC = "sqlmodel.ext.asyncio.session"


@dataclass
class Plan:
    fq: str
    path: str
    qualname: str
    line: int
    role: str  # "endpoint" | "dependency"
    rewrites: list[Rewrite] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)
    # Imports a rewrite may leave unused (the sync alias, dependency, Session class): dropped
    # only when nothing in the file still uses them.
    unused: set[tuple[str, str]] = field(default_factory=set)
    # Calls that run through adapt(): (line, byte column) as ast counts.
    adapted: set[tuple[int, int]] = field(default_factory=set)
    problem: tuple[int, str] | None = None

    def refuse(self, line: int, reason: str) -> None:
        if self.problem is None:
            self.problem = (line, reason)


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


# -- the repository-wide decision ---------------------------------------------------------------


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
        fact = _fact(frame, call, positions)
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
    takes_converted = any(dep in converted for _, dep in model.routes.dependencies_of(path, frame))
    if not sessions and not takes_converted and plan.problem is None:
        return None  # takes no session: not this step's
    if plan.problem is not None:
        return plan
    if any(isinstance(n, ast.Yield | ast.YieldFrom | ast.Await) for n in own_nodes(node)):
        plan.refuse(node.lineno, "a generator: step 4 (depends) converts those")
        return plan
    reading = read_body(node, set(sessions), positions)
    if reading.problem is not None:
        plan.refuse(*reading.problem)
        return plan
    plan.rewrites += reading.rewrites
    adapted: set[tuple[int, int]] = set()
    for use in reading.passed:
        legacy_call(model, path, frame, node, use, reading.bound, plan, positions)
        adapted.add((use.call.lineno, use.call.col_offset))
    if plan.problem is None:
        effects(model, path, frame, sessions, adapted, plan, positions, node)
    if plan.problem is None and role == "endpoint":
        validated_returns(model, path, node, plan, positions)
    return plan


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
        rewrites.append(positions.rewrite(node, "rename", new))
        if isinstance(node, ast.Name) and origin_file != path:
            imports.add((model.module_of(origin_file), twin))

    def depends(call: ast.expr) -> bool:
        if not (isinstance(call, ast.Call) and call.args):
            return False
        if not model.external_names(path, module, _expr(call.func)) & t.DEPENDS:
            return False
        target = call.args[0]
        if model.targets(path, module, _expr(target)) != [dependency]:
            return False
        dep_path, dep_frame = model.frames[dependency]
        rename(target, dep_path, dep_frame.name)
        return True

    def session_class(node: ast.expr) -> bool:
        names = model.external_names(path, module, _expr(node))
        if not names & t.SYNC_SESSION_CLASSES:
            return False
        sqlmodel = any(n.startswith("sqlmodel") for n in names)
        if isinstance(node, ast.Name):
            unused.update(imported_from(model, path, node.id))
        rewrites.append(positions.rewrite(node, "rename", "AsyncSession"))
        imports.add((SQLMODEL_ASYNC if sqlmodel else "sqlalchemy.ext.asyncio", "AsyncSession"))
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
    origin = model.routes.origin(path, module, _expr(annotation))
    if origin is None or depends_seen:
        return None
    alias_file, _, alias = origin
    twin = twin_name(alias, model)
    if twin not in model.files[alias_file].module_frame.locals:
        return None
    rename(annotation, alias_file, alias)
    return rewrites, imports, unused


def _expr(node: ast.expr) -> Expr:
    """The model's expression tuple for a name or dotted attribute."""
    if isinstance(node, ast.Name):
        return ("n", node.id)
    if isinstance(node, ast.Attribute):
        return ("a", _expr(node.value), node.attr)
    return ("?",)


def _fact(frame: Frame, call: ast.Call, positions: Positions) -> CallFact | None:
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


# -- legacy code through adapt() ----------------------------------------------------------------


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
    fact = _fact(frame, call, positions)
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
    up = {c: p for p in ast.walk(node) for c in ast.iter_child_nodes(p)}
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
        methods, problem_at = instance_uses(node, local, positions)
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


# -- what the function itself runs ---------------------------------------------------------------


def effects(
    model: RepoModel,
    path: str,
    frame: Frame,
    sessions: list[str],
    adapted: set[tuple[int, int]],
    plan: Plan,
    positions: Positions,
    node: ast.FunctionDef,
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
    lines = positions.lines
    for call, callee in summary.callees:
        if call.deferred or _is_adapted(call, adapted | plan.adapted, lines):
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
    for statement in own_nodes(node):
        if not isinstance(statement, ast.Return) or statement.value is None:
            continue
        if isinstance(statement.value, ast.Constant) and statement.value.value is None:
            continue
        if _in_nested(node, statement):
            continue
        plan.rewrites.append(positions.rewrite(statement.value, "validate", response_model))
        plan.imports.add(("asyncshift", "validate_in_bridge"))


def _in_nested(function: ast.FunctionDef, target: ast.AST) -> bool:
    for statement in function.body:
        for inner in ast.walk(statement):
            nested = isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if (nested or isinstance(inner, ast.ClassDef)) and any(
                n is target for n in ast.walk(inner)
            ):
                return True
    return False


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


# -- applying a repository's plans to one file ---------------------------------------------------


def apply_plans(
    given: StepInput, planner: Callable[[RepoModel], dict[str, Plan]], make_async: bool
) -> Transformed:
    model = given.model
    sources = model.memo.setdefault("sources", {})
    assert isinstance(sources, dict)
    sources.setdefault(given.path, given.source)
    mine = sorted(
        (p for p in planner(model).values() if p.path == given.path), key=lambda p: p.line
    )
    reports: list[Report | str] = [
        Report(p.problem[0], f"{p.role} {p.qualname} left as it is: {p.problem[1]}")
        for p in mine
        if p.problem is not None
    ]
    ready = [p for p in mine if p.problem is None and p.rewrites]
    if not ready:
        return Transformed(given.source, reports)
    module = rewrite_module(
        cst.parse_module(given.source),
        [p.qualname for p in ready] if make_async else [],
        [r for p in ready for r in p.rewrites],
    )
    edits = Edits(module.code)
    for module_name, name in sorted({i for p in ready for i in p.imports}):
        edits.add_import(module_name, name)
    for module_name, name in sorted({i for p in ready for i in p.unused}):
        edits.remove_import_if_unused(module_name, name)
    return Transformed(edits.apply(), reports)
