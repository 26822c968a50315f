"""A test suite's in-memory SQLite database is one database for both faces."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from asyncshift import async_engine_from
from asyncshift._sqlite_twin import is_shared_memory_database


def test_rows_seeded_through_the_sync_session_are_seen_by_the_async_one() -> None:
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    assert is_shared_memory_database(engine)
    with sessionmaker(engine).begin() as session:
        session.execute(text("CREATE TABLE users (name TEXT)"))
        session.execute(text("INSERT INTO users VALUES ('ada')"))
    twin = async_engine_from(engine)

    async def read_then_write() -> list[str]:
        async with async_sessionmaker(twin)() as session:
            names = list((await session.scalars(text("SELECT name FROM users"))).all())
            await session.execute(text("INSERT INTO users VALUES ('grace')"))
            await session.commit()
        await twin.dispose()  # never closes the original's connection
        return names

    assert asyncio.run(read_then_write()) == ["ada"]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name FROM users ORDER BY name")).scalars().all()
    assert rows == ["ada", "grace"]


def test_a_file_database_twin_opens_its_own_connections(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/x.db")
    assert not is_shared_memory_database(engine)
