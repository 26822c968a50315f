"""The async twin of a sync database URL or engine.

``async_url`` swaps the driver and translates the URL's query into the async driver's terms;
``async_engine_from`` also carries over what the sync engine was made with — pool class and
settings, echo, isolation level, execution options, ``hide_parameters``, JSON (de)serialisers,
reset-on-return, the liveness check and the ``connect_args`` (translated) — so the two engines
behave alike while both are in use. What cannot be carried is named in an error (anything that
touches transport security or would make the twin fail) or a ``TwinSettingWarning``; the table
is in guides/engines.md.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from asyncshift import _sqlite_twin, liveness
from asyncshift._arguments import require_engine
from asyncshift._twin_settings import (
    UnsupportedDriverError,
    UnsupportedSettingError,
    translate,
)

__all__ = [
    "TwinSettingWarning",
    "UnsupportedDriverError",
    "UnsupportedSettingError",
    "async_engine_from",
    "async_twin",
    "async_url",
]

logger = logging.getLogger("asyncshift")

# Where an engine keeps the twin async_twin() hands out: on the engine itself, so the twin lives
# exactly as long as the engine it mirrors.
_FIRST_TWIN = "_asyncshift_first_twin"
_TWIN_LOCK = threading.Lock()

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

_ASYNC_POOLS: dict[type[sa_pool.Pool], type[sa_pool.Pool]] = {
    sa_pool.QueuePool: sa_pool.AsyncAdaptedQueuePool,
    sa_pool.AsyncAdaptedQueuePool: sa_pool.AsyncAdaptedQueuePool,
    sa_pool.NullPool: sa_pool.NullPool,
    sa_pool.StaticPool: sa_pool.StaticPool,
    # One connection per thread means one in-memory database; async has no threads to key by,
    # and a single shared connection is what keeps an in-memory database one database.
    sa_pool.SingletonThreadPool: sa_pool.StaticPool,
}


class TwinSettingWarning(UserWarning):
    """A setting of the sync engine that the async twin does not have (named, with the fix)."""


def _supported() -> str:
    pairs = []
    for backend, (sync_drivers, async_driver) in _ASYNC_DRIVERS.items():
        names = ", ".join(sorted(d for d in sync_drivers if d))
        pairs.append(f"{backend} ({names}, or the default) -> {backend}+{async_driver}")
    pairs.append("postgresql+psycopg -> the same driver in async mode")
    return "; ".join(pairs)


def _twin_driver(parsed: URL) -> tuple[str, str | None, str] | None:
    """(backend, sync driver, async driver), or None when the URL is already async."""
    backend = parsed.get_backend_name()
    driver = parsed.drivername.partition("+")[2] or None
    if driver in _ALREADY_ASYNC.get(backend, set()):
        return None
    if backend == "postgresql" and driver is None and _default_driver(parsed) == "psycopg":
        return None  # SQLAlchemy 2.1's default: psycopg 3, async by itself
    known = _ASYNC_DRIVERS.get(backend)
    if known is None or driver not in known[0]:
        raise UnsupportedDriverError(
            f"no async twin for {parsed.drivername!r}. Supported: {_supported()}. "
            "Pass an async URL to create_async_engine() yourself for anything else."
        )
    return backend, driver, known[1]


def _translated_url(url: str | URL, connect_args: dict[str, Any]) -> tuple[URL, dict[str, Any]]:
    parsed = make_url(url)
    twin = _twin_driver(parsed)
    if twin is None:
        if parsed.get_backend_name() == "postgresql" and "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed, dict(connect_args)
    backend, sync_driver, async_driver = twin
    translated = translate(backend, sync_driver, async_driver, parsed.query, connect_args)
    if translated.dropped:
        warnings.warn(
            f"connect_args {sorted(translated.dropped)} of {parsed.drivername} have no "
            f"{async_driver} equivalent and were not carried over to the async twin; pass "
            "connect_args= to async_engine_from() to set what you need",
            TwinSettingWarning,
            stacklevel=3,
        )
        logger.warning(
            "asyncshift: connect_args %s of %s were not carried over to the %s twin",
            sorted(translated.dropped),
            parsed.drivername,
            async_driver,
        )
    twin_url = parsed.set(drivername=f"{backend}+{async_driver}", query=translated.query)
    return twin_url, translated.connect_args


def async_url(url: str | URL) -> URL:
    """The URL with its sync driver replaced by the async one, its query in that driver's terms.

    A query parameter the async driver takes under another name or form is translated
    (``?sslmode=require`` -> ``?ssl=require`` for asyncpg); one that only ``connect_args`` can
    carry (a number, a dict) makes this an error that points to ``async_engine_from(url)``;
    one with no equivalent is an ``UnsupportedSettingError``.
    """
    twin_url, connect_args = _translated_url(url, {})
    if connect_args:
        raise UnsupportedSettingError(
            f"the async twin of {make_url(url).render_as_string()} needs connect_args "
            f"{sorted(connect_args)} (the async driver takes them as numbers or dicts, not URL "
            "text). Use async_engine_from(url), which passes them for you."
        )
    return twin_url


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


_RESET_ON_RETURN = {
    sa_pool.base.reset_rollback: "rollback",
    sa_pool.base.reset_commit: "commit",
    sa_pool.base.reset_none: None,
}


def _engine_settings(engine: Engine) -> dict[str, Any]:
    """Behaviour settings of ``create_engine`` that live on the engine, dialect and pool."""
    dialect: Any = engine.dialect
    pool: Any = engine.pool
    settings: dict[str, Any] = {"echo": engine.echo, "hide_parameters": engine.hide_parameters}
    if pool.echo:
        settings["echo_pool"] = pool.echo
    isolation_level = getattr(dialect, "_on_connect_isolation_level", None)
    if isolation_level is not None:
        settings["isolation_level"] = isolation_level
    options = dict(engine.get_execution_options())
    if options:  # schema_translate_map, an isolation_level given as an option, ...
        settings["execution_options"] = options
    for name in ("json_serializer", "json_deserializer"):
        value = getattr(dialect, f"_{name}", None)
        if value is not None:
            settings[name] = value
    settings["pool_reset_on_return"] = _RESET_ON_RETURN.get(pool._reset_on_return, "rollback")
    if engine.logging_name:
        settings["logging_name"] = engine.logging_name
    if getattr(pool, "_orig_logging_name", None):
        settings["pool_logging_name"] = pool._orig_logging_name
    cache = engine._compiled_cache
    settings["query_cache_size"] = cache.capacity if cache is not None else 0  # type: ignore[attr-defined]
    if getattr(dialect, "_user_defined_max_identifier_length", None):
        settings["max_identifier_length"] = dialect._user_defined_max_identifier_length
    if getattr(dialect, "label_length", None):
        settings["label_length"] = dialect.label_length
    settings["insertmanyvalues_page_size"] = dialect.insertmanyvalues_page_size
    return settings


def _refuse_custom_creator(engine: Engine, overrides: dict[str, Any]) -> None:
    if "async_creator" in overrides or "creator" in overrides:
        return
    creator = getattr(engine.pool, "_creator", None)
    code = getattr(creator, "__code__", None)
    if code is not None and "cparams" not in code.co_freevars:
        raise UnsupportedSettingError(
            f"the engine for {engine.url.render_as_string()} connects through its own "
            f"creator= ({getattr(creator, '__qualname__', creator)!r}), which makes sync "
            "connections the async twin cannot use, and whose arguments (TLS included) cannot "
            "be read. Pass async_engine_from(engine, async_creator=...) with an async "
            "equivalent (SQLAlchemy >= 2.0.16), or create the async engine yourself."
        )


def _warn_listeners_not_carried(engine: Engine) -> None:
    """Event listeners are the user's code for the sync driver: named, not copied blindly."""
    found: list[str] = []
    targets = ((engine.dispatch, _ENGINE_EVENTS), (engine.pool.dispatch, _POOL_EVENTS))
    for dispatch, names in targets:
        for name in names:
            for fn in getattr(dispatch, name, ()):
                module = getattr(fn, "__module__", "") or ""
                if not module.startswith(("asyncshift", "sqlalchemy")):
                    found.append(f"{name}: {getattr(fn, '__qualname__', fn)}")
    if found:
        warnings.warn(
            f"event listeners of the sync engine are not carried over to its async twin: "
            f"{', '.join(found)}. Register the ones the twin needs on `twin.sync_engine` (a "
            "'connect' listener receives the async driver's adapted DBAPI connection there).",
            TwinSettingWarning,
            stacklevel=3,
        )


_POOL_EVENTS = ("connect", "first_connect", "checkout", "checkin", "reset", "close")
_ENGINE_EVENTS = (
    "engine_connect", "before_execute", "after_execute", "before_cursor_execute",
    "after_cursor_execute", "handle_error", "begin", "commit", "rollback",
)  # fmt: skip


def async_engine_from(engine: Engine | str | URL, **overrides: Any) -> AsyncEngine:
    """An ``AsyncEngine`` twin of a sync engine (or of a URL), with ``overrides`` on top."""
    if isinstance(engine, (str, URL)):
        url, connect_args = _translated_url(engine, overrides.pop("connect_args", {}))
        if connect_args:
            overrides["connect_args"] = connect_args
        return create_async_engine(url, **overrides)
    engine = require_engine("async_engine_from", engine)  # type: ignore[assignment]
    if isinstance(engine, AsyncEngine):
        raise TypeError(
            "async_engine_from() was given an AsyncEngine, which is already async: use it as it "
            "is (its sync face is `engine.sync_engine`)."
        )
    _refuse_custom_creator(engine, overrides)
    url, connect_args = _translated_url(engine.url, _user_connect_args(engine))
    kwargs: dict[str, Any] = {**_engine_settings(engine), **_pool_settings(engine)}
    if connect_args:
        kwargs["connect_args"] = connect_args
    _warn_listeners_not_carried(engine)
    if engine.dialect.name == "sqlite" and not {"async_creator", "creator"} & set(overrides):
        connect_args = kwargs.pop("connect_args", {})
        kwargs.update(_sqlite_twin.twin_connection_settings(engine, url, connect_args))
    kwargs.update(overrides)
    twin = create_async_engine(url, **kwargs)
    _carry_liveness(engine, twin, overrides)
    if not overrides and getattr(engine, _FIRST_TWIN, None) is None:
        setattr(engine, _FIRST_TWIN, twin)
    return twin


def async_twin(engine: Engine) -> AsyncEngine:
    """The engine's async twin, made once and then reused: the one ``async_engine_from(engine)``
    first made for it, or a new one.

    For code that reads the sync engine when it runs rather than when it is imported — a session
    dependency's twin written as ``AsyncSession(async_twin(engine))`` follows a test that swaps
    ``module.engine`` for its own, and shares one pool with the module's ``async_engine``.
    """
    checked = require_engine("async_twin", engine)
    if isinstance(checked, AsyncEngine):
        return checked
    twin = getattr(checked, _FIRST_TWIN, None)
    if twin is None:
        with _TWIN_LOCK:  # two first requests at once (threads) must not make two pools
            twin = getattr(checked, _FIRST_TWIN, None) or async_engine_from(checked)
    assert isinstance(twin, AsyncEngine)
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
