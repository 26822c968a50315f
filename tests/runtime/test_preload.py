"""What validate_in_bridge loads before it validates: the relationships the response model reads,
a level at a time, with the data the lazy loads would have read (SQLite through aiosqlite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, ForeignKey, String, Table, event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from asyncshift import validate_in_bridge

pytestmark = pytest.mark.anyio


class Base(DeclarativeBase):
    pass


member = Table(
    "pre_member",
    Base.metadata,
    Column("club_id", ForeignKey("pre_club.id"), primary_key=True),
    Column("person_id", ForeignKey("pre_person.id"), primary_key=True),
)


class Club(Base):
    __tablename__ = "pre_club"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    people: Mapped[list[Person]] = relationship(secondary=member, order_by="Person.id")


class Person(Base):
    __tablename__ = "pre_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("pre_city.id"))
    city: Mapped[City | None] = relationship()


class City(Base):
    __tablename__ = "pre_city"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


class CityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    city: CityOut | None


class ClubOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    people: list[PersonOut]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/pre.sqlite")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as db:
        paris, rome = City(id=1, name="paris"), City(id=2, name="rome")
        ann = Person(id=1, name="ann", city=paris)
        ben = Person(id=2, name="ben", city=rome)
        cat = Person(id=3, name="cat")
        db.add_all([Club(id=1, name="chess", people=[ann, ben]), Club(id=2, name="go")])
        db.add_all([Club(id=3, name="rowing", people=[ben, cat])])
        await db.commit()
    yield engine
    await engine.dispose()


async def test_many_to_many_and_many_to_one_load_once_per_level(engine: AsyncEngine) -> None:
    selects: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        selects.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    async with AsyncSession(engine) as db:
        clubs = list((await db.scalars(select(Club).order_by(Club.id))).all())
        answer = await validate_in_bridge(list[ClubOut], clubs)
    assert [c.model_dump() for c in answer] == [
        {
            "name": "chess",
            "people": [
                {"name": "ann", "city": {"name": "paris"}},
                {"name": "ben", "city": {"name": "rome"}},
            ],
        },
        {"name": "go", "people": []},
        {
            "name": "rowing",
            "people": [
                {"name": "ben", "city": {"name": "rome"}},
                {"name": "cat", "city": None},
            ],
        },
    ]
    # clubs; clubs again with their people (a secondary table: selectinload); the cities by id
    assert len(selects) == 1 + 2 + 1, selects


async def test_a_single_object_is_left_to_its_own_lazy_load(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as db:
        club = await db.get(Club, 1)
        answer = await validate_in_bridge(ClubOut, club)
    assert [p.name for p in answer.people] == ["ann", "ben"]


async def test_a_generator_is_left_for_pydantic_to_read(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as db:
        clubs = (await db.scalars(select(Club).order_by(Club.id))).all()
        answer = await validate_in_bridge(list[ClubOut], (club for club in clubs))
    assert [c.name for c in answer] == ["chess", "go", "rowing"]
    assert [p.name for p in answer[2].people] == ["ben", "cat"]
