"""request_scoped_session: a real scoped_session keyed by the session scope."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import QueuePool

from asyncshift import NoScopeError, ScopeClosedError, request_scoped_session, session_scope
from asyncshift._closing import CAN_CLOSE_FOR_GOOD


@pytest.fixture
def engine(tmp_path: object) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool, pool_size=5)
    yield engine
    engine.dispose()


def test_is_a_real_scoped_session_with_its_proxies(engine: Engine) -> None:
    factory = sessionmaker(engine)
    registry = request_scoped_session(factory)
    assert isinstance(registry, scoped_session)
    assert registry.session_factory is factory
    with session_scope():
        assert registry.execute(text("SELECT 41 + 1")).scalar_one() == 42
        assert isinstance(registry(), Session)


def in_worker_thread(context: contextvars.Context, work: Callable[[], object]) -> None:
    """What FastAPI does for a ``def`` endpoint: the call runs in a copy of the context."""
    worker = threading.Thread(target=context.copy().run, args=(work,))
    worker.start()
    worker.join()


def test_worker_threads_in_turn_share_one_session(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    seen: list[Session] = []
    with session_scope():
        context = contextvars.copy_context()  # the request's context, no session used in it
        in_worker_thread(context, lambda: seen.append(registry()))  # a `def` dependency
        in_worker_thread(context, lambda: seen.append(registry()))  # then the `def` endpoint
        assert seen[0] is seen[1]
    with session_scope():
        in_worker_thread(contextvars.copy_context(), lambda: seen.append(registry()))
        assert seen[2] is not seen[0]


def test_threads_at_the_same_time_never_share_a_session(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    seen: list[Session] = []
    both_inside = threading.Barrier(2, timeout=5)

    def work() -> None:
        seen.append(registry())
        both_inside.wait()  # the other thread holds its session now too

    with session_scope():
        context = contextvars.copy_context()
        threads = [threading.Thread(target=context.copy().run, args=(work,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen[0] is not seen[1]
        # The thread that opened the scope is at work too while its workers run.
        here = registry()
        in_worker_thread(contextvars.copy_context(), lambda: seen.append(registry()))
        assert seen[2] is not here
        assert registry() is here
        # Both earlier sessions are free again: a later worker takes one of them over.
        assert seen[2] in seen[:2]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_scope_end_closes_and_forgets_the_session(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    with session_scope():
        session = registry()
        session.execute(text("SELECT 1"))
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    if CAN_CLOSE_FOR_GOOD:
        with pytest.raises(InvalidRequestError, match="permanently closed"):
            session.execute(text("SELECT 1"))


def test_outside_a_scope_it_is_thread_local_as_before(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    here = registry()
    assert registry() is here
    other: list[Session] = []
    thread = threading.Thread(target=lambda: other.append(registry()))
    thread.start()
    thread.join()
    assert other[0] is not here
    registry.remove()


def test_strict_registry_outside_a_scope_says_how_to_open_one(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine), strict=True)
    with pytest.raises(NoScopeError, match=r"add_middleware\(SessionScopeMiddleware\)"):
        registry()
    with pytest.raises(NoScopeError, match=r"session_scope\(\)"):
        registry.execute(text("SELECT 1"))
    registry.remove()  # removing nothing is not misuse
    with session_scope():
        registry.execute(text("SELECT 1"))


def test_use_after_the_scope_ended_is_a_clear_error(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    with session_scope():
        # Work that outlives its request keeps a copy of the request's context.
        leftover = contextvars.copy_context()
    with pytest.raises(ScopeClosedError, match=r"has ended.*session_scope\(\)"):
        leftover.run(registry)


def test_a_failing_close_is_logged_and_the_other_sessions_still_close(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    class CloseFails(Session):
        def close(self) -> None:
            super().close()
            raise RuntimeError("close failed")

    failing = request_scoped_session(sessionmaker(engine, class_=CloseFails))
    healthy = request_scoped_session(sessionmaker(engine))
    with session_scope("GET /items"):
        failing.execute(text("SELECT 1"))
        healthy.execute(text("SELECT 1"))
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert "GET /items" in caplog.text
    assert "close failed" in caplog.text
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    with session_scope():  # the scope was popped: a new one starts clean
        assert healthy() is not None


def test_remove_inside_a_scope_closes_only_that_session(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    with session_scope():
        first = registry()
        first.execute(text("SELECT 1"))
        registry.remove()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert registry() is not first


def test_scoped_session_kwargs_create_a_tracked_session(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    with session_scope():
        session = registry(autoflush=False)
        assert session.autoflush is False
        assert registry() is session
        with pytest.raises(InvalidRequestError, match="already present"):
            registry(autoflush=True)
        session.execute(text("SELECT 1"))
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_lane_whose_session_was_taken_over_gets_another(engine: Engine) -> None:
    """anyio 3 keeps a finished call's context (and its lane) alive; WSGI bodies re-enter a
    context. A context entered again must not get back a Session another thread now holds."""
    registry = request_scoped_session(sessionmaker(engine))
    first_pool = ThreadPoolExecutor(max_workers=1)
    second_pool = ThreadPoolExecutor(max_workers=1)
    other_holds_it = threading.Event()
    release = threading.Event()
    with session_scope():
        kept = contextvars.copy_context()  # like anyio 3's worker, which keeps it after the call
        first = first_pool.submit(kept.run, registry).result()

        def hold() -> Session:
            session = registry()
            other_holds_it.set()
            release.wait(5)
            return session

        taken = second_pool.submit(contextvars.copy_context().run, hold)
        assert other_holds_it.wait(5)
        again = first_pool.submit(kept.run, registry).result()  # same thread, same context
        release.set()
        assert taken.result() is first  # the first call was over: handed over
        assert again is not first  # ...so the old lane does not get it back
    first_pool.shutdown()
    second_pool.shutdown()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
