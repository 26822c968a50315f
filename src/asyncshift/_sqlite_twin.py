"""SQLite twins make their own aiosqlite connections, for two reasons.

An in-memory database seen by both faces: a test suite's ``create_engine("sqlite://",
poolclass=StaticPool)`` is one database living in one connection. A twin that opened its own
would be a second, empty database, and a row seeded through the sync session would be invisible
to the async one. So the twin's single connection runs the original's sqlite3 connection on
aiosqlite's thread; closing the twin never closes it (the original owns it). Both faces share
one connection, and with it one transaction.

A process that can exit: aiosqlite runs each connection on a worker thread. SQLAlchemy marks
that thread a daemon, but until 2.0.4x only where aiosqlite < 0.22 made the connection itself
the thread; with aiosqlite 0.22 every connection a pool still holds (a test suite that never
disposes its engine, a script) keeps the interpreter from exiting, forever. The twin's
connections mark their thread themselves, whatever the versions.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import URL, Engine, make_url


class _Borrowed:
    """The original's sqlite3 connection, lent to aiosqlite: everything but ``close()``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        object.__setattr__(self, "_asyncshift_connection", connection)

    def close(self) -> None:
        pass  # the sync engine owns it

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_asyncshift_connection"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_asyncshift_connection"), name, value)


def _has_async_creator() -> bool:
    import sqlalchemy

    major, minor, patch = (int(p) for p in sqlalchemy.__version__.split(".")[:3] if p.isdigit())
    return (major, minor, patch) >= (2, 0, 16)


def is_shared_memory_database(engine: Engine) -> bool:
    """An in-memory database held by one connection: the twin must share it."""
    url = engine.url
    memory = url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    return (
        url.get_backend_name() == "sqlite"
        and memory
        and isinstance(engine.pool, sa_pool.StaticPool | sa_pool.SingletonThreadPool)
    )


def twin_connection_settings(
    engine: Engine, url: URL | str, connect_args: dict[str, Any]
) -> dict[str, Any]:
    """``create_async_engine`` settings for an SQLite twin whose connections are made here:
    the original's own connection for a shared in-memory database, else aiosqlite's."""
    import aiosqlite

    if is_shared_memory_database(engine):
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        borrowed = _Borrowed(raw)

        def lent() -> aiosqlite.Connection:
            return aiosqlite.Connection(lambda: borrowed, iter_chunk_size=64)

        return {**_connecting(lent), "poolclass": sa_pool.StaticPool}
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    kwargs = {**kwargs, **connect_args}
    return _connecting(lambda: aiosqlite.connect(*args, **kwargs))


def _connecting(make: Callable[[], Any]) -> dict[str, Any]:
    """``async_creator`` where SQLAlchemy has it (2.0.16); before, the ``creator`` it emulates
    it with, which wraps the driver connection in the dialect's adapter itself."""

    async def opened() -> Any:
        connection = make()
        worker = getattr(connection, "_thread", connection)  # aiosqlite < 0.22: the thread
        if isinstance(worker, threading.Thread) and not worker.is_alive():
            worker.daemon = True
        return await connection

    if _has_async_creator():
        return {"async_creator": opened}
    import aiosqlite
    from sqlalchemy.dialects.sqlite.aiosqlite import (
        AsyncAdapt_aiosqlite_connection,
        AsyncAdapt_aiosqlite_dbapi,
    )
    from sqlalchemy.util import await_only

    dbapi = AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)

    def creator() -> Any:  # runs in the pool's greenlet, as the async engine connects
        return AsyncAdapt_aiosqlite_connection(dbapi, await_only(opened()))

    return {"creator": creator}
