"""The migration ladder's contract: steps register here, in order, by decorator.

A step is one module of ``asyncshift.codemods`` (the top-level ``codemods/`` folder) with a
name (the CLI's), a one-line summary, its position in the ladder, and a pure transform of one
file: ``StepInput`` (the file's path, module name, text, resolved facts and the repository
model) -> ``Transformed``. The transform never touches files; the runner reads, checks,
re-parses and writes, and creates the new files a step asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel


@dataclass(frozen=True)
class StepInput:
    path: str
    module: str
    source: str
    facts: FileFacts
    model: RepoModel


@dataclass(frozen=True)
class Report:
    """A place the step left alone on purpose, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Transformed:
    code: str
    reports: list[Report | str] = field(default_factory=list)
    # New files the step asks for (path -> text), e.g. an adapter module; never overwrites one.
    new_files: dict[str, str] = field(default_factory=dict)
    # Existing files that are not Python (path -> new text), e.g. requirements.txt.
    edited_files: dict[str, str] = field(default_factory=dict)


Transform = Callable[[StepInput], Transformed]


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
