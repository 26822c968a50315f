"""Rules whose findings the file alone settles: they pass on the collector's hazards."""

from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.model.records import FileFacts


def hazards(facts: FileFacts, code: str) -> Iterator[Finding]:
    for hazard in facts.hazards:
        if hazard.code == code:
            yield Finding(facts.path, hazard.place.line, hazard.place.col, code, hazard.message)
