"""The types the model knows, as small tuples, and what it knows of the libraries it meets.

A value's type is a frozenset of these (flow-insensitive: every value a name may hold). An empty
set means "not known", and nothing is ever concluded from it.
"""

from __future__ import annotations

from typing import Any

Type = tuple[Any, ...]
Types = frozenset[Type]
NOTHING: Types = frozenset()

SYNC, ASYNC = "sync", "async"
SYNC_SESSION: Type = ("session", SYNC)
SCOPED_SYNC_SESSION: Type = ("session", SYNC, "scoped")  # from a registry: close() keeps it bound
ASYNC_SESSION: Type = ("session", ASYNC)
SYNC_REGISTRY: Type = ("registry", SYNC)
ASYNC_REGISTRY: Type = ("registry", ASYNC)
SYNC_FACTORY: Type = ("factory", SYNC)
ASYNC_FACTORY: Type = ("factory", ASYNC)
SYNC_ENGINE: Type = ("engine", SYNC)
ASYNC_ENGINE: Type = ("engine", ASYNC)
SYNC_CONNECTION: Type = ("connection", SYNC)
ASYNC_CONNECTION: Type = ("connection", ASYNC)
APP: Type = ("app",)
ROUTER: Type = ("router",)
REQUEST: Type = ("request",)
LOOP: Type = ("loop",)
DECLARATIVE_BASE: Type = ("declbase",)
ADAPTER: Type = ("adapter",)
CONTEXT_VAR: Type = ("contextvar",)

SESSION_KINDS = {"session", "registry"}  # a registry proxies every session method


def is_session(t: Type, kind: str | None = None) -> bool:
    return t[0] in SESSION_KINDS and (kind is None or t[1] == kind)


def all_are(types: Types, predicate: Any) -> bool:
    """True only when something is known and every possibility satisfies ``predicate``."""
    return bool(types) and all(predicate(t) for t in types)


def _names(*dotted: str) -> set[str]:
    return set(dotted)


SYNC_SESSION_CLASSES = _names(
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
)
ASYNC_SESSION_CLASSES = _names(
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession",
)
SESSIONMAKERS = _names("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker")
ASYNC_SESSIONMAKERS = _names(
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker",
)
SCOPED_SESSION = _names("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session")
REQUEST_SCOPED = _names(
    "asyncshift.request_scoped_session", "asyncshift.registries.request_scoped_session"
)
ASYNC_SCOPED = _names(
    "sqlalchemy.ext.asyncio.async_scoped_session",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
    "asyncshift.task_scoped_session",
    "asyncshift.registries.task_scoped_session",
)
CREATE_ENGINE = _names(
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlmodel.create_engine",
    "sqlalchemy.engine_from_config",
)
CREATE_ASYNC_ENGINE = _names(
    "sqlalchemy.ext.asyncio.create_async_engine",
    "sqlalchemy.ext.asyncio.engine.create_async_engine",
    "asyncshift.async_engine_from",
    "asyncshift.engines.async_engine_from",
    "asyncshift.async_twin",
    "asyncshift.engines.async_twin",
)
APPS = _names("fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.applications.Starlette")
ROUTERS = _names("fastapi.APIRouter", "fastapi.routing.APIRouter")
REQUESTS = _names(
    "fastapi.Request",
    "fastapi.requests.Request",
    "starlette.requests.Request",
    "fastapi.WebSocket",
    "starlette.websockets.WebSocket",
    "starlette.requests.HTTPConnection",
)
SELECTS = _names("sqlalchemy.select", "sqlalchemy.future.select", "sqlmodel.select")
DECLARATIVE = _names(
    "sqlalchemy.orm.declarative_base",
    "sqlalchemy.ext.declarative.declarative_base",
    "sqlalchemy.orm.decl_api.declarative_base",
)
DECLARATIVE_CLASSES = _names(
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlmodel.SQLModel",
)
RELATIONSHIP = _names(
    "sqlalchemy.orm.relationship",
    "sqlalchemy.orm.relation",
    "sqlalchemy.orm.relationships.relationship",
    "sqlmodel.Relationship",
)
MAPPED = _names("sqlalchemy.orm.Mapped")
DEPENDS = _names("fastapi.Depends", "fastapi.params.Depends", "fastapi.Security")
ANNOTATED = _names("typing.Annotated", "typing_extensions.Annotated")
OPTIONAL = _names("typing.Optional", "typing.Union", "typing_extensions.Optional")
CONTAINERS = _names(
    "list", "set", "tuple", "typing.List", "typing.Sequence", "typing.Iterable", "typing.Set",
    "typing.Tuple", "collections.abc.Sequence", "collections.abc.Iterable", "typing.Iterator",
    "collections.abc.Iterator",
)  # fmt: skip
GENERATORS = _names(
    "typing.Generator", "typing.Iterator", "typing.AsyncGenerator", "typing.AsyncIterator",
    "collections.abc.Generator", "collections.abc.Iterator", "collections.abc.AsyncGenerator",
    "collections.abc.AsyncIterator", "typing.Iterable", "collections.abc.Iterable",
)  # fmt: skip
CONTEXT_MANAGERS = _names("contextlib.contextmanager", "contextlib.asynccontextmanager")
PROPERTIES = _names("property", "functools.cached_property")
ADAPT = _names("asyncshift.adapt", "asyncshift.adapt.adapt")
BASE_HTTP_MIDDLEWARE = _names(
    "starlette.middleware.base.BaseHTTPMiddleware", "fastapi.middleware.base.BaseHTTPMiddleware"
)
PYTEST_FIXTURES = _names("pytest.fixture", "pytest_asyncio.fixture", "pytest.yield_fixture")
LOOP_GETTERS = _names(
    "asyncio.get_event_loop", "asyncio.new_event_loop", "asyncio.get_running_loop"
)
THREAD_SCOPEFUNCS = _names("threading.get_ident", "threading.current_thread", "_thread.get_ident")

# Run a coroutine on an event loop of their own: "cannot be called from a running event loop".
LOOP_RUNNERS = _names("asyncio.run", "anyio.run", "trio.run", "asyncio.runners.run")
LOOP_RUNNER_METHODS = {"run_until_complete", "run_forever"}

INSTANCE_OF: dict[str, Type] = {
    **dict.fromkeys(SYNC_SESSION_CLASSES, SYNC_SESSION),
    **dict.fromkeys(ASYNC_SESSION_CLASSES, ASYNC_SESSION),
    **dict.fromkeys(SESSIONMAKERS, SYNC_FACTORY),
    **dict.fromkeys(ASYNC_SESSIONMAKERS, ASYNC_FACTORY),
    **dict.fromkeys(SCOPED_SESSION, SYNC_REGISTRY),
    **dict.fromkeys(ASYNC_SCOPED, ASYNC_REGISTRY),
    **dict.fromkeys(
        ("sqlalchemy.engine.Engine", "sqlalchemy.Engine", "sqlalchemy.engine.base.Engine"),
        SYNC_ENGINE,
    ),
    **dict.fromkeys(
        ("sqlalchemy.ext.asyncio.AsyncEngine", "sqlalchemy.ext.asyncio.engine.AsyncEngine"),
        ASYNC_ENGINE,
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.engine.Connection",
            "sqlalchemy.Connection",
            "sqlalchemy.engine.base.Connection",
        ),
        SYNC_CONNECTION,
    ),
    **dict.fromkeys(
        ("sqlalchemy.ext.asyncio.AsyncConnection", "sqlalchemy.ext.asyncio.engine.AsyncConnection"),
        ASYNC_CONNECTION,
    ),
    **dict.fromkeys(REQUESTS, REQUEST),
    **dict.fromkeys(APPS, APP),
    **dict.fromkeys(ROUTERS, ROUTER),
    "contextvars.ContextVar": CONTEXT_VAR,
}

CALL_RESULT: dict[str, Type] = {
    **dict.fromkeys(SYNC_SESSION_CLASSES, SYNC_SESSION),
    **dict.fromkeys(ASYNC_SESSION_CLASSES, ASYNC_SESSION),
    **dict.fromkeys(SESSIONMAKERS, SYNC_FACTORY),
    **dict.fromkeys(ASYNC_SESSIONMAKERS, ASYNC_FACTORY),
    **dict.fromkeys(SCOPED_SESSION | REQUEST_SCOPED, SYNC_REGISTRY),
    **dict.fromkeys(ASYNC_SCOPED, ASYNC_REGISTRY),
    **dict.fromkeys(CREATE_ENGINE, SYNC_ENGINE),
    **dict.fromkeys(CREATE_ASYNC_ENGINE, ASYNC_ENGINE),
    **dict.fromkeys(APPS, APP),
    **dict.fromkeys(ROUTERS, ROUTER),
    **dict.fromkeys(DECLARATIVE, DECLARATIVE_BASE),
    **dict.fromkeys(LOOP_GETTERS, LOOP),
    **dict.fromkeys(ADAPT, ADAPTER),
    "contextvars.ContextVar": CONTEXT_VAR,
}

# Session methods that talk to the database (or take a connection from the pool), and those
# that do not. What is in neither is not a session operation the model reasons about.
SESSION_IO = {
    "query", "execute", "scalar", "scalars", "get", "get_one", "commit", "flush", "refresh",
    "rollback", "connection", "merge", "exec", "bulk_save_objects", "bulk_insert_mappings",
    "bulk_update_mappings", "delete", "stream", "stream_scalars", "run_sync",
}  # fmt: skip
SESSION_NO_IO = {
    "add",
    "add_all",
    "expunge",
    "expunge_all",
    "expire",
    "expire_all",
    "begin",
    "begin_nested",
    "in_transaction",
    "is_modified",
    "close",
    "remove",
    "invalidate",
}
ENGINE_CHECKOUT = {"connect", "begin", "raw_connection"}
CONNECTION_IO = {"execute", "scalar", "scalars", "commit", "rollback", "exec_driver_sql"}

BLOCKING_CALLS = {
    "time.sleep": "time.sleep() blocks the event loop; use `await asyncio.sleep()`",
    "requests.get": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.post": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.put": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.patch": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.delete": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.head": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.request": "requests blocks the event loop; use httpx.AsyncClient",
    "urllib.request.urlopen": "urlopen() blocks the event loop; use httpx.AsyncClient",
    "subprocess.run": "subprocess.run() blocks the event loop; use create_subprocess_exec",
    "subprocess.call": "subprocess.call() blocks the event loop; use create_subprocess_exec",
    "subprocess.check_call": "subprocess.check_call() blocks the event loop",
    "subprocess.check_output": (
        "subprocess.check_output() blocks the event loop; use asyncio.create_subprocess_exec"
    ),
}
# Blocking too, but harmless enough on the loop that `check` does not report them; an endpoint
# that does them is still left sync by the `endpoints` step.
FILE_IO = {"open", "pathlib.Path.read_text", "pathlib.Path.write_text", "shutil.copyfile"}

ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "trace"}
LAZY_EAGER = {"selectin", "joined", "subquery", "immediate"}
LAZY_HAZARD = {None, "select", "True", True}
