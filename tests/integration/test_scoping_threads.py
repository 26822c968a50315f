"""Worker threads of one request against MariaDB: at the same time never one Session, in turn one.

Legacy thread-local ``scoped_session`` gave every worker thread its own Session, so an ``async
def`` endpoint could run two legacy functions at once (``run_in_threadpool`` in ``gather``, a task
group, ``asyncio.to_thread``). The one-line migration to ``request_scoped_session`` must keep that
working; and the usual hand-off (a ``def`` dependency, then the ``def`` endpoint, in two worker
threads one after the other) must keep sharing one Session, as legacy code expects.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import warnings
from collections.abc import Iterator

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from asyncshift import SessionScopeMiddleware, request_scoped_session
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.mariadb,
    pytest.mark.timeout(60),
    pytest.mark.filterwarnings("error"),
]


@pytest.fixture(autouse=True)
def earlier_garbage_collected() -> None:
    """Garbage left by earlier tests is not this test's: collect it before the test starts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


@pytest.fixture
def engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = create_engine(mariadb.sync_url, pool_size=8, max_overflow=0, pool_timeout=5)
    yield engine
    engine.dispose()


async def assert_nothing_left(engine: Engine) -> None:
    # A worker thread may still be leaving its call when the response is sent (asyncio.to_thread
    # resolves the future before its thread is done): the scope's end then hands that Session's
    # close to the watcher, which closes it when the call returns. Wait for that close.
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def legacy_work(db: scoped_session[Session], seen: list[tuple[int, int]]) -> int:
    """Legacy code: the global registry, several statements, a pause in between."""
    connection_id = db.execute(text("SELECT CONNECTION_ID()")).scalar_one()
    db.execute(text("SELECT SLEEP(0.05)"))
    assert db.execute(text("SELECT CONNECTION_ID()")).scalar_one() == connection_id
    seen.append((threading.get_ident(), id(db())))
    return int(connection_id)


def fan_out_app(db: scoped_session[Session], how: str, seen: list[tuple[int, int]]) -> FastAPI:
    app = FastAPI()

    @app.get("/fan-out")
    async def fan_out() -> dict[str, list[int]]:
        if how == "run_in_threadpool":
            ids = await asyncio.gather(
                run_in_threadpool(legacy_work, db, seen), run_in_threadpool(legacy_work, db, seen)
            )
        elif how == "asyncio.to_thread":
            ids = await asyncio.gather(
                asyncio.to_thread(legacy_work, db, seen), asyncio.to_thread(legacy_work, db, seen)
            )
        else:
            results: list[int] = []

            async def one() -> None:
                results.append(await anyio.to_thread.run_sync(legacy_work, db, seen))

            async with anyio.create_task_group() as group:
                group.start_soon(one)
                group.start_soon(one)
            ids = results
        return {"connections": list(ids)}

    app.add_middleware(SessionScopeMiddleware)
    return app


@pytest.mark.parametrize("how", ["run_in_threadpool", "asyncio.to_thread", "task group"])
async def test_threads_running_at_once_get_sessions_of_their_own(engine: Engine, how: str) -> None:
    db = request_scoped_session(sessionmaker(engine))
    seen: list[tuple[int, int]] = []
    app = fan_out_app(db, how, seen)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/fan-out") for _ in range(4)))
    for response in responses:
        assert response.status_code == 200, response.text
        first, second = response.json()["connections"]
        assert first != second  # two threads at once: two sessions, two connections
    await assert_nothing_left(engine)


async def test_a_dependency_and_its_endpoint_in_turn_share_one_session(engine: Engine) -> None:
    db = request_scoped_session(sessionmaker(engine))
    app = FastAPI()

    def current_user() -> int:
        db.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS handoff (n INT)"))
        db.execute(text("INSERT INTO handoff VALUES (7)"))
        return id(db())

    @app.get("/handoff")
    def endpoint(dependency_session: int = Depends(current_user)) -> dict[str, object]:
        # Same Session, same transaction: the row the dependency inserted is visible.
        rows = db.execute(text("SELECT n FROM handoff")).scalars().all()
        return {"same": dependency_session == id(db()), "rows": list(rows)}

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/handoff") for _ in range(4)))
    for response in responses:
        assert response.json() == {"same": True, "rows": [7]}
    await assert_nothing_left(engine)


class TimeoutMiddleware:
    """The usual request timeout: ``asyncio.wait_for`` around the app, 504 when it fires."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.wait_for(self.app(scope, receive, send), self.seconds)
        except asyncio.TimeoutError:
            await JSONResponse({"error": "timeout"}, status_code=504)(scope, receive, send)


@pytest.mark.parametrize("how", ["asyncio.to_thread", "run_in_executor"])
async def test_a_request_cancelled_mid_query_lets_its_thread_finish_first(
    engine: Engine, how: str
) -> None:
    db = request_scoped_session(sessionmaker(engine))
    finished: list[int] = []
    failures: list[BaseException] = []

    def slow_legacy_work() -> None:
        try:
            db.execute(text("SELECT SLEEP(0.4)"))  # the request times out during this query
            db.execute(text("SELECT 1"))  # and the thread goes on with its work
            db.commit()
            finished.append(1)
        except BaseException as error:  # the test reports it
            failures.append(error)

    app = FastAPI()

    @app.get("/slow")
    async def slow() -> None:
        if how == "asyncio.to_thread":
            await asyncio.to_thread(slow_legacy_work)
        else:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            await loop.run_in_executor(None, context.run, slow_legacy_work)

    app.add_middleware(TimeoutMiddleware, seconds=0.1)
    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(3)))
    assert [r.status_code for r in responses] == [504] * 3
    assert not open_scopes()
    assert await eventually(lambda: len(finished) + len(failures) == 3)
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
    assert failures == []
    await assert_nothing_left(engine)


async def test_a_generator_dependency_and_its_endpoint_share_one_session(engine: Engine) -> None:
    db = request_scoped_session(sessionmaker(engine))
    app = FastAPI()
    committed: list[bool] = []

    def get_db() -> Iterator[Session]:  # the legacy dependency: enter, endpoint, exit
        session = db()
        yield session
        committed.append(session is db())  # the exit runs in a third worker thread
        session.commit()

    @app.get("/generator")
    def endpoint(session: Session = Depends(get_db)) -> dict[str, bool]:
        return {"same": session is db()}

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/generator") for _ in range(4)))
    assert [r.json() for r in responses] == [{"same": True}] * 4
    assert committed == [True] * 4
    await assert_nothing_left(engine)
