"""The service the scoping benchmark serves, in the flavours picked by ASYNCSHIFT_BENCH_MODE.

- legacy: a thread-local ``scoped_session`` that is never removed (today's code: cheap, and
  wrong, its transaction never ends, so it reads a stale snapshot under REPEATABLE READ);
- depends: FastAPI's documented pattern, a ``Depends(get_db)`` generator that opens a session
  per request and closes it after (the baseline users actually have);
- asyncshift: the same code on ``request_scoped_session`` under ``SessionScopeMiddleware``;
- asyncshift-idle-ping: the same, with pre-ping only for connections idle long enough to have
  been dropped by the server (``ping_when_idle``);
- hand-written: the usual hand-made fix, a ``scopefunc`` reading a ContextVar that a middleware
  sets per request, and ``remove()`` in the middleware's ``finally`` (on the event loop).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from asyncshift import SessionScopeMiddleware, request_scoped_session

MODE = os.environ["ASYNCSHIFT_BENCH_MODE"]
engine = create_engine(os.environ["ASYNCSHIFT_BENCH_URL"], pool_pre_ping=True, pool_size=8)

request_id: contextvars.ContextVar[object] = contextvars.ContextVar("request_id")

SessionLocal = sessionmaker(engine)
registry: scoped_session[Session]
if MODE in ("legacy", "depends"):  # depends never uses the registry
    registry = scoped_session(sessionmaker(engine))
elif MODE == "hand-written":
    registry = scoped_session(sessionmaker(engine), scopefunc=request_id.get)
else:
    registry = request_scoped_session(sessionmaker(engine))
if MODE == "asyncshift-idle-ping":
    from asyncshift import ping_when_idle

    ping_when_idle(engine, idle_seconds=5)

app = FastAPI()


QUERY = text("SELECT :id AS id, CONCAT('user-', :id) AS name")


def get_db() -> Iterator[Session]:
    """FastAPI's tutorial dependency, verbatim."""
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


if MODE == "depends":

    @app.get("/user/{user_id}")
    def read_user_depends(user_id: int, db: Session = Depends(get_db)) -> dict[str, object]:
        row = db.execute(QUERY, {"id": user_id}).one()
        return {"id": row.id, "name": row.name}

else:

    @app.get("/user/{user_id}")
    def read_user(user_id: int) -> dict[str, object]:
        row = registry.execute(QUERY, {"id": user_id}).one()
        return {"id": row.id, "name": row.name}


class HandWrittenScope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = request_id.set(object())
        try:
            await self.app(scope, receive, send)
        finally:
            registry.remove()
            request_id.reset(token)


if MODE == "hand-written":
    app.add_middleware(HandWrittenScope)
elif MODE not in ("legacy", "depends"):
    app.add_middleware(SessionScopeMiddleware)
