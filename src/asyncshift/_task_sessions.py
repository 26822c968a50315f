"""AsyncSessions keyed by asyncio task, without keeping any task alive.

The keys are the task objects themselves, held weakly: never ``id(task)``, which CPython
recycles as soon as the task is freed (sqlalchemy/sqlalchemy#8340). A session whose task ends
without ``remove()`` is closed by a done-callback registered once, when the session is created.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from asyncshift._closing import close_async_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class _CloseThatRunsToTheEnd(asyncio.Task):  # type: ignore[type-arg]
    """The close of a finished task's session: a Task that ignores ``cancel()``.

    ``asyncio.run()`` cancels every task left when ``main()`` returns, and the close that
    follows ``main()``'s own end is one of them, scheduled but not started yet: cancelled, it
    never runs, and the connection is lost with "Exception during reset ... CancelledError".
    Ignoring the cancel makes ``asyncio.run()`` wait for it (it gathers what it cancelled), and
    a close is short: one ROLLBACK.
    """

    def cancel(self, msg: object = None) -> bool:
        return False


_NO_TASK = (
    "task_scoped_session() was used outside an asyncio task{where}: it keeps one AsyncSession "
    "per task, so it needs async code running on an asyncio event loop. Call it from async "
    "code (inside asyncio.run(), an async endpoint, a task); sync code takes "
    "request_scoped_session(sessionmaker(engine)) instead."
)


def _current_task() -> asyncio.Task[object] | None:
    """The running task; None in a loop callback; our error, not asyncio's, in sync code."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # "no running event loop": plain sync code
        where = " (from sync code, no event loop running)"
        raise RuntimeError(_NO_TASK.format(where=where)) from None


def _running_task() -> asyncio.Task[object]:
    task = _current_task()
    if task is None:
        raise RuntimeError(_NO_TASK.format(where=" (in a plain event-loop callback)"))
    return task


class TaskSessions:
    __slots__ = ("_label", "_pending_closes", "_removed", "_sessions", "closed")

    def __init__(self, label: str, *, in_scope: bool = True) -> None:
        self._label = label
        # In a scope, sessions that remove() closed are closed once more at its end: code that
        # kept a reference (a streaming body after a dependency's teardown) may have re-opened
        # one. Outside any scope nothing ends, so nothing is kept.
        self._removed: list[tuple[AsyncSession, asyncio.AbstractEventLoop]] | None = (
            [] if in_scope else None
        )
        self._sessions: weakref.WeakKeyDictionary[asyncio.Task[object], AsyncSession] = (
            weakref.WeakKeyDictionary()
        )
        self._pending_closes: set[asyncio.Task[None]] = set()
        # Set when the scope ends. A task started in the scope that outlives it (fire and
        # forget) keeps its session, or opens one, and it is closed when the task ends: the task
        # owns it, as outside any scope.
        self.closed = False

    def __len__(self) -> int:
        return len(self._sessions)

    def get_or_create(self, create: Callable[[], AsyncSession]) -> AsyncSession:
        task = _running_task()
        session = self._sessions.get(task)
        if session is None:
            session = create()
            self._adopt(task, session)
        return session

    def has(self) -> bool:
        task = _current_task()
        return task is not None and task in self._sessions

    def set(self, session: AsyncSession) -> None:
        task = _running_task()
        if task in self._sessions:
            self._sessions[task] = session
        else:
            self._adopt(task, session)

    def clear(self) -> None:
        task = _current_task()
        if task is None:
            return
        session = self._sessions.pop(task, None)
        if session is not None:
            task.remove_done_callback(self._on_task_done)
            if self._removed is not None:
                self._removed.append((session, task.get_loop()))

    def _adopt(self, task: asyncio.Task[object], session: AsyncSession) -> None:
        self._sessions[task] = session
        task.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Task[object]) -> None:
        session = self._sessions.pop(task, None)
        if session is None:
            return
        closing = _CloseThatRunsToTheEnd(
            close_async_session(session, self._label), loop=task.get_loop()
        )
        self._pending_closes.add(closing)
        closing.add_done_callback(self._pending_closes.discard)

    def detach(
        self, ending_in: asyncio.Task[object] | None
    ) -> list[tuple[AsyncSession, asyncio.AbstractEventLoop]]:
        """The scope ends (in task ``ending_in``): the sessions it must close now.

        A task that is still running (a fire-and-forget task started by the request, children
        that are still handling their cancellation) keeps its session: closing it now would
        collide with the statement it is running. Its done-callback closes it when it ends.
        Sessions of finished tasks, of the task ending the scope, and those ``remove()`` closed
        are returned.
        """
        self.closed = True
        detached = []
        for task, session in list(self._sessions.items()):
            loop = task.get_loop()
            if task.done() or task is ending_in or not loop.is_running():
                task.remove_done_callback(self._on_task_done)
                del self._sessions[task]
                detached.append((session, loop))
        if self._removed:
            detached.extend(self._removed)
            self._removed.clear()
        return detached

    async def wait_for_pending_closes(self) -> None:
        if self._pending_closes:
            await asyncio.gather(*self._pending_closes, return_exceptions=True)
