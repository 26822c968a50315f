"""One session scope per HTTP request or WebSocket connection, as plain ASGI and WSGI middleware.

Pure ASGI, never ``BaseHTTPMiddleware``: the scope must cover the whole app call, including
streaming bodies and background tasks that Starlette runs after the response has started, and
it must not move the request into another task.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from asyncshift.guards import allow_blocking
from asyncshift.scope import SessionScope, _current_scope, note_serving, session_scope

if TYPE_CHECKING:  # types only: a WSGI app or a queue worker never imports Starlette for this
    from starlette.types import ASGIApp, Receive, Scope, Send

WSGIEnviron = dict[str, Any]
WSGIStartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnviron, WSGIStartResponse], Iterable[bytes]]


def _label(scope: Scope) -> str:
    if scope["type"] == "websocket":
        return f"WEBSOCKET {scope.get('path', '')}"
    return f"{scope.get('method', 'HTTP')} {scope.get('path', '')}"


class SessionScopeMiddleware:
    """Close every session asyncshift registries created while serving a request.

    Add it last (``app.add_middleware(SessionScopeMiddleware)``), so that it is the outermost
    middleware any session-using code runs inside.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            # Lifespan: nothing is served yet, so startup work may block (guards stand aside).
            with allow_blocking():
                await self.app(scope, receive, send)
            return
        note_serving()
        async with session_scope(_label(scope)):
            await self.app(scope, receive, send)


class SessionScopeWSGIMiddleware:
    """The WSGI twin: the scope ends when the server closes the response iterable.

    The app and its response body run in a context of their own, so the server's thread
    context is never touched and a body generator that uses the session still sees the scope.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnviron, start_response: WSGIStartResponse) -> Iterable[bytes]:
        label = f"{environ.get('REQUEST_METHOD', 'HTTP')} {environ.get('PATH_INFO', '')}"
        scope = SessionScope(label)
        note_serving()
        context = contextvars.copy_context()
        context.run(_current_scope.set, scope)
        try:
            body = context.run(self.app, environ, start_response)
        except BaseException:
            scope.close()
            raise
        return _ScopedBody(body, scope, context)


class _ScopedBody:
    def __init__(
        self, body: Iterable[bytes], scope: SessionScope, context: contextvars.Context
    ) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._scope = scope
        self._context = context

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._body)
        return self._context.run(next, self._iterator)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                self._context.run(close)
        finally:
            self._scope.close()
