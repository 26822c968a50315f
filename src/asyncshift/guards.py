"""Guards: sync database I/O on the event loop becomes an error instead of a frozen server (F4).

A sync ``Session`` used inside ``async def`` blocks the event loop for every round trip, and
when the pool is exhausted it blocks it until a connection comes back — which cannot happen,
because the requests holding the connections need the loop to finish. ``guard(engine)`` makes
the first such call raise ``BlockingCallError`` (or warn) before the pool is even asked.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import traceback
import warnings
from types import FrameType, TracebackType
from typing import Any, Literal

import greenlet  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from asyncshift._arguments import require_engine

_GUARDED = "_asyncshift_guard_mode"


class _Exemption:
    """Who an ``allow_blocking()`` block exempts: the task that entered it, or a whole thread.

    Entered inside a task, it covers that task only. Tasks it starts copy the context (and so
    this object), but not the exemption: a periodic task started in the lifespan runs for the
    life of the server, and its sync I/O on the loop while serving must be reported like any
    other. Entered outside any event loop (a script around ``asyncio.run``), it covers the
    whole thread, loops it runs included.
    """

    __slots__ = ("task", "thread")

    def __init__(self) -> None:
        self.task: asyncio.Task[Any] | None = _current_task()
        self.thread = threading.get_ident()

    def covers_here(self) -> bool:
        if self.task is None:
            return self.thread == threading.get_ident()
        return _current_task() is self.task


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop in this thread
        return None


_exemption: contextvars.ContextVar[_Exemption | None] = contextvars.ContextVar(
    "asyncshift_blocking_allowed", default=None
)


class BlockingCallError(RuntimeError):
    """Sync database I/O was attempted on a thread that is running an event loop."""


class BlockingCallWarning(RuntimeWarning):
    """``guard(engine, mode="warn")``: the same finding as ``BlockingCallError``, as a warning."""


class allow_blocking:  # lower case: it reads like a function, `with allow_blocking():`
    """Let sync database I/O run on the event loop inside this block.

    For deliberate uses: startup work before anything is served, a one-off admin script. The
    scope middleware wraps the ASGI lifespan in it, so startup/shutdown handlers are exempt.
    The exemption belongs to the task that entered the block: tasks it starts (a periodic job
    created at startup, which then runs while the server serves) are not exempt, and need
    their own ``allow_blocking()`` for deliberate blocking work. Entered outside any event
    loop, it covers the thread, including a loop it runs (``asyncio.run``).
    """

    def __init__(self) -> None:
        self._token: contextvars.Token[_Exemption | None] | None = None

    def __enter__(self) -> None:
        self._token = _exemption.set(_Exemption())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        _exemption.reset(self._token)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _in_sqlalchemy_greenlet() -> bool:
    """True inside ``run_sync``/``adapt()`` and the async engine's machinery."""
    current = greenlet.getcurrent()
    return bool(getattr(current, "__sqlalchemy_greenlet_provider__", False)) or (
        type(current).__name__ == "_AsyncIoGreenlet"  # SQLAlchemy < 2.0.36
    )


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # a worker thread, or plain sync code: blocking is fine there
    return True


def _would_block_the_loop() -> bool:
    if not _loop_running_here() or _in_sqlalchemy_greenlet():
        return False
    exemption = _exemption.get()
    return exemption is None or not exemption.covers_here()


def _caller() -> FrameType | None:
    """The innermost frame outside SQLAlchemy and asyncshift: the code to fix."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("sqlalchemy.", "asyncshift.")):
            return frame
        frame = frame.f_back
    return None


def _message(action: str, frame: FrameType | None) -> str:
    where = f" at {frame.f_code.co_filename}:{frame.f_lineno}" if frame else ""
    inherited = (
        " This task was started inside an allow_blocking() block (the lifespan, say): the "
        "exemption covers the code that entered the block, not tasks it starts, which run "
        "while the server serves."
        if _exemption.get() is not None
        else ""
    )
    return (
        f"sync database I/O ({action}) on the event loop thread{where}: it blocks every "
        "request this server handles, and freezes the server once the pool is exhausted "
        f"(F4).{inherited} Use an AsyncSession (`await session.execute(...)`), run legacy code "
        "through `await adapt(fn)(async_session, ...)`, or make the endpoint `def` so it runs "
        "in the thread pool. Deliberate? Wrap it in `with asyncshift.allow_blocking():`."
    )


_warned_at: set[tuple[str, int]] = set()
_warned_lock = threading.Lock()


def _report(engine: Engine, action: str, *, cleanup: bool = False) -> None:
    frame = _caller()
    message = _message(action, frame)
    if cleanup:
        # Refusing the ROLLBACK of a close() half-way would leave its connection checked out
        # with no session that knows it: a leak. The close finishes; the finding is a warning.
        message += " (It ran: it is part of a close(), and refusing it would leak the connection.)"
    elif getattr(engine, _GUARDED) == "raise":
        raise BlockingCallError(message)
    key = (frame.f_code.co_filename, frame.f_lineno) if frame else ("?", 0)
    with _warned_lock:
        if key in _warned_at:
            return
        _warned_at.add(key)
    stack = "".join(traceback.format_stack(frame)) if frame else ""
    warnings.warn_explicit(
        f"{message}\n{stack}", BlockingCallWarning, filename=key[0], lineno=key[1]
    )


def _root(engine: Engine) -> Engine:
    """The engine an ``execution_options()`` engine derives from (they share pool and events)."""
    while isinstance(getattr(engine, "_proxied", None), Engine):
        engine = engine._proxied  # type: ignore[attr-defined]
    return engine


def guard(engine: Engine | AsyncEngine, mode: Literal["raise", "warn"] = "raise") -> None:
    """Make sync database I/O of ``engine`` on an event-loop thread raise (or warn).

    Fires before the pool is asked for a connection — so the loop never waits on a full pool
    and no connection is opened just to be refused — on every statement sent over a
    connection a session already holds, and on COMMIT and ROLLBACK. Covers the engines derived
    from it with ``engine.execution_options(...)``, before or after this call (they share its
    pool and events); guarding a derived engine guards its parent. Never fires in worker
    threads, inside ``run_sync`` / ``adapt()``, or inside ``allow_blocking()``. An
    ``AsyncEngine`` needs no guard (its sync face runs only in greenlets), so guarding one
    does nothing. Calling it again changes the mode.
    """
    engine = require_engine("guard", engine)  # before anything is changed
    if mode not in ("raise", "warn"):
        raise ValueError(f"guard(): mode must be 'raise' or 'warn', not {mode!r}")
    if isinstance(engine, AsyncEngine):
        return
    root = _root(engine)
    already = hasattr(root, _GUARDED)
    setattr(root, _GUARDED, mode)
    if already:
        return
    # The check must come before the pool is asked. Every engine derived from this one with
    # execution_options() reads the same pool (a property of the parent), so the check sits on
    # the pool's connect(); dispose() replaces the pool, and the new one gets it too.
    _guard_pool(root)
    event.listen(root, "engine_disposed", lambda _engine: _guard_pool(root))

    @event.listens_for(root, "before_cursor_execute")
    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _would_block_the_loop():
            _report(root, f"executing {statement.split(None, 1)[0] if statement else 'SQL'}")

    # COMMIT and ROLLBACK are round trips too, and run no cursor: the engine's own events fire
    # before the DBAPI call.
    @event.listens_for(root, "commit")
    def before_commit(conn: Any) -> None:
        if _would_block_the_loop():
            _report(root, "commit")

    @event.listens_for(root, "rollback")
    def before_rollback(conn: Any) -> None:
        if _would_block_the_loop():
            _report(root, "rollback", cleanup=_closing())


def _closing() -> bool:
    """Whether this ROLLBACK is part of a ``close()`` of a Session, Connection or transaction."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "close" and frame.f_globals.get("__name__", "").startswith(
            "sqlalchemy."
        ):
            return True
        frame = frame.f_back
    return False


def _guard_pool(engine: Engine) -> None:
    pool = engine.pool
    unguarded = pool.connect

    def connect() -> Any:
        if _would_block_the_loop():
            _report(engine, "checking out a connection")
        return unguarded()

    pool.connect = connect  # type: ignore[method-assign]
