"""Qualified names the model recognises, whatever the file imported them as."""

from __future__ import annotations

SYNC_SESSION_CLASSES = {
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
}
SESSIONMAKERS = {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"}
SCOPED_SESSION = {"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"}
REQUEST_SCOPED = {
    "asyncshift.request_scoped_session",
    "asyncshift.registries.request_scoped_session",
}
CREATE_ENGINE = {
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlmodel.create_engine",
}
ASGI_APPS = {
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
    "fastapi.APIRouter",
}
BASE_HTTP_MIDDLEWARE = {
    "starlette.middleware.base.BaseHTTPMiddleware",
    "fastapi.middleware.base.BaseHTTPMiddleware",
}
THREAD_SCOPEFUNCS = {"threading.get_ident", "threading.current_thread", "_thread.get_ident"}

# Session methods that talk to the database (or take a connection from the pool).
SESSION_IO = {
    "query", "execute", "scalar", "scalars", "get", "commit", "flush", "refresh", "rollback",
    "connection", "merge", "exec", "get_one", "bulk_save_objects", "bulk_insert_mappings",
    "connect", "begin", "raw_connection",  # on a sync Engine: a pool checkout
}  # fmt: skip
RELEASES = {"close", "remove"}
SESSION_PARAM_NAMES = {"db", "session"}
RELATIONSHIP = {"sqlalchemy.orm.relationship", "sqlmodel.Relationship"}
EAGER_HINTS = {
    "selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager",
    "raiseload", "awaitable_attrs",
}  # fmt: skip
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route"}
RAISING_CLEANUP = {"commit", "flush"}

BLOCKING_CALLS = {
    "time.sleep": "time.sleep() blocks the event loop; use `await asyncio.sleep()`",
    "requests.get": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.post": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.put": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.patch": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.delete": "requests blocks the event loop; use httpx.AsyncClient",
    "requests.request": "requests blocks the event loop; use httpx.AsyncClient",
    "urllib.request.urlopen": "urlopen() blocks the event loop; use httpx.AsyncClient",
    "subprocess.run": "subprocess.run() blocks the event loop; use create_subprocess_exec",
    "subprocess.call": "subprocess.call() blocks the event loop; use create_subprocess_exec",
    "subprocess.check_output": (
        "subprocess.check_output() blocks the event loop; use asyncio.create_subprocess_exec"
    ),
}
