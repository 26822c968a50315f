from __future__ import annotations

from collections.abc import Iterator

from asyncshift.capacity import ANYIO_DEFAULT_TOKENS, LONG_POOL_TIMEOUT
from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model import types as t
from asyncshift.model.exprs import call_arg
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel

DEFAULT_POOL_SIZE, DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_TIMEOUT = 5, 10, 30.0
_MISSING = object()


def _literal(expr: tuple[object, ...] | None) -> object:
    """A literal number, None for ``None``, _MISSING for anything else or nothing."""
    if expr is None:
        return _MISSING
    if expr[0] == "num":
        return expr[1]
    if expr[0] == "none" or expr == ("n", "None"):
        return None
    return _MISSING


@rule("ASH003", "pool-starves-thread-pool", "sync pool smaller than the thread pool (F2)")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    if not model.routes.has_app or model.serving.is_test(facts.path):
        return
    for frame in facts.frames:
        for call in frame.calls:
            if not model.external_names(facts.path, frame, call.expr[1]) & t.CREATE_ENGINE:
                continue
            values = {
                key: _literal(call_arg(call.expr, 99, key))
                for key in ("pool_size", "max_overflow", "pool_timeout")
            }
            if all(v is _MISSING for v in values.values()):
                continue  # untuned: shares the risk, but with a 30 s timeout it recovers
            if values["pool_size"] is None or values["max_overflow"] is None:
                continue
            size = values["pool_size"] if values["pool_size"] is not _MISSING else DEFAULT_POOL_SIZE
            overflow = (
                values["max_overflow"]
                if values["max_overflow"] is not _MISSING
                else DEFAULT_MAX_OVERFLOW
            )
            timeout = (
                values["pool_timeout"]
                if values["pool_timeout"] is not _MISSING
                else DEFAULT_POOL_TIMEOUT
            )
            assert isinstance(size, int | float) and isinstance(overflow, int | float)
            capacity = int(size) + max(int(overflow), 0)
            if overflow < 0 or capacity >= ANYIO_DEFAULT_TOKENS:
                continue
            if timeout is not None and float(timeout) < LONG_POOL_TIMEOUT:  # type: ignore[arg-type]
                continue
            waits = "forever (pool_timeout=None)" if timeout is None else f"{timeout:g} s"
            yield Finding(
                facts.path,
                call.line,
                call.col,
                "ASH003",
                f"a pool of {capacity} connections for {ANYIO_DEFAULT_TOKENS} worker threads "
                f"that waits {waits}: with sync session dependencies, {ANYIO_DEFAULT_TOKENS} + "
                f"{capacity} concurrent requests stop the server (F2). Move endpoints to the "
                "async path; meanwhile a finite pool_timeout and Depends(..., max_concurrency=N)",
            )
