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

from asyncshift.config import Config
from asyncshift.model.collect import collect_facts
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel
from asyncshift.runner.discover import discover
from asyncshift.runner.results import read_all
from asyncshift.runner.steps import Step, StepInput, Transformed
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


def _apply_one(step: Step, path: Path, model: RepoModel, mode: Mode) -> FileOutcome:
    name = str(path)
    raw = path.read_bytes()
    source = raw.decode("utf-8")  # read_facts already refused anything else
    facts: FileFacts = model.files[name]
    try:
        result = step.transform(StepInput(name, model.module_of(name), source, facts, model))
    except Exception as error:
        return FileOutcome(name, "failed", f"the step raised {type(error).__name__}: {error}")
    reports = tuple(str(r) for r in result.reports)
    new_files = {
        target: text for target, text in result.new_files.items() if not Path(target).exists()
    }
    edited = {
        target: text
        for target, text in result.edited_files.items()
        if Path(target).is_file() and Path(target).read_text(encoding="utf-8") != text
    }
    if result.code == source and not new_files and not edited:
        return FileOutcome(name, "unchanged", reports=reports)
    for target, text in [(name, result.code), *new_files.items()]:
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            what = "the step's output" if target == name else f"the new file {target}"
            return FileOutcome(
                name, "failed", f"{what} does not parse ({error.message}); nothing was written"
            )
    diff = (
        _diff(name, source, result.code)
        + "".join(_diff(target, "", text) for target, text in new_files.items())
        + "".join(
            _diff(target, Path(target).read_text(encoding="utf-8"), text)
            for target, text in edited.items()
        )
    )
    if mode == "write":
        for target, text in edited.items():
            write_atomically(Path(target), text.encode("utf-8"))
        for target, text in new_files.items():
            write_atomically(Path(target), text.encode("utf-8"), new=True)
        if result.code != source:
            write_atomically(path, result.code.encode("utf-8"))
    return FileOutcome(name, "changed", diff=diff, reports=reports)


def _diff(name: str, before: str, after: str) -> str:
    if before == after:
        return ""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}" if before else "/dev/null",
            tofile=f"b/{name}",
        )
    )


# What forked workers inherit instead of receiving it pickled with every file: the repository
# model holds every file's facts, so sending it per file would cost O(files²), and a step's
# transform may be a closure, which never pickles.
_inherited: tuple[Step, RepoModel, Mode] | None = None


def _apply_inherited(path: Path) -> FileOutcome:
    assert _inherited is not None, "only for workers forked by apply_step"
    step, repo, mode = _inherited
    return _apply_one(step, path, repo, mode)


def apply_step(
    step: Step,
    paths: Iterable[str | Path],
    mode: Mode = "write",
    jobs: int = 1,
    config: Config | None = None,
) -> ApplyReport:
    """Run ``step`` over every file; ``jobs`` > 1 reads and transforms in that many processes.

    Parallel runs fork, so workers inherit the step and the repository model as they are;
    where fork does not exist, the run stays in one process.
    """
    global _inherited
    report = ApplyReport()
    readable: list[Path] = []
    facts = []
    config = config or Config()
    files = [f for f in discover(paths) if not config.excluded(f)]
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
    repo = RepoModel(facts, config.session_factories)
    repo.memo["twin-names"] = dict(config.twin_names)
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


def transform_sources(step: Step, sources: dict[str, str]) -> dict[str, Transformed]:
    """The pure text-in, text-out core: every file's result, nothing read or written."""
    facts = [collect_facts(path, text) for path, text in sources.items()]
    model = RepoModel(facts)
    model.memo["sources"] = dict(sources)  # steps that read other files read these, not disk
    return {
        path: step.transform(StepInput(path, model.module_of(path), text, model.files[path], model))
        for path, text in sources.items()
    }
