"""apply: run one ladder step over a repository; typed per-file outcomes, nothing half-written."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import libcst as cst

from asyncshift.model.repo import RepoFacts
from asyncshift.runner.discover import discover
from asyncshift.runner.results import read_facts
from asyncshift.runner.steps import Step
from asyncshift.runner.writes import write_atomically

Mode = Literal["write", "diff", "check"]


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: Literal["changed", "unchanged", "skipped", "failed"]
    reason: str = ""
    diff: str = ""
    reports: tuple[str, ...] = ()


@dataclass
class ApplyReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def _apply_one(step: Step, path: Path, repo: RepoFacts, mode: Mode) -> FileOutcome:
    name = str(path)
    raw = path.read_bytes()
    source = raw.decode("utf-8")  # read_facts already refused anything else
    try:
        result = step.transform(source, repo)
    except Exception as error:
        return FileOutcome(name, "failed", f"the step raised {type(error).__name__}: {error}")
    reports = tuple(result.reports)
    if result.code == source:
        return FileOutcome(name, "unchanged", reports=reports)
    try:
        cst.parse_module(result.code)
    except cst.ParserSyntaxError as error:
        return FileOutcome(
            name, "failed", f"the step's output does not parse ({error.message}); left as it was"
        )
    diff = "".join(
        difflib.unified_diff(
            source.splitlines(keepends=True),
            result.code.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
    if mode == "write":
        write_atomically(path, result.code.encode("utf-8"))
    return FileOutcome(name, "changed", diff=diff, reports=reports)


def apply_step(step: Step, paths: Iterable[str | Path], mode: Mode = "write") -> ApplyReport:
    report = ApplyReport()
    readable: list[Path] = []
    facts = []
    for path in discover(paths):
        result = read_facts(path)
        if result.facts is None:
            status: Literal["skipped", "failed"] = (
                "failed" if result.status == "failed" else "skipped"
            )
            report.outcomes.append(FileOutcome(result.path, status, result.reason))
        else:
            readable.append(path)
            facts.append(result.facts)
    repo = RepoFacts.merge(facts)
    for path in readable:
        report.outcomes.append(_apply_one(step, path, repo, mode))
    return report
