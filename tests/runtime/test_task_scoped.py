"""task_scoped_session: one AsyncSession per asyncio task, and nothing left behind."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from asyncshift import session_scope, task_scoped_session
from asyncshift.registries import tracked_session_count
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
        poolclass=AsyncAdaptedQueuePool,
        pool_size=20,
    )
    yield engine
    await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


async def test_is_an_async_scoped_session(engine: AsyncEngine) -> None:
    factory = async_sessionmaker(engine)
    registry = task_scoped_session(factory)
    assert isinstance(registry, async_scoped_session)
    assert registry.session_factory is factory
    assert (await registry.execute(text("SELECT 6 * 7"))).scalar_one() == 42
    await registry.remove()
    assert tracked_session_count(registry) == 0
    assert checked_out(engine) == 0


async def test_same_session_within_a_task_another_in_each_concurrent_task(
    engine: AsyncEngine,
) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))

    async def sessions_seen() -> tuple[AsyncSession, AsyncSession]:
        first = registry()
        await asyncio.sleep(0)  # let the other tasks run in between
        await registry.execute(text("SELECT 1"))
        return first, registry()

    pairs = await asyncio.gather(*(sessions_seen() for _ in range(5)))
    assert all(a is b for a, b in pairs)
    assert len({id(a) for a, _ in pairs}) == 5  # all five alive at once, so ids are distinct


async def test_a_task_that_ends_without_remove_is_closed_and_collectable(
    engine: AsyncEngine,
) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))

    async def forgets_remove() -> None:
        await registry.execute(text("SELECT 1"))

    task = asyncio.ensure_future(forgets_remove())
    await task
    task_ref = weakref.ref(task)
    del task
    # The task's done-callback starts the close; it finishes a few loop turns later.
    assert await eventually(lambda: checked_out(engine) == 0)
    gc.collect()
    assert task_ref() is None
    assert tracked_session_count(registry) == 0


async def test_in_a_scope_child_tasks_get_their_own_sessions_all_closed_at_the_end(
    engine: AsyncEngine,
) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))
    children_done = asyncio.Event()
    release = asyncio.Event()

    async def child() -> AsyncSession:
        await registry.execute(text("SELECT 1"))
        return registry()

    async def lingering_child() -> None:
        await registry.execute(text("SELECT 1"))
        children_done.set()
        await release.wait()  # still running when the scope ends

    async with session_scope():
        parent = registry()
        await parent.execute(text("SELECT 1"))
        children = await asyncio.gather(child(), child())
        lingering = asyncio.ensure_future(lingering_child())
        await children_done.wait()
        assert parent not in children and children[0] is not children[1]
        assert tracked_session_count(registry) >= 2
    # The scope's end does not close a session under a task that is still at work (it could be
    # in a statement): that task keeps it until it ends, then it is closed.
    assert checked_out(engine) == 1
    assert tracked_session_count(registry) == 0
    release.set()
    await lingering
    assert await eventually(lambda: checked_out(engine) == 0)


async def test_one_task_serving_two_scopes_never_reuses_a_session(engine: AsyncEngine) -> None:
    # httpx's ASGITransport runs every request in the caller's task.
    registry = task_scoped_session(async_sessionmaker(engine))
    async with session_scope():
        first = registry()
        await first.execute(text("SELECT 1"))
    async with session_scope():
        second = registry()
    assert second is not first
    assert checked_out(engine) == 0


async def test_scope_teardown_survives_cancellation(engine: AsyncEngine) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))
    started = asyncio.Event()

    async def request() -> None:
        async with session_scope():
            await registry.execute(text("SELECT 1"))
            started.set()
            await asyncio.sleep(30)

    task = asyncio.ensure_future(request())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked_out(engine) == 0
    assert tracked_session_count(registry) == 0


async def test_a_task_that_outlives_its_scope_owns_its_session(engine: AsyncEngine) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))
    leftovers: list[asyncio.Task[int]] = []
    gate = asyncio.Event()

    async def outlives_its_request() -> int:  # fire and forget: first query after the end
        await gate.wait()
        return int((await registry.execute(text("SELECT 7"))).scalar_one())

    async with session_scope():
        leftovers.append(asyncio.ensure_future(outlives_its_request()))
    gate.set()
    assert await leftovers[0] == 7
    assert await eventually(lambda: checked_out(engine) == 0)  # closed when the task ended


async def test_outside_any_task_is_a_clear_error(engine: AsyncEngine) -> None:
    registry = task_scoped_session(async_sessionmaker(engine))
    loop = asyncio.get_running_loop()
    future: asyncio.Future[object] = loop.create_future()

    def from_a_plain_callback() -> None:
        try:
            future.set_result(registry())
        except RuntimeError as error:
            future.set_exception(error)

    loop.call_soon(from_a_plain_callback)
    with pytest.raises(RuntimeError, match="outside an asyncio task"):
        await future
