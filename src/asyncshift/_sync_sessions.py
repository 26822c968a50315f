"""The sync Sessions of one registry in one scope: one per *lane*, shared by lanes in turn.

A lane is one stretch of work on one thread: a worker-thread call (``run_in_threadpool``,
``anyio.to_thread.run_sync``, ``asyncio.to_thread`` each run the function in a fresh copy of the
request's context), the event-loop thread's share of a request, or a script's thread. The lane
lives in a ``ContextVar`` set inside that copy, so it dies when the worker-thread call is over and
its context is dropped.

The rule (legacy thread-local code relied on both halves):

- lanes that are alive at the same time never share a Session: two legacy functions run at once
  in two worker threads each get their own, as each thread had its own before;
- a lane that starts after another one ended takes over the Session that one left: a ``def``
  dependency, then the ``def`` endpoint, in two worker threads one after the other, share one
  Session and one transaction.

At the scope's end every Session is closed. A Session still held by a lane on another thread (a
request cancelled while its worker thread is in a query) is not closed under that thread's feet:
the close is handed to the lane and happens when that work is over.
"""

from __future__ import annotations

import concurrent.futures.thread
import contextvars
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import CodeType, FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


_ANYIO_WORKERS = "anyio._backends._asyncio"
_POLL_SECONDS = 0.02  # how often a handed-over close looks whether its thread is done


def _thread_pool_loops() -> frozenset[CodeType]:
    """Code of the frames a worker thread keeps for its whole life, below every call it runs."""
    codes = {
        threading.Thread._bootstrap.__code__,  # type: ignore[attr-defined]
        threading.Thread._bootstrap_inner.__code__,  # type: ignore[attr-defined]
        threading.Thread.run.__code__,
        concurrent.futures.thread._worker.__code__,  # asyncio.to_thread, run_in_executor
    }
    # anyio.to_thread.run_sync, hence Starlette's run_in_threadpool; looked up only once anyio
    # is in use, so that sync-only programs never import it.
    workers = getattr(sys.modules.get(_ANYIO_WORKERS), "WorkerThread", None)
    run = getattr(workers, "run", None)
    if run is not None and hasattr(run, "__code__"):
        codes.add(run.__code__)
    return frozenset(codes)


_POOL_LOOPS = _thread_pool_loops()
_POOL_LOOPS_KNOW_ANYIO = _ANYIO_WORKERS in sys.modules


def _pool_loops() -> frozenset[CodeType]:
    global _POOL_LOOPS, _POOL_LOOPS_KNOW_ANYIO
    if not _POOL_LOOPS_KNOW_ANYIO and _ANYIO_WORKERS in sys.modules:
        _POOL_LOOPS, _POOL_LOOPS_KNOW_ANYIO = _thread_pool_loops(), True
    return _POOL_LOOPS


def _outermost_call_frame() -> FrameType | None:
    """The frame of the call a thread pool is running now (None: not in a known pool)."""
    loops = _pool_loops()
    frame: FrameType | None = sys._getframe(2)
    call = None
    while frame is not None:
        if frame.f_code in loops:
            return call
        call = frame
        frame = frame.f_back
    return None


class Lane:
    """One stretch of work on one thread in one context (see the module docstring)."""

    __slots__ = ("__weakref__", "call_frame", "held", "thread")

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        # The Session this lane holds in each scope's SyncSessions. The lane keeps the lease
        # alive; the SyncSessions only keeps a weak reference to the lane.
        self.held: dict[SyncSessions, Session] = {}
        # On a pool's worker thread, the frame of the call it runs, to tell at a scope's end
        # whether that call is still running. A lane normally ends with its call, when its
        # context is dropped; an exception that keeps the call's frames alive keeps the lane
        # alive too, without anything still using its Session.
        self.call_frame = _outermost_call_frame() if self._on_worker_thread() else None

    @staticmethod
    def _on_worker_thread() -> bool:
        return threading.current_thread() is not threading.main_thread()

    def still_running(self) -> bool:
        """Whether the work of this lane may still be using its Session (unknown: yes)."""
        if self.call_frame is None:
            return True
        frame = sys._current_frames().get(self.thread)
        while frame is not None:
            if frame is self.call_frame:
                return True
            frame = frame.f_back
        return False


_lane: contextvars.ContextVar[Lane | None] = contextvars.ContextVar("asyncshift_lane", default=None)


def current_lane() -> Lane:
    """This thread's lane in this context; a context copied from another thread starts its own."""
    lane = _lane.get()
    if lane is None or lane.thread != threading.get_ident():
        lane = Lane()
        _lane.set(lane)
    return lane


class SyncSessions:
    """The Sessions one ``request_scoped_session`` created in one scope, and who holds each."""

    __slots__ = (
        "__weakref__",
        "_close",
        "_holders",
        "_label",
        "_lock",
        "_orphans",
        "_removed",
        "closed",
    )

    def __init__(self, close: Callable[[Session], None], label: str) -> None:
        # Reentrant: dropping the last reference to a lane inside the lock must not deadlock
        # should anything ever hang a callback on it.
        self._lock = threading.RLock()
        # Every Session of this registry in this scope, in creation order, with its holder.
        self._holders: dict[Session, weakref.ref[Lane] | None] = {}
        # Sessions still in use by a lane on another thread at the scope's end, closed by a
        # watcher thread once that work is over.
        self._orphans: dict[Session, weakref.ref[Lane]] = {}
        # Sessions that remove() closed: code that kept a reference may use them again (a
        # streaming body after a dependency's teardown), which opens a connection anew.
        self._removed: list[Session] = []
        self._close = close
        self._label = label
        self.closed = False

    def __len__(self) -> int:
        return len(self._holders)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def get(self, create: Callable[[], Session], refuse: Callable[[], None]) -> Session:
        lane = current_lane()
        session = lane.held.get(self)
        if session is not None:
            holders = self._orphans if self.closed else self._holders
            holder = holders.get(session)
            # Still this lane's (another lane may have taken it over once this lane's call
            # was over); after the scope's end, only work that was in flight goes on.
            if holder is not None and holder() is lane:
                return session
            del lane.held[self]
        with self._lock:
            session = self._free_session()
            if session is None:
                if self.closed:
                    refuse()
                session = create()
            self._lease(session, lane)
            return session

    def has(self) -> bool:
        lane = _lane.get()
        return lane is not None and lane.thread == threading.get_ident() and self in lane.held

    def set(self, session: Session, refuse: Callable[[], None]) -> None:
        lane = current_lane()
        with self._lock:
            if self.closed:
                refuse()
            previous = lane.held.pop(self, None)
            if previous is not None:
                self._holders[previous] = None  # stays in the scope, closed at its end
            self._lease(session, lane)

    def clear(self) -> None:
        """Forget the current lane's Session (``remove()`` has closed it)."""
        lane = _lane.get()
        if lane is None or lane.thread != threading.get_ident():
            return
        with self._lock:
            session = lane.held.pop(self, None)
            if session is not None:
                self._holders.pop(session, None)
                self._removed.append(session)

    def _free_session(self) -> Session | None:
        me = threading.get_ident()
        for session, holder in self._holders.items():
            lane = holder() if holder is not None else None
            if lane is None or lane.thread == me or not lane.still_running():
                # No lane, or its call is over: this thread now runs another call, or the
                # lane's thread is no longer inside it (anyio 3 keeps a finished call's context,
                # hence its lane, alive until the worker's next call).
                return session
        return None

    def _lease(self, session: Session, lane: Lane) -> None:
        lane.held[self] = session
        self._holders[session] = weakref.ref(lane)

    def _close_when_released(self, session: Session, holder: weakref.ref[Lane]) -> None:
        """Wait until the lane's work is over (its call returned, or the lane is gone), then close.

        Polls: nothing tells when a thread pool's call returns, and the lane itself may be kept
        alive long after that by an exception's traceback. Runs in a thread of its own.
        """
        while True:
            lane = holder()
            if lane is None or not lane.still_running():
                break
            del lane
            time.sleep(_POLL_SECONDS)
        with self._lock:
            self._orphans.pop(session, None)
        self._close(session)

    def detach(self) -> list[Session]:
        """End of scope: the Sessions to close now; the others are closed by their lanes."""
        me = threading.get_ident()
        now: list[Session] = []
        with self._lock:
            self.closed = True
            for session, holder in self._holders.items():
                lane = holder() if holder is not None else None
                in_use = lane is not None and lane.thread != me and lane.still_running()
                if holder is not None and in_use:
                    self._orphans[session] = holder
                else:
                    now.append(session)
                del lane
            self._holders.clear()
            now.extend(self._removed)
            self._removed.clear()
            orphans = list(self._orphans.items())
        for session, holder in orphans:
            threading.Thread(
                target=self._close_when_released,
                args=(session, holder),
                name=f"asyncshift-close-after-thread ({self._label})",
                daemon=True,
            ).start()
        return now
