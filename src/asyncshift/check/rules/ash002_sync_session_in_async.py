from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._hazards import call_graph_findings
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH002", "sync-session-in-async", "sync session I/O inside async def (F4)")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    for call in facts.session_calls:
        known = repo.sync_factories | repo.session_aliases
        if call.factory is not None and call.factory not in known:
            continue  # not a session this repository makes synchronously
        yield Finding(
            facts.path,
            call.place.line,
            call.place.col,
            "ASH002",
            f"`{call.receiver}.{call.method}()` is sync database I/O inside async def "
            f"{call.function}: it blocks the event loop, and freezes the server once the pool "
            "is exhausted (F4). Use an AsyncSession, or `await adapt(fn)(async_session, ...)` "
            "for legacy code, or make the endpoint `def`",
        )
    yield from call_graph_findings(
        facts,
        "ASH002",
        repo.session_io_chain,
        lambda site, chain: (
            f"`{site.callee}()` does sync database I/O ({chain}) inside async "
            f"def {site.function}: it blocks the event loop (F4). Call it through "
            f"`await adapt({site.callee})(async_session, ...)`, or make the endpoint `def`"
        ),
    )
