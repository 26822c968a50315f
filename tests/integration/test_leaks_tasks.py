"""Tasks and task_scoped_session against MariaDB: no connection left behind on any path.

- a fire-and-forget task (``asyncio.create_task`` in a request) still in a statement when the
  request ends: its Session is not closed under it, it finishes, and its connection comes back;
- ``asyncio.run(main())`` scripts and ``with session_scope(): asyncio.run(job())`` workers: the
  close that follows a task's end is not cancelled by the loop's shutdown;
- ``gather()`` children: their connections are back by the time ``gather()`` returns.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from asyncshift import SessionScopeMiddleware, task_scoped_session
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.timeout(60), pytest.mark.filterwarnings("error")]


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails on any error that SQLAlchemy or asyncshift logs (a failed close or reset)."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def gc_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught]


def make_engine(mariadb: MariaDB) -> AsyncEngine:
    return create_async_engine(mariadb.async_url, pool_size=4, max_overflow=0, pool_timeout=5)


@pytest.mark.anyio
@pytest.mark.usefixtures("no_errors_logged")
@pytest.mark.parametrize("in_flight", [True, False], ids=["mid-statement", "not-started"])
async def test_a_fire_and_forget_task_keeps_its_session_until_it_is_done(
    mariadb: MariaDB, in_flight: bool
) -> None:
    engine = make_engine(mariadb)
    adb = task_scoped_session(async_sessionmaker(engine))
    background: set[asyncio.Task[None]] = set()
    audited: list[int] = []

    async def audit_write(n: int, started: asyncio.Event) -> None:
        started.set()
        await adb.execute(text("SELECT SLEEP(0.3)"))  # the request ends during this statement
        audited.append(int((await adb.execute(text(f"SELECT {n}"))).scalar_one()))
        await adb.commit()

    app = FastAPI()

    @app.get("/order/{n}")
    async def order(n: int) -> dict[str, int]:
        await adb.execute(text("SELECT 1"))
        started = asyncio.Event()
        task = asyncio.create_task(audit_write(n, started))
        background.add(task)
        task.add_done_callback(background.discard)
        if in_flight:  # the request ends while the task's statement runs
            await started.wait()
            await asyncio.sleep(0.05)
        return {"n": n}

    app.add_middleware(SessionScopeMiddleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get(f"/order/{n}") for n in range(3)))
    assert [r.status_code for r in responses] == [200] * 3
    assert not open_scopes()
    assert await eventually(lambda: not background)
    assert sorted(audited) == [0, 1, 2]
    assert await eventually(lambda: engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
    assert gc_warnings() == []
    await engine.dispose()
