"""Scoped session registries that cannot leak.

Both return SQLAlchemy's own registry classes (``scoped_session``, ``async_scoped_session``) with
their storage replaced, so every proxy method, ``remove()``, ``configure()`` and
``session_factory`` keep working for code that never heard of asyncshift.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session, async_sessionmaker
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.util import ScopedRegistry, ThreadLocalRegistry

from asyncshift._factory_checks import check_async_factory, check_sync_factory
from asyncshift._fan_out import FanOutWatch
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
        self._fan_out = FanOutWatch()

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
        return scope.get_sync(self, self._create)  # type: ignore[return-value]

    def _create(self) -> _S:
        session = self.createfunc()
        _watch_fan_out(self, self._fan_out)
        return session

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


def _watch_fan_out(registry: object, watch: FanOutWatch) -> None:
    """A session was just created in the current scope: tell if the scope outgrows the pool."""
    scope = current_scope()
    if scope is None:
        return
    in_scope = scope.session_count(registry) + 1
    if in_scope < 2:  # the common case costs one count
        return
    in_all = sum(s.session_count(registry) for s in open_scopes()) + 1
    factory = getattr(registry, "createfunc", None)
    watch.check(factory, in_scope, in_all, scope.label)


# Sessions that child tasks started inside `share_with_children()` use instead of their own.
_shared_with_children: contextvars.ContextVar[dict[object, object] | None] = contextvars.ContextVar(
    "asyncshift_shared_with_children", default=None
)


class TaskScopedRegistry(ScopedRegistry[_AS]):
    """One AsyncSession per asyncio task, within the current scope if there is one."""

    def __init__(self, factory: async_sessionmaker[_AS]) -> None:
        self.createfunc = factory
        self.scopefunc = asyncio.current_task
        self.registry = TaskSessions("task outside any session scope", in_scope=False)
        self._fan_out = FanOutWatch()

    def _create(self) -> _AS:
        session = self.createfunc()
        _watch_fan_out(self, self._fan_out)
        return session

    def _sessions(self) -> TaskSessions:
        scope = current_scope()
        if scope is None:
            sessions: TaskSessions = self.registry
            return sessions
        return scope.task_sessions(self)

    def __call__(self) -> _AS:
        shared = _shared_with_children.get()
        if shared is not None:
            session = shared.get(self)
            if session is not None:
                return session  # type: ignore[return-value]
        return self._sessions().get_or_create(self._create)  # type: ignore[return-value]

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


class TaskScopedSession(async_scoped_session[_AS]):
    """What ``task_scoped_session`` returns: an ``async_scoped_session`` with one addition."""

    @contextmanager
    def share_with_children(self) -> Iterator[_AS]:
        """Child tasks started inside the block use this task's session instead of their own.

        For fan-out whose children do **not** run queries at the same time (they mostly wait
        on other I/O, or query one after the other): one connection instead of 1 + k. Two
        statements at once on one AsyncSession fail ("concurrent operations are not
        permitted"). The session stays this task's: a child's ``remove()`` leaves it alone, and
        it is closed when this task's scope (or this task) ends. Await the children inside the
        block; children that outlive it keep using the session.
        """
        session = self()
        shared = dict(_shared_with_children.get() or {})
        shared[self.registry] = session
        token = _shared_with_children.set(shared)
        try:
            yield session
        finally:
            _shared_with_children.reset(token)


def task_scoped_session(session_factory: async_sessionmaker[_AS]) -> TaskScopedSession[_AS]:
    """An ``async_scoped_session`` with one ``AsyncSession`` per asyncio task, leak-proof.

    Unlike the ``scopefunc=current_task`` recipe it holds no strong reference to a task, never
    keys by a recyclable ``id()``, closes the session of a task that ends without ``remove()``,
    and inside a scope never hands a session of an earlier scope to a later one (an in-process
    ASGI client runs every request in the caller's task). ``share_with_children()`` lets
    child tasks that do not query at the same time use their parent's session.
    """
    check_async_factory(session_factory)
    registry: TaskScopedSession[_AS] = TaskScopedSession(
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
