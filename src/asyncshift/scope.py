"""The session scope: one unit of work and every session asyncshift created inside it.

A scope is an HTTP request, a WebSocket connection, or a ``session_scope()`` block. The current
scope lives in a ``ContextVar``; asyncio tasks and FastAPI's worker threads get a copy of the
context, so every piece of code that serves one request sees the same scope object, and nothing
that serves another request does. Sessions are stored *on the scope*, not in a global map keyed
by it, so dropping the scope drops them: there is nothing left behind to leak.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from asyncshift._closing import close_async_session, close_sync_sessions, mark_unusable
from asyncshift._sync_sessions import SyncSessions
from asyncshift._task_sessions import TaskSessions

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

logger = logging.getLogger("asyncshift")

_current_scope: contextvars.ContextVar[SessionScope | None] = contextvars.ContextVar(
    "asyncshift_session_scope", default=None
)

# Open scopes, for diagnostics and leak tests only; weak, so it never keeps a scope alive.
_open_scopes: weakref.WeakSet[SessionScope] = weakref.WeakSet()


class ScopeClosedError(RuntimeError):
    """A scoped registry was used after the scope that owns its sessions had ended."""


def current_scope() -> SessionScope | None:
    return _current_scope.get()


def open_scopes() -> list[SessionScope]:
    return list(_open_scopes)


_serving = False


def note_serving() -> None:
    """Called by the middleware: from now on a registry used outside any scope is a bug."""
    global _serving
    _serving = True


def is_serving() -> bool:
    return _serving


class SessionScope:
    """Owns the sessions that asyncshift registries create while it is current."""

    __slots__ = ("__weakref__", "_async", "_lock", "_sync", "closed", "label")

    def __init__(self, label: str) -> None:
        self.label = label
        self.closed = False
        # One lock for creation races: FastAPI may resolve sync dependencies of one request in
        # several worker threads at once.
        self._lock = threading.Lock()
        self._sync: dict[object, SyncSessions] = {}
        self._async: dict[object, TaskSessions] = {}
        _open_scopes.add(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SessionScope {self.label!r} {state}>"

    # -- sync sessions (request_scoped_session): one per registry per lane, see _sync_sessions --

    def _check_open(self) -> None:
        if self.closed:
            raise ScopeClosedError(
                f"the session scope of {self.label!r} has ended and its sessions were closed; "
                "this code outlived its request (a thread or task started by it and not awaited?). "
                "Open a scope of its own with `with session_scope():` or "
                "`async with session_scope():` around that work."
            )

    def _sync_sessions(self, registry: object) -> SyncSessions:
        sessions = self._sync.get(registry)
        if sessions is None:
            with self._lock:
                self._check_open()
                sessions = self._sync.get(registry)
                if sessions is None:
                    sessions = self._sync[registry] = SyncSessions(self._close_one, self.label)
        return sessions

    def _close_one(self, session: Session) -> None:
        close_sync_sessions([session], self.label)

    def get_sync(self, registry: object, create: Callable[[], Session]) -> Session:
        return self._sync_sessions(registry).get(create, self._check_open)

    def has_sync(self, registry: object) -> bool:
        sessions = self._sync.get(registry)
        return sessions is not None and sessions.has()

    def set_sync(self, registry: object, session: Session) -> None:
        self._sync_sessions(registry).set(session, self._check_open)

    def clear_sync(self, registry: object) -> None:
        sessions = self._sync.get(registry)
        if sessions is not None:
            sessions.clear()

    # -- async sessions (task_scoped_session): one per registry per task per scope ------------

    def task_sessions(self, registry: object) -> TaskSessions:
        sessions = self._async.get(registry)
        if sessions is None:
            with self._lock:
                sessions = self._async.get(registry)
                if sessions is None:
                    sessions = self._async[registry] = TaskSessions(self.label)
                    # A task started in the scope that outlives it owns its session, which is
                    # closed when that task ends (see TaskSessions.detach).
                    sessions.closed = self.closed
        return sessions

    def session_count(self, registry: object | None = None) -> int:
        sync = [s for r, s in self._sync.items() if registry is None or r is registry]
        tasks = [s for r, s in self._async.items() if registry is None or r is registry]
        return sum(len(s) for s in sync) + sum(len(s) for s in tasks)

    # -- teardown -------------------------------------------------------------------------------

    def _detach(self) -> tuple[list[Session], list[TaskSessions]]:
        with self._lock:
            self.closed = True
            sync = [session for sessions in self._sync.values() for session in sessions.detach()]
            tasks = list(self._async.values())
            # Both stay: a thread or task still at work keeps its Session until it is done.
        _open_scopes.discard(self)
        return sync, tasks

    async def aclose(self) -> None:
        """Close every session of the scope. Never raises; each close is tried on its own.

        Shielded, so a cancelled request (client gone) still releases its connections. Sync
        sessions that hold a connection are closed in a worker thread of their own: closing
        rolls back over the network, which must not block the event loop, and the thread must
        not wait for a token of anyio's shared limiter, which is exactly what the F2 deadlock
        exhausts. The closer threads are a small pool of asyncshift's own: a hop there costs
        less than half the CPU of an ``anyio.to_thread`` hop (measured: 37 vs 80 us).
        """
        import anyio  # here, not at the top: sync-only users (WSGI, workers) never need it

        with anyio.CancelScope(shield=True):
            sync, tasks = self._detach()
            me = asyncio.current_task()
            for task_sessions in tasks:
                for session, _loop in task_sessions.detach(me):
                    await close_async_session(session, self.label)
                await task_sessions.wait_for_pending_closes()
            needs_io = [s for s in sync if s.in_transaction()]
            close_sync_sessions([s for s in sync if not s.in_transaction()], self.label)
            if needs_io:
                await _in_closer_thread(close_sync_sessions, needs_io, self.label)

    def close(self) -> None:
        """Close every session of the scope from synchronous code. Never raises."""
        sync, tasks = self._detach()
        for task_sessions in tasks:
            for session, loop in task_sessions.detach(_current_task_or_none()):
                _close_async_from_sync(session, loop, self.label)
        close_sync_sessions(sync, self.label)


_closer: ThreadPoolExecutor | None = None
_closer_lock = threading.Lock()


def _closer_threads() -> ThreadPoolExecutor:
    global _closer
    if _closer is None:
        with _closer_lock:
            if _closer is None:
                _closer = ThreadPoolExecutor(32, thread_name_prefix="asyncshift-close")
    return _closer


async def _in_closer_thread(close: Callable[[list[Session], str], None], *args: Any) -> None:
    """Run a blocking close off the event loop, never on anyio's shared thread tokens (F2)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another async library under anyio (trio): its own thread, same rule
        import anyio.to_thread

        await anyio.to_thread.run_sync(close, *args, limiter=anyio.CapacityLimiter(1))
        return
    await loop.run_in_executor(_closer_threads(), close, *args)


def _current_task_or_none() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        return None


def _close_async_from_sync(
    session: AsyncSession, loop: asyncio.AbstractEventLoop, label: str
) -> None:
    """An async session left in a scope that is ending in sync code: close it on its own loop."""
    if loop.is_running():
        asyncio.run_coroutine_threadsafe(close_async_session(session, label), loop)
        return
    logger.error(
        "asyncshift: an AsyncSession of scope %r could not be closed: its event loop is no "
        "longer running. Use `async with session_scope():` in async code.",
        label,
    )
    mark_unusable(session.sync_session)


class session_scope:  # lower case: it reads like a function, `with session_scope():`
    """Open a session scope for work outside HTTP: scripts, queue workers, tests.

    ``with session_scope():`` in sync code, ``async with session_scope():`` in async code. At
    the end every session that an asyncshift registry created inside it is closed and removed.
    """

    def __init__(self, label: str = "session_scope()") -> None:
        self._label = label
        self._scope: SessionScope | None = None
        self._token: contextvars.Token[SessionScope | None] | None = None

    @property
    def scope(self) -> SessionScope:
        if self._scope is None:
            raise RuntimeError("session_scope() has not been entered")
        return self._scope

    def _enter(self) -> SessionScope:
        if self._scope is not None:
            raise RuntimeError("a session_scope() object can be entered only once")
        self._scope = SessionScope(self._label)
        self._token = _current_scope.set(self._scope)
        return self._scope

    def _pop(self) -> None:
        assert self._token is not None
        try:
            _current_scope.reset(self._token)
        except ValueError:
            # Exited in another context than it was entered in (a generator-based dependency
            # finalised elsewhere, say): the scope is closed anyway, only the variable stays.
            _current_scope.set(None)

    def __enter__(self) -> SessionScope:
        return self._enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.scope.close()
        finally:
            self._pop()

    async def __aenter__(self) -> SessionScope:
        return self._enter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.scope.aclose()
        finally:
            self._pop()
