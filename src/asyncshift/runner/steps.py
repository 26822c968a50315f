"""The migration ladder's contract: steps register here, in order, by decorator.

A step is one module of ``asyncshift.codemods`` (the top-level ``codemods/`` folder) with a
name (the CLI's), a one-line summary, its position in the ladder, and a pure transform:
(source text, repository model) -> ``Transformed``. The transform never touches files; the
runner reads, checks, re-parses and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from asyncshift.model.repo import RepoFacts


@dataclass(frozen=True)
class Transformed:
    code: str
    # Places the step left alone on purpose, and why ("line 12: time.sleep in endpoint").
    reports: list[str] = field(default_factory=list)


Transform = Callable[[str, RepoFacts], Transformed]


@dataclass(frozen=True)
class Step:
    name: str
    summary: str
    position: int
    transform: Transform


STEPS: dict[str, Step] = {}


def step(name: str, summary: str, position: int) -> Callable[[Transform], Transform]:
    def register(transform: Transform) -> Transform:
        if name in STEPS:
            raise RuntimeError(f"step {name!r} registered twice")
        STEPS[name] = Step(name, summary, position, transform)
        return transform

    return register


def ladder() -> list[Step]:
    return sorted(STEPS.values(), key=lambda s: s.position)
