"""adapt(): legacy sync-session code on AsyncSession, on MariaDB (asyncmy) and SQLite."""

from __future__ import annotations

import functools
import gc
import traceback
import warnings
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, cast, func, insert, select, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, defer

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


# -- class shapes real repositories have (issue 8, item 13) -------------------------------------


class ShapedRepository:
    """A repository with every shape legacy code has."""

    default_limit = 10

    def __init__(self, db: Session, prefix: str = "") -> None:
        self.db = db
        self.prefix = prefix

    def create(self, name: str) -> User:
        return legacy.create_user(self.db, self.prefix + name)

    async def describe(self) -> str:  # already async: awaited as it is
        return f"shaped:{self.prefix}"

    @classmethod
    def count_all(cls, db: Session) -> int:
        return legacy.count_users(db) + 0 * cls.default_limit

    @classmethod
    def with_prefix(cls, prefix: str) -> str:  # takes no session: passes through
        return f"{cls.__name__}:{prefix}"

    @staticmethod
    def names(db: Session) -> list[str]:
        return list(db.scalars(select(User.name).order_by(User.name)))

    @staticmethod
    def shout(text: str) -> str:
        return text.upper()

    @property
    def total(self) -> int:  # a property that queries
        return legacy.count_users(self.db)


AsyncShapedRepository = adapt(ShapedRepository)


async def test_an_async_method_is_awaited_not_wrapped(db: AsyncSession) -> None:
    repo = AsyncShapedRepository(db, prefix="p-")
    assert await repo.describe() == "shaped:p-"


async def test_classmethods_and_staticmethods_taking_a_session_are_adapted(
    db: AsyncSession,
) -> None:
    await crud.create_user(db, "b")
    await crud.create_user(db, "a")
    assert await AsyncShapedRepository.count_all(db) == 2
    assert await AsyncShapedRepository.names(db) == ["a", "b"]
    repo = AsyncShapedRepository(db)
    assert await repo.count_all(db) == 2 and await repo.names(db) == ["a", "b"]
    # no session: they are not the data layer, and pass through as they are
    assert AsyncShapedRepository.with_prefix("x") == "ShapedRepository:x"
    assert AsyncShapedRepository.shout("hi") == "HI" and repo.shout("hi") == "HI"
    assert AsyncShapedRepository.default_limit == 10


async def test_attributes_set_on_the_adapted_object_are_seen_by_the_legacy_code(
    db: AsyncSession,
) -> None:
    repo = AsyncShapedRepository(db, prefix="old-")
    repo.prefix = "new-"
    user = await repo.create("ada")
    assert user.name == "new-ada" and repo.prefix == "new-"


async def test_a_property_that_queries_is_an_explained_error(db: AsyncSession) -> None:
    repo = AsyncShapedRepository(db)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited" on the way
        with pytest.raises(LazyLoadOutsideAdapterError, match=r"ShapedRepository\.total") as raised:
            _ = repo.total
    assert "property" in str(raised.value) and "run_sync" in str(raised.value)
    assert await db.run_sync(lambda _: repo.__wrapped__.total) == 0  # the fix it names


async def test_partials_and_callable_objects_are_adapted(db: AsyncSession) -> None:
    class NameCounter:
        def __call__(self, db: Session, prefix: str) -> int:
            return sum(1 for n in db.scalars(select(User.name)) if n.startswith(prefix))

    await crud.create_user(db, "ann")
    adapted_object = adapt(NameCounter())
    assert await adapted_object(db, "a") == 1
    adapted_partial = adapt(functools.partial(NameCounter(), prefix="x"))
    assert await adapted_partial(db) == 0
    bound = adapt(functools.partial(legacy.create_user, name="bo"))
    assert (await bound(db)).name == "bo"


async def test_a_keyword_only_session_parameter_is_found(db: AsyncSession) -> None:
    def count(*, session: Session, minimum: int = 0) -> int:
        return max(legacy.count_users(session), minimum)

    assert await adapt(count)(session=db, minimum=3) == 3


async def test_called_without_its_session_is_a_clear_error(db: AsyncSession) -> None:
    def count(limit: int, db: Session | None = None) -> int:  # FastAPI-style default
        assert db is not None
        return legacy.count_users(db)

    with pytest.raises(TypeError, match=r"count.*without its session 'db'.*AsyncSession"):
        await adapt(count)(5)
    with pytest.raises(TypeError, match=r"get_user.*called with \(\).*AsyncSession"):
        await crud.get_user()


# -- DML results (item 14) ----------------------------------------------------------------------


def rename_all(db: Session, name: str) -> CursorResult[Any]:
    return db.execute(update(User).values(name=name + cast(User.id, String)))  # type: ignore[return-value]


def insert_returning(db: Session, names: list[str]) -> Result[Any]:
    return db.execute(insert(User).returning(User.id, User.name), [{"name": n} for n in names])


async def test_a_dml_result_gives_its_rowcount_after_the_adapter_returned(
    db: AsyncSession,
) -> None:
    for name in ("a", "b", "c"):
        await crud.create_user(db, name)
    result = await adapt(rename_all)(db, "u")
    assert result.rowcount == 3
    assert result.returns_rows is False
    assert sorted((await db.execute(select(User.name))).scalars()) == ["u1", "u2", "u3"]


async def test_dml_returning_rows_are_buffered(db: AsyncSession) -> None:
    result = await adapt(insert_returning)(db, ["x", "y"])
    rows = result.all()
    assert sorted(name for _, name in rows) == ["x", "y"]


# -- attribute loads outside the bridge (item 15) -----------------------------------------------


def create_and_commit(db: Session, name: str) -> User:
    user = User(name=name)
    db.add(user)
    db.commit()  # expire_on_commit=True: every attribute of `user` is now expired
    return user


async def test_an_expired_attribute_read_after_the_adapter_is_explained(
    engine: AsyncEngine,
) -> None:
    async with async_sessionmaker(engine)() as db:  # the default: expire_on_commit=True
        user = await adapt(create_and_commit)(db, "exp")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(LazyLoadOutsideAdapterError, match=r"User\.name") as raised:
                _ = user.name
        message = str(raised.value)
        assert "expire_on_commit=False" in message and "expired" in message
        await db.refresh(user)  # the native fix works, and the session is still usable
        assert user.name == "exp"


async def test_a_deferred_column_read_after_the_adapter_is_explained(
    engine: AsyncEngine,
) -> None:
    async with async_sessionmaker(engine, expire_on_commit=False)() as db:
        await crud.create_user(db, "def")
        await db.commit()
    async with async_sessionmaker(engine, expire_on_commit=False)() as db:

        def load(db: Session) -> User:
            return db.scalars(select(User).options(defer(User.name))).one()

        user = await adapt(load)(db)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(LazyLoadOutsideAdapterError, match=r"User\.name") as raised:
                _ = user.name
        assert "undefer" in str(raised.value)


# -- adapting once: adapt(f) at the call site costs a lookup ---------------------------------------


def test_a_function_is_adapted_once_per_session_param() -> None:
    def count(db: Session, conn: object = None) -> int:
        return legacy.count_users(db)

    assert adapt(count) is adapt(count)
    by_name = adapt(count, session_param="conn")
    assert by_name is adapt(count, session_param="conn") and by_name is not adapt(count)
    assert crud.count_users is adapt(legacy.count_users)  # the module proxy shares them


def test_a_class_is_adapted_once_and_a_subclass_gets_its_own() -> None:
    class Sub(UserRepository):
        pass

    assert adapt(UserRepository) is AsyncUserRepository
    assert adapt(Sub) is adapt(Sub) and adapt(Sub) is not AsyncUserRepository
    assert adapt(Sub).__wrapped__ is Sub


def test_a_decorator_copying_the_functions_dict_gets_its_own_adaptation() -> None:
    def get(db: Session, user_id: int) -> User:
        return legacy.get_user(db, user_id)

    adapted = adapt(get)

    @functools.wraps(get)  # copies get.__dict__ into the wrapper
    def logged(db: Session, user_id: int) -> User:
        return get(db, user_id)

    assert adapt(logged).__wrapped__ is logged  # type: ignore[attr-defined]
    assert adapt(get) is adapted and adapt(logged) is adapt(logged)


async def test_the_memoized_adaptation_is_the_one_that_runs(db: AsyncSession) -> None:
    def create(db: Session, name: str) -> User:
        return legacy.create_user(db, name)

    for name in ("a", "b"):
        await adapt(create)(db, name)  # the call-site shape
    assert await crud.count_users(db) == 2


def test_adaptations_are_released_with_what_they_adapt() -> None:
    def adapted_locals() -> tuple[list[weakref.ref[Any]], Any]:
        def local(db: Session) -> int:
            return 0

        class LocalRepository:
            def __init__(self, db: Session) -> None:
                self.db = db

        refs = [weakref.ref(x) for x in (local, adapt(local), LocalRepository)]
        refs.append(weakref.ref(adapt(LocalRepository)))
        return refs, adapt(local)

    refs, kept = adapted_locals()
    gc.collect()
    assert all(ref() is not None for ref in refs[:2])  # an adaptation still held keeps its own
    del kept
    gc.collect()
    assert [ref() for ref in refs] == [None] * 4
