from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model import types as t
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel

MAKERS = {"factory", "registry"}


@rule(
    "ASH005",
    "sessions-in-base-http-middleware",
    "BaseHTTPMiddleware that creates or closes sessions",
)
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    middleware = model.serving.http_middleware
    for frame in facts.frames:
        if model.fq(facts.path, frame.qualname) not in middleware:
            continue
        summary = model.sessions.summary(facts.path, frame)
        releases = {id(o.call) for o in summary.ops if o.method in ("close", "remove")}
        for call in frame.calls:
            func_types = model.types(facts.path, frame, call.expr[1])
            creates = bool(func_types) and all(
                f[0] in MAKERS
                or (f[0] == "ext" and f[1] in t.SYNC_SESSION_CLASSES | t.ASYNC_SESSION_CLASSES)
                for f in func_types
            )
            if creates or id(call) in releases:
                yield Finding(
                    facts.path,
                    call.line,
                    call.col,
                    "ASH005",
                    "sessions created or closed in a BaseHTTPMiddleware (or "
                    "@app.middleware('http')): it runs the app in another task, so "
                    "context-scoped sessions and their teardown drift apart. Use the pure ASGI "
                    "SessionScopeMiddleware and let it close them",
                )
