from __future__ import annotations

from collections.abc import Iterator

from asyncshift.capacity import ANYIO_DEFAULT_TOKENS, LONG_POOL_TIMEOUT
from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts

DEFAULT_POOL_SIZE, DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_TIMEOUT = 5, 10, 30.0


@rule("ASH003", "pool-starves-thread-pool", "sync pool smaller than the thread pool (F2)")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    if not repo.has_asgi_app:
        return
    for engine in facts.engines:
        size = engine.pool_size if engine.pool_size is not None else DEFAULT_POOL_SIZE
        overflow = engine.max_overflow if engine.max_overflow is not None else DEFAULT_MAX_OVERFLOW
        timeout = engine.pool_timeout if engine.pool_timeout_given else DEFAULT_POOL_TIMEOUT
        capacity = size + max(overflow, 0)
        if overflow < 0 or capacity >= ANYIO_DEFAULT_TOKENS:
            continue
        if timeout is not None and timeout < LONG_POOL_TIMEOUT:
            continue
        waits = "forever (pool_timeout=None)" if timeout is None else f"{timeout:g} s"
        yield Finding(
            facts.path,
            engine.place.line,
            engine.place.col,
            "ASH003",
            f"a pool of {capacity} connections for {ANYIO_DEFAULT_TOKENS} worker threads that "
            f"waits {waits}: with sync session dependencies, {ANYIO_DEFAULT_TOKENS} + "
            f"{capacity} concurrent requests stop the server (F2). Move endpoints to the async "
            "path; meanwhile a finite pool_timeout and Depends(..., max_concurrency=N)",
        )
