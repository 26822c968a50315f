"""One module per rule; importing this package registers them all."""

from asyncshift.check.rules import (
    ash001_thread_local_scoped_session,
    ash002_sync_session_in_async,
    ash003_pool_capacity,
    ash004_raising_cleanup,
    ash005_base_http_middleware,
    ash006_close_instead_of_remove,
    ash007_blocking_call_in_async,
    ash008_lazy_relationship_in_async,
    ash009_event_loop_in_sync_path,
)

__all__ = [
    "ash001_thread_local_scoped_session",
    "ash002_sync_session_in_async",
    "ash003_pool_capacity",
    "ash004_raising_cleanup",
    "ash005_base_http_middleware",
    "ash006_close_instead_of_remove",
    "ash007_blocking_call_in_async",
    "ash008_lazy_relationship_in_async",
    "ash009_event_loop_in_sync_path",
]
