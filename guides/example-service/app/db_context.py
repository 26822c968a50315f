"""`db.session` anywhere in request code, without passing the session around.

The tags module was written against this helper (the same shape as the fastapi-sqlalchemy
package): a middleware gives every request its own key, and `db.session` is the session
registered under the current request's key.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

from fastapi import Request, Response
from sqlalchemy.orm import Session, scoped_session
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from app.database import SessionLocal

_request_key: ContextVar[str | None] = ContextVar("_request_key", default=None)


class MissingSessionError(RuntimeError):
    pass


def _current_key() -> str:
    key = _request_key.get()
    if key is None:
        raise MissingSessionError(
            "db.session was used outside a request: add DBSessionMiddleware to the app, "
            "or wrap the code in `with db():`."
        )
    return key


_sessions = scoped_session(SessionLocal, scopefunc=_current_key)


class _RequestDatabase:
    @property
    def session(self) -> Session:
        return _sessions()

    def __call__(self) -> _DatabaseContext:
        """`with db():` gives scripts and tests a key of their own."""
        return _DatabaseContext()


class _DatabaseContext:
    def __enter__(self) -> Session:
        self._token = _request_key.set(uuid.uuid4().hex)
        return _sessions()

    def __exit__(self, *exc_info: object) -> None:
        try:
            _sessions.remove()
        finally:
            _request_key.reset(self._token)


db = _RequestDatabase()


class DBSessionMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        token = _request_key.set(uuid.uuid4().hex)
        try:
            return await call_next(request)
        finally:
            _sessions.remove()
            _request_key.reset(token)
