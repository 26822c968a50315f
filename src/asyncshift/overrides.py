"""Tests that override a sync session dependency, carried over to its async twin.

A test writes ``app.dependency_overrides[get_session] = lambda: session`` to hand the app the
session its fixture set up. Once the endpoints depend on ``get_async_session`` that override no
longer reaches them; ``async_override`` makes the matching override for the twin, so the app
keeps running on the very session the test holds — same transaction, same identity map — and
what the test checks afterwards (``session.get(Hero, id) is None`` after a delete) still holds.

The ``AsyncSession`` it hands out runs on that sync session: each awaited call goes through
``greenlet_spawn`` into the sync session and its sync driver. That blocks the event loop for
the length of a query, which a test does not mind and a server would: this is for tests only.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

__all__ = ["async_override"]


def async_override(override: Callable[[], Any]) -> Callable[[], AsyncIterator[AsyncSession]]:
    """The override of an async session dependency that serves what ``override`` — a test's
    override of the sync dependency, taking no arguments — serves.

    ``override`` may return a ``Session`` or be a generator that yields one; a generator is run
    to its end (its ``finally`` closes what it opened) when the request is done. The session
    itself is not closed here: it belongs to whoever made it, as with the sync override.
    """
    if not callable(override):
        raise TypeError(
            f"async_override() takes the callable a test gives dependency_overrides; it was "
            f"given {type(override).__name__}. Pass the override function itself."
        )
    _require_no_parameters(override)

    async def async_dependency() -> AsyncIterator[AsyncSession]:
        made = override()
        generator = inspect.isgenerator(made)
        try:
            yield _async_session_on(next(made) if generator else made, override)
        finally:
            if generator:
                made.close()

    async_dependency.__name__ = f"async_{getattr(override, '__name__', 'override')}"
    return async_dependency


def _require_no_parameters(override: Callable[[], Any]) -> None:
    try:
        parameters = inspect.signature(override).parameters
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing FastAPI would inject either
    if parameters:
        raise TypeError(
            f"async_override({getattr(override, '__name__', override)!r}): the override takes "
            f"parameters ({', '.join(parameters)}), which FastAPI would fill in for the sync "
            "override but cannot for this wrapper. Write the async override by hand: an "
            "`async def` that yields an AsyncSession."
        )


def _async_session_on(session: object, override: Callable[[], Any]) -> AsyncSession:
    if isinstance(session, AsyncSession):
        return session
    if not isinstance(session, Session):
        raise TypeError(
            f"async_override: {getattr(override, '__name__', repr(override))!r} produced "
            f"{type(session).__name__}, not a SQLAlchemy Session; an override of a session "
            "dependency must hand out a session."
        )
    facade = _facade_class(type(session).__module__.startswith("sqlmodel"))
    # AsyncSession only calls sync_session_class(bind=..., binds=..., **kw): a callable will do.
    return facade(sync_session_class=cast("type[Session]", _Given(session)))


class _Given:
    """A ``sync_session_class`` that hands ``AsyncSession`` the session that already exists
    instead of making one (AsyncSession calls it with the arguments it was given)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, **_: Any) -> Session:
        return self.session


@functools.cache
def _facade_class(sqlmodel: bool) -> type[AsyncSession]:
    """The async session class for the test's session (SQLModel's for SQLModel's Session: the
    endpoints call ``.exec``), with ``execute``/``exec`` handing back the sync result as it is.

    AsyncSession checks a result for the async driver's cursor, which a sync driver's result
    does not have (SQLAlchemy 2.1 soft-closes it asynchronously); every other method already
    runs the sync session's own through ``greenlet_spawn``.
    """
    base: type[AsyncSession] = AsyncSession
    if sqlmodel:
        # Imported by name: SQLModel is the service's dependency, not asyncshift's.
        base = importlib.import_module("sqlmodel.ext.asyncio.session").AsyncSession

    async def execute(self: AsyncSession, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return await greenlet_spawn(self.sync_session.execute, statement, *args, **kwargs)

    namespace: dict[str, Any] = {"execute": execute, "__module__": __name__}
    if hasattr(base, "exec"):

        async def exec_(self: AsyncSession, statement: Any, **kwargs: Any) -> Any:
            return await greenlet_spawn(self.sync_session.exec, statement, **kwargs)  # type: ignore[attr-defined]

        namespace["exec"] = exec_
    return type(f"{base.__name__}OnTestSession", (base,), namespace)
