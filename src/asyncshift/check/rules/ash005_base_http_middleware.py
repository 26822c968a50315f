from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._hazards import hazards
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule(
    "ASH005",
    "sessions-in-base-http-middleware",
    "BaseHTTPMiddleware that creates or closes sessions",
)
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    return hazards(facts, "ASH005")
