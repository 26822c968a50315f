"""validate_in_bridge(): async endpoints whose response model walks unloaded relationships.

A real FastAPI app over a real ASGI client, on SQLite (aiosqlite) and MariaDB (asyncmy). Every
request has its own AsyncSession, so a user's ``items`` (and their ``tags``) are never loaded
when the endpoint returns: FastAPI's response validation has to load them.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, List, Optional, Union  # noqa: UP035  # List/Optional: FastAPI spellings

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.exceptions import ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, String, create_engine, event, select
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from asyncshift import LazyLoadOutsideAdapterError, adapt, validate_in_bridge
from asyncshift.responses import _cached_validator
from tests.support.mariadb import MariaDB

pytestmark = pytest.mark.anyio


# -- the service: models, legacy crud, response schemas ----------------------------------------


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "resp_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    items: Mapped[list[Item]] = relationship(order_by="Item.id")  # lazy="select"


class Item(Base):
    __tablename__ = "resp_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int] = mapped_column(ForeignKey("resp_users.id"))
    tags: Mapped[list[Tag]] = relationship(order_by="Tag.id")


class Tag(Base):
    __tablename__ = "resp_tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    item_id: Mapped[int] = mapped_column(ForeignKey("resp_items.id"))


def get_user(db: Session, user_id: int) -> User | None:  # legacy crud, sync
    return db.get(User, user_id)


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.id)))


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    tags: list[TagOut]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    items: list[ItemOut]


class Nicknamed(BaseModel):  # no ORM user has a nickname: validation fails
    model_config = ConfigDict(from_attributes=True)
    id: int
    nickname: str


class Status(BaseModel):  # a Response has a status_code: it would validate, were it tried
    model_config = ConfigDict(from_attributes=True)
    status_code: int


class PricedItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    price: int  # items have no price: fails once `items` is loaded


class UserWithPrices(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[PricedItem]


ADA = {
    "id": 1,
    "name": "ada",
    "items": [
        {"title": "engine", "tags": [{"name": "math"}, {"name": "steam"}]},
        {"title": "notes", "tags": []},
    ],
}
BOB = {"id": 2, "name": "bob", "items": []}


# -- databases -----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(async URL, sync URL) of one database."""
    if request.param == "mariadb":
        mariadb: MariaDB = request.getfixturevalue("mariadb")
        return mariadb.async_url, mariadb.sync_url
    return f"sqlite+aiosqlite:///{tmp_path}/db.sqlite", f"sqlite:///{tmp_path}/db.sqlite"


@pytest.fixture
async def engine(urls: tuple[str, str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(urls[0])
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as db:
        engine_item = Item(
            id=1, title="engine", tags=[Tag(id=1, name="math"), Tag(id=2, name="steam")]
        )
        db.add_all(
            [
                User(id=1, name="ada", items=[engine_item, Item(id=2, title="notes")]),
                User(id=2, name="bob"),
            ]
        )
        await db.commit()
    yield engine
    await engine.dispose()


# -- the app -------------------------------------------------------------------------------------


def make_app(engine: AsyncEngine, *, bridge: bool) -> FastAPI:
    """The migrated service; ``bridge`` says whether its returns go through validate_in_bridge."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as db:
            yield db

    async def answer(response_model: Any, value: Any) -> Any:
        return await validate_in_bridge(response_model, value) if bridge else value

    app = FastAPI()

    @app.get("/users/{user_id}", response_model=UserOut)
    async def read_user(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(UserOut, await adapt(get_user)(db, user_id))

    @app.get("/native/{user_id}", response_model=UserOut)
    async def read_user_natively(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(UserOut, await db.get(User, user_id))  # no adapt() involved

    @app.get("/users", response_model=List[UserOut])  # noqa: UP006
    async def read_users(db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(List[UserOut], await adapt(list_users)(db))  # noqa: UP006

    @app.get("/by-name", response_model=dict[str, UserOut])
    async def read_users_by_name(db: AsyncSession = Depends(get_db)) -> Any:
        users = await adapt(list_users)(db)
        return await answer(dict[str, UserOut], {u.name: u for u in users})

    @app.get("/maybe/{user_id}", response_model=Optional[UserOut])  # noqa: UP045
    async def maybe_user(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(Optional[UserOut], await adapt(get_user)(db, user_id))  # noqa: UP045

    @app.get("/response/{user_id}", response_model=Status)
    async def as_response(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        user = await adapt(get_user)(db, user_id)
        assert user is not None
        return await answer(Status, JSONResponse({"raw": user.name}, status_code=202))

    @app.get("/nicknamed/{user_id}", response_model=Nicknamed)
    async def nicknamed(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(Nicknamed, await adapt(get_user)(db, user_id))

    @app.get("/priced/{user_id}", response_model=UserWithPrices)
    async def priced(user_id: int, db: AsyncSession = Depends(get_db)) -> Any:
        return await answer(UserWithPrices, await adapt(get_user)(db, user_id))

    return app


def client(app: FastAPI, *, raise_app_exceptions: bool = False) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


# -- the problem, and the fix ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize(
    ("path", "raised"),
    [("/users/1", LazyLoadOutsideAdapterError), ("/native/1", MissingGreenlet)],
)
async def test_without_the_bridge_the_response_model_cannot_load_items(
    engine: AsyncEngine, path: str, raised: type[Exception]
) -> None:
    app = make_app(engine, bridge=False)
    async with client(app) as http:
        assert (await http.get(path)).status_code == 500
    async with client(app, raise_app_exceptions=True) as http:
        # pydantic reports the failed attribute read as a validation error naming the cause
        with pytest.raises((raised, ResponseValidationError)) as failure:
            await http.get(path)
    error = failure.value
    if isinstance(error, ResponseValidationError):
        assert raised.__name__ in str(error.errors())
    del failure, error
    gc.collect()  # the driver's never-awaited coroutines warn here, under this test's filter


@pytest.mark.parametrize("path", ["/users/1", "/native/1"])
async def test_in_the_bridge_items_and_their_tags_load_on_the_async_driver(
    engine: AsyncEngine, path: str
) -> None:
    async with client(make_app(engine, bridge=True), raise_app_exceptions=True) as http:
        response = await http.get(path)
    assert response.status_code == 200
    assert response.json() == ADA


async def test_lists_and_dicts_of_users(engine: AsyncEngine) -> None:
    async with client(make_app(engine, bridge=True), raise_app_exceptions=True) as http:
        listed = await http.get("/users")
        by_name = await http.get("/by-name")
    assert listed.status_code == 200 and listed.json() == [ADA, BOB]
    assert by_name.status_code == 200 and by_name.json() == {"ada": ADA, "bob": BOB}


async def test_optional_answers_the_user_or_null(engine: AsyncEngine) -> None:
    async with client(make_app(engine, bridge=True), raise_app_exceptions=True) as http:
        found = await http.get("/maybe/1")
        missing = await http.get("/maybe/404")
    assert found.status_code == 200 and found.json() == ADA
    assert missing.status_code == 200 and missing.json() is None


async def test_a_response_passes_through_unvalidated(engine: AsyncEngine) -> None:
    async with client(make_app(engine, bridge=True), raise_app_exceptions=True) as http:
        response = await http.get("/response/1")
    assert response.status_code == 202 and response.json() == {"raw": "ada"}


# -- failures stay FastAPI's ----------------------------------------------------------------------


@pytest.mark.parametrize("bridge", [False, True])
async def test_a_response_that_fails_validation_is_fastapis_own_error(
    engine: AsyncEngine, bridge: bool
) -> None:
    app = make_app(engine, bridge=bridge)
    async with client(app) as http:
        assert (await http.get("/nicknamed/1")).status_code == 500
    async with client(app, raise_app_exceptions=True) as http:
        with pytest.raises(ResponseValidationError) as failure:
            await http.get("/nicknamed/1")
    assert [e["loc"] for e in failure.value.errors()] == [("response", "nickname")]


async def test_a_failure_inside_the_relationships_is_fastapis_error_too(
    engine: AsyncEngine,
) -> None:
    """The bridge loaded `items` while failing; FastAPI's own pass then reports the failure."""
    app = make_app(engine, bridge=True)
    async with client(app) as http:
        assert (await http.get("/priced/1")).status_code == 500
    async with client(app, raise_app_exceptions=True) as http:
        with pytest.raises(ResponseValidationError) as failure:
            await http.get("/priced/1")
    errors = failure.value.errors()
    assert [e["loc"] for e in errors] == [("response", "items", n, "price") for n in (0, 1)]


# -- the helper itself -----------------------------------------------------------------------------


async def test_returns_pydantic_instances_and_leaves_none_models_alone(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as db:
        user = await db.get(User, 1)
        validated = await validate_in_bridge(UserOut, user)
        assert isinstance(validated, UserOut) and validated.model_dump() == ADA
        assert await validate_in_bridge(None, user) is user
        union = await validate_in_bridge(Union[Nicknamed, UserOut], user)  # noqa: UP007
        assert isinstance(union, UserOut)


async def test_objects_of_a_sync_session_validate_too(
    engine: AsyncEngine, urls: tuple[str, str]
) -> None:
    sync_engine = create_engine(urls[1])
    try:
        with Session(sync_engine) as db:
            user = db.get(User, 1)
            validated = await validate_in_bridge(UserOut, user)
        assert isinstance(validated, UserOut) and validated.model_dump() == ADA
    finally:
        sync_engine.dispose()


async def test_validators_are_cached_per_model_and_built_each_time_when_unhashable(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as db:
        user = await db.get(User, 2)
        await validate_in_bridge(list[UserOut], [user])
        hits = _cached_validator.cache_info().hits
        await validate_in_bridge(list[UserOut], [user])
        assert _cached_validator.cache_info().hits == hits + 1
        unhashable = Annotated[UserOut, ["not hashable metadata"]]
        for _ in range(2):
            assert (await validate_in_bridge(unhashable, user)).model_dump() == BOB
        assert _cached_validator.cache_info().hits == hits + 1


async def test_what_the_model_reads_loads_a_level_at_a_time_not_an_object_at_a_time(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as db:  # more users with items: lazy loads would be 1 + 4 + 5
        db.add_all(
            [
                User(id=3, name="cy", items=[Item(id=3, title="loom", tags=[Tag(id=3, name="x")])]),
                User(id=4, name="di", items=[Item(id=4, title="lamp"), Item(id=5, title="pen")]),
            ]
        )
        await db.commit()
    selects: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            users = list((await db.scalars(select(User).order_by(User.id))).all())
            ada = users[0]
            ada.name = "ada (renamed, not flushed)"
            answer = await validate_in_bridge(list[UserOut], users)
            expected_ada = {**ADA, "name": "ada (renamed, not flushed)"}
            assert [u.model_dump() for u in answer][:2] == [expected_ada, BOB]
            assert answer[3].model_dump()["items"] == [
                {"title": "lamp", "tags": []},
                {"title": "pen", "tags": []},
            ]
            # users; their items by owner_id; those items' tags by item_id
            assert len(selects) == 1 + 1 + 1, selects
            # Loading overwrote nothing (autoflush sent the change first, as the lazy load would
            # have).
            assert ada.name == "ada (renamed, not flushed)"
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
