"""Loads that run outside the bridge get an error that says what, why and how to fix it.

An object loaded through ``adapt()`` belongs to an ``AsyncSession``; reading an attribute that
is not loaded makes SQLAlchemy query on the async driver from plain code on the event loop,
which fails with a bare ``MissingGreenlet`` (and "coroutine was never awaited" warnings). The
``do_orm_execute`` hook runs before any connection is asked for, so refusing there costs
nothing, leaves the session usable, and lets the message name the attribute and its cause:
a relationship that was never loaded, a column expired by a commit, a deferred column, or any
other query run on the session's sync face outside the bridge.
"""

from __future__ import annotations

import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.orm import ORMExecuteState, Session

from asyncshift.guards import _in_sqlalchemy_greenlet


class LazyLoadOutsideAdapterError(MissingGreenlet):
    """An attribute of an object loaded through adapt() was loaded outside any adapter."""


def explain_loads_outside_the_bridge(session: Session) -> None:
    """Install the explaining hook on ``session`` (the sync face of an ``AsyncSession``)."""
    if not event.contains(session, "do_orm_execute", _refuse_outside_greenlet):
        event.listen(session, "do_orm_execute", _refuse_outside_greenlet)


def _refuse_outside_greenlet(state: ORMExecuteState) -> None:
    if _in_sqlalchemy_greenlet():
        return
    if state.is_relationship_load:
        raise LazyLoadOutsideAdapterError(_relationship_message(state))
    if state.is_column_load:
        raise LazyLoadOutsideAdapterError(_column_message(state))
    raise LazyLoadOutsideAdapterError(
        "a query ran on an AsyncSession's sync face outside any adapter, on the event loop, "
        "where the async driver cannot run it. Run it inside the bridge: through an adapted "
        "function or method, or `await async_session.run_sync(lambda session: ...)`."
    )


def _relationship_message(state: ORMExecuteState) -> str:
    owner = state.lazy_loaded_from
    cls = owner.class_.__name__ if owner is not None else "an object"
    path = state.loader_strategy_path
    attribute = str(path[-1]).rpartition(".")[2] if path is not None and len(path) else "?"
    return (
        f"{cls}.{attribute} was not loaded and is being lazy-loaded outside any adapter, on "
        "the event loop, where the async driver cannot run it. Fixes: load it eagerly in the "
        f"legacy query (`options(selectinload({cls}.{attribute}))`), read it inside the "
        "adapted call, or give the model `AsyncAttrs` and `await obj.awaitable_attrs."
        f"{attribute}`."
    )


def _column_message(state: ORMExecuteState) -> str:
    refreshed = getattr(state.load_options, "_refresh_state", None)
    cls = refreshed.class_.__name__ if refreshed is not None else "an object"
    attribute = _attribute_being_read() or "?"
    expired = refreshed is not None and (
        attribute in refreshed.expired_attributes or bool(refreshed.expired)
    )
    where = f"{cls}.{attribute}"
    if expired:
        return (
            f"{where} is being loaded outside any adapter, on the event loop, where the async "
            "driver cannot run it: it was expired (by a commit under the default "
            "expire_on_commit=True, or by expire()). Fixes: create the sessions with "
            "`async_sessionmaker(engine, expire_on_commit=False)`, `await session.refresh(obj)` "
            "before reading it, or read it inside the adapted call."
        )
    return (
        f"{where} is being loaded outside any adapter, on the event loop, where the async "
        "driver cannot run it: it is a deferred column (defer()/deferred()) that was not "
        f"loaded. Fixes: load it in the legacy query (`options(undefer({cls}.{attribute}))`), "
        f"`await session.refresh(obj, ['{attribute}'])`, read it inside the adapted call, or "
        f"give the model `AsyncAttrs` and `await obj.awaitable_attrs.{attribute}`."
    )


def _attribute_being_read() -> str | None:
    """The attribute whose read triggered this load: the key of SQLAlchemy's attribute getter.

    The ORM does not pass it to the hook; the getter (``AttributeImpl.get``) is on the stack.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "get" and frame.f_globals.get("__name__") == (
            "sqlalchemy.orm.attributes"
        ):
            key: Any = getattr(frame.f_locals.get("self"), "key", None)
            return key if isinstance(key, str) else None
        frame = frame.f_back  # type: ignore[assignment]
    return None
