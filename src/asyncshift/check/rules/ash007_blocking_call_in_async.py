from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._hazards import call_graph_findings, hazards
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH007", "blocking-call-in-async", "blocking call inside async def")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    yield from hazards(facts, "ASH007")
    yield from call_graph_findings(
        facts,
        "ASH007",
        repo.blocking_chain,
        lambda site, chain: (
            f"`{site.callee}()` blocks ({chain}) inside async def "
            f"{site.function}: every request waits for it. Move it to a thread "
            "(`await anyio.to_thread.run_sync(...)`) or to async I/O"
        ),
    )
