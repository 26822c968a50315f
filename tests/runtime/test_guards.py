"""guard(): sync database I/O on the event loop fails fast; elsewhere it is left alone."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
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
    # one for the query's line, none repeated; closing on the loop (a ROLLBACK) may add its own
    sites = {(w.filename, w.lineno) for w in caught}
    assert {w.category for w in caught} == {BlockingCallWarning}
    assert len(sites) == len(caught) and 1 <= len(caught) <= 2
    assert all("test_guards.py" in w.filename for w in caught)


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


# -- holes: derived engines, commit/rollback, tasks started in an exempt block (issue 8) ------


@pytest.mark.anyio
@pytest.mark.parametrize("derived_first", [False, True], ids=["guard-then-derive", "derive-first"])
async def test_engines_derived_with_execution_options_are_guarded(
    tmp_path: Path, derived_first: bool
) -> None:
    engine = create_engine(
        f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool, pool_size=1, max_overflow=0
    )
    derived = engine.execution_options(isolation_level="AUTOCOMMIT") if derived_first else None
    guard(engine)
    derived = derived or engine.execution_options(isolation_level="AUTOCOMMIT")
    nested = derived.execution_options(logging_token="x")
    with pytest.raises(BlockingCallError, match="checking out a connection"):
        query(derived)
    with pytest.raises(BlockingCallError, match="checking out a connection"):
        sessionmaker(bind=nested)().execute(text("SELECT 1"))
    assert (engine.pool.checkedout(), engine.pool.checkedin()) == (0, 0)  # type: ignore[attr-defined]
    engine.dispose()  # a new pool: still guarded, derived engines included
    with pytest.raises(BlockingCallError, match="checking out a connection"):
        query(derived)


@pytest.mark.anyio
async def test_guarding_a_derived_engine_guards_its_parent(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool)
    guard(engine.execution_options(isolation_level="AUTOCOMMIT"))
    with pytest.raises(BlockingCallError):
        query(engine)
    engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("end", ["commit", "rollback"])
async def test_session_commit_and_rollback_on_the_loop_are_reported(
    engine: Engine, end: str
) -> None:
    session = Session(engine)
    await anyio.to_thread.run_sync(session.execute, text("SELECT 1"))  # holds a connection
    with pytest.raises(BlockingCallError, match=rf"\({end}\).*test_guards\.py"):
        getattr(session, end)()
    await anyio.to_thread.run_sync(session.close)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_connection_commit_on_the_loop_is_reported(engine: Engine) -> None:
    conn = await anyio.to_thread.run_sync(engine.connect)
    await anyio.to_thread.run_sync(conn.execute, text("SELECT 1"))
    with pytest.raises(BlockingCallError, match=r"\(commit\)"):
        conn.commit()
    await anyio.to_thread.run_sync(conn.close)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_closing_on_the_loop_is_reported_but_allowed_to_finish(engine: Engine) -> None:
    session = Session(engine)
    await anyio.to_thread.run_sync(session.execute, text("SELECT 1"))
    with pytest.warns(BlockingCallWarning, match=r"\(rollback\).*part of a close\(\)"):
        session.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_task_started_in_the_lifespan_is_not_exempt_while_serving(engine: Engine) -> None:
    outcomes: list[object] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tick, done = asyncio.Event(), asyncio.Event()

        async def periodic() -> None:  # a cache refresher, say, started at startup
            while True:
                await tick.wait()
                tick.clear()
                try:
                    outcomes.append(query(engine))
                except BlockingCallError as error:
                    outcomes.append(error)
                done.set()

        task = asyncio.create_task(periodic())
        app.state.tick, app.state.done = tick, done
        outcomes.append(query(engine))  # the startup work itself stays exempt
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/tick")
    async def run_once(request: Request) -> str:
        request.app.state.tick.set()
        await asyncio.wait_for(request.app.state.done.wait(), 10)
        return "ok"

    app.add_middleware(SessionScopeMiddleware)
    with TestClient(app) as client:
        assert client.get("/tick").status_code == 200
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], BlockingCallError), outcomes
    assert "started inside an allow_blocking() block" in str(outcomes[1])


def test_a_script_that_runs_its_loop_inside_allow_blocking_stays_exempt(engine: Engine) -> None:
    async def job() -> int:
        return query(engine)

    with allow_blocking():
        assert asyncio.run(job()) == 1


# -- bad input (item 16) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("sessionmaker", r"sessionmaker.*guard\(SessionLocal\.kw\['bind'\]\)"),
        ("url", r"a str \('sqlite:///x\.db'\).*create_engine"),
        ("none", r"None.*create_engine"),
        ("connection", r"Connection.*guard\(connection\.engine\)"),
    ],
)
def test_guard_refuses_what_is_not_an_engine_and_applies_nothing(
    tmp_path: Path, given: str, named: str
) -> None:
    bare = create_engine(f"sqlite:///{tmp_path}/x.db", poolclass=QueuePool)
    with bare.connect() as connection:
        value = {
            "sessionmaker": sessionmaker(bind=bare),
            "url": "sqlite:///x.db",
            "none": None,
            "connection": connection,
        }[given]
        with pytest.raises(TypeError, match=named):
            guard(value)  # type: ignore[arg-type]
        assert not hasattr(value, "_asyncshift_guard_mode")
        assert not hasattr(bare, "_asyncshift_guard_mode")
    bare.dispose()


def test_capacity_check_given_a_sessionmaker_names_the_fix() -> None:
    bare = create_engine("sqlite:///x.db", pool_size=4, max_overflow=0, pool_timeout=None)
    with pytest.raises(TypeError, match=r"check_pool_capacity\(\).*sessionmaker.*\.kw\['bind'\]"):
        check_pool_capacity(sessionmaker(bind=bare))  # type: ignore[arg-type]


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
