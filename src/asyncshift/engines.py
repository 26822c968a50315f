"""The async twin of a sync database URL or engine.

``async_url`` swaps the driver; ``async_engine_from`` also carries over what the sync engine was
made with — pool class and settings, echo, isolation level and the ``connect_args`` the async
driver understands — so the two engines behave alike while both are in use.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from asyncshift import liveness

logger = logging.getLogger("asyncshift")

# backend -> sync drivers it replaces (None: the backend's default driver) -> async driver
_MYSQL_SYNC = {None, "pymysql", "mysqldb", "mysqlconnector", "mariadbconnector"}
_ASYNC_DRIVERS: dict[str, tuple[set[str | None], str]] = {
    "mysql": (_MYSQL_SYNC, "asyncmy"),
    "mariadb": (_MYSQL_SYNC, "asyncmy"),
    "postgresql": ({None, "psycopg2", "pg8000", "psycopg2cffi"}, "asyncpg"),
    "sqlite": ({None, "pysqlite"}, "aiosqlite"),
}
# Drivers that are already async, or serve both faces (psycopg 3 picks its async mode itself).
_ALREADY_ASYNC = {
    "mysql": {"asyncmy", "aiomysql"},
    "mariadb": {"asyncmy", "aiomysql"},
    "postgresql": {"asyncpg", "psycopg", "psycopg_async"},
    "sqlite": {"aiosqlite"},
}

# connect_args each async driver accepts; the rest is dropped with a log line.
_MYSQL_ARGS = {
    "init_command", "charset", "connect_timeout", "read_timeout", "autocommit", "sql_mode",
    "ssl", "local_infile", "max_allowed_packet", "program_name", "binary_prefix", "unix_socket",
    "read_default_file", "read_default_group", "auth_plugin_map", "server_public_key",
}  # fmt: skip
_CONNECT_ARGS: dict[str, set[str] | None] = {
    "asyncmy": _MYSQL_ARGS,
    "aiomysql": _MYSQL_ARGS,
    "asyncpg": {"timeout", "command_timeout", "server_settings", "ssl", "statement_cache_size"},
    "psycopg": None,  # the same driver: everything applies
    "aiosqlite": None,  # passed on to sqlite3.connect, as the sync driver does
}
_RENAMED_ARGS = {("asyncpg", "connect_timeout"): "timeout"}

_ASYNC_POOLS: dict[type[sa_pool.Pool], type[sa_pool.Pool]] = {
    sa_pool.QueuePool: sa_pool.AsyncAdaptedQueuePool,
    sa_pool.AsyncAdaptedQueuePool: sa_pool.AsyncAdaptedQueuePool,
    sa_pool.NullPool: sa_pool.NullPool,
    sa_pool.StaticPool: sa_pool.StaticPool,
    # One connection per thread means one in-memory database; async has no threads to key by,
    # and a single shared connection is what keeps an in-memory database one database.
    sa_pool.SingletonThreadPool: sa_pool.StaticPool,
}


class UnsupportedDriverError(ValueError):
    """The URL names a database or driver that has no async twin here."""


def _supported() -> str:
    pairs = []
    for backend, (sync_drivers, async_driver) in _ASYNC_DRIVERS.items():
        names = ", ".join(sorted(d for d in sync_drivers if d))
        pairs.append(f"{backend} ({names}, or the default) -> {backend}+{async_driver}")
    pairs.append("postgresql+psycopg -> the same driver in async mode")
    return "; ".join(pairs)


def async_url(url: str | URL) -> URL:
    """The URL with its sync driver replaced by the async one; everything else kept."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = parsed.drivername.partition("+")[2] or None
    if driver in _ALREADY_ASYNC.get(backend, set()):
        return parsed
    if backend == "postgresql" and driver is None and _default_driver(parsed) == "psycopg":
        return parsed.set(drivername="postgresql+psycopg")  # SQLAlchemy 2.1's default
    known = _ASYNC_DRIVERS.get(backend)
    if known is None or driver not in known[0]:
        raise UnsupportedDriverError(
            f"no async twin for {parsed.drivername!r}. Supported: {_supported()}. "
            "Pass an async URL to create_async_engine() yourself for anything else."
        )
    return parsed.set(drivername=f"{backend}+{known[1]}")


def _default_driver(url: URL) -> str | None:
    try:
        return str(url.get_dialect().driver)
    except Exception:  # the default driver's dialect may not import; then it is not psycopg
        return None


def _user_connect_args(engine: Engine) -> dict[str, Any]:
    """The ``connect_args`` the engine was created with (SQLAlchemy keeps no public copy).

    ``create_engine`` merges them with what the URL gives into the pool's creator; subtracting
    what the URL gives leaves what the user passed.
    """
    creator = getattr(engine.pool, "_creator", None)
    code = getattr(creator, "__code__", None)
    closure = getattr(creator, "__closure__", None)
    if code is None or closure is None or "cparams" not in code.co_freevars:
        return {}
    cparams = dict(closure[code.co_freevars.index("cparams")].cell_contents)
    _, from_url = engine.dialect.create_connect_args(engine.url)
    return {k: v for k, v in cparams.items() if k not in from_url or from_url[k] != v}


def _carried_connect_args(engine: Engine, async_driver: str) -> dict[str, Any]:
    accepted = _CONNECT_ARGS.get(async_driver)
    carried: dict[str, Any] = {}
    dropped = []
    for key, value in _user_connect_args(engine).items():
        key = _RENAMED_ARGS.get((async_driver, key), key)
        if accepted is None or key in accepted:
            carried[key] = value
        else:
            dropped.append(key)
    if dropped:
        logger.warning(
            "asyncshift: connect_args %s of %s have no %s equivalent and were not carried "
            "over; pass connect_args= to async_engine_from() to set them",
            sorted(dropped),
            engine.url.drivername,
            async_driver,
        )
    return carried


def _pool_settings(engine: Engine) -> dict[str, Any]:
    pool = engine.pool
    settings: dict[str, Any] = {
        "pool_recycle": pool._recycle,
        "pool_pre_ping": pool._pre_ping,
    }
    poolclass = _ASYNC_POOLS.get(type(pool))
    if poolclass is None:
        raise UnsupportedDriverError(
            f"no async counterpart for the pool class {type(pool).__name__}; "
            "pass poolclass= to async_engine_from()"
        )
    settings["poolclass"] = poolclass
    if isinstance(pool, sa_pool.QueuePool):
        settings["pool_size"] = pool.size()
        settings["max_overflow"] = pool._max_overflow
        settings["pool_timeout"] = pool._timeout
        settings["pool_use_lifo"] = pool._pool.use_lifo
    return settings


def async_engine_from(engine: Engine | str | URL, **overrides: Any) -> AsyncEngine:
    """An ``AsyncEngine`` twin of a sync engine (or of a URL), with ``overrides`` on top."""
    if not isinstance(engine, Engine):
        return create_async_engine(async_url(engine), **overrides)
    url = async_url(engine.url)
    async_driver = url.drivername.partition("+")[2]
    kwargs: dict[str, Any] = {"echo": engine.echo, **_pool_settings(engine)}
    if engine.pool.echo:
        kwargs["echo_pool"] = engine.pool.echo
    isolation_level = getattr(engine.dialect, "_on_connect_isolation_level", None)
    if isolation_level is not None:
        kwargs["isolation_level"] = isolation_level
    connect_args = _carried_connect_args(engine, async_driver)
    if connect_args:
        kwargs["connect_args"] = connect_args
    kwargs.update(overrides)
    twin = create_async_engine(url, **kwargs)
    _carry_liveness(engine, twin, overrides)
    return twin


def _carry_liveness(engine: Engine, twin: AsyncEngine, overrides: dict[str, Any]) -> None:
    """The twin checks liveness as the original does: F1 must not come back on the async path.

    ``ping_when_idle`` switches ``pool_pre_ping`` off in favour of its own listeners, so
    copying ``pool_pre_ping`` alone would give the twin no check at all. The twin gets the same
    idle ping, now if the original has it, later if it gets it after this call. An explicit
    ``pool_pre_ping=`` override is the caller's choice and is left alone.
    """
    if "pool_pre_ping" in overrides:
        return
    idle_seconds = getattr(engine, liveness.IDLE_SECONDS, None)
    if idle_seconds is not None:
        liveness.ping_when_idle(twin, idle_seconds)
    liveness.register_twin(engine, twin)
