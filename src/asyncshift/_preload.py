"""Load, a level at a time, what a response model is about to read: one query per relationship
and level instead of one per object.

validate_in_bridge() validates a response from attributes, as FastAPI does; a list of users
whose ``items`` (and their ``tags``) were never loaded then lazy-loads them one object at a
time: 1 + N + N x M round trips. Before validating, this reads the response model the way
pydantic will — which fields, under which names, holding which nested models — and, for every
field that is a not-yet-loaded ``lazy="select"`` relationship on two or more objects of one
session, loads it for all of them at once: over a plain foreign key, the related rows selected
by that key in one query and handed to each object as its loaded value; otherwise the objects
selected again by primary key with ``selectinload`` (objects already in the session keep every
attribute they have, only the unloaded relationship is filled in). The data is what the lazy
loads would have read; only the number of queries changes. Anything this cannot tell — a
composite key, objects of several sessions, a relationship that loads another way — is left
to the lazy loads, as before.

Runs inside the bridge's greenlet, so the queries go through the async driver.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import MANYTOONE, ONETOMANY, object_session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression

MAX_DEPTH = 4  # response models nest a few levels; a cycle (user -> items -> owner) stops here


def preload(response_model: Any, value: Any) -> None:
    """Batch-load the unloaded relationships ``response_model`` reads from ``value``."""
    _load_level(_members(value), _nested_model(response_model), 0)


def _load_level(objects: list[Any], model: Any, depth: int) -> None:
    if depth > MAX_DEPTH or model is None or not objects:
        return
    fields = _fields(model)
    if not fields:
        return
    by_class: dict[type[Any], list[Any]] = {}
    for obj in objects:
        by_class.setdefault(type(obj), []).append(obj)
    for cls, group in by_class.items():
        mapper = inspect(cls, raiseerr=False)
        if mapper is None or not hasattr(mapper, "relationships"):
            continue
        for attribute, nested in fields:
            relationship = mapper.relationships.get(attribute)
            if relationship is None:
                continue
            if relationship.lazy == "select":
                _load_together(cls, mapper, group, attribute)
            if nested is not None and relationship.lazy in ("select", "joined", "selectin"):
                _load_level(_children(group, attribute), nested, depth + 1)


def _load_together(cls: type[Any], mapper: Any, group: list[Any], attribute: str) -> None:
    unloaded = [o for o in group if attribute in inspect(o).unloaded and inspect(o).persistent]
    if len(unloaded) < 2:
        return  # one object: its own lazy load is the same single query
    session = object_session(unloaded[0])
    if session is None or any(object_session(o) is not session for o in unloaded):
        return
    relationship = mapper.relationships[attribute]
    if _load_related_directly(session, relationship, unloaded, attribute):
        return
    if len(mapper.primary_key) != 1:
        return
    key = mapper.primary_key[0]
    ids = [inspect(o).identity[0] for o in unloaded]
    statement = select(cls).where(key.in_(ids)).options(selectinload(getattr(cls, attribute)))
    session.execute(statement).scalars().all()


def _load_related_directly(
    session: Any, relationship: Any, owners: list[Any], attribute: str
) -> bool:
    """A plain foreign key (``items.owner_id = users.id``, either way round): the related
    rows are selected by that key in one query and handed to each owner as its loaded value,
    as the lazy load would have; False when the relationship is anything else."""
    join = relationship.primaryjoin
    if (
        relationship.secondary is not None
        or len(relationship.local_remote_pairs) != 1
        or not isinstance(join, BinaryExpression)
        or join.operator is not operators.eq
        or relationship.collection_class not in (None, list)
        or relationship.direction not in (ONETOMANY, MANYTOONE)
    ):
        return False
    local, remote = relationship.local_remote_pairs[0]
    try:
        owner_key = relationship.parent.get_property_by_column(local).key
        related_key = relationship.mapper.get_property_by_column(remote).key
    except UnmappedColumnError:
        return False  # a join over a column no attribute holds: selectinload knows how
    values = {getattr(owner, owner_key) for owner in owners} - {None}
    statement = select(relationship.mapper).where(remote.in_(values))
    if relationship.order_by:
        statement = statement.order_by(*relationship.order_by)
    found: dict[Any, list[Any]] = {}
    for related in session.execute(statement).scalars().all():
        found.setdefault(getattr(related, related_key), []).append(related)
    for owner in owners:
        rows = found.get(getattr(owner, owner_key), [])
        if relationship.uselist:
            set_committed_value(owner, attribute, rows)
        else:
            set_committed_value(owner, attribute, rows[0] if rows else None)
    return True


def _children(group: list[Any], attribute: str) -> list[Any]:
    found: list[Any] = []
    for obj in group:
        value = getattr(obj, attribute)  # loaded now, or lazy-loaded here as it would have been
        found.extend(_members(value))
    return found


def _members(value: Any) -> list[Any]:
    # Containers that can be read twice only: a generator read here would reach pydantic empty.
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if _is_mapped_object(v)]
    return [value] if _is_mapped_object(value) else []


def _is_mapped_object(value: Any) -> bool:
    return not isinstance(value, type) and inspect(value, raiseerr=False) is not None


# -- what a response model reads ----------------------------------------------------------------


@functools.lru_cache(maxsize=512)  # read once per response model, not once per response
def _fields(model: Any) -> tuple[tuple[str, Any], ...]:
    """(attribute pydantic reads, nested model of that field or None) for a pydantic model."""
    return tuple(_read_fields(model))


def _read_fields(model: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    v2_fields = getattr(model, "model_fields", None)
    if isinstance(v2_fields, dict):
        for name, info in v2_fields.items():
            alias = info.validation_alias if isinstance(info.validation_alias, str) else None
            found.append((alias or info.alias or name, _nested_model(info.annotation)))
        return found
    v1_fields = getattr(model, "__fields__", None)
    if isinstance(v1_fields, dict):
        for field in v1_fields.values():
            found.append((field.alias, _nested_model(field.outer_type_)))
    return found


def _nested_model(annotation: Any) -> Any:
    """The pydantic model inside ``list[User]``, ``Optional[User]``, ``User | None``..."""
    if _is_model(annotation):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _nested_model(arguments[0])
    union = origin in (typing.Union, types.UnionType)
    container = isinstance(origin, type) and issubclass(origin, Iterable) and origin is not dict
    if union or container:
        return next((m for m in map(_nested_model, arguments) if m is not None), None)
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and (
        hasattr(annotation, "model_fields") or hasattr(annotation, "__fields__")
    )
