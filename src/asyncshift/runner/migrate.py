"""migrate: the ladder, run safely. Each step, then the project's own tests; the first step
that leaves them red is undone, file by file, and the run stops there.

Where a repository stands is read from its code, not from a state file: every step is
idempotent, so a step already taken (by an earlier run or by hand) changes nothing and is shown
as done. With ``commit``, each green step becomes a commit of its own, ready to ship alone.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asyncshift.config import Config
from asyncshift.runner.apply import ApplyReport, apply_step
from asyncshift.runner.discover import discover
from asyncshift.runner.steps import Step

TEST_OUTPUT_LINES = 25


class MigrateError(RuntimeError):
    """Usage errors: an unknown step, a dirty work tree for --commit."""


@dataclass
class StepRun:
    step: str
    summary: str
    changed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    tests: str = "not run"  # "passed" | "failed" | "not run" | "no change"
    test_output: str = ""
    failed_files: list[str] = field(default_factory=list)
    endpoints: str = ""  # "3/7 async"
    findings: int = 0
    commit: str = ""


@dataclass
class MigrateResult:
    runs: list[StepRun] = field(default_factory=list)
    stopped_at: str | None = None

    @property
    def green(self) -> bool:
        return self.stopped_at is None


DEPENDENCY_FILES = ("requirements*.txt", "pyproject.toml")


def _snapshot(paths: Sequence[str | Path]) -> dict[Path, bytes]:
    """Every Python file, and the dependency files a step may edit."""
    found = {path: path.read_bytes() for path in discover(paths)}
    for root in map(Path, paths):
        if root.is_dir():
            for pattern in DEPENDENCY_FILES:
                for path in root.rglob(pattern):
                    if ".venv" not in path.parts and "node_modules" not in path.parts:
                        found[path] = path.read_bytes()
    return found


def _restore(before: dict[Path, bytes], run: StepRun) -> None:
    for name in run.changed:
        path = Path(name)
        if path in before:
            path.write_bytes(before[path])
    for name in run.created:
        Path(name).unlink(missing_ok=True)


def _run_tests(command: str, cwd: Path) -> tuple[bool, str]:
    done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, check=False)
    output = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, "\n".join(output[-TEST_OUTPUT_LINES:])


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _commit_message(run: StepRun) -> str:
    lines = [f"asyncshift: {run.step} — {run.summary}", ""]
    lines.append(f"Changed {len(run.changed)} file(s), created {len(run.created)}:")
    lines += [f"  {name}" for name in [*run.changed, *run.created]]
    if run.left_alone:
        lines += ["", "Left alone, and why:"]
        lines += [f"  {line}" for line in run.left_alone]
    lines += ["", f"Tests after this step: {run.tests}."]
    return "\n".join(lines) + "\n"


def migrate(
    steps: Sequence[Step],
    paths: Sequence[str | Path],
    test: str | None = None,
    commit: bool = False,
    jobs: int = 1,
    cwd: Path | None = None,
    measure: Callable[[StepRun], None] | None = None,
    progress: Callable[[StepRun], None] | None = None,
    config: Config | None = None,
) -> MigrateResult:
    """Apply ``steps`` in order; stop at (and undo) the first that breaks ``test``."""
    cwd = cwd or Path.cwd()
    if commit:
        if _git(cwd, "rev-parse", "--is-inside-work-tree").returncode != 0:
            raise MigrateError("--commit needs a git work tree; run it inside your repository")
        dirty = _git(cwd, "status", "--porcelain", "--", *map(str, paths)).stdout.strip()
        if dirty:
            raise MigrateError(
                "--commit needs a clean work tree (each step becomes a commit of its own); "
                f"commit or stash first:\n{dirty}"
            )
    result = MigrateResult()
    for step in steps:
        run = StepRun(step.name, step.summary)
        result.runs.append(run)
        before = _snapshot(paths)
        report: ApplyReport = apply_step(step, paths, "write", jobs=jobs, config=config)
        run.failed_files = [
            f"{o.path}: {o.reason}" for o in report.outcomes if o.status == "failed"
        ]
        run.left_alone = [f"{o.path}: {r}" for o in report.outcomes for r in o.reports]
        run.created = [str(p) for p in discover(paths) if p not in before]
        # Every file that differs from the snapshot: Python files and edited dependency files.
        run.changed = [str(p) for p, data in before.items() if p.read_bytes() != data]
        if run.failed_files:
            _restore(before, run)
            run.tests = "not run"
            result.stopped_at = step.name
            break
        if not run.changed and not run.created:
            run.tests = "no change"
        elif test:
            passed, run.test_output = _run_tests(test, cwd)
            run.tests = "passed" if passed else "failed"
            if not passed:
                _restore(before, run)
                result.stopped_at = step.name
                if progress:
                    progress(run)
                break
        if measure:
            measure(run)
        if commit and (run.changed or run.created):
            _git(cwd, "add", "--", *run.changed, *run.created)
            committed = _git(cwd, "commit", "-q", "-m", _commit_message(run))
            if committed.returncode != 0:
                raise MigrateError(f"git commit failed: {committed.stderr.strip()}")
            run.commit = _git(cwd, "rev-parse", "--short", "HEAD").stdout.strip()
        if progress:
            progress(run)
    return result
