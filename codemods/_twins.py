"""The async twins step 2 creates, and their names: what exists, what will, what cannot.

Names are predictable so later steps and people can find them: ``engine`` -> ``async_engine``,
``SessionLocal`` -> ``AsyncSessionLocal``, ``get_db`` -> ``get_async_db``, ``SessionDep`` ->
``AsyncSessionDep``, ``override_get_db`` -> ``override_get_async_db``.
"""

from __future__ import annotations

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg
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


def dependency_factory(model: RepoModel, path: str, frame: Frame) -> tuple[str, str] | None:
    """For a sync generator that hands out a sync session: the (file, name) of the
    sessionmaker it makes it from, when that sessionmaker has (or gets) a twin."""
    if frame.is_async or not frame.yields or frame.qualname != frame.name:
        return None
    fq = model.fq(path, frame.qualname)
    if model.is_context_manager(fq) or fq in model.routes.endpoints_fq:
        return None
    if model.decorator_names(path, frame) & t.PYTEST_FIXTURES:
        return None  # a test's own session, not a dependency
    provided = model.provided_types(fq)
    if not t.all_are(provided, lambda p: p == t.SYNC_SESSION):
        return None
    factories = []
    for call in frame.calls:
        made = model.types(path, frame, call.expr[1])
        if made == {t.SYNC_FACTORY}:
            origin = global_origin(model, path, frame, call.expr[1])
            if origin is not None:
                factories.append(origin)
    if len(set(factories)) != 1:
        return None
    file, name = factories[0]
    return (file, name) if factory_has_twin(model, file, name) else None
