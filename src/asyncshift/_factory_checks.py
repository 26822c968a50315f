"""What a registry is given, checked at the call: a wrong argument is a clear error at once.

Otherwise ``task_scoped_session(sessionmaker)`` is accepted and fails at teardown,
``request_scoped_session(async_sessionmaker)`` leaks a connection because nothing awaits the
close, and ``request_scoped_session(engine)`` fails only on first use, far from the mistake.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

_NOT_FACTORIES = (Engine, AsyncEngine, Connection, AsyncConnection, Session, AsyncSession, str)


def _given(factory: object) -> str:
    return f"{type(factory).__module__}.{type(factory).__qualname__} ({factory!r})"


def check_sync_factory(factory: object) -> None:
    """For ``request_scoped_session``: a ``sessionmaker`` (or any callable making a Session)."""
    if isinstance(factory, async_sessionmaker):
        raise TypeError(
            f"request_scoped_session() takes a sync session factory; it was given an "
            f"async_sessionmaker: {_given(factory)}. AsyncSessions are scoped per task: use "
            "task_scoped_session(async_sessionmaker(...)), whose scope awaits their close."
        )
    if isinstance(factory, _NOT_FACTORIES) or not callable(factory):
        raise TypeError(
            f"request_scoped_session() takes a session factory; it was given "
            f"{_given(factory)}. Wrap the engine in a sessionmaker: "
            "request_scoped_session(sessionmaker(engine))."
        )


def check_async_factory(factory: object) -> None:
    """For ``task_scoped_session``: an ``async_sessionmaker`` (or a callable making one)."""
    if isinstance(factory, sessionmaker):
        raise TypeError(
            f"task_scoped_session() takes an async_sessionmaker; it was given a sync "
            f"sessionmaker: {_given(factory)}. Sync sessions are scoped per request: use "
            "request_scoped_session(sessionmaker(engine)); for AsyncSessions build the async "
            "twin: task_scoped_session(async_sessionmaker(async_engine_from(engine)))."
        )
    if isinstance(factory, _NOT_FACTORIES) or not callable(factory):
        raise TypeError(
            f"task_scoped_session() takes an async session factory; it was given "
            f"{_given(factory)}. Wrap the async engine in one: "
            "task_scoped_session(async_sessionmaker(async_engine))."
        )
