"""asyncshift: move a FastAPI + SQLAlchemy service from sync sessions to async ones, safely."""

from asyncshift._version import __version__
from asyncshift.liveness import ping_when_idle
from asyncshift.middleware import SessionScopeMiddleware, SessionScopeWSGIMiddleware
from asyncshift.registries import NoScopeError, request_scoped_session, task_scoped_session
from asyncshift.scope import ScopeClosedError, session_scope

__all__ = [
    "NoScopeError",
    "ScopeClosedError",
    "SessionScopeMiddleware",
    "SessionScopeWSGIMiddleware",
    "__version__",
    "ping_when_idle",
    "request_scoped_session",
    "session_scope",
    "task_scoped_session",
]
