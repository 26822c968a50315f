"""F2: with ``Depends(get_db)`` and a small pool, the server stops serving under concurrency.

Every sync dependency and ``def`` endpoint holds one of anyio's 40 worker-thread tokens. With
100 requests at once, 40 threads take the tokens and all but POOL_SIZE of them wait for a pooled
connection. The POOL_SIZE requests that hold connections finish their endpoint, then need a
token again to validate the response against its ``response_model`` — and only after that does
their dependency release the session. Nobody can move; with ``pool_timeout=None`` nobody ever
gives up. (The threshold is 40 + pool size concurrent requests.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, sessionmaker

from asyncshift import adapt, async_engine_from, check_pool_capacity
from tests.support.mariadb import MariaDB
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(90)]

POOL_SIZE = 4
REQUESTS = 100
STALL_WINDOW = 3.0  # seconds without a single completed request


class Item(BaseModel):
    id: int
    name: str


def read_item(db: Session, item_id: int) -> dict[str, object]:
    """The legacy data layer."""
    row = db.execute(text("SELECT :id AS id, 'widget' AS name"), {"id": item_id}).one()
    return {"id": row.id, "name": row.name}


@pytest.fixture
def engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = create_engine(mariadb.sync_url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=None)
    yield engine
    engine.dispose()


class Loop:
    """The server's event loop, captured at startup, to unstick it from the test."""

    loop: asyncio.AbstractEventLoop | None = None

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        self.loop = asyncio.get_running_loop()
        yield

    def raise_thread_tokens(self) -> None:
        async def more_tokens() -> None:  # in a task: older anyio insists
            anyio.to_thread.current_default_thread_limiter().total_tokens = REQUESTS * 2

        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(more_tokens(), self.loop).result(timeout=10)


async def fire(url: str, completed: list[int]) -> list[asyncio.Task[httpx.Response]]:
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    client = httpx.AsyncClient(base_url=url, timeout=60, limits=limits)

    async def one(n: int) -> httpx.Response:
        response = await client.get(f"/items/{n}")
        completed.append(response.status_code)
        return response

    tasks = [asyncio.ensure_future(one(n)) for n in range(REQUESTS)]
    closer = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    closer.add_done_callback(lambda _: asyncio.ensure_future(client.aclose()))
    return tasks


async def stalled(completed: list[int], within: float = 20.0) -> bool:
    """True once STALL_WINDOW passes without progress while requests are still open."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last, since = len(completed), loop.time()
    while loop.time() < deadline and len(completed) < REQUESTS:
        await asyncio.sleep(0.2)
        if len(completed) != last:
            last, since = len(completed), loop.time()
        elif loop.time() - since >= STALL_WINDOW:
            return True
    return False


async def test_legacy_depends_get_db_stalls_at_100_concurrent_requests(engine: Engine) -> None:
    assert check_pool_capacity(engine, warn=False) is not None  # the startup check sees it
    SessionLocal = sessionmaker(engine)

    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    server_loop = Loop()
    app = FastAPI(lifespan=server_loop.lifespan)

    @app.get("/items/{item_id}", response_model=Item)
    def item(item_id: int, db: Session = Depends(get_db)) -> dict[str, object]:
        return read_item(db, item_id)

    completed: list[int] = []
    with running_server(app, log_level="critical") as url:
        tasks = await fire(url, completed)
        is_stalled = await stalled(completed)
        done_while_stalled = len(completed)
        # Unstick it so that the server can shut down; whatever still hangs is abandoned (the
        # worker threads are daemons, and the client gives up here).
        server_loop.raise_thread_tokens()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(
        f"F2 legacy: stalled={is_stalled} with {done_while_stalled}/{REQUESTS} completed; "
        f"{len(completed)} after unsticking"
    )
    assert is_stalled and done_while_stalled < REQUESTS


async def test_the_same_endpoint_async_through_adapt_serves_all(engine: Engine) -> None:
    async_engine = async_engine_from(engine)  # the same pool: 4 connections, no timeout
    read = adapt(read_item)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(async_engine) as db:
            yield db

    app = FastAPI()

    @app.get("/items/{item_id}", response_model=Item)
    async def item(item_id: int, db: AsyncSession = Depends(get_db)) -> dict[str, object]:
        return await read(db, item_id)

    completed: list[int] = []
    with running_server(app, log_level="critical") as url:
        tasks = await fire(url, completed)
        with anyio.fail_after(30):
            responses = await asyncio.gather(*tasks)
    print(f"F2 adapted: {sum(r.status_code == 200 for r in responses)}/{REQUESTS} completed")
    assert [r.status_code for r in responses] == [200] * REQUESTS
