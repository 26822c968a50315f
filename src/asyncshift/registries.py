"""Scoped session registries that cannot leak.

Both return SQLAlchemy's own registry classes (``scoped_session``, ``async_scoped_session``) with
their storage replaced, so every proxy method, ``remove()``, ``configure()`` and
``session_factory`` keep working for code that never heard of asyncshift.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session, async_sessionmaker
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.util import ScopedRegistry, ThreadLocalRegistry

from asyncshift._factory_checks import check_async_factory, check_sync_factory
from asyncshift._task_sessions import TaskSessions
from asyncshift.scope import current_scope, is_serving, open_scopes

logger = logging.getLogger("asyncshift")

_S = TypeVar("_S", bound=Session)
_AS = TypeVar("_AS", bound=AsyncSession)


class NoScopeError(RuntimeError):
    """A strict registry was used where no session scope is open."""


class RequestScopedRegistry(ScopedRegistry[_S]):
    """One session per scope; outside any scope, one per thread (or an error when strict)."""

    def __init__(self, factory: sessionmaker[_S], strict: bool) -> None:
        self.createfunc = factory
        self.scopefunc = current_scope
        self.registry = ThreadLocalRegistry(factory)  # the fallback outside any scope
        self.strict = strict
        self._warned = False

    def _outside_scope(self) -> ThreadLocalRegistry[_S]:
        if self.strict:
            raise NoScopeError(
                "this request_scoped_session(strict=True) was used outside any session scope. "
                "In a web app add the middleware last: "
                "`app.add_middleware(SessionScopeMiddleware)`; in scripts, workers and tests wrap "
                "the work in `with session_scope():` (or `async with session_scope():`)."
            )
        if is_serving() and not self._warned:
            self._warned = True
            logger.warning(
                "asyncshift: a request_scoped_session was used outside any session scope while "
                "an ASGI app is serving, so it fell back to a thread-local session that no "
                "request will close (the 'MySQL server has gone away' failure, F1). Make "
                "SessionScopeMiddleware the outermost middleware that session-using code runs "
                "in (add it last), or wrap this work in `session_scope()`."
            )
        registry: ThreadLocalRegistry[_S] = self.registry
        return registry

    def __call__(self) -> _S:
        scope = current_scope()
        if scope is None:
            return self._outside_scope()()
        return scope.get_sync(self, self.createfunc)  # type: ignore[return-value]

    def has(self) -> bool:
        scope = current_scope()
        if scope is None:
            return bool(self.registry.has())
        return scope.has_sync(self)

    def set(self, obj: _S) -> None:
        scope = current_scope()
        if scope is None:
            self._outside_scope().set(obj)
        else:
            scope.set_sync(self, obj)

    def clear(self) -> None:
        scope = current_scope()
        if scope is None:
            self.registry.clear()
        else:
            scope.clear_sync(self)


class TaskScopedRegistry(ScopedRegistry[_AS]):
    """One AsyncSession per asyncio task, within the current scope if there is one."""

    def __init__(self, factory: async_sessionmaker[_AS]) -> None:
        self.createfunc = factory
        self.scopefunc = asyncio.current_task
        self.registry = TaskSessions("task outside any session scope", in_scope=False)

    def _sessions(self) -> TaskSessions:
        scope = current_scope()
        if scope is None:
            sessions: TaskSessions = self.registry
            return sessions
        return scope.task_sessions(self)

    def __call__(self) -> _AS:
        return self._sessions().get_or_create(self.createfunc)  # type: ignore[return-value]

    def has(self) -> bool:
        return self._sessions().has()

    def set(self, obj: _AS) -> None:
        self._sessions().set(obj)

    def clear(self) -> None:
        self._sessions().clear()


def request_scoped_session(
    session_factory: sessionmaker[_S], *, strict: bool = False
) -> scoped_session[_S]:
    """A real ``scoped_session`` keyed by the current session scope instead of the thread.

    Inside a scope (a request under ``SessionScopeMiddleware``, or ``session_scope()``) every
    thread and task serving that scope shares one session, and the scope closes it at its end,
    so no session outlives its request on an idle worker thread (F1) and a raising teardown
    cannot strand it (F3). Outside any scope it keeps today's thread-local behaviour, or raises
    ``NoScopeError`` when ``strict=True``.
    """
    check_sync_factory(session_factory)
    registry: scoped_session[_S] = scoped_session(session_factory)
    registry.registry = RequestScopedRegistry(session_factory, strict)
    return registry


def task_scoped_session(session_factory: async_sessionmaker[_AS]) -> async_scoped_session[_AS]:
    """An ``async_scoped_session`` with one ``AsyncSession`` per asyncio task, leak-proof.

    Unlike the ``scopefunc=current_task`` recipe it holds no strong reference to a task, never
    keys by a recyclable ``id()``, closes the session of a task that ends without ``remove()``,
    and inside a scope never hands a session of an earlier scope to a later one (an in-process
    ASGI client runs every request in the caller's task).
    """
    check_async_factory(session_factory)
    registry: async_scoped_session[_AS] = async_scoped_session(
        session_factory, scopefunc=asyncio.current_task
    )
    registry.registry = TaskScopedRegistry(session_factory)
    return registry


def tracked_session_count(registry: scoped_session[_S] | async_scoped_session[_AS]) -> int:
    """How many sessions of this registry are alive in open scopes or unfinished tasks.

    Thread-local fallback sessions of a ``request_scoped_session`` are not counted: no thread
    can see another thread's locals. Meant for leak tests and diagnostics.
    """
    inner = registry.registry
    count = sum(scope.session_count(inner) for scope in open_scopes())
    if isinstance(inner, TaskScopedRegistry):
        count += len(inner.registry)
    return count
