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

_blocking_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "asyncshift_blocking_allowed", default=False
)
_GUARDED = "_asyncshift_guard_mode"


class BlockingCallError(RuntimeError):
    """Sync database I/O was attempted on a thread that is running an event loop."""


class BlockingCallWarning(RuntimeWarning):
    """``guard(engine, mode="warn")``: the same finding as ``BlockingCallError``, as a warning."""


class allow_blocking:  # lower case: it reads like a function, `with allow_blocking():`
    """Let sync database I/O run on the event loop inside this block (and tasks it starts).

    For deliberate uses: startup work before anything is served, a one-off admin script. The
    scope middleware wraps the ASGI lifespan in it, so startup/shutdown handlers are exempt.
    """

    def __init__(self) -> None:
        self._token: contextvars.Token[bool] | None = None

    def __enter__(self) -> None:
        self._token = _blocking_allowed.set(True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        _blocking_allowed.reset(self._token)

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
    return _loop_running_here() and not _in_sqlalchemy_greenlet() and not _blocking_allowed.get()


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
    return (
        f"sync database I/O ({action}) on the event loop thread{where}: it blocks every "
        "request this server handles, and freezes the server once the pool is exhausted "
        "(F4). Use an AsyncSession (`await session.execute(...)`), run legacy code through "
        "`await adapt(fn)(async_session, ...)`, or make the endpoint `def` so it runs in the "
        "thread pool. Deliberate? Wrap it in `with asyncshift.allow_blocking():`."
    )


_warned_at: set[tuple[str, int]] = set()
_warned_lock = threading.Lock()


def _report(engine: Engine, action: str) -> None:
    frame = _caller()
    message = _message(action, frame)
    if getattr(engine, _GUARDED) == "raise":
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


def guard(engine: Engine | AsyncEngine, mode: Literal["raise", "warn"] = "raise") -> None:
    """Make sync database I/O of ``engine`` on an event-loop thread raise (or warn).

    Fires before the pool is asked for a connection — so the loop never waits on a full pool
    and no connection is opened just to be refused — and on every statement sent over a
    connection a session already holds. Never fires in worker threads, inside ``run_sync`` /
    ``adapt()``, or inside ``allow_blocking()``. An ``AsyncEngine`` needs no guard (its sync
    face runs only in greenlets), so guarding one does nothing. Calling it again changes the
    mode.
    """
    if mode not in ("raise", "warn"):
        raise ValueError(f"mode must be 'raise' or 'warn', not {mode!r}")
    if isinstance(engine, AsyncEngine):
        return
    already = hasattr(engine, _GUARDED)
    setattr(engine, _GUARDED, mode)
    if already:
        return
    # Engine.connect() gets its DBAPI connection from raw_connection(): checking there comes
    # before the pool, and survives engine.dispose(), which replaces the pool.
    unguarded = engine.raw_connection

    def raw_connection() -> Any:
        if _would_block_the_loop():
            _report(engine, "checking out a connection")
        return unguarded()

    engine.raw_connection = raw_connection  # type: ignore[method-assign]

    @event.listens_for(engine, "before_cursor_execute")
    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _would_block_the_loop():
            _report(engine, f"executing {statement.split(None, 1)[0] if statement else 'SQL'}")
