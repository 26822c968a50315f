"""A function's plan for steps 3 and 4 (its rewrites, imports, or why it stays), and
applying one file's plans in one libcst pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from asyncshift.model.repo import RepoModel
from asyncshift.runner.steps import Report, StepInput, Transformed

from ._async_body import Rewrite
from ._async_rewrite import rewrite_module
from ._edits import Edits


@dataclass
class Plan:
    fq: str
    path: str
    qualname: str
    line: int
    role: str  # "endpoint" | "dependency"
    rewrites: list[Rewrite] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)
    # Imports a rewrite may leave unused (the sync alias, dependency, Session class): dropped
    # only when nothing in the file still uses them.
    unused: set[tuple[str, str]] = field(default_factory=set)
    # Calls that run through adapt(): (line, byte column) as ast counts.
    adapted: set[tuple[int, int]] = field(default_factory=set)
    problem: tuple[int, str] | None = None

    def refuse(self, line: int, reason: str) -> None:
        if self.problem is None:
            self.problem = (line, reason)


def apply_plans(
    given: StepInput, planner: Callable[[RepoModel], dict[str, Plan]], make_async: bool
) -> Transformed:
    model = given.model
    sources = model.memo.setdefault("sources", {})
    assert isinstance(sources, dict)
    sources.setdefault(given.path, given.source)
    mine = sorted(
        (p for p in planner(model).values() if p.path == given.path), key=lambda p: p.line
    )
    reports: list[Report | str] = [
        Report(p.problem[0], f"{p.role} {p.qualname} left as it is: {p.problem[1]}")
        for p in mine
        if p.problem is not None
    ]
    ready = [p for p in mine if p.problem is None and p.rewrites]
    if not ready:
        return Transformed(given.source, reports)
    module = rewrite_module(
        cst.parse_module(given.source),
        [p.qualname for p in ready] if make_async else [],
        [r for p in ready for r in p.rewrites],
    )
    edits = Edits(module.code)
    for module_name, name in sorted({i for p in ready for i in p.imports}):
        edits.add_import(module_name, name)
    for module_name, name in sorted({i for p in ready for i in p.unused}):
        edits.remove_import_if_unused(module_name, name)
    return Transformed(edits.apply(), reports)
