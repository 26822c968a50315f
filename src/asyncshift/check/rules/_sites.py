"""Shared by rules: the call sites of serving ``async def`` code, and chains through them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from asyncshift.model.records import CallFact, Frame
from asyncshift.model.repo import RepoModel


@dataclass(frozen=True)
class Site:
    frame: Frame
    call: CallFact


def serving_async_calls(path: str, frame: Frame, model: RepoModel) -> Iterator[Site]:
    """Calls that run on the server's event loop: in a serving ``async def``, not awaited (an
    awaited call is async by construction), not deferred to a thread or a lambda."""
    if not model.serving.serves_async(path, frame):
        return
    for call in frame.calls:
        if not (call.awaited or call.deferred or call.async_with):
            yield Site(frame, call)


def reached(model: RepoModel, path: str, site: Site, leaf: str) -> Iterator[list[str]]:
    """For each resolved sync function the call reaches: the chain down to ``leaf``."""
    for target in model.targets(path, site.frame, site.call.expr[1]):
        chain = model.sessions.chain(target, leaf)
        if chain:
            yield chain
