"""adapt(): legacy sync-session code on AsyncSession, on MariaDB (asyncmy) and SQLite."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

import tests.support.legacy_app as legacy
from asyncshift import LazyLoadOutsideAdapterError, adapt, async_engine_from
from tests.support.legacy_app import Base, User, UserRepository
from tests.support.mariadb import MariaDB

pytestmark = pytest.mark.anyio

crud = adapt(legacy)
AsyncUserRepository = adapt(UserRepository)


@pytest.fixture(params=["sqlite", "mariadb"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "mariadb":
        mariadb: MariaDB = request.getfixturevalue("mariadb")
        engine = async_engine_from(mariadb.sync_url)
    else:
        engine = async_engine_from(f"sqlite:///{tmp_path}/db.sqlite")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield session


# -- what adapt() accepts --------------------------------------------------------------------


def test_a_function_without_a_session_parameter_is_refused_at_adapt_time() -> None:
    with pytest.raises(TypeError, match=r"slugify.*session_param="):
        adapt(legacy.slugify)


def test_session_param_names_the_parameter_explicitly() -> None:
    def report(conn: object, year: int) -> int:
        return year

    adapted = adapt(report, session_param="conn")
    assert adapted.__name__ == "report" and adapted.__wrapped__ is report  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="no parameter 'connection'"):
        adapt(report, session_param="connection")


def test_annotation_beats_name_and_adapting_twice_is_harmless() -> None:
    def move(source: object, target: Session) -> None:
        pass

    adapted = adapt(move)
    assert adapt(adapted) is adapted


def test_an_async_function_is_refused() -> None:
    async def already(db: AsyncSession) -> None:
        pass

    with pytest.raises(TypeError, match="already async"):
        adapt(already)


def test_adapted_class_and_module_keep_their_names_and_docs() -> None:
    assert AsyncUserRepository.__name__ == "AsyncUserRepository"
    assert AsyncUserRepository.__qualname__ == "AsyncUserRepository"
    assert AsyncUserRepository.__doc__ == UserRepository.__doc__
    assert not hasattr(AsyncUserRepository, "_helper")
    assert crud.get_user.__doc__ == legacy.get_user.__doc__
    assert crud.slugify is legacy.slugify and crud.PAGE_SIZE == 50
    assert crud.UserNotFound is legacy.UserNotFound


# -- semantics -------------------------------------------------------------------------------


async def test_adapted_and_native_code_share_one_transaction_and_identity_map(
    db: AsyncSession,
) -> None:
    user = await crud.create_user(db, "ada")
    assert await db.get(User, user.id) is user  # the same identity map
    native = (await db.execute(select(User).where(User.name == "ada"))).scalar_one()
    assert native is user  # visible to native code before any commit
    assert await crud.count_users(db) == 1
    await db.rollback()  # undoes both
    assert (await db.execute(select(func.count(User.id)))).scalar_one() == 0
    assert await crud.count_users(db) == 0


async def test_committed_work_is_visible_to_a_new_session(
    engine: AsyncEngine, db: AsyncSession
) -> None:
    await crud.create_user(db, "grace")
    await db.commit()
    async with AsyncSession(engine) as other:
        assert await crud.count_users(other) == 1


async def test_exceptions_keep_their_type_and_traceback(db: AsyncSession) -> None:
    with pytest.raises(legacy.UserNotFound, match="no user 404") as raised:
        await crud.get_user(db, 404)
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert "get_user" in frames


async def test_nested_legacy_calls_and_repository_classes(db: AsyncSession) -> None:
    repo = AsyncUserRepository(db, prefix="x-")
    user = await repo.with_item("linus", "kernel")  # repo -> crud -> crud, all legacy
    assert user.name == "x-linus"
    assert await repo.get(user.id) is user
    assert repo.label == "repo:x-" and repo.table == "adapt_users"  # pass through
    item = await crud.add_item(db, user.id, "git")
    assert item.owner is user


async def test_results_are_frozen_and_generators_refused(db: AsyncSession) -> None:
    for name in ("b", "a"):
        await crud.create_user(db, name)
    result = await crud.names_result(db)
    assert result.scalars().all() == ["a", "b"]  # fetched outside the greenlet, from a buffer
    with pytest.raises(TypeError, match=r"iter_names returned a generator.*list"):
        await crud.iter_names(db)


async def test_a_lazy_load_outside_the_adapter_names_the_attribute_and_the_fixes(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as db:
        user_id = (await crud.create_user(db, "lazy")).id
        await db.commit()
    async with AsyncSession(engine) as db:
        fetched = await crud.get_user(db, user_id)
        with pytest.raises(LazyLoadOutsideAdapterError, match=r"User\.items") as raised:
            _ = fetched.items
        assert isinstance(raised.value, MissingGreenlet)
        assert "selectinload(User.items)" in str(raised.value)


async def test_a_sync_session_given_to_an_adapted_function_is_a_clear_error(
    engine: AsyncEngine,
) -> None:
    with (
        Session(engine.sync_engine) as sync_session,
        pytest.raises(TypeError, match="takes an AsyncSession; it was given a sync Session"),
    ):
        await crud.count_users(sync_session)
