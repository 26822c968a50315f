"""adapt(): run legacy code that takes a sync ``Session`` on the event loop, unchanged.

Each call goes through ``AsyncSession.run_sync``: the legacy function receives the
``AsyncSession``'s own sync ``Session`` inside a greenlet, so its queries run on the async driver
without blocking the loop, in the same transaction and identity map as native async code of the
same request.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from sqlalchemy import event
from sqlalchemy.engine import Result
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.orm import ORMExecuteState, Query, Session, scoped_session

from asyncshift.guards import _in_sqlalchemy_greenlet

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

SESSION_PARAM_NAMES = ("session", "db")
_ADAPTED = "__asyncshift_adapted__"


class LazyLoadOutsideAdapterError(MissingGreenlet):
    """An attribute of an object loaded through adapt() was lazy-loaded outside any adapter."""


# -- which parameter is the session ---------------------------------------------------------


def _is_session_annotation(annotation: Any) -> bool:
    if isinstance(annotation, str):  # postponed annotations that could not be resolved
        return annotation.rpartition(".")[2].rstrip("]'\" ") in ("Session", "scoped_session")
    if isinstance(annotation, type):
        return issubclass(annotation, (Session, scoped_session))
    return False


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return inspect.get_annotations(fn, eval_str=True)
    except Exception:  # a name only imported under TYPE_CHECKING, say: read the text instead
        return inspect.get_annotations(fn)


def session_parameter(fn: Callable[..., Any], session_param: str | None = None) -> str:
    """The name of ``fn``'s session parameter, or a ``TypeError`` that says how to name it."""
    signature = inspect.signature(fn)
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if session_param is not None:
        if session_param not in signature.parameters:
            raise TypeError(
                f"adapt({fn.__qualname__}): it has no parameter {session_param!r} "
                f"(its parameters: {', '.join(signature.parameters)})"
            )
        return session_param
    annotations = _annotations(fn)
    for parameter in positional:
        if _is_session_annotation(annotations.get(parameter.name)):
            return parameter.name
    for parameter in positional:
        if parameter.name in SESSION_PARAM_NAMES:
            return parameter.name
    raise TypeError(
        f"adapt({fn.__qualname__}): cannot tell which parameter takes the session. adapt() "
        "looks for the first positional parameter annotated with a SQLAlchemy or SQLModel "
        f"Session, or named 'session' or 'db'; found ({', '.join(signature.parameters)}). "
        "Name it with adapt(fn, session_param='...'), or adapt only code that takes a session."
    )


# -- what may leave run_sync ----------------------------------------------------------------


def _materialise(result: Any, where: str) -> Any:
    """Results that would run their I/O after run_sync has returned are settled or refused."""
    if isinstance(result, Result):
        return result.freeze()()  # buffered rows: readable anywhere, same Result interface
    if inspect.isgenerator(result) or isinstance(result, (Iterator, Query)):
        raise TypeError(
            f"{where} returned a {type(result).__name__}, which would fetch rows after the "
            "adapter has left its greenlet (MissingGreenlet). Return a list instead "
            "(`return list(...)`, `.all()`), or keep the iteration inside the legacy code."
        )
    return result


def _explain_lazy_loads(session: Session) -> None:
    """Turn a lazy load outside any adapter into an error that names the attribute and fixes."""
    if event.contains(session, "do_orm_execute", _refuse_lazy_load_outside_greenlet):
        return
    event.listen(session, "do_orm_execute", _refuse_lazy_load_outside_greenlet)


def _refuse_lazy_load_outside_greenlet(state: ORMExecuteState) -> None:
    if _in_sqlalchemy_greenlet() or not state.is_relationship_load:
        return
    owner = state.lazy_loaded_from
    cls = owner.class_.__name__ if owner is not None else "an object"
    path = state.loader_strategy_path
    attribute = str(path[-1]).rpartition(".")[2] if path is not None and len(path) else "?"
    raise LazyLoadOutsideAdapterError(
        f"{cls}.{attribute} was not loaded and is being lazy-loaded outside any adapter, on "
        "the event loop, where the async driver cannot run it. Fixes: load it eagerly in the "
        f"legacy query (`options(selectinload({cls}.{attribute}))`), read it inside the "
        "adapted call, or give the model `AsyncAttrs` and `await obj.awaitable_attrs."
        f"{attribute}`."
    )


# -- functions ------------------------------------------------------------------------------


def _run_sync_target(async_session: Any, where: str) -> Any:
    if isinstance(async_session, (Session, scoped_session)):
        raise TypeError(
            f"{where} is adapted and takes an AsyncSession; it was given a sync "
            f"{type(async_session).__name__}. Call the original function with a sync session, "
            "or pass the request's AsyncSession."
        )
    if not hasattr(async_session, "run_sync"):
        raise TypeError(f"{where} takes an AsyncSession, not {type(async_session).__name__}")
    return async_session


def _adapt_function(fn: Callable[..., R], session_param: str | None) -> Callable[..., Awaitable[R]]:
    if getattr(fn, _ADAPTED, False):
        return fn  # type: ignore[return-value]
    if inspect.iscoroutinefunction(fn):
        raise TypeError(f"adapt({fn.__qualname__}): it is already async; call it directly")
    name = session_parameter(fn, session_param)
    signature = inspect.signature(fn)
    where = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    async def adapted(*args: Any, **kwargs: Any) -> R:
        bound = signature.bind(*args, **kwargs)
        async_session = _run_sync_target(bound.arguments[name], where)

        def call(sync_session: Session) -> R:
            _explain_lazy_loads(sync_session)
            bound.arguments[name] = sync_session
            return _materialise(fn(*bound.args, **bound.kwargs), where)  # type: ignore[no-any-return]

        return await async_session.run_sync(call)  # type: ignore[no-any-return]

    setattr(adapted, _ADAPTED, True)
    return adapted


# -- classes --------------------------------------------------------------------------------


def _public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    methods: dict[str, Callable[..., Any]] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object's own methods are not the repository's
        for attr, value in vars(klass).items():
            if attr.startswith("_"):
                continue
            if inspect.isfunction(value):
                methods[attr] = value
            else:
                methods.pop(attr, None)  # a subclass replaced it by a property, say
    return methods


def _adapt_class(cls: type[T], session_param: str | None) -> type[Any]:
    name = session_parameter(cls.__init__, session_param)
    init_signature = inspect.signature(cls.__init__)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = init_signature.bind(None, *args, **kwargs)
        async_session = _run_sync_target(bound.arguments[name], f"{cls.__qualname__}()")
        if callable(async_session) and not hasattr(async_session, "sync_session"):
            async_session = async_session()  # an async_scoped_session: this task's session
        bound.arguments[name] = async_session.sync_session
        self._async_session = async_session
        self._legacy = cls(*bound.args[1:], **bound.kwargs)

    def __getattr__(self: Any, attribute: str) -> Any:
        return getattr(self._legacy, attribute)  # properties and attributes pass through

    def make_method(attribute: str, method: Callable[..., Any]) -> Callable[..., Any]:
        where = f"{cls.__module__}.{cls.__qualname__}.{attribute}"

        @functools.wraps(method)
        async def adapted_method(self: Any, *args: Any, **kwargs: Any) -> Any:
            legacy_method = getattr(self._legacy, attribute)

            def call(sync_session: Session) -> Any:
                _explain_lazy_loads(sync_session)
                return _materialise(legacy_method(*args, **kwargs), where)

            return await self._async_session.run_sync(call)

        return adapted_method

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__getattr__": __getattr__,
        "__doc__": cls.__doc__,
        "__module__": cls.__module__,
        "__qualname__": _async_name(cls.__qualname__),
        "__wrapped__": cls,
        _ADAPTED: True,
    }
    for attribute, method in _public_methods(cls).items():
        namespace[attribute] = make_method(attribute, method)
    return type(_async_name(cls.__name__), (), namespace)


def _async_name(name: str) -> str:
    head, _, last = name.rpartition(".")
    return f"{head}.Async{last}" if head else f"Async{name}"


# -- modules --------------------------------------------------------------------------------


class AdaptedModule(types.ModuleType):
    """A module whose session-taking functions are adapted; everything else passes through."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__(module.__name__, module.__doc__)
        self.__wrapped__ = module
        self._adapted: dict[str, Any] = {}

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        cached = self._adapted.get(attribute)
        if cached is not None:
            return cached
        value = getattr(self.__wrapped__, attribute)
        if inspect.isfunction(value) and not inspect.iscoroutinefunction(value):
            try:
                value = _adapt_function(value, None)
            except TypeError:
                pass  # takes no session: not part of the data layer, pass it through
            else:
                self._adapted[attribute] = value
        return value

    def __dir__(self) -> list[str]:
        return dir(self.__wrapped__)


# -- the public entry point -----------------------------------------------------------------


@overload
def adapt(obj: types.ModuleType, *, session_param: str | None = None) -> AdaptedModule: ...
@overload
def adapt(obj: type[T], *, session_param: str | None = None) -> type[Any]: ...
@overload
def adapt(
    obj: Callable[Concatenate[Any, P], R], *, session_param: str | None = None
) -> Callable[Concatenate[Any, P], Awaitable[R]]: ...
def adapt(obj: Any, *, session_param: str | None = None) -> Any:
    """Make legacy sync-session code callable with an ``AsyncSession``.

    - a function ``f(session, *args)`` becomes ``async f(async_session, *args)``;
    - a class ``Repo(session)`` becomes ``AsyncRepo(async_session)`` whose public methods are
      coroutines (properties and class attributes pass through);
    - a module becomes a proxy whose session-taking functions are adapted.

    The session parameter is the first positional parameter annotated with a SQLAlchemy or
    SQLModel ``Session``, else the first named ``session`` or ``db``; ``session_param`` names it
    explicitly. Anything else is a ``TypeError`` now, not at call time.
    """
    if isinstance(obj, types.ModuleType):
        return AdaptedModule(obj)
    if isinstance(obj, type):
        return _adapt_class(obj, session_param)
    if callable(obj):
        return _adapt_function(obj, session_param)
    raise TypeError(f"adapt() takes a function, a class or a module, not {type(obj).__name__}")
