"""guard(): sync database I/O on the event loop fails fast; elsewhere it is left alone."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from asyncshift import (
    BlockingCallError,
    BlockingCallWarning,
    PoolCapacityWarning,
    SessionScopeMiddleware,
    allow_blocking,
    check_pool_capacity,
    guard,
)
from asyncshift.capacity import fastapi_has_max_concurrency


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(
        f"sqlite:///{tmp_path}/db.sqlite",
        poolclass=QueuePool,
        connect_args={"check_same_thread": False},
    )
    guard(engine)
    yield engine
    engine.dispose()


def query(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


@pytest.mark.anyio
async def test_raises_on_the_loop_before_any_connection_is_taken(engine: Engine) -> None:
    with pytest.raises(BlockingCallError, match=r"checking out a connection.*test_guards\.py"):
        query(engine)
    assert (engine.pool.checkedout(), engine.pool.checkedin()) == (0, 0)  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_raises_for_io_on_a_connection_the_session_already_holds(engine: Engine) -> None:
    session = Session(engine)
    await anyio.to_thread.run_sync(session.execute, text("SELECT 1"))  # fine: a worker thread
    with pytest.raises(BlockingCallError, match="executing SELECT"):
        session.execute(text("SELECT 2"))
    await anyio.to_thread.run_sync(session.close)


def test_sync_code_and_worker_threads_are_left_alone(engine: Engine) -> None:
    assert query(engine) == 1

    async def main() -> int:
        return await anyio.to_thread.run_sync(query, engine)

    assert anyio.run(main) == 1


@pytest.mark.anyio
async def test_allow_blocking_is_the_escape_hatch(engine: Engine) -> None:
    with allow_blocking():
        assert query(engine) == 1
    async with allow_blocking():
        assert query(engine) == 1
    with pytest.raises(BlockingCallError):
        query(engine)


@pytest.mark.anyio
async def test_never_fires_inside_run_sync(engine: Engine, tmp_path: Path) -> None:
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/other.sqlite")
    async with AsyncSession(async_engine) as session:
        assert await session.run_sync(lambda _: query(engine)) == 1
    await async_engine.dispose()


@pytest.mark.anyio
async def test_warn_mode_warns_once_per_call_site(engine: Engine) -> None:
    guard(engine, mode="warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert query(engine) == 1
    assert [w.category for w in caught] == [BlockingCallWarning]
    assert "test_guards.py" in caught[0].filename


@pytest.mark.anyio
async def test_guarding_an_async_engine_does_nothing(tmp_path: Path) -> None:
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    guard(async_engine)
    async with async_engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    await async_engine.dispose()


def test_bad_mode_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="'raise' or 'warn'"):
        guard(engine, mode="ignore")  # type: ignore[arg-type]


def test_lifespan_work_under_the_middleware_is_exempt(engine: Engine) -> None:
    seen: list[int] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        seen.append(query(engine))  # startup: nothing is served yet
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/blocking")
    async def blocking() -> int:
        return query(engine)

    app.add_middleware(SessionScopeMiddleware)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/blocking").status_code == 500
    assert seen == [1]


# -- check_pool_capacity ------------------------------------------------------------------------


def test_a_small_pool_that_waits_forever_is_reported() -> None:
    engine = create_engine("sqlite:///x.db", pool_size=4, max_overflow=0, pool_timeout=None)
    with pytest.warns(PoolCapacityWarning, match=r"4 connections for 40 worker threads"):
        message = check_pool_capacity(engine)
    assert message is not None and "forever" in message and "async path" in message
    if fastapi_has_max_concurrency():  # FastAPI's own interim cure, where it exists
        assert "Depends(get_db, max_concurrency=4)" in message
    else:
        assert "cap the thread pool at 4 tokens" in message


@pytest.mark.parametrize(
    "settings",
    [
        {"pool_size": 30, "max_overflow": 10, "pool_timeout": None},  # a connection per thread
        {"pool_size": 4, "max_overflow": 0, "pool_timeout": 5},  # gives up soon
        {"pool_size": 4, "max_overflow": -1, "pool_timeout": None},  # no limit
    ],
)
def test_safe_pools_are_not_reported(settings: dict[str, object]) -> None:
    engine = create_engine("sqlite:///x.db", **settings)  # type: ignore[arg-type]
    assert check_pool_capacity(engine) is None


def test_async_engines_are_not_reported() -> None:
    assert check_pool_capacity(create_async_engine("sqlite+aiosqlite://")) is None
