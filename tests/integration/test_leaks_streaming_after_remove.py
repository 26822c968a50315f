"""A dependency's teardown removes the session, then the streaming body uses the registry again.

``Depends(get_db, scope="function")`` (FastAPI >= 0.121) runs the teardown when the endpoint
returns, before the response body is sent. A body that goes on with the Session the
dependency handed over re-opens it after ``remove()`` closed it: the scope must still close it
at the request's end, or its connection stays checked out.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from asyncshift import SessionScopeMiddleware, request_scoped_session, task_scoped_session
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.mariadb,
    pytest.mark.timeout(60),
    pytest.mark.filterwarnings("error"),
    pytest.mark.skipif(
        "scope" not in inspect.signature(Depends).parameters,
        reason="Depends(scope=...) needs FastAPI >= 0.121",
    ),
]

REQUESTS = 6


@pytest.fixture(autouse=True)
def earlier_garbage_collected() -> None:
    """Garbage left by earlier tests is not this test's: collect it before the test starts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


def function_scoped(dependency: Any) -> Any:
    return Depends(dependency, scope="function")  # type: ignore[call-arg, unused-ignore]


def no_gc_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught]


async def test_sync_body_after_remove_leaves_no_connection(mariadb: MariaDB) -> None:
    engine = create_engine(mariadb.sync_url, pool_size=4, max_overflow=0, pool_timeout=5)
    db = request_scoped_session(sessionmaker(engine))

    def get_db() -> Iterator[Any]:
        try:
            yield db()
        finally:
            db.remove()

    app = FastAPI()

    session_dependency = function_scoped(get_db)

    @app.get("/rows")
    def rows(session: Any = session_dependency) -> StreamingResponse:
        session.execute(text("SELECT 1"))

        def body() -> Iterator[bytes]:
            for n in range(3):
                # The Session the dependency handed over, closed by remove() by now.
                yield str(session.execute(text(f"SELECT {n}")).scalar_one()).encode()

        return StreamingResponse(body())

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(REQUESTS):  # more requests than the pool has connections
            assert (await client.get("/rows")).text == "012"
    assert not open_scopes()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert no_gc_warnings() == []
    engine.dispose()


async def test_async_body_after_remove_leaves_no_connection(mariadb: MariaDB) -> None:
    engine: AsyncEngine = create_async_engine(
        mariadb.async_url, pool_size=4, max_overflow=0, pool_timeout=5
    )
    adb = task_scoped_session(async_sessionmaker(engine))

    async def get_adb() -> AsyncIterator[Any]:
        try:
            yield adb()
        finally:
            await adb.remove()

    app = FastAPI()

    session_dependency = function_scoped(get_adb)

    @app.get("/rows")
    async def rows(session: Any = session_dependency) -> StreamingResponse:
        await session.execute(text("SELECT 1"))

        async def body() -> AsyncIterator[bytes]:
            for n in range(3):
                yield str((await session.execute(text(f"SELECT {n}"))).scalar_one()).encode()

        return StreamingResponse(body())

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(REQUESTS):
            assert (await client.get("/rows")).text == "012"
        results = await asyncio.gather(*(client.get("/rows") for _ in range(REQUESTS)))
        assert [r.text for r in results] == ["012"] * REQUESTS
    assert not open_scopes()
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
    assert no_gc_warnings() == []
    await engine.dispose()
