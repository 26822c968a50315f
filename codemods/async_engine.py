"""Step 2, async-engine: beside each sync engine, sessionmaker, session dependency, Annotated
alias and test override, its async twin. No endpoint is touched: the service behaves as before,
and the next step has an async path to move endpoints onto.
"""

from __future__ import annotations

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, dotted
from asyncshift.model.records import Frame
from asyncshift.runner.steps import Report, StepInput, Transformed, step

from ._edits import Edits, statement
from ._requirements import dependency_edits
from ._twins import (
    async_session_module,
    dependency_opener,
    engine_bindings,
    factory_bindings,
    factory_has_twin,
    global_origin,
    twin_name,
)


@step(
    "async-engine",
    "beside each sync engine, sessionmaker and session dependency, its async twin",
    position=2,
)
def async_engine(given: StepInput) -> Transformed:
    model, facts, path = given.model, given.facts, given.path
    edits = Edits(given.source)
    reports: list[Report | str] = []
    module = facts.module_frame
    # Module level only: an engine made inside a function serves that function alone.
    _engines(given, module, edits)
    _factories(given, module, edits, reports)
    _reconfigured(given, module, edits)
    for frame in facts.frames:
        _overrides(given, frame, edits)
    for frame in facts.frames:
        if frame.qualname == frame.name and frame.cls is None and frame.parent is None:
            _dependency(given, frame, edits, reports)
    _aliases(given, module, edits)
    edited, more = dependency_edits(model, path)
    reports += more
    return Transformed(edits.apply(), reports, edited_files=edited)


def _has(frame: Frame, name: str) -> bool:
    return name in frame.locals


def _engines(given: StepInput, frame: Frame, edits: Edits) -> None:
    for name, calls in engine_bindings(given.model, given.path, frame).items():
        twin = twin_name(name, given.model)
        if _has(frame, twin):
            continue
        for call in calls:
            edits.insert_after(call.line, [statement(f"{twin} = async_engine_from({name})\n")])
        edits.add_import("asyncshift", "async_engine_from")


def _factories(given: StepInput, frame: Frame, edits: Edits, reports: list[Report | str]) -> None:
    for name, (call, engine) in factory_bindings(given.model, given.path, frame).items():
        twin = twin_name(name, given.model)
        if _has(frame, twin):
            continue
        if engine is None:
            reports.append(
                Report(
                    call.line,
                    f"sessionmaker {name} has no engine bound where it is made: add `{twin} = "
                    "async_sessionmaker(<async engine>, expire_on_commit=False)` by hand",
                )
            )
            continue
        # expire_on_commit=False: after an awaited commit, reading an attribute must not load.
        edits.insert_after(
            call.line,
            [
                statement(
                    f"{twin} = async_sessionmaker("
                    f"{twin_name(engine, given.model)}, expire_on_commit=False)\n"
                )
            ],
        )
        edits.add_import("sqlalchemy.ext.asyncio", "async_sessionmaker")


def _reconfigured(given: StepInput, frame: Frame, edits: Edits) -> None:
    """``SessionLocal.configure(bind=engine)`` (tests pointing the app at their database)."""
    model = given.model
    engines = engine_bindings(model, given.path, frame)
    for call in frame.calls:
        func = call.expr[1]
        if not (func[0] == "a" and func[2] == "configure"):
            continue
        bind = next((v for k, v in call.expr[3] if k == "bind"), None)
        if bind is None or bind[0] != "n" or bind[1] not in engines:
            continue
        origin = global_origin(model, given.path, frame, func[1])
        if origin is None or model.types(given.path, frame, func[1]) != {t.SYNC_FACTORY}:
            continue
        file, name = origin
        if not factory_has_twin(model, file, name):
            continue
        twin, engine_twin = twin_name(name, given.model), twin_name(bind[1], given.model)
        if any(c.expr[1] == ("a", ("n", twin), "configure") for c in frame.calls):
            continue
        edits.insert_after(call.line, [statement(f"{twin}.configure(bind={engine_twin})\n")])
        _import_from(given, file, twin, edits)


def _import_from(given: StepInput, file: str, name: str, edits: Edits) -> None:
    if file != given.path:
        edits.add_import(given.model.module_of(file), name)


def _dependency(given: StepInput, frame: Frame, edits: Edits, reports: list[Report | str]) -> None:
    twin = twin_name(frame.name, given.model)
    module = given.facts.module_frame
    if _has(module, twin) or frame.is_async:
        return
    opener = dependency_opener(given.model, given.path, frame)
    if opener is None:
        return
    lines = [
        f"async def {twin}():\n",
        f"    async with {opener.text} as session:\n",
        "        yield session\n",
    ]
    edits.insert_after_function(frame.name, [statement("".join(lines))])
    for module_name, name in opener.imports:
        edits.add_import(module_name, name)


def _dependency_twin(
    given: StepInput, frame: Frame, expr: tuple[object, ...]
) -> tuple[str, str] | None:
    """(file, twin name) of the dependency ``expr`` names, when it has or gets a twin."""
    model = given.model
    targets = model.targets(given.path, frame, expr)
    if len(targets) != 1:
        return None
    path, target = model.frames[targets[0]]
    provided = model.provided_types(targets[0])
    if not t.all_are(provided, lambda p: p == t.SYNC_SESSION):
        return None  # not a session dependency: a twin by name would be a guess
    twin = twin_name(target.name, given.model)
    made = model.files[path].module_frame.locals.get(twin, [])
    if (
        any(value[0] == "def" for value in made)
        or dependency_opener(model, path, target) is not None
    ):
        return path, twin
    return None


def _aliases(given: StepInput, module: Frame, edits: Edits) -> None:
    """``SessionDep = Annotated[Session, Depends(get_db)]`` -> ``AsyncSessionDep``."""
    model = given.model
    for name, values in module.locals.items():
        twin = twin_name(name, given.model)
        if twin in module.locals or len(values) != 1 or values[0][0] != "s":
            continue
        alias = values[0]
        heads = model.external_names(given.path, module, alias[1])
        if not heads & t.ANNOTATED or len(alias[2]) != 2:
            continue
        if model.typer.annotation(model.module_ctx(given.path), alias[2][0]) != {t.SYNC_SESSION}:
            continue
        depends = alias[2][1]
        target = model.typer.depends_target(model.module_ctx(given.path), depends)
        if target is None:
            continue
        found = _dependency_twin(given, module, target)
        if found is None:
            continue
        file, dependency_twin = found
        line = _binding_line(given.source, name)
        if line is None:
            continue
        head = dotted(alias[1]) or "Annotated"
        depends_name = dotted(depends[1]) or "Depends"
        edits.insert_after(
            line,
            [statement(f"{twin} = {head}[AsyncSession, {depends_name}({dependency_twin})]\n")],
        )
        session_class = model.external_names(given.path, module, alias[2][0])
        edits.add_import(async_session_module(session_class), "AsyncSession")
        _import_from(given, file, dependency_twin, edits)


def _binding_line(source: str, name: str) -> int | None:
    for number, text in enumerate(source.splitlines(), start=1):
        if text.startswith(f"{name} =") or text.startswith(f"{name}: "):
            return number
    return None


def _overrides(given: StepInput, frame: Frame, edits: Edits) -> None:
    """``app.dependency_overrides[get_db] = override_get_db`` in tests: the twin's too — the
    override's own twin when it has one, else ``async_override(...)`` of it, which serves an
    async session on the same database."""
    for override in frame.overrides:
        original = _dependency_twin(given, frame, override.dependency)
        if original is None:
            continue
        app = dotted(override.app)
        if app is None:
            continue
        if any(o.dependency == ("n", original[1]) for o in frame.overrides):
            continue
        replacement = _dependency_twin(given, frame, override.replacement)
        if replacement is not None:
            value = replacement[1]
            _import_from(given, replacement[0], replacement[1], edits)
        else:
            text = _override_text(given, frame, override.replacement)
            if text is None:
                continue
            value = f"async_override({text})"
            edits.add_import("asyncshift", "async_override")
        edits.insert_after(
            override.line, [statement(f"{app}.dependency_overrides[{original[1]}] = {value}\n")]
        )
        _import_from(given, original[0], original[1], edits)


def _override_text(given: StepInput, frame: Frame, replacement: Expr) -> str | None:
    """The replacement as written, when it is a function of the repository that takes no
    parameters (FastAPI fills a dependency's parameters; async_override's wrapper has none)."""
    name = dotted(replacement)
    targets = given.model.targets(given.path, frame, replacement)
    if name is None or len(targets) != 1:
        return None
    target = given.model.frames[targets[0]][1]
    if target.params or target.is_async:
        return None
    return name
