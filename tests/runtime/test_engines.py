"""async_url and async_engine_from: the async twin of a sync URL or engine."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import (
    AsyncAdaptedQueuePool,
    NullPool,
    SingletonThreadPool,
    StaticPool,
)

from asyncshift import UnsupportedDriverError, async_engine_from, async_url
from tests.support.mariadb import MariaDB

TWINS = [
    ("mysql://u:p@h/db?charset=utf8mb4", "mysql+asyncmy://u:p@h/db?charset=utf8mb4"),
    ("mysql+pymysql://u:p@h:3307/db", "mysql+asyncmy://u:p@h:3307/db"),
    ("mysql+mysqldb://u@h/db", "mysql+asyncmy://u@h/db"),
    ("mysql+mysqlconnector://u@h/db", "mysql+asyncmy://u@h/db"),
    ("mariadb+pymysql://u@h/db", "mariadb+asyncmy://u@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite://", "sqlite+aiosqlite://"),
    ("sqlite:///var/app.db", "sqlite+aiosqlite:///var/app.db"),
    ("mysql+asyncmy://u@h/db", "mysql+asyncmy://u@h/db"),
]


@pytest.mark.parametrize(("sync", "expected"), TWINS)
def test_async_url(sync: str, expected: str) -> None:
    assert async_url(sync).render_as_string(hide_password=False) == expected


def test_postgresql_default_driver_follows_the_installed_sqlalchemy() -> None:
    assert async_url("postgresql://u@h/db").drivername in (
        "postgresql+asyncpg",  # 2.0: the default is psycopg2
        "postgresql+psycopg",  # 2.1: the default is psycopg 3, async by itself
    )


def test_in_memory_sqlite_keeps_its_database_name() -> None:
    assert async_url("sqlite+pysqlite:///:memory:").database == ":memory:"


def test_an_unknown_driver_names_the_supported_ones() -> None:
    with pytest.raises(UnsupportedDriverError, match=r"oracle\+cx_oracle.*mysql \(.*pymysql"):
        async_url("oracle+cx_oracle://u@h/db")


def test_pool_settings_echo_isolation_and_connect_args_carry_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine(
        "mysql+pymysql://u:secret@h/db",
        pool_size=4,
        max_overflow=0,
        pool_timeout=None,
        pool_recycle=600,
        pool_pre_ping=True,
        echo=True,
        isolation_level="READ COMMITTED",
        connect_args={"init_command": "SET SESSION wait_timeout = 60", "cursorclass": dict},
    )
    twin = async_engine_from(engine)
    pool = twin.sync_engine.pool
    assert twin.url.render_as_string(hide_password=False) == "mysql+asyncmy://u:secret@h/db"
    assert isinstance(pool, AsyncAdaptedQueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (4, 0, None)
    assert (pool._recycle, pool._pre_ping, twin.echo) == (600, True, True)
    assert twin.sync_engine.dialect._on_connect_isolation_level == "READ COMMITTED"  # type: ignore[attr-defined]
    assert "cursorclass" in caplog.text  # pymysql-only, dropped with a word
    twin.sync_engine.dispose()


def test_overrides_win() -> None:
    twin = async_engine_from(create_engine("sqlite:///x.db", pool_size=3), pool_size=9)
    assert twin.sync_engine.pool.size() == 9  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("poolclass", "expected"),
    [(StaticPool, StaticPool), (SingletonThreadPool, StaticPool), (NullPool, NullPool)],
)
def test_pool_classes_map_to_their_async_counterparts(poolclass: type, expected: type) -> None:
    engine = create_engine("sqlite://", poolclass=poolclass)
    assert type(async_engine_from(engine).sync_engine.pool) is expected


@pytest.mark.anyio
@pytest.mark.mariadb
async def test_the_twin_connects_with_the_carried_init_command(mariadb: MariaDB) -> None:
    engine = create_engine(
        mariadb.sync_url, connect_args={"init_command": "SET SESSION wait_timeout = 77"}
    )
    twin = async_engine_from(engine)
    async with twin.connect() as conn:
        value = (await conn.execute(text("SELECT @@SESSION.wait_timeout"))).scalar_one()
    await twin.dispose()
    assert int(value) == 77


def test_sqlite_connect_args_all_carry_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="asyncshift")
    async_engine_from(create_engine("sqlite://", connect_args={"check_same_thread": False}))
    assert caplog.text == ""  # aiosqlite passes every sqlite3 argument on: nothing dropped
