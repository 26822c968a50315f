"""async_override() and async_twin(): a test suite written for the sync dependency keeps
steering the app once its endpoints run on the async twin.

A real FastAPI app over a real ASGI client, on SQLite (a file) and MariaDB (pymysql for the
test's session). The test's session is the fixture's sync ``Session``; the endpoints are
``async def`` on ``get_async_session``, as steps 2-4 leave them.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from asyncshift import async_engine_from, async_override, async_twin
from tests.support.mariadb import MariaDB

pytestmark = pytest.mark.anyio


class Base(DeclarativeBase):
    pass


class Hero(Base):
    __tablename__ = "override_heroes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Service:
    """The app module as step 2 leaves it: a sync engine, its session dependency, and the
    twin, which reads ``self.engine`` when it runs (as ``async_twin(engine)`` reads the global)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.app = FastAPI()

        @self.app.get("/heroes/{hero_id}")
        async def read_hero(
            hero_id: int, session: AsyncSession = Depends(self.get_async_session)
        ) -> dict[str, str]:
            hero = await session.get(Hero, hero_id)
            if hero is None:
                raise HTTPException(404)
            return {"name": hero.name}

        @self.app.delete("/heroes/{hero_id}")
        async def delete_hero(
            hero_id: int, session: AsyncSession = Depends(self.get_async_session)
        ) -> dict[str, int]:
            await session.delete(await session.get(Hero, hero_id))
            await session.commit()
            left = (await session.execute(select(Hero.id))).scalars().all()
            return {"left": len(left)}

    def get_session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    async def get_async_session(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(async_twin(self.engine), expire_on_commit=False) as session:
            yield session


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def sync_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "mariadb":
        mariadb: MariaDB = request.getfixturevalue("mariadb")
        return mariadb.sync_url
    return f"sqlite:///{tmp_path}/test.sqlite"


@pytest.fixture
def test_engine(sync_url: str) -> Iterator[Engine]:
    engine = create_engine(sync_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """The app's own database: not the one the test set up."""
    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite")
    Base.metadata.create_all(engine)
    yield Service(engine)
    engine.dispose()


async def call(app: FastAPI, method: str, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, url)


async def test_the_sync_override_alone_no_longer_reaches_async_endpoints(
    service: Service, test_engine: Engine
) -> None:
    with Session(test_engine) as session:
        session.add(Hero(id=1, name="Deadpond"))
        session.commit()
        service.app.dependency_overrides[service.get_session] = lambda: session
        response = await call(service.app, "GET", "/heroes/1")
    assert response.status_code == 404  # the endpoint read the app's own, empty database


async def test_async_override_serves_the_tests_own_session(
    service: Service, test_engine: Engine
) -> None:
    with Session(test_engine) as session:
        hero = Hero(id=1, name="Deadpond")
        session.add_all([hero, Hero(id=2, name="Rusty-Man")])
        session.commit()

        def get_session_override() -> Session:
            return session

        overrides = service.app.dependency_overrides
        overrides[service.get_session] = get_session_override
        overrides[service.get_async_session] = async_override(get_session_override)
        read = await call(service.app, "GET", "/heroes/1")
        deleted = await call(service.app, "DELETE", "/heroes/1")
        assert (read.status_code, read.json()) == (200, {"name": "Deadpond"})
        assert deleted.json() == {"left": 1}
        # The very session: its identity map knows the hero is gone without asking the database.
        assert session.get(Hero, 1) is None
        assert session.is_active


async def test_a_generator_override_runs_to_its_end_after_the_request(
    service: Service, test_engine: Engine
) -> None:
    with Session(test_engine) as setup:
        setup.add(Hero(id=1, name="Deadpond"))
        setup.commit()
    closed: list[Session] = []

    def override_get_session() -> Iterator[Session]:
        session = Session(test_engine)
        try:
            yield session
        finally:
            session.close()
            closed.append(session)

    service.app.dependency_overrides[service.get_async_session] = async_override(
        override_get_session
    )
    response = await call(service.app, "GET", "/heroes/1")
    assert response.json() == {"name": "Deadpond"}
    assert len(closed) == 1


async def test_wrong_overrides_say_what_to_do(service: Service) -> None:
    def needs_request(request: object) -> Session:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match=r"takes parameters \(request\).*by hand"):
        async_override(needs_request)
    with pytest.raises(TypeError, match="takes the callable"):
        async_override(Session())  # type: ignore[arg-type]
    service.app.dependency_overrides[service.get_async_session] = async_override(lambda: 42)
    with pytest.raises(TypeError, match="produced int, not a SQLAlchemy Session"):
        await call(service.app, "GET", "/heroes/1")


async def test_async_twin_is_the_first_twin_and_follows_a_swapped_engine(
    service: Service, test_engine: Engine
) -> None:
    first = async_engine_from(service.engine)
    try:
        assert async_twin(service.engine) is first
        assert async_twin(first) is first
        with Session(test_engine) as session:
            session.add(Hero(id=7, name="Spider-Boy"))
            session.commit()
        service.engine = test_engine  # what a test does with `module.engine = database_engine`
        response = await call(service.app, "GET", "/heroes/7")
        assert response.json() == {"name": "Spider-Boy"}
        twin = async_twin(test_engine)
        assert isinstance(twin, AsyncEngine) and async_twin(test_engine) is twin
        await twin.dispose()
    finally:
        await first.dispose()
    with pytest.raises(TypeError, match="async_twin"):
        async_twin("sqlite://")  # type: ignore[arg-type]


async def test_async_twin_makes_one_twin_when_threads_ask_first_at_once(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/race.sqlite")
    barrier = threading.Barrier(8)

    def ask() -> AsyncEngine:
        barrier.wait()
        return async_twin(engine)

    with ThreadPoolExecutor(8) as pool:
        twins = list(pool.map(lambda _: ask(), range(8)))
    assert len({id(twin) for twin in twins}) == 1
    await twins[0].dispose()
    engine.dispose()
