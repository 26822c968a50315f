"""1,000 mixed requests against a real uvicorn server and MariaDB: nothing is left behind.

Normal, raising, streaming, cancelled (the client goes away mid-stream) and background-task
requests, on sync and async endpoints, with child tasks; afterwards both registries and both
pools are empty and no scope is open.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from asyncshift import SessionScopeMiddleware, request_scoped_session, task_scoped_session
from asyncshift.registries import tracked_session_count
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.server import running_server
from tests.support.waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(120)]

REQUESTS = 1000
CONCURRENCY = 16
KINDS = [
    "/sync",
    "/async",
    "/sync-raises",
    "/async-raises",
    "/stream",
    "/stream?cancel=1",
    "/background",
    "/children",
]


async def test_a_thousand_mixed_requests_leave_nothing_behind(mariadb: MariaDB) -> None:
    sync_engine = create_engine(mariadb.sync_url, pool_size=8, max_overflow=8, pool_timeout=10)
    async_engine = create_async_engine(
        mariadb.async_url, pool_size=8, max_overflow=8, pool_timeout=10
    )
    db = request_scoped_session(sessionmaker(sync_engine))
    adb = task_scoped_session(async_sessionmaker(async_engine))
    background_runs: list[str] = []
    streams_cancelled: list[int] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await async_engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/sync")
    def sync_endpoint() -> int:
        return int(db.execute(text("SELECT 1")).scalar_one())

    @app.get("/async")
    async def async_endpoint() -> int:
        return int((await adb.execute(text("SELECT 1"))).scalar_one())

    @app.get("/sync-raises")
    def sync_raises() -> None:
        db.execute(text("SELECT 1"))
        raise RuntimeError("boom")

    @app.get("/async-raises")
    async def async_raises() -> None:
        await adb.execute(text("SELECT 1"))
        raise RuntimeError("boom")

    @app.get("/stream")
    async def stream(cancel: int = 0) -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            try:
                for n in range(4):
                    yield f"{(await adb.execute(text(f'SELECT {n}'))).scalar_one()}\n".encode()
                    if cancel:
                        await asyncio.sleep(0.2)  # the client leaves during this pause
            except asyncio.CancelledError:
                streams_cancelled.append(1)
                raise

        return StreamingResponse(rows())

    @app.get("/background")
    def background(tasks: BackgroundTasks) -> int:
        async def later() -> None:
            await adb.execute(text("SELECT 1"))
            background_runs.append("async")

        def later_sync() -> None:
            db.execute(text("SELECT 1"))
            background_runs.append("sync")

        tasks.add_task(later)
        tasks.add_task(later_sync)
        return int(db.execute(text("SELECT 1")).scalar_one())

    @app.get("/children")
    async def children() -> int:
        async def child() -> int:
            return int((await adb.execute(text("SELECT 1"))).scalar_one())

        return sum(await asyncio.gather(child(), child(), child()))

    app.add_middleware(SessionScopeMiddleware)

    outcomes: dict[str, int] = {}

    async def one(client: httpx.AsyncClient, path: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            if path.endswith("cancel=1"):
                async with client.stream("GET", path) as response:
                    async for _ in response.aiter_bytes():
                        break  # leave after the first chunk: the server sees a disconnect
                outcome = "cancelled"
            else:
                # uvicorn drops the connection after an app raised; never reuse such a one.
                headers = {"Connection": "close"} if "raises" in path else {}
                outcome = str((await client.get(path, headers=headers)).status_code)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    with running_server(app, log_level="critical") as url:  # the 500s are on purpose
        gate = asyncio.Semaphore(CONCURRENCY)
        paths = list(itertools.islice(itertools.cycle(KINDS), REQUESTS))
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
            await asyncio.gather(*(one(client, path, gate) for path in paths))

        def drained() -> bool:
            return (
                sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
                and async_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
                and not open_scopes()
            )

        # Cancelled streams finish their teardown a moment after the client has gone.
        assert await eventually(drained, within=15)
        left = (tracked_session_count(db), tracked_session_count(adb), len(open_scopes()))

    sync_engine.dispose()
    print(
        f"soak: outcomes={outcomes} background runs={len(background_runs)} "
        f"streams cancelled on the server={len(streams_cancelled)} left={left}"
    )
    per_kind = REQUESTS // len(KINDS)
    assert outcomes == {"200": per_kind * 5, "500": per_kind * 2, "cancelled": per_kind}
    assert len(background_runs) == 2 * per_kind
    assert len(streams_cancelled) == per_kind
    assert left == (0, 0, 0)
