"""apply: run one ladder step over a repository; typed per-file outcomes, nothing half-written."""

from __future__ import annotations

import difflib
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import libcst as cst

from asyncshift.model.repo import RepoFacts
from asyncshift.runner.discover import discover
from asyncshift.runner.results import read_all
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


# What forked workers inherit instead of receiving it pickled with every file: the repository
# model holds every file's facts, so sending it per file would cost O(files²), and a step's
# transform may be a closure, which never pickles.
_inherited: tuple[Step, RepoFacts, Mode] | None = None


def _apply_inherited(path: Path) -> FileOutcome:
    assert _inherited is not None, "only for workers forked by apply_step"
    step, repo, mode = _inherited
    return _apply_one(step, path, repo, mode)


def apply_step(
    step: Step, paths: Iterable[str | Path], mode: Mode = "write", jobs: int = 1
) -> ApplyReport:
    """Run ``step`` over every file; ``jobs`` > 1 reads and transforms in that many processes.

    Parallel runs fork, so workers inherit the step and the repository model as they are;
    where fork does not exist, the run stays in one process.
    """
    global _inherited
    report = ApplyReport()
    readable: list[Path] = []
    facts = []
    files = discover(paths)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    jobs = jobs if forkable else 1
    for result in read_all(files, jobs):
        path = Path(result.path)
        if result.facts is None:
            status: Literal["skipped", "failed"] = (
                "failed" if result.status == "failed" else "skipped"
            )
            report.outcomes.append(FileOutcome(result.path, status, result.reason))
        else:
            readable.append(path)
            facts.append(result.facts)
    repo = RepoFacts.merge(facts)
    if jobs <= 1 or len(readable) < 2 * jobs:
        for path in readable:
            report.outcomes.append(_apply_one(step, path, repo, mode))
        return report
    _inherited = (step, repo, mode)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            report.outcomes.extend(pool.map(_apply_inherited, readable, chunksize=16))
    finally:
        _inherited = None
    return report
