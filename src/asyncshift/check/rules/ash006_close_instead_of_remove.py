from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.exprs import dotted
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel


@rule("ASH006", "close-instead-of-remove", "close() on a scoped registry where remove() is meant")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    for frame in facts.frames:
        for call in frame.calls:
            func = call.expr[1]
            if not (func[0] == "a" and func[2] == "close"):
                continue
            receivers = model.types(facts.path, frame, func[1])
            if not receivers or not all(r[0] == "registry" for r in receivers):
                continue
            name = dotted(func[1]) or "registry"
            yield Finding(
                facts.path,
                call.line,
                call.col,
                "ASH006",
                f"`{name}.close()` closes the current session but leaves it registered to the "
                f"thread, to be handed to the next request; `{name}.remove()` closes and "
                "forgets it",
            )
