"""Functions that take an engine say so at once, naming what they were given and the fix.

``guard(SessionLocal)`` or ``ping_when_idle(settings.DATABASE_URL)`` used to fail deep inside
(``AttributeError: pool``), sometimes after half the work was done. Every public function that
takes an engine checks its argument here first, before it changes anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"a str ({value!r:.80})"
    return f"a {type(value).__name__}"


def _fix(function: str, value: Any) -> str:
    name = type(value).__name__
    if name in ("sessionmaker", "async_sessionmaker"):
        return f"pass the engine it is bound to: `{function}(SessionLocal.kw['bind'])`"
    if name in ("scoped_session", "async_scoped_session"):
        return f"pass its factory's engine: `{function}(registry.session_factory.kw['bind'])`"
    if name in ("Session", "AsyncSession"):
        return f"pass its engine: `{function}(session.get_bind())`"
    if isinstance(value, (Connection, AsyncConnection)):
        return f"pass its engine: `{function}(connection.engine)`"
    if isinstance(value, str):
        return f"pass the engine made from it: `engine = create_engine(url); {function}(engine)`"
    if value is None:
        return f"create the engine first (`create_engine(...)`), then call `{function}(engine)`"
    return f"pass the Engine your sessions are bound to: `{function}(engine)`"


def require_engine(function: str, value: Any) -> Engine | AsyncEngine:
    """``value`` if it is a sync ``Engine`` or an ``AsyncEngine``; else a ``TypeError``."""
    if isinstance(value, (Engine, AsyncEngine)):
        return value
    raise TypeError(
        f"{function}() takes a SQLAlchemy Engine or AsyncEngine; it was given "
        f"{_describe(value)}. Fix: {_fix(function, value)}."
    )
