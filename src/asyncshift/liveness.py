"""Pre-ping that pays a round trip only when a connection has idled long enough to be dead.

``pool_pre_ping=True`` pings on *every* checkout. Legacy thread-local sessions rarely check out
(they keep one connection per thread, which is the F1 bug), so once request scoping fixes F1,
every request starts paying a ping it never paid before. A connection the pool handed out a
moment ago is as alive as one can know without asking, so ask only after it has idled for
longer than a threshold safely below the server's idle timeout.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from asyncshift._arguments import require_engine

_IDLE_SINCE = "asyncshift_idle_since"
_PING_AFTER = "asyncshift_ping_after"
# On the sync engine: the threshold it was given (read by the listeners, and by
# async_engine_from to give the twin the same check), and the twins made from it so far.
IDLE_SECONDS = "_asyncshift_ping_when_idle"
TWINS = "_asyncshift_twins"


def ping_when_idle(engine: Engine | AsyncEngine, idle_seconds: float = 30.0) -> None:
    """Replace the engine's pre-ping by one that pings only connections idle > ``idle_seconds``.

    On MySQL and MariaDB the threshold is also capped at half of each connection's own
    ``wait_timeout``, read once when the connection is made, so a server (or an
    ``init_command``) with a short timeout is handled without configuration. A connection found
    dead is replaced transparently, as with ``pool_pre_ping``. What this gives up: a connection
    killed by something other than idleness (a server restart) within the threshold fails one
    request; SQLAlchemy then invalidates the whole pool, so the next requests reconnect.

    The async twins of a sync engine get the same check, whether ``async_engine_from`` made
    them before or after this call. Calling it again changes the threshold.
    """
    engine = require_engine("ping_when_idle", engine)
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    sync_engine.pool._pre_ping = False
    already = hasattr(sync_engine, IDLE_SECONDS)
    setattr(sync_engine, IDLE_SECONDS, idle_seconds)
    for twin in list(getattr(sync_engine, TWINS, ())):  # made before this call
        ping_when_idle(twin, idle_seconds)
    if already:
        return
    is_mysql = sync_engine.dialect.name in ("mysql", "mariadb")

    # Listeners on the engine, not the pool: dispose() gives the engine a new pool.
    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        limit: float = getattr(sync_engine, IDLE_SECONDS)
        record.info[_IDLE_SINCE] = time.monotonic()
        if is_mysql:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT @@SESSION.wait_timeout")
                (wait_timeout,) = cursor.fetchone()
            finally:
                cursor.close()
            limit = min(limit, float(wait_timeout) / 2)
        record.info[_PING_AFTER] = limit

    @event.listens_for(sync_engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        limit = record.info.get(_PING_AFTER, getattr(sync_engine, IDLE_SECONDS))
        if idle_since is None or time.monotonic() - idle_since <= limit:
            return
        if not _ping(sync_engine.dialect, dbapi_connection):
            # The pool catches this, replaces the connection and checks out again.
            raise exc.DisconnectionError("the connection idled past the server's timeout")


def register_twin(engine: Engine, twin: AsyncEngine) -> None:
    """Called by async_engine_from: a later ping_when_idle(engine) reaches the twin too."""
    twins: weakref.WeakSet[Engine] | None = getattr(engine, TWINS, None)
    if twins is None:
        twins = weakref.WeakSet()
        setattr(engine, TWINS, twins)
    twins.add(twin.sync_engine)


def _ping(dialect: Dialect, dbapi_connection: Any) -> bool:
    ping_with_events = getattr(dialect, "_do_ping_w_event", None)
    if ping_with_events is not None:
        return bool(ping_with_events(dbapi_connection))
    try:  # early 2.0 releases: do_ping raises where later ones return False
        return bool(dialect.do_ping(dbapi_connection))
    except Exception as error:
        if dialect.is_disconnect(error, dbapi_connection, None):  # type: ignore[arg-type]
            return False
        raise
