from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._hazards import hazards
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH007", "blocking-call-in-async", "blocking call inside async def")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    yield from hazards(facts, "ASH007")
    for site in facts.async_call_sites:
        chain = repo.blocking_chain(site.callee)
        if chain:
            yield Finding(
                facts.path,
                site.place.line,
                site.place.col,
                "ASH007",
                f"`{site.callee}()` blocks ({' -> '.join(chain)}) inside async def "
                f"{site.function}: every request waits for it. Move it to a thread "
                "(`await anyio.to_thread.run_sync(...)`) or to async I/O "
                "(call graph by name: check the chain)",
            )
