"""asyncshift: move a FastAPI + SQLAlchemy service from sync sessions to async ones, safely."""

from asyncshift._fan_out import SessionFanOutWarning
from asyncshift._version import __version__
from asyncshift.adapt import LazyLoadOutsideAdapterError, adapt
from asyncshift.capacity import PoolCapacityWarning, check_pool_capacity
from asyncshift.engines import (
    TwinSettingWarning,
    UnsupportedDriverError,
    UnsupportedSettingError,
    async_engine_from,
    async_twin,
    async_url,
)
from asyncshift.guards import BlockingCallError, BlockingCallWarning, allow_blocking, guard
from asyncshift.liveness import ping_when_idle
from asyncshift.middleware import SessionScopeMiddleware, SessionScopeWSGIMiddleware
from asyncshift.overrides import async_override
from asyncshift.registries import (
    NoScopeError,
    TaskScopedSession,
    request_scoped_session,
    task_scoped_session,
)
from asyncshift.responses import validate_in_bridge
from asyncshift.scope import ScopeClosedError, session_scope

__all__ = [
    "BlockingCallError",
    "BlockingCallWarning",
    "LazyLoadOutsideAdapterError",
    "NoScopeError",
    "PoolCapacityWarning",
    "ScopeClosedError",
    "SessionFanOutWarning",
    "SessionScopeMiddleware",
    "SessionScopeWSGIMiddleware",
    "TaskScopedSession",
    "TwinSettingWarning",
    "UnsupportedDriverError",
    "UnsupportedSettingError",
    "__version__",
    "adapt",
    "allow_blocking",
    "async_engine_from",
    "async_override",
    "async_twin",
    "async_url",
    "check_pool_capacity",
    "guard",
    "ping_when_idle",
    "request_scoped_session",
    "session_scope",
    "task_scoped_session",
    "validate_in_bridge",
]
