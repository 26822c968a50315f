"""adapt(): run legacy code that takes a sync ``Session`` on the event loop, unchanged.

Each call goes through ``AsyncSession.run_sync``: the legacy function receives the
``AsyncSession``'s own sync ``Session`` inside a greenlet, so its queries run on the async driver
without blocking the loop, in the same transaction and identity map as native async code of the
same request.
"""

from __future__ import annotations

import functools
import inspect
import threading
import types
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.orm import Session, scoped_session

from asyncshift._bridge_loads import LazyLoadOutsideAdapterError, explain_loads_outside_the_bridge
from asyncshift._bridge_results import DMLResult, settle

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

SESSION_PARAM_NAMES = ("session", "db")
_ADAPTED = "__asyncshift_adapted__"
_MEMO = "__asyncshift_adaptations__"

__all__ = ["DMLResult", "LazyLoadOutsideAdapterError", "adapt", "session_parameter"]


# -- naming what was given ------------------------------------------------------------------


def _qualname(fn: Any) -> str:
    """A readable name for a function, a ``functools.partial`` or a callable object."""
    if isinstance(fn, functools.partial):
        return f"functools.partial({_qualname(fn.func)})"
    name = getattr(fn, "__qualname__", None)
    if isinstance(name, str):
        return name
    return f"{type(fn).__qualname__} instance"


def _where(fn: Any) -> str:
    target = fn.func if isinstance(fn, functools.partial) else fn
    module = getattr(target, "__module__", None) or type(target).__module__
    return f"{module}.{_qualname(fn)}"


# -- which parameter is the session ---------------------------------------------------------


def _is_session_annotation(annotation: Any) -> bool:
    if isinstance(annotation, str):  # postponed annotations that could not be resolved
        return annotation.rpartition(".")[2].rstrip("]'\" ") in ("Session", "scoped_session")
    if isinstance(annotation, type):
        return issubclass(annotation, (Session, scoped_session))
    return False


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(fn, eval_str=True)
    except Exception:  # a name only imported under TYPE_CHECKING, say: read the text instead
        return inspect.signature(fn)


def session_parameter(fn: Callable[..., Any], session_param: str | None = None) -> str:
    """The name of ``fn``'s session parameter, or a ``TypeError`` that says how to name it."""
    signature = _signature(fn)
    # Positional first (the usual `f(db, ...)`), then keyword-only (`f(*, session)`).
    candidates = [
        p
        for kind in (
            (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD),
            (inspect.Parameter.KEYWORD_ONLY,),
        )
        for p in signature.parameters.values()
        if p.kind in kind
    ]
    if session_param is not None:
        if session_param not in signature.parameters:
            raise TypeError(
                f"adapt({_qualname(fn)}): it has no parameter {session_param!r} "
                f"(its parameters: {', '.join(signature.parameters) or 'none'})"
            )
        return session_param
    for parameter in candidates:
        if _is_session_annotation(parameter.annotation):
            return parameter.name
    for parameter in candidates:
        if parameter.name in SESSION_PARAM_NAMES:
            return parameter.name
    raise TypeError(
        f"adapt({_qualname(fn)}): cannot tell which parameter takes the session. adapt() "
        "looks for the first parameter annotated with a SQLAlchemy or SQLModel Session, or "
        f"named 'session' or 'db'; found ({', '.join(signature.parameters)}). Name it with "
        "adapt(fn, session_param='...'), or adapt only code that takes a session."
    )


# -- the session an adapted call was given --------------------------------------------------


def _run_sync_target(async_session: Any, where: str) -> Any:
    if isinstance(async_session, (Session, scoped_session)):
        raise TypeError(
            f"{where} is adapted and takes an AsyncSession; it was given a sync "
            f"{type(async_session).__name__}. Call the original function with a sync session, "
            "or pass the request's AsyncSession."
        )
    if callable(async_session) and not hasattr(async_session, "sync_session"):
        async_session = async_session()  # an async_scoped_session: this task's session
    if not hasattr(async_session, "run_sync"):
        raise TypeError(
            f"{where} is adapted and takes an AsyncSession (or an async_scoped_session); it "
            f"was given {type(async_session).__name__}. Pass the request's AsyncSession."
        )
    return async_session


def _bind(
    signature: inspect.Signature, name: str, where: str, args: Any, kwargs: Any
) -> inspect.BoundArguments:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        given = ", ".join([*(type(a).__name__ for a in args), *(f"{k}=" for k in kwargs)])
        raise TypeError(
            f"{where} (adapted) was called with ({given}): {error}. Call it as the original "
            f"with the AsyncSession in place of the sync session: `await f(async_session, ...)`."
        ) from None
    if name not in bound.arguments:  # the session parameter has a default, e.g. Depends(...)
        raise TypeError(
            f"{where} (adapted) was called without its session {name!r}: an adapted function "
            f"needs the request's AsyncSession there. Pass it: `await f(async_session, ...)` or "
            f"`{name}=async_session`."
        )
    return bound


# -- functions ------------------------------------------------------------------------------


def _is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        return True
    call = inspect.getattr_static(type(fn), "__call__", None)  # a callable object
    return (
        not inspect.isroutine(fn)
        and not isinstance(fn, functools.partial)
        and (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    )


def _adapt_function(
    fn: Callable[..., R], session_param: str | None, where: str | None = None
) -> Callable[..., Awaitable[R]]:
    if getattr(fn, _ADAPTED, False):
        return fn  # type: ignore[return-value]
    if _is_async_callable(fn):
        raise TypeError(f"adapt({_qualname(fn)}): it is already async; call it directly")
    name = session_parameter(fn, session_param)
    signature = _signature(fn)
    where = where or _where(fn)

    async def adapted(*args: Any, **kwargs: Any) -> R:
        bound = _bind(signature, name, where, args, kwargs)
        async_session = _run_sync_target(bound.arguments[name], where)

        def call(sync_session: Session) -> R:
            explain_loads_outside_the_bridge(sync_session)
            bound.arguments[name] = sync_session
            return settle(fn(*bound.args, **bound.kwargs), where)  # type: ignore[no-any-return]

        return await async_session.run_sync(call)  # type: ignore[no-any-return]

    if inspect.isfunction(fn):
        functools.update_wrapper(adapted, fn)
        adapted.__dict__.pop(_MEMO, None)  # copied from fn's __dict__: fn's memo, not ours
    else:  # a partial or a callable object: its own __dict__ is state, not metadata
        functools.update_wrapper(adapted, fn, updated=())
        adapted.__name__ = adapted.__qualname__ = _qualname(fn)
        adapted.__signature__ = signature  # type: ignore[attr-defined]
    setattr(adapted, _ADAPTED, True)
    return adapted


# -- classes --------------------------------------------------------------------------------

# Attributes of an adapted instance itself; everything else lives on the legacy instance.
_OWN = frozenset({"_asyncshift_session", "_asyncshift_legacy", "__wrapped__"})


class _AdaptedClass(type):
    """Class-level reads (constants, nested classes) pass through to the legacy class."""

    def __getattr__(cls, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(cls.__dict__["__wrapped__"], attribute)


def _members(cls: type) -> dict[str, Any]:
    """Public members as the class body wrote them (``staticmethod``/``classmethod`` kept)."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object's own methods are not the repository's
        for attribute, value in vars(klass).items():
            if not attribute.startswith("_"):
                members[attribute] = value
    return members


def _takes_a_session(fn: Callable[..., Any]) -> bool:
    try:
        session_parameter(fn)
    except TypeError:
        return False
    return True


def _adapt_class(cls: type[T], session_param: str | None) -> type[Any]:
    name = session_parameter(cls.__init__, session_param)
    init_signature = _signature(cls.__init__)
    qualname = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = _bind(init_signature, name, f"{qualname}()", (None, *args), kwargs)
        async_session = _run_sync_target(bound.arguments[name], f"{qualname}()")
        bound.arguments[name] = async_session.sync_session
        explain_loads_outside_the_bridge(async_session.sync_session)  # properties, attributes
        legacy = cls(*bound.args[1:], **bound.kwargs)
        object.__setattr__(self, "_asyncshift_session", async_session)
        object.__setattr__(self, "_asyncshift_legacy", legacy)
        object.__setattr__(self, "__wrapped__", legacy)  # the instance it stands for

    def __getattr__(self: Any, attribute: str) -> Any:
        try:
            return getattr(self._asyncshift_legacy, attribute)
        except MissingGreenlet as error:
            if not isinstance(inspect.getattr_static(cls, attribute, None), property):
                raise
            raise LazyLoadOutsideAdapterError(
                f"{qualname}.{attribute} is a property that queries the database; a property "
                "cannot be awaited, so adapt() cannot bridge it. Make it a method (adapted "
                "methods are coroutines), or read it inside the bridge: `await async_session."
                f"run_sync(lambda _: repo.__wrapped__.{attribute})`."
            ) from error

    def __setattr__(self: Any, attribute: str, value: Any) -> None:
        if attribute in _OWN:
            object.__setattr__(self, attribute, value)
        else:  # the legacy methods read their state from the legacy instance
            setattr(self._asyncshift_legacy, attribute, value)

    def __delattr__(self: Any, attribute: str) -> None:
        delattr(self._asyncshift_legacy, attribute)

    def __dir__(self: Any) -> list[str]:
        return sorted(set(dir(type(self))) | set(dir(self._asyncshift_legacy)))

    def make_method(attribute: str, method: Callable[..., Any]) -> Callable[..., Any]:
        where = f"{cls.__module__}.{qualname}.{attribute}"

        if _is_async_callable(method):  # already a coroutine function: await it as it is

            @functools.wraps(method)
            async def awaited(self: Any, *args: Any, **kwargs: Any) -> Any:
                return await getattr(self._asyncshift_legacy, attribute)(*args, **kwargs)

            return awaited

        @functools.wraps(method)
        async def adapted_method(self: Any, *args: Any, **kwargs: Any) -> Any:
            legacy_method = getattr(self._asyncshift_legacy, attribute)

            def call(sync_session: Session) -> Any:
                explain_loads_outside_the_bridge(sync_session)
                return settle(legacy_method(*args, **kwargs), where)

            return await self._asyncshift_session.run_sync(call)

        return adapted_method

    def adapt_static(attribute: str, fn: Callable[..., Any]) -> Any:
        """A staticmethod/classmethod that takes a session is adapted like a function."""
        if not _takes_a_session(fn):
            return None  # not the data layer: the class-level pass-through serves it
        adapted = _adapt_function(fn, None, where=f"{cls.__module__}.{qualname}.{attribute}")
        adapted.__name__, adapted.__qualname__ = attribute, f"{qualname}.{attribute}"
        adapted.__doc__ = getattr(fn, "__doc__", None)
        return staticmethod(adapted)

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__getattr__": __getattr__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__dir__": __dir__,
        "__doc__": cls.__doc__,
        "__module__": cls.__module__,
        "__qualname__": _async_name(qualname),
        "__wrapped__": cls,
        _ADAPTED: True,
    }
    for attribute, value in _members(cls).items():
        if isinstance(value, staticmethod):
            adapted = adapt_static(attribute, value.__func__)
        elif isinstance(value, classmethod):
            # Bound to the legacy class, so `cls(...)` and class attributes mean what they did.
            adapted = adapt_static(attribute, getattr(cls, attribute))
        elif inspect.isfunction(value):
            adapted = make_method(attribute, value)
        else:
            adapted = None  # properties, constants: the pass-throughs above serve them
        if adapted is not None:
            namespace[attribute] = adapted
    return _AdaptedClass(_async_name(cls.__name__), (), namespace)


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
        if inspect.isfunction(value) and not _is_async_callable(value):
            try:
                value = _memoized(value, None, _adapt_function)
            except TypeError:
                pass  # takes no session: not part of the data layer, pass it through
            else:
                self._adapted[attribute] = value
        return value

    def __dir__(self) -> list[str]:
        return dir(self.__wrapped__)


# -- memoizing: adapt(f) at the call site costs a lookup --------------------------------------

# Each function or class keeps its own adaptations in its __dict__, {session_param: adapted}.
# Not a WeakKeyDictionary: the adapted object holds the original (closure, __wrapped__), so a
# value would keep its weak key alive forever. On the object, the pair is an ordinary cycle that
# the garbage collector frees with the original (a local function, a class built in a test).
_memo_lock = threading.Lock()  # the miss path only: two threads must get the same object


def _memoized(obj: Any, session_param: str | None, build: Callable[[Any, str | None], R]) -> R:
    memo = vars(obj).get(_MEMO)  # vars(), not getattr(): a subclass has its own adaptations
    adapted = memo.get(session_param) if memo is not None else None
    # functools.wraps copies a function's __dict__, memo included, into a decorator's wrapper:
    # an entry counts only if it wraps this very object.
    if adapted is not None and getattr(adapted, "__wrapped__", None) is obj:
        return adapted  # type: ignore[no-any-return]
    built = build(obj, session_param)
    if built is obj:  # already adapted: nothing to remember
        return built
    with _memo_lock:
        memo = vars(obj).get(_MEMO)
        if memo is None or any(getattr(a, "__wrapped__", None) is not obj for a in memo.values()):
            memo = {}
            # type.__setattr__: past a metaclass's own __setattr__ (declarative, Enum)
            store = type.__setattr__ if isinstance(obj, type) else object.__setattr__
            try:
                store(obj, _MEMO, memo)
            except (AttributeError, TypeError):  # a built-in or immutable type: no memo
                return built
        return memo.setdefault(session_param, built)  # type: ignore[no-any-return]


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

    - a function ``f(session, *args)`` (or a ``functools.partial``, or a callable object)
      becomes ``async f(async_session, *args)``;
    - a class ``Repo(session)`` becomes ``AsyncRepo(async_session)`` whose public methods are
      coroutines, as are its static and class methods that take a session; ``async def``
      methods are awaited as they are; properties, class attributes and attribute writes pass
      through to the legacy instance;
    - a module becomes a proxy whose session-taking functions are adapted.

    The session parameter is the first parameter (positional, then keyword-only) annotated
    with a SQLAlchemy or SQLModel ``Session``, else the first named ``session`` or ``db``;
    ``session_param`` names it explicitly. Anything else is a ``TypeError`` now, not at call
    time.

    Functions and classes are adapted once: ``adapt(f)`` and ``adapt(Repo)`` return the same
    object every time for the same ``(obj, session_param)`` (so ``adapt(Repo) is adapt(Repo)``,
    and ``await adapt(crud.get_user)(db, id)`` at a call site costs a lookup). The adaptation is
    kept in the original's ``__dict__`` and freed with it. Partials, callable objects and
    modules are adapted anew on each call.
    """
    if isinstance(obj, types.ModuleType):
        return AdaptedModule(obj)
    if isinstance(obj, type):
        return _memoized(obj, session_param, _adapt_class)
    if inspect.isfunction(obj):
        return _memoized(obj, session_param, _adapt_function)
    if callable(obj):
        return _adapt_function(obj, session_param)
    raise TypeError(
        f"adapt() takes a function, a class or a module; it was given {type(obj).__name__} "
        f"({obj!r:.60}). Pass the legacy function, repository class or crud module itself."
    )
