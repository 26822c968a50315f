"""F4: a sync Session inside ``async def`` freezes the whole server once the pool is exhausted.

Each request checks out a connection on the event loop and awaits while holding it. When the
pool runs dry, the next checkout waits *on the loop thread*: no other coroutine runs — not the
requests that would give their connections back, not a health probe. Here the pool gives up
after POOL_TIMEOUT seconds so that the freeze ends; with the default 30 s, or None, it is an
outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from asyncshift import adapt, async_engine_from, guard
from tests.support.mariadb import MariaDB
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(60)]

POOL_SIZE = 2
POOL_TIMEOUT = 3
REQUESTS = 6
PROBE_TIMEOUT = 1.0  # a health check that gets no answer within a second counts as down


def legacy_order_count(db: Session) -> int:
    """Legacy data-layer code, sync and untouched."""
    return int(db.execute(text("SELECT 42")).scalar_one())


@pytest.fixture
def engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = create_engine(
        mariadb.sync_url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=POOL_TIMEOUT
    )
    yield engine
    engine.dispose()


def legacy_service(engine: Engine) -> FastAPI:
    app = FastAPI()

    @app.get("/orders")
    async def orders() -> int:
        with Session(engine) as db:  # a sync session in async def: the F4 pattern
            count = legacy_order_count(db)
            await asyncio.sleep(0.5)  # e.g. a call to another service, connection still held
            return count

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


async def load_with_probe(url: str) -> tuple[list[int], bool]:
    """REQUESTS concurrent /orders, and a probe while they run; (statuses, probe answered)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        orders = [asyncio.ensure_future(client.get("/orders")) for _ in range(REQUESTS)]
        await asyncio.sleep(0.3)  # the pool is exhausted by now
        try:
            await client.get("/ping", timeout=PROBE_TIMEOUT)
            probe_answered = True
        except httpx.TimeoutException:
            probe_answered = False
        statuses = [r.status_code for r in await asyncio.gather(*orders)]
    return statuses, probe_answered


async def test_legacy_sync_session_in_async_def_freezes_the_server(engine: Engine) -> None:
    with running_server(legacy_service(engine), log_level="critical") as url:
        statuses, probe_answered = await load_with_probe(url)
    print(f"F4 legacy: statuses={statuses} probe answered={probe_answered}")
    assert not probe_answered
    assert 500 in statuses  # pool timeouts, raised on the frozen loop


async def test_guard_turns_the_freeze_into_an_immediate_error(engine: Engine) -> None:
    guard(engine)
    with running_server(legacy_service(engine), log_level="critical") as url:
        statuses, probe_answered = await load_with_probe(url)
    print(f"F4 guarded: statuses={statuses} probe answered={probe_answered}")
    assert probe_answered
    assert statuses == [500] * REQUESTS  # BlockingCallError, before any checkout
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_async_session_with_adapted_legacy_code_serves_everything(engine: Engine) -> None:
    async_engine = async_engine_from(engine)  # the same pool: 2 connections, 3 s timeout
    order_count = adapt(legacy_order_count)
    app = FastAPI()

    @app.get("/orders")
    async def orders() -> int:
        async with AsyncSession(async_engine) as db:
            count = await order_count(db)
            await asyncio.sleep(0.5)
            return count

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    with running_server(app, log_level="critical") as url:
        statuses, probe_answered = await load_with_probe(url)
    print(f"F4 adapted: statuses={statuses} probe answered={probe_answered}")
    assert probe_answered
    assert statuses == [200] * REQUESTS
