from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH008", "lazy-relationship-in-async", "relationship read in async def (heuristic)")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    for function in facts.async_attribute_reads:
        reads = [f"{var}.{attr}" for var, attr in function.reads if attr in repo.relationships]
        if not reads or any(
            f.loads_eagerly for callee in function.calls for f in repo.functions.get(callee, [])
        ):
            continue  # none read, or a helper it calls may have loaded them
        yield Finding(
            facts.path,
            function.place.line,
            function.place.col,
            "ASH008",
            f"(heuristic) async def {function.function} reads {', '.join(reads)}, named like a "
            "relationship, and loads nothing eagerly: a relationship not loaded yet raises "
            "MissingGreenlet on the event loop. Load it in the query "
            "(`options(selectinload(...))`), read it inside an adapted call, or use `AsyncAttrs`",
        )
