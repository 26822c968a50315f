"""asyncshift: move a FastAPI + SQLAlchemy service from sync sessions to async ones, safely."""

from asyncshift._version import __version__
from asyncshift.middleware import SessionScopeMiddleware, SessionScopeWSGIMiddleware
from asyncshift.registries import NoScopeError, request_scoped_session, task_scoped_session
from asyncshift.scope import ScopeClosedError, session_scope

__all__ = [
    "NoScopeError",
    "ScopeClosedError",
    "SessionScopeMiddleware",
    "SessionScopeWSGIMiddleware",
    "__version__",
    "request_scoped_session",
    "session_scope",
    "task_scoped_session",
]
