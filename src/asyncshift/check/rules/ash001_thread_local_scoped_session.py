from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model import types as t
from asyncshift.model.exprs import call_arg
from asyncshift.model.records import MODULE_FRAME, FileFacts
from asyncshift.model.repo import RepoModel


@rule("ASH001", "thread-local-scoped-session", "thread-local scoped_session in an ASGI app (F1)")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    if not model.routes.has_app or model.serving.is_test(facts.path):
        return
    for frame in facts.frames:
        # Only registries that outlive a call: module globals and attributes of objects.
        kept = set()
        if frame.qualname == MODULE_FRAME:
            kept = {(name, v) for name, values in frame.locals.items() for v in values}
        kept |= {(f"self.{name}", v) for name, values in frame.self_attrs.items() for v in values}
        by_value = {value: name for name, value in kept}
        for call in frame.calls:
            name = by_value.get(call.expr)
            if name is None:
                continue
            if not model.external_names(facts.path, frame, call.expr[1]) & t.SCOPED_SESSION:
                continue
            scopefunc = call_arg(call.expr, 1, "scopefunc")
            if scopefunc is not None and not (
                model.external_names(facts.path, frame, scopefunc) & t.THREAD_SCOPEFUNCS
            ):
                continue  # a scope of its own (a request id, a ContextVar)
            yield Finding(
                facts.path,
                call.line,
                call.col,
                "ASH001",
                f"`{name}` is a thread-local scoped_session in an ASGI app: FastAPI reuses "
                "worker threads, so sessions and their connections outlive requests ('MySQL "
                "server has gone away', F1). Use request_scoped_session(...) and add "
                "SessionScopeMiddleware",
            )
