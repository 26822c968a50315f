"""Step 1, scope-sessions: thread-local registries become request-scoped, apps get the scope.

Behaviour-preserving: a ``request_scoped_session`` is a real ``scoped_session`` under the same
name in the same module, so code that imports it, calls ``.query()`` on it or replaces the module
global keeps working; ``SessionScopeMiddleware`` ends every request's sessions (cures F1, F3).
"""

from __future__ import annotations

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg
from asyncshift.model.modules import is_test_path
from asyncshift.model.records import MODULE_FRAME, CallFact, Frame
from asyncshift.model.repo import RepoModel
from asyncshift.runner.steps import Report, StepInput, Transformed, step

from ._edits import Edits, drop_keyword, rename_callee, rename_method, statement

MIDDLEWARE = "SessionScopeMiddleware"


def _outlives_a_call(frame: Frame, call: CallFact) -> str | None:
    """The name a registry is kept under when it outlives the call that made it."""
    if frame.qualname == MODULE_FRAME:
        for name, values in frame.locals.items():
            if call.expr in values:
                return name
    for name, values in frame.self_attrs.items():
        if call.expr in values:
            return f"self.{name}"
    return None


def _has_registries(model: RepoModel) -> bool:
    wanted = t.SCOPED_SESSION | t.REQUEST_SCOPED
    return any(
        model.external_names(path, frame, call.expr[1]) & wanted
        for path, frame in model.all_frames()
        if not is_test_path(path)
        for call in frame.calls
    )


@step(
    "scope-sessions",
    "thread-local scoped_session -> request_scoped_session; SessionScopeMiddleware on every app",
    position=1,
)
def scope_sessions(given: StepInput) -> Transformed:
    if is_test_path(given.path):
        return Transformed(given.source)  # a test suite's registries serve no request
    model, facts = given.model, given.facts
    edits = Edits(given.source)
    reports: list[Report | str] = []
    for frame in facts.frames:
        for call in frame.calls:
            names = model.external_names(given.path, frame, call.expr[1])
            if names & t.SCOPED_SESSION:
                _registry(given, frame, call, edits, reports)
            elif names & t.APPS:
                if _has_registries(model):
                    _app(given, frame, call, edits, reports)
            elif call.expr[1][0] == "a" and call.expr[1][2] == "close":
                receivers = model.types(given.path, frame, call.expr[1][1])
                if t.all_are(receivers, lambda r: r == t.SYNC_REGISTRY):
                    # close() leaves the session registered for the next request; remove() ends it
                    edits.call(call.line, call.col, rename_method("remove"))
    return Transformed(edits.apply(), reports)


def _registry(
    given: StepInput, frame: Frame, call: CallFact, edits: Edits, reports: list[Report | str]
) -> None:
    scopefunc = call_arg(call.expr, 1, "scopefunc")
    thread_based = scopefunc is not None and bool(
        given.model.external_names(given.path, frame, scopefunc) & t.THREAD_SCOPEFUNCS
    )
    if scopefunc is not None and not thread_based:
        reports.append(
            Report(call.line, "scoped_session with its own scopefunc: already scoped, left alone")
        )
        return
    name = _outlives_a_call(frame, call)
    if name is None:
        reports.append(
            Report(
                call.line,
                "scoped_session made inside a function: nothing outlives the call, left alone",
            )
        )
        return
    rename = rename_callee("request_scoped_session")
    drop = drop_keyword("scopefunc")
    edits.call(call.line, call.col, (lambda node: rename(drop(node))) if thread_based else rename)
    edits.add_import("asyncshift", "request_scoped_session")
    _release_import(given, call.expr[1], edits)
    if thread_based and scopefunc is not None:
        _release_import(given, scopefunc, edits)


def _release_import(given: StepInput, replaced: Expr, edits: Edits) -> None:
    """The import that the replaced expression's first name came from, if now unused."""
    head = replaced
    while head[0] == "a":
        head = head[1]
    if head[0] != "n":
        return
    for value in given.facts.module_frame.locals.get(head[1], []):
        if value[0] == "imp" and value[1] == 0:
            _, _, module, name = value
            if name is None:
                edits.remove_import_if_unused(module)
            else:
                edits.remove_import_if_unused(module, name)


def _app(
    given: StepInput, frame: Frame, call: CallFact, edits: Edits, reports: list[Report | str]
) -> None:
    name = next((n for n, values in frame.locals.items() if call.expr in values), None)
    if name is None or "." in name:
        reports.append(
            Report(
                call.line,
                f"an app made without a name: add `app.add_middleware({MIDDLEWARE})` by hand, "
                "after every other add_middleware",
            )
        )
        return
    last_line = call.line
    for other in frame.calls:
        func = other.expr[1]
        if func[0] == "a" and func[1] == ("n", name) and func[2] == "add_middleware":
            added = other.expr[2][0] if other.expr[2] else None
            if added is not None and given.model.external_names(given.path, frame, added) & {
                "asyncshift.SessionScopeMiddleware",
                "asyncshift.middleware.SessionScopeMiddleware",
            }:
                return  # already there
            last_line = max(last_line, other.line)
    # add_middleware puts a middleware outermost, so after every other one it wraps them all.
    edits.insert_after(last_line, [statement(f"{name}.add_middleware({MIDDLEWARE})\n")])
    edits.add_import("asyncshift", MIDDLEWARE)
