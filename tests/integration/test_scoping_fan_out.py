"""Fan-out against MariaDB: one session per task means 1 + k connections for k children.

Four requests at once, each gathering two children, on a pool of four: by default every
request holds one connection and waits for two more, and all fail after ``pool_timeout`` (the
per-task contract, now told by a warning with the numbers and the fixes). With
``share_with_children()`` the children use their parent's session: one connection a request.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from asyncshift import SessionScopeMiddleware, task_scoped_session
from asyncshift._fan_out import SessionFanOutWarning
from asyncshift.registries import TaskScopedSession
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(60)]

POOL = 4
REQUESTS = 4
CHILDREN = 2


@pytest.fixture(autouse=True)
def earlier_garbage_collected() -> None:
    """Garbage left by earlier tests is not this test's: collect it before the test starts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


@pytest.fixture
async def engine(mariadb: MariaDB) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(mariadb.async_url, pool_size=POOL, max_overflow=0, pool_timeout=1)
    yield engine
    await engine.dispose()


def fan_out_app(adb: TaskScopedSession[object], share: bool) -> FastAPI:  # type: ignore[type-var]
    app = FastAPI()

    async def child(n: int) -> int:
        await asyncio.sleep(0.01 * n)  # children that do not query at the same moment
        return int((await adb.execute(text(f"SELECT {n}"))).scalar_one())

    @app.get("/report")
    async def report() -> dict[str, int]:
        await adb.execute(text("SELECT SLEEP(0.05)"))
        if share:
            with adb.share_with_children():
                parts = await asyncio.gather(*(child(n) for n in range(1, CHILDREN + 1)))
        else:
            parts = await asyncio.gather(*(child(n) for n in range(1, CHILDREN + 1)))
        return {"total": sum(parts)}

    app.add_middleware(SessionScopeMiddleware)
    return app


async def run_requests(app: FastAPI, count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return list(await asyncio.gather(*(client.get("/report") for _ in range(count))))


async def test_default_fan_out_starves_the_pool_and_says_so(engine: AsyncEngine) -> None:
    adb = task_scoped_session(async_sessionmaker(engine))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        responses = await run_requests(fan_out_app(adb, share=False), REQUESTS)
    told = [str(w.message) for w in caught if issubclass(w.category, SessionFanOutWarning)]
    assert len(told) == 1  # once per registry, not once per request
    assert f"at most {POOL} connections (pool_size={POOL} + max_overflow=0)" in told[0]
    assert "share_with_children()" in told[0]
    assert sum(r.status_code == 500 for r in responses) >= 1  # pool_timeout, as the issue saw
    assert not open_scopes()
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("error")
async def test_children_sharing_the_parent_session_need_one_connection(
    engine: AsyncEngine,
) -> None:
    adb = task_scoped_session(async_sessionmaker(engine))
    responses = await run_requests(fan_out_app(adb, share=True), REQUESTS * 3)
    assert [r.json() for r in responses] == [{"total": 3}] * (REQUESTS * 3)
    assert not open_scopes()
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught] == []


async def test_one_scope_with_more_sessions_than_the_pool_is_told(engine: AsyncEngine) -> None:
    adb = task_scoped_session(async_sessionmaker(engine))
    app = FastAPI()

    @app.get("/wide")
    async def wide() -> int:
        async def child() -> int:
            return int((await adb.execute(text("SELECT 1"))).scalar_one())

        return sum(await asyncio.gather(*(child() for _ in range(POOL + 1))))

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/wide")
    told = [str(w.message) for w in caught if issubclass(w.category, SessionFanOutWarning)]
    assert response.status_code == 200  # the children finish one by one: slow, not stuck
    assert len(told) == 1
    assert f"holds {POOL + 1} sessions" in told[0] and "waits for itself" in told[0]
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
