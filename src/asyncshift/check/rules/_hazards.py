"""Shared by rules: hazards the file alone settles, and findings through the call graph."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from asyncshift.check.finding import Finding
from asyncshift.model.records import CallSite, FileFacts


def hazards(facts: FileFacts, code: str) -> Iterator[Finding]:
    for hazard in facts.hazards:
        if hazard.code == code:
            yield Finding(facts.path, hazard.place.line, hazard.place.col, code, hazard.message)


def call_graph_findings(
    facts: FileFacts,
    code: str,
    chain_of: Callable[[str], list[str] | None],
    message: Callable[[CallSite, str], str],
) -> Iterator[Finding]:
    """Un-awaited calls in ``async def`` whose callee reaches, by name, what ``chain_of`` seeks."""
    for site in facts.async_call_sites:
        chain = chain_of(site.callee)
        if chain:
            text = f"{message(site, ' -> '.join(chain))} (call graph by name: check the chain)"
            yield Finding(facts.path, site.place.line, site.place.col, code, text)
