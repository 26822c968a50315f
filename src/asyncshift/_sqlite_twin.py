"""An in-memory SQLite database seen by both faces: the twin shares the original's connection.

A test suite's ``create_engine("sqlite://", poolclass=StaticPool)`` is one database living in
one connection. A twin that opened its own would be a second, empty database, and a row seeded
through the sync session would be invisible to the async one. So the twin's single connection
runs the original's sqlite3 connection on aiosqlite's thread; closing the twin never closes it
(the original owns it). Both faces share one connection, and with it one transaction: what one
face commits the other sees, as in the suite's single-connection database.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import Engine

_OWN = ("_asyncshift_connection",)


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


def _supports_async_creator() -> bool:
    import sqlalchemy

    major, minor, patch = (int(p) for p in sqlalchemy.__version__.split(".")[:3] if p.isdigit())
    return (major, minor, patch) >= (2, 0, 16)


def is_shared_memory_database(engine: Engine) -> bool:
    """An in-memory database held by one connection: the twin must share it. (SQLAlchemy
    before 2.0.16 has no ``async_creator``: there the twin gets a database of its own.)"""
    if not _supports_async_creator():
        return False
    url = engine.url
    memory = url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    return (
        url.get_backend_name() == "sqlite"
        and memory
        and isinstance(engine.pool, sa_pool.StaticPool | sa_pool.SingletonThreadPool)
    )


def shared_connection_settings(engine: Engine) -> dict[str, Any]:
    """``create_async_engine`` settings that lend the original's connection to the twin."""
    import aiosqlite

    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    borrowed = _Borrowed(raw)

    async def creator() -> aiosqlite.Connection:
        lent = aiosqlite.Connection(lambda: borrowed, iter_chunk_size=64)
        return await lent

    return {"async_creator": creator, "poolclass": sa_pool.StaticPool}
