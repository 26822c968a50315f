"""Fan-out made visible: a scope that holds more sessions at once than its pool can give.

One session per task (and per worker thread at work at the same time) is the contract, so a
request that gathers k children holds 1 + k connections at once. Past the pool's size, the
request waits for itself; below it, enough such requests at once take every connection while
each waits for one more (hold and wait), and all fail after ``pool_timeout``. Both are told
once per registry, with the numbers and the fixes.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from sqlalchemy.pool import Pool


class SessionFanOutWarning(RuntimeWarning):
    """One scope holds several sessions of one registry at once, more than its pool can serve."""


_FIXES = (
    "Fixes: let child tasks that do not query at the same time share the parent's session "
    "(`with registry.share_with_children(): await asyncio.gather(...)`); or bound the fan-out "
    "(an asyncio.Semaphore around the children's queries); or size the pool for it "
    "(pool_size + max_overflow >= concurrent requests x sessions per request). See "
    "guides/scoping.md, 'Fan-out'."
)


def _pool_of(factory: object) -> Pool | None:
    bind = getattr(factory, "kw", {}).get("bind")
    if isinstance(bind, AsyncEngine):
        bind = bind.sync_engine
    return bind.pool if isinstance(bind, Engine) else None


def pool_capacity(factory: object) -> tuple[int, str] | None:
    """How many connections the factory's pool can give at once, and how that was reckoned."""
    pool = _pool_of(factory)
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", None)
    if pool is None or not callable(size) or not isinstance(overflow, int) or overflow < 0:
        return None  # no bound engine, or a pool without a limit (NullPool, overflow=-1)
    capacity = int(size()) + overflow
    return capacity, f"pool_size={size()} + max_overflow={overflow}"


class FanOutWatch:
    """Per registry: warns once when a scope's sessions outgrow the pool (see module doc)."""

    __slots__ = ("_warned",)

    def __init__(self) -> None:
        self._warned = False

    def check(self, factory: object, in_scope: int, in_all_scopes: int, label: str) -> None:
        if self._warned or in_scope < 2:
            return
        reckoned = pool_capacity(factory)
        if reckoned is None:
            return
        capacity, how = reckoned
        if in_scope > capacity:
            self._warned = True
            warnings.warn(
                SessionFanOutWarning(
                    f"asyncshift: the scope of {label!r} holds {in_scope} sessions of one "
                    f"registry at once (one per task, or per worker thread at work at the same "
                    f"time), but its pool gives at most {capacity} connections ({how}): the "
                    f"request's own tasks wait for each other's connections, and when they hold "
                    f"them until all are done, the request waits for itself and fails after "
                    f"pool_timeout. {_FIXES}"
                ),
                stacklevel=5,
            )
        elif in_all_scopes > capacity:
            self._warned = True
            warnings.warn(
                SessionFanOutWarning(
                    f"asyncshift: the scope of {label!r} opens its session number {in_scope} "
                    f"of one registry while {in_all_scopes} sessions of it are open in all "
                    f"scopes, and the pool gives at most {capacity} connections ({how}): "
                    f"requests that hold one connection while they wait for the next can take "
                    f"every connection and then all fail after pool_timeout. {_FIXES}"
                ),
                stacklevel=5,
            )
