"""The async twins step 2 creates, and their names: what exists, what will, what cannot.

Names are predictable so later steps and people can find them: ``engine`` -> ``async_engine``,
``SessionLocal`` -> ``AsyncSessionLocal``, ``get_db`` -> ``get_async_db``, ``SessionDep`` ->
``AsyncSessionDep``, ``override_get_db`` -> ``override_get_async_db``.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg, dotted
from asyncshift.model.records import MODULE_FRAME, CallFact, Frame
from asyncshift.model.repo import RepoModel


def twin_name(name: str, model: RepoModel | None = None) -> str:
    """``[tool.asyncshift] twin-names`` wins; otherwise the predictable default."""
    chosen = model.memo.get("twin-names", {}) if model is not None else {}
    if isinstance(chosen, dict) and isinstance(chosen.get(name), str):
        return str(chosen[name])
    if name.startswith("get_"):
        return "get_async_" + name[4:]
    if "_get_" in name:
        return name.replace("_get_", "_get_async_", 1)
    if name[:1].isupper():
        return "Async" + name
    return "async_" + name


def bound_name(frame: Frame, call: CallFact) -> str | None:
    return next((n for n, values in frame.locals.items() if call.expr in values), None)


def _calls_to(model: RepoModel, path: str, frame: Frame, names: set[str]) -> list[CallFact]:
    return [c for c in frame.calls if model.external_names(path, frame, c.expr[1]) & names]


def engine_bindings(model: RepoModel, path: str, frame: Frame) -> dict[str, list[CallFact]]:
    """Names bound to ``create_engine(...)`` in this frame."""
    found: dict[str, list[CallFact]] = {}
    for call in _calls_to(model, path, frame, t.CREATE_ENGINE):
        name = bound_name(frame, call)
        if name is not None:
            found.setdefault(name, []).append(call)
    return found


def factory_bindings(
    model: RepoModel, path: str, frame: Frame
) -> dict[str, tuple[CallFact, str | None]]:
    """Names bound to ``sessionmaker(...)``, with the engine name it binds (None: unknown)."""
    engines = engine_bindings(model, path, frame)
    found: dict[str, tuple[CallFact, str | None]] = {}
    for call in _calls_to(model, path, frame, t.SESSIONMAKERS):
        name = bound_name(frame, call)
        if name is None:
            continue
        bind = call_arg(call.expr, 0, "bind")
        engine = bind[1] if bind is not None and bind[0] == "n" and bind[1] in engines else None
        found[name] = (call, engine)
    return found


def global_origin(model: RepoModel, path: str, frame: Frame, expr: Expr) -> tuple[str, str] | None:
    """(file, module-level name) an expression names, through imports; None otherwise."""
    origin = model.routes.origin(path, frame, expr)
    if origin is None or origin[1] != MODULE_FRAME:
        return None
    return origin[0], origin[2]


def factory_has_twin(model: RepoModel, file: str, name: str) -> bool:
    module = model.files[file].module_frame
    if twin_name(name, model) in module.locals:
        return True
    found = factory_bindings(model, file, module).get(name)
    return found is not None and found[1] is not None


def async_session_module(sync_class_names: set[str]) -> str:
    """Where the ``AsyncSession`` matching a sync session class lives: SQLModel's for
    SQLModel's ``Session`` (the endpoints await its ``exec``), SQLAlchemy's otherwise."""
    if any(name.startswith("sqlmodel") for name in sync_class_names):
        return "sqlmodel.ext.asyncio.session"
    return "sqlalchemy.ext.asyncio"


@dataclass(frozen=True)
class Opener:
    """How a session dependency's async twin opens its session: ``async with <text> as s``."""

    text: str
    imports: tuple[tuple[str, str], ...]  # (module, name) the text needs


def dependency_opener(model: RepoModel, path: str, frame: Frame) -> Opener | None:
    """For a module-level sync dependency that hands out a sync session, how its async twin
    opens one — when the model resolved where the session comes from, and that source has (or
    gets) an async twin. None otherwise: no twin is made on a guess.

    Three sources are understood: a sessionmaker (``with SessionLocal() as db: yield db``), a
    session class on a module's engine (``with Session(engine) as s: yield s``), and a session a
    middleware stored on the request (``return request.state.db``).
    """
    if frame.is_async or frame.qualname != frame.name:
        return None
    fq = model.fq(path, frame.qualname)
    if model.is_context_manager(fq) or fq in model.routes.endpoints_fq:
        return None
    if model.decorator_names(path, frame) & t.PYTEST_FIXTURES:
        return None  # a test's own session, not a dependency
    if not t.all_are(model.provided_types(fq), lambda p: p == t.SYNC_SESSION):
        return None
    if not frame.yields:
        return _from_request_state(model, path, frame)
    makers = [c for c in frame.calls if opens_session(model, path, frame, c.expr[1])]
    if len(makers) != 1:
        return None
    made = model.types(path, frame, makers[0].expr[1])
    if made == {t.SYNC_FACTORY}:
        origin = global_origin(model, path, frame, makers[0].expr[1])
        return None if origin is None else factory_opener(model, path, *origin)
    return session_class_opener(model, path, frame, makers[0].expr)


def opens_session(model: RepoModel, path: str, frame: Frame, func: Expr) -> bool:
    """Whether calling ``func`` opens a sync session: a sessionmaker, or a session class."""
    if model.types(path, frame, func) == {t.SYNC_FACTORY}:
        return True
    return bool(model.external_names(path, frame, func) & t.SYNC_SESSION_CLASSES)


def factory_opener(model: RepoModel, path: str, file: str, name: str) -> Opener | None:
    if not factory_has_twin(model, file, name):
        return None
    twin = twin_name(name, model)
    imports = () if file == path else ((model.module_of(file), twin),)
    return Opener(f"{twin}()", imports)


# Session(...) keywords the twin may carry, written as constants: AsyncSession hands them on to
# the Session it makes. Anything else (binds=, info=, a variable) is left to a person.
_CARRIED_KEYWORDS = {"autoflush", "expire_on_commit", "autobegin", "twophase"}


def session_class_opener(model: RepoModel, path: str, frame: Frame, expr: Expr) -> Opener | None:
    """``Session(engine)``: the async session class on ``async_twin(engine)``, which reads
    ``engine`` when it runs — a test that swaps ``module.engine`` is followed. None unless the
    class is a session class and ``engine`` a module's engine, all resolved."""
    if expr[0] != "c" or not model.external_names(path, frame, expr[1]) & t.SYNC_SESSION_CLASSES:
        return None
    bind = call_arg(expr, 0, "bind")
    if bind is None or len(expr[2]) > 1:
        return None
    engine = dotted(bind)
    origin = global_origin(model, path, frame, bind)
    if engine is None or origin is None or model.types(path, frame, bind) != {t.SYNC_ENGINE}:
        return None
    keywords = []
    for key, value in expr[3]:
        if key == "bind":
            continue
        if key not in _CARRIED_KEYWORDS or value not in (("n", "True"), ("n", "False")):
            return None
        keywords.append(f"{key}={value[1]}")
    if not any(k.startswith("expire_on_commit=") for k in keywords):
        # After an awaited commit, reading an attribute must not load.
        keywords.append("expire_on_commit=False")
    module = async_session_module(model.external_names(path, frame, expr[1]))
    text = f"AsyncSession(async_twin({engine}), {', '.join(keywords)})"
    return Opener(text, ((module, "AsyncSession"), ("asyncshift", "async_twin")))


def _from_request_state(model: RepoModel, path: str, frame: Frame) -> Opener | None:
    """``def get_db(request): return request.state.db`` — the twin opens what the middleware
    that stores ``request.state.db`` opens, when every store the app can run resolves to one
    sessionmaker."""
    if len(frame.returns) != 1:
        return None
    returned = frame.returns[0]
    if not (returned[0] == "a" and returned[1][0] == "a" and returned[1][2] == "state"):
        return None
    if model.types(path, frame, returned[1][1]) != {t.REQUEST}:
        return None
    attr = returned[2]
    related = related_files(model, path)
    origins = set()
    for store_path, store_frame in model.all_frames():
        for state in store_frame.state_sets:
            if state.attr != attr or store_path not in related:
                continue
            if model.types(store_path, store_frame, state.base) != {t.REQUEST}:
                continue  # app.state.db: not this request's
            value = state.value
            if value[0] != "c" or model.types(store_path, store_frame, value[1]) != {
                t.SYNC_FACTORY
            }:
                return None
            origin = global_origin(model, store_path, store_frame, value[1])
            if origin is None:
                return None
            origins.add(origin)
    if len(origins) != 1:
        return None
    return factory_opener(model, path, *origins.pop())


def related_files(model: RepoModel, path: str) -> set[str]:
    """The files whose code can run in the same process as ``path``'s: those it imports,
    directly or not, and those that import it. (A module in neither cannot touch its
    requests.)"""
    closures = _import_closures(model)
    return closures[path] | {other for other, reached in closures.items() if path in reached}


def _import_closures(model: RepoModel) -> dict[str, set[str]]:
    """Every file's imports, directly or not; computed once per repository."""
    memo = model.memo.get("import-closures")
    if isinstance(memo, dict):
        return memo
    graph = _import_graph(model)
    closures = {path: _closure(graph, path) for path in model.files}
    model.memo["import-closures"] = closures
    return closures


def _import_graph(model: RepoModel) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path, facts in model.files.items():
        found: set[str] = set()
        for frame in facts.frames:
            for values in frame.locals.values():
                for value in values:
                    if value[0] == "imp":
                        found |= _imported(model, path, value)
        graph[path] = found
    return graph


def _imported(model: RepoModel, path: str, value: Expr) -> set[str]:
    _, level, module, name = value
    modules = model.modules
    find = (lambda m: modules.find_relative(path, level, m)) if level else modules.find
    found = {f for f in (find(module) if module else None,) if f is not None}
    if name is not None:
        submodule = find(f"{module}.{name}" if module else name)
        if submodule is not None:
            found.add(submodule)
    return found


def _closure(graph: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
