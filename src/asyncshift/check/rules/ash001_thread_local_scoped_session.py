from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH001", "thread-local-scoped-session", "thread-local scoped_session in an ASGI app (F1)")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    if not repo.has_asgi_app:
        return
    for registry in facts.scoped_registries:
        if registry.thread_local:
            yield Finding(
                facts.path,
                registry.place.line,
                registry.place.col,
                "ASH001",
                f"`{registry.name}` is a thread-local scoped_session in an ASGI app: FastAPI "
                "reuses worker threads, so sessions and their connections outlive requests "
                "('MySQL server has gone away', F1). Use request_scoped_session(...) and "
                "add SessionScopeMiddleware",
            )
