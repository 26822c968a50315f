"""ping_when_idle: pre-ping only what has idled long enough to be dead, against MariaDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import sessionmaker

from asyncshift import async_engine_from, ping_when_idle, request_scoped_session, session_scope
from tests.support.mariadb import MariaDB

pytestmark = [pytest.mark.mariadb, pytest.mark.timeout(60)]

WAIT_TIMEOUT = 2


def server_pings(mariadb: MariaDB) -> int:
    """COM_PING packets the server has answered so far (they count as admin commands)."""
    conn = mariadb.admin()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Com_admin_commands'")
            return int(cur.fetchone()[1])
    finally:
        conn.close()


def make_engine(mariadb: MariaDB, *, pre_ping: bool) -> Engine:
    return create_engine(
        mariadb.sync_url,
        pool_pre_ping=pre_ping,
        pool_size=2,
        connect_args={"init_command": f"SET SESSION wait_timeout = {WAIT_TIMEOUT}"},
    )


@pytest.fixture
def idle_ping_engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = make_engine(mariadb, pre_ping=True)
    ping_when_idle(engine, idle_seconds=30)  # capped at wait_timeout / 2 = 1 s on its own
    yield engine
    engine.dispose()


def requests(engine: Engine, count: int) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    for _ in range(count):
        with session_scope():
            registry.execute(text("SELECT 1"))


def test_busy_connections_are_not_pinged(mariadb: MariaDB, idle_ping_engine: Engine) -> None:
    requests(idle_ping_engine, 1)  # connect
    before = server_pings(mariadb)
    requests(idle_ping_engine, 20)
    assert server_pings(mariadb) - before == 0


def test_pool_pre_ping_pings_every_checkout(mariadb: MariaDB) -> None:
    engine = make_engine(mariadb, pre_ping=True)
    requests(engine, 1)
    before = server_pings(mariadb)
    requests(engine, 20)
    assert server_pings(mariadb) - before >= 20
    engine.dispose()


def test_a_connection_dropped_by_the_server_is_replaced_without_an_error(
    mariadb: MariaDB, idle_ping_engine: Engine
) -> None:
    registry = request_scoped_session(sessionmaker(idle_ping_engine))
    with session_scope():
        first = registry.execute(text("SELECT CONNECTION_ID()")).scalar_one()
    time.sleep(WAIT_TIMEOUT + 1)  # the server drops the pooled connection meanwhile
    assert first not in mariadb.connection_ids()
    with session_scope():  # would raise (2006/2013) on the dead connection
        second = registry.execute(text("SELECT CONNECTION_ID()")).scalar_one()
    assert second != first


def test_without_any_ping_the_dropped_connection_fails(mariadb: MariaDB) -> None:
    engine = make_engine(mariadb, pre_ping=False)
    requests(engine, 1)
    time.sleep(WAIT_TIMEOUT + 1)
    with pytest.raises(Exception, match=r"\((2006|2013|4031), "):
        requests(engine, 1)
    engine.dispose()


# -- the async twin keeps the liveness check, in every order (issue 8, item 7) -------------------


async def twin_survives_the_servers_idle_timeout(twin: AsyncEngine, mariadb: MariaDB) -> None:
    async with twin.connect() as conn:
        first = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar_one()
    await asyncio.sleep(WAIT_TIMEOUT + 1)  # the server drops the pooled connection meanwhile
    assert first not in mariadb.connection_ids()
    async with twin.connect() as conn:  # F1 on the async path: (2006)/(2013) without a check
        second = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar_one()
    assert second != first


@pytest.mark.anyio
@pytest.mark.parametrize("order", ["ping-then-twin", "twin-then-ping"])
async def test_the_twin_keeps_the_idle_ping(mariadb: MariaDB, order: str) -> None:
    engine = make_engine(mariadb, pre_ping=False)
    if order == "ping-then-twin":
        ping_when_idle(engine, idle_seconds=30)
        twin = async_engine_from(engine)
    else:
        twin = async_engine_from(engine)
        ping_when_idle(engine, idle_seconds=30)
    try:
        await twin_survives_the_servers_idle_timeout(twin, mariadb)
        before = server_pings(mariadb)
        for _ in range(5):  # busy connections are not pinged on the twin either
            async with twin.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert server_pings(mariadb) - before == 0
    finally:
        await twin.dispose()
        engine.dispose()


def test_ping_when_idle_given_a_sessionmaker_names_the_fix(mariadb: MariaDB) -> None:
    engine = make_engine(mariadb, pre_ping=False)
    with pytest.raises(TypeError, match=r"ping_when_idle\(\).*sessionmaker.*\.kw\['bind'\]"):
        ping_when_idle(sessionmaker(engine))  # type: ignore[arg-type]
    engine.dispose()
