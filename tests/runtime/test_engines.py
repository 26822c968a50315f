"""async_url and async_engine_from: the async twin of a sync URL or engine."""

from __future__ import annotations

import inspect
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import (
    AsyncAdaptedQueuePool,
    NullPool,
    SingletonThreadPool,
    StaticPool,
)
from sqlalchemy.pool.base import reset_none

from asyncshift import UnsupportedDriverError, async_engine_from, async_url
from asyncshift.engines import (
    TwinSettingWarning,
    UnsupportedSettingError,
    _translated_url,
    _user_connect_args,
)
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
    with pytest.warns(TwinSettingWarning, match="cursorclass") as warned:
        twin = async_engine_from(engine)
    assert warned[0].filename == __file__  # points at the caller
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


# -- sync-only URL parameters: translated or refused (issue 8, item 8) --------------------------

TRANSLATED_URLS = [
    ("postgresql+psycopg2://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
    (
        "postgresql+psycopg2://u@h/db?sslmode=verify-full",
        "postgresql+asyncpg://u@h/db?ssl=verify-full",
    ),
    ("mysql+mysqldb://u@h/db?ssl_mode=REQUIRED", "mysql+asyncmy://u@h/db?ssl_check_hostname=false"),
    (
        "mysql+mysqldb://u@h/db?ssl_mode=VERIFY_IDENTITY&ssl_ca=/etc/ca.pem",
        "mysql+asyncmy://u@h/db?ssl_ca=/etc/ca.pem&ssl_check_hostname=true",
    ),
    (
        "mysql+mysqldb://u@h/db?ssl_mode=VERIFY_CA&ssl_ca=/etc/ca.pem",
        "mysql+asyncmy://u@h/db?ssl_ca=/etc/ca.pem&ssl_check_hostname=false",
    ),
    (
        "mysql+mysqldb://u@h/db?ssl_mode=DISABLED&charset=utf8mb4",
        "mysql+asyncmy://u@h/db?charset=utf8mb4",
    ),
    ("mysql+mysqlconnector://u@h/db?auth_plugin=mysql_native_password", "mysql+asyncmy://u@h/db"),
    ("mysql+pymysql://u@h/db?ssl_ca=/ca.pem", "mysql+asyncmy://u@h/db?ssl_ca=/ca.pem"),
]


@pytest.mark.parametrize(("sync", "expected"), TRANSLATED_URLS)
def test_sync_only_url_parameters_are_translated(sync: str, expected: str) -> None:
    assert async_url(sync) == make_url(expected)


@pytest.mark.parametrize(
    ("sync", "named"),
    [
        ("mysql+mysqldb://u@h/db?ssl_mode=PREFERRED", r"PREFERRED.*plaintext"),
        ("mysql+mysqldb://u@h/db?ssl_mode=VERIFY_CA", r"VERIFY_CA without ssl_ca"),
        (
            "mysql+mysqlconnector://u@h/db?auth_plugin=authentication_ldap_sasl_client",
            "auth_plugin",
        ),
        ("mysql+pymysql://u@h/db?write_timeout=5", r"'write_timeout'.*asyncmy takes:"),
        (
            "postgresql+psycopg2://u@h/db?sslrootcert=/ca.pem&sslmode=verify-full",
            r"sslrootcert.*SSLContext",
        ),
        ("postgresql+psycopg2://u@h/db?keepalives=1", r"'keepalives'.*asyncpg takes:"),
        (
            "postgresql+psycopg2://u@h/db?connect_timeout=10",
            r"connect_timeout.*async_engine_from\(url\)",
        ),
    ],
)
def test_url_parameters_without_an_async_form_are_refused(sync: str, named: str) -> None:
    with pytest.raises(UnsupportedSettingError, match=named):
        async_url(sync)


@pytest.mark.anyio
@pytest.mark.mariadb
async def test_a_mysql_connector_url_with_auth_plugin_gives_a_twin_that_connects(
    mariadb: MariaDB,
) -> None:
    twin = async_engine_from(mariadb.url("mysqlconnector") + "?auth_plugin=mysql_native_password")
    async with twin.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    await twin.dispose()


@pytest.mark.anyio
@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("given", "how"),
    [
        ("?ssl_mode=REQUIRED", "mysqlclient URL"),
        ({"ssl_verify_cert": True}, "pymysql connect_args"),
        ({"ssl": {"check_hostname": False}}, "an ssl dict"),
    ],
)
async def test_a_twin_never_talks_plaintext_where_the_original_requires_tls(
    mariadb: MariaDB, given: object, how: str
) -> None:
    # The test server has no TLS: the original would refuse to connect, so must the twin.
    if isinstance(given, str):
        twin = async_engine_from(mariadb.url("mysqldb") + given)
    else:
        twin = async_engine_from(create_engine(mariadb.sync_url, connect_args=given))
    with pytest.raises(Exception, match=r"(?i)ssl|tls") as raised:
        async with twin.connect() as conn:
            await conn.execute(text("SELECT 1"))
    assert not isinstance(raised.value, TypeError), how
    await twin.dispose()


def test_psycopg2_tls_and_timeouts_become_asyncpg_connect_arguments() -> None:
    url, connect_args = _translated_url(
        "postgresql+psycopg2://u@h/db?connect_timeout=10&application_name=api",
        {"sslmode": "require", "options": "-c search_path=app -c statement_timeout=5000"},
    )
    assert url.render_as_string() == "postgresql+asyncpg://u@h/db"
    assert connect_args == {
        "timeout": 10.0,
        "ssl": "require",  # was dropped with a log line: a twin that allowed plaintext
        "server_settings": {
            "application_name": "api",
            "search_path": "app",
            "statement_timeout": "5000",
        },
    }


def test_the_asyncpg_twin_passes_only_arguments_asyncpg_connect_takes() -> None:
    asyncpg = pytest.importorskip("asyncpg")  # no PostgreSQL server here: checked at connect()
    twin = async_engine_from(
        "postgresql+psycopg2://u:p@h/db?sslmode=verify-full&connect_timeout=3",
        connect_args={"application_name": "api"},
    )
    _, url_kwargs = twin.sync_engine.dialect.create_connect_args(twin.url)
    cparams = {**url_kwargs, **_user_connect_args(twin.sync_engine)}
    for name in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        cparams.pop(name, None)  # SQLAlchemy's own, taken before asyncpg.connect()
    inspect.signature(asyncpg.connect).bind(**cparams)  # no "unexpected keyword argument"
    assert cparams["ssl"] == "verify-full" and cparams["timeout"] == 3.0


# -- engine settings carried, translated or named (item 9) --------------------------------------


def test_behaviour_settings_carry_over(tmp_path: Path) -> None:
    engine = create_engine(
        f"sqlite:///{tmp_path}/db.sqlite",
        hide_parameters=True,
        execution_options={
            "schema_translate_map": {None: "main"},
            "isolation_level": "SERIALIZABLE",
        },
        json_serializer=lambda value: json.dumps(value, sort_keys=True),
        json_deserializer=json.loads,
        pool_reset_on_return=None,
        logging_name="app-db",
        query_cache_size=50,
    )
    twin = async_engine_from(engine)
    assert twin.sync_engine.hide_parameters is True
    assert twin.get_execution_options()["schema_translate_map"] == {None: "main"}
    assert twin.get_execution_options()["isolation_level"] == "SERIALIZABLE"
    dialect: Any = twin.sync_engine.dialect
    assert dialect._json_serializer is engine.dialect._json_serializer  # type: ignore[attr-defined]
    assert dialect._json_deserializer is json.loads
    assert twin.sync_engine.pool._reset_on_return is reset_none  # type: ignore[attr-defined]
    assert twin.sync_engine.logging_name == "app-db"
    assert twin.sync_engine._compiled_cache.capacity == 50  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_hidden_parameters_stay_hidden_in_the_twins_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", hide_parameters=True)
    twin = async_engine_from(engine)
    async with twin.connect() as conn:
        with pytest.raises(DBAPIError) as raised:
            await conn.execute(
                text("SELECT * FROM no_such_table WHERE pw = :pw"), {"pw": "hunter2"}
            )
    assert "hunter2" not in str(raised.value)
    await twin.dispose()


def test_a_custom_creator_is_refused_unless_an_async_one_is_given(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(path))
    with pytest.raises(UnsupportedSettingError, match=r"creator=.*async_creator="):
        async_engine_from(engine)


def test_event_listeners_that_are_not_carried_are_named(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite")

    @event.listens_for(engine, "connect")
    def enable_foreign_keys(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    with pytest.warns(
        TwinSettingWarning, match=r"connect: .*enable_foreign_keys.*twin\.sync_engine"
    ):
        async_engine_from(engine)


def test_async_engine_from_refuses_what_is_not_an_engine() -> None:
    with pytest.raises(TypeError, match=r"async_engine_from\(\).*None.*create_engine"):
        async_engine_from(None)  # type: ignore[arg-type]
