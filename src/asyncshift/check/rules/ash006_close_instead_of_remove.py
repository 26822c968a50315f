from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts


@rule("ASH006", "close-instead-of-remove", "close() on a scoped registry where remove() is meant")
def check(facts: FileFacts, repo: RepoFacts) -> Iterator[Finding]:
    for place, name in facts.registry_closes:
        if name in repo.scoped_registry_names:
            yield Finding(
                facts.path,
                place.line,
                place.col,
                "ASH006",
                f"`{name}.close()` closes the current session but leaves it registered to the "
                f"thread, to be handed to the next request; `{name}.remove()` closes and "
                "forgets it",
            )
