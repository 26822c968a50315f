"""The F2 precondition, checked at startup: a sync pool that can starve FastAPI's thread pool.

Sync endpoints and sync dependencies each hold a worker thread (anyio's limiter: 40 tokens by
default). When more requests than the pool has connections arrive, threads wait for connections
while the requests holding connections wait for a thread to validate their response before their
dependency can release the session. With ``pool_timeout=None`` nobody ever gives up.
"""

from __future__ import annotations

import inspect
import warnings

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from asyncshift._arguments import require_engine

ANYIO_DEFAULT_TOKENS = 40
LONG_POOL_TIMEOUT = 30.0  # seconds; past this a stall looks like an outage to every client


class PoolCapacityWarning(RuntimeWarning):
    """A sync pool smaller than the thread pool, with no or a long pool timeout (F2)."""


def _thread_tokens() -> int:
    import anyio.to_thread  # here: only a startup check needs it

    try:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    except RuntimeError:  # no event loop yet: the default every loop starts with
        return ANYIO_DEFAULT_TOKENS


def fastapi_has_max_concurrency() -> bool:
    # Imported here, not at the top: `import asyncshift` must not cost a WSGI app or a queue
    # worker FastAPI, Starlette and pydantic, and this is only asked when a pool is too small.
    try:
        from fastapi import Depends
    except ImportError:  # not a FastAPI service: the thread-pool cap is the interim cure
        return False
    return "max_concurrency" in inspect.signature(Depends).parameters


def check_pool_capacity(
    engine: Engine | AsyncEngine, thread_tokens: int | None = None, *, warn: bool = True
) -> str | None:
    """Say (and warn, unless ``warn=False``) when ``engine``'s pool can deadlock FastAPI.

    Returns the message, or ``None`` when the pool is safe: an async engine, a pool without a
    size limit, enough connections for every worker thread, or a short ``pool_timeout``.
    """
    engine = require_engine("check_pool_capacity", engine)
    if isinstance(engine, AsyncEngine):
        return None
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    tokens = thread_tokens if thread_tokens is not None else _thread_tokens()
    capacity = pool.size() + max(pool._max_overflow, 0)
    timeout = pool._timeout
    if pool._max_overflow < 0 or capacity >= tokens:
        return None
    if timeout is not None and timeout < LONG_POOL_TIMEOUT:
        return None
    waits = "forever (pool_timeout=None)" if timeout is None else f"{timeout:g} s"
    interim = (
        f"limit the endpoints that use it: `Depends(get_db, max_concurrency={capacity})`"
        if fastapi_has_max_concurrency()
        else f"cap the thread pool at {capacity} tokens "
        "(anyio.to_thread.current_default_thread_limiter().total_tokens) at startup"
    )
    message = (
        f"the sync pool of {engine.url.render_as_string()} has {capacity} connections for "
        f"{tokens} worker threads and makes requests wait {waits}: at {tokens} + {capacity} "
        "concurrent requests the server stops serving (F2, the thread-pool deadlock). Cure: "
        "move its endpoints to the async path (AsyncSession, adapt()); meanwhile set a "
        f"finite pool_timeout and {interim}."
    )
    if warn:
        warnings.warn(message, PoolCapacityWarning, stacklevel=2)
    return message
