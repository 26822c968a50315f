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
import sys
import warnings
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from asyncshift import SessionScopeMiddleware, session_scope, task_scoped_session
from asyncshift.scope import open_scopes
from tests.support.mariadb import MariaDB
from tests.support.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.timeout(60), pytest.mark.filterwarnings("error")]


@pytest.fixture(autouse=True)
def earlier_garbage_collected() -> None:
    """Garbage left by earlier tests is not this test's: collect it before the test starts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


@pytest.fixture
def no_errors_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Fails on any error SQLAlchemy or asyncshift logs (a failed close or reset), and on any
    exception or warning raised where nobody can catch it (a connection's finalizer: the
    garbage collector returning a connection that nothing closed)."""
    unraisable: list[str] = []
    monkeypatch.setattr(
        sys, "unraisablehook", lambda u: unraisable.append(f"{u.exc_value!r} in {u.object!r}")
    )
    with caplog.at_level(logging.ERROR):
        yield
        gc.collect()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert unraisable == []


def gc_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught]


def make_engine(mariadb: MariaDB) -> AsyncEngine:
    # Room for each request and its audit task (2 x 3): no fan-out warning here.
    return create_async_engine(mariadb.async_url, pool_size=8, max_overflow=0, pool_timeout=5)


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


JOBS = 6


async def one_job(adb: async_scoped_session[AsyncSession], n: int) -> int:
    async def child(k: int) -> int:
        return int((await adb.execute(text(f"SELECT {k}"))).scalar_one())

    parent = int((await adb.execute(text(f"SELECT {n}"))).scalar_one())
    return parent + sum(await asyncio.gather(child(1), child(2)))


class CheckedOut:
    """Connections checked out and not back, counted from the pool's own events.

    The engines here use ``NullPool``: an asyncio connection belongs to the loop it was opened
    on, and each ``asyncio.run()`` has a loop of its own; NullPool closes each connection when
    it comes back, on its loop, so nothing is left to tidy up after the loop is gone.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "checkout", self._out)
        event.listen(engine.sync_engine, "checkin", self._in)

    def _out(self, *_: object) -> None:
        self.count += 1

    def _in(self, *_: object) -> None:
        self.count -= 1


def script_engine(mariadb: MariaDB) -> AsyncEngine:
    return create_async_engine(mariadb.async_url, poolclass=NullPool)


@pytest.mark.usefixtures("no_errors_logged")
def test_a_script_under_asyncio_run_leaves_nothing_checked_out(mariadb: MariaDB) -> None:
    engine = script_engine(mariadb)
    checked_out = CheckedOut(engine)
    adb = task_scoped_session(async_sessionmaker(engine))

    async def main() -> list[int]:  # a cron script: the jobs at once, then exit
        return list(await asyncio.gather(*(one_job(adb, n) for n in range(JOBS))))

    assert asyncio.run(main()) == [n + 3 for n in range(JOBS)]
    assert checked_out.count == 0
    assert gc_warnings() == []


@pytest.mark.usefixtures("no_errors_logged")
def test_a_worker_loop_of_scoped_asyncio_runs_leaves_nothing_checked_out(
    mariadb: MariaDB,
) -> None:
    engine = script_engine(mariadb)
    checked_out = CheckedOut(engine)
    adb = task_scoped_session(async_sessionmaker(engine))
    for n in range(JOBS):  # a queue worker: one asyncio.run per job, in a scope
        with session_scope(f"job {n}"):
            assert asyncio.run(one_job(adb, n)) == n + 3
        assert checked_out.count == 0
    assert gc_warnings() == []
