"""validate_in_bridge(): validate an endpoint's response inside the bridge, where loads can run.

Once an endpoint is ``async def``, FastAPI validates its ``response_model`` on the event loop,
outside any greenlet. A response model that walks a relationship the endpoint never loaded
(``items: list[Item]`` on an ORM ``User``) then makes SQLAlchemy lazy-load on the async driver
from plain code, which fails (``MissingGreenlet``, or ``LazyLoadOutsideAdapterError`` once
adapt() has seen the session). The codemod rewrites ``return value`` in such endpoints into
``return await validate_in_bridge(ResponseModel, value)``: the same validation FastAPI runs
(from attributes), done inside ``greenlet_spawn`` -- the greenlet ``AsyncSession.run_sync``
uses -- so those loads run on the async driver. What the response model reads that is not
loaded yet is first loaded a level at a time, one query per relationship for all the objects
(``_preload``), not one per object. FastAPI then re-validates the pydantic instances it gets
back, which reads no ORM attribute and so does no I/O.

pydantic and Starlette are imported on first use: ``import asyncshift`` stays free of the web
stack (tests/runtime/test_bridge_import_cost.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.util import greenlet_spawn

from asyncshift._preload import preload

__all__ = ["validate_in_bridge"]

# (value) -> validated value; raises the installed pydantic's ValidationError when it fails.
Validator = Callable[[Any], Any]


async def validate_in_bridge(response_model: Any, value: Any) -> Any:
    """``value`` validated against ``response_model`` as FastAPI would, inside the bridge.

    Lazy loads and expired or deferred columns of objects from any ``AsyncSession`` run on the
    async driver while pydantic reads them; objects of a sync ``Session`` load as they always
    did. Returns the validated value (pydantic instances). Left as it is, so that FastAPI
    answers exactly as it did without this call: a ``Response`` (FastAPI does not validate
    those), a ``None`` response model, and a value that fails validation (FastAPI then raises
    its own ``ResponseValidationError`` on it).
    """
    if response_model is None or _is_response(value):
        return value
    validator = _validator(response_model)
    error = _validation_error()

    def load_and_validate(value: Any) -> Any:
        preload(response_model, value)
        return validator(value)

    try:
        return await greenlet_spawn(load_and_validate, value)
    except error:
        return value


def _is_response(value: Any) -> bool:
    from starlette.responses import Response

    return isinstance(value, Response)


def _validator(response_model: Any) -> Validator:
    try:
        hash(response_model)
    except TypeError:  # e.g. Annotated[..., <unhashable metadata>]: build it every time
        return _build_validator(response_model)
    return _cached_validator(response_model)


@functools.lru_cache(maxsize=512)  # an app has a few hundred response models at most
def _cached_validator(response_model: Any) -> Validator:
    return _build_validator(response_model)


def _build_validator(response_model: Any) -> Validator:
    try:
        from pydantic import TypeAdapter
    except ImportError:  # pydantic 1
        return _pydantic_v1_validator(response_model)
    adapter: Any = TypeAdapter(response_model)

    def validate(value: Any) -> Any:
        # What FastAPI's ModelField.validate does for a response under pydantic 2.
        return adapter.validate_python(value, from_attributes=True)

    return validate


def _pydantic_v1_validator(response_model: Any) -> Validator:
    """pydantic 1: a root model around the type, as ``parse_obj_as`` builds (and caches).

    FastAPI's response field validates the same way: a model with ``orm_mode`` is built with
    ``from_orm`` wherever it appears (nested, in lists, in dicts); without ``orm_mode`` an ORM
    object fails here and then in FastAPI, as before.
    """
    import pydantic

    name = getattr(response_model, "__name__", None) or "Response"
    root: Any = pydantic.create_model(f"Validated{name}", __root__=(response_model, ...))

    def validate(value: Any) -> Any:
        return root(__root__=value).__root__

    return validate


def _validation_error() -> type[Exception]:
    from pydantic import ValidationError

    return ValidationError
