"""Real-world corpus: asyncshift's findings against ground truth read by hand.

Every entry in expected/<project>.toml was written by reading the project's code against the rule
definitions; a finding that is not there fails until someone reads it and adds it with a verdict,
and a real hazard that the tool does not report fails as well.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.conftest import SCORES
from tests.corpus.corpus import (
    CODES,
    VERDICTS,
    Project,
    dependencies_of,
    endpoints_of,
    fetch_sdist,
    findings_of,
    load_expectation,
    load_projects,
    run_tool,
    score,
    unpack,
)

pytestmark = pytest.mark.corpus

PROJECTS = load_projects()


def _ids(project: Project) -> str:
    return project.pin


@pytest.mark.parametrize("project", PROJECTS, ids=_ids)
def test_expectation_is_well_formed(project: Project) -> None:
    """Offline: every entry names a known code and verdict, a reason, and a sane line range."""
    expectation = load_expectation(project)
    seen = set()
    for entry in expectation.entries:
        assert entry.code in CODES, entry
        assert entry.verdict in VERDICTS, entry
        assert len(entry.reason) >= 20, f"say why: {entry}"
        assert 1 <= entry.lines[0] <= entry.lines[1] <= entry.lines[0] + 60, entry
        assert not entry.path.startswith("/"), (
            f"paths are relative to the sdist's top folder: {entry}"
        )
        key = (entry.path, entry.lines, entry.code)
        assert key not in seen, f"duplicate entry {entry}"
        seen.add(key)


@pytest.mark.parametrize("project", PROJECTS, ids=_ids)
def test_expected_places_exist_in_the_pinned_sdist(project: Project, corpus_root: Path) -> None:
    """Every judged place is a real line of a real file of the pinned sdist."""
    root = _unpacked(project, corpus_root)
    for entry in load_expectation(project).entries:
        file = root / entry.path
        assert file.is_file(), f"{entry.where()}: no such file in {project.sdist}"
        count = len(file.read_text(encoding="utf-8", errors="replace").splitlines())
        assert entry.lines[1] <= count, f"{entry.where()}: {entry.path} has {count} lines"


@pytest.mark.parametrize("project", PROJECTS, ids=_ids)
def test_findings_match_the_read_ground_truth(
    project: Project, corpus_root: Path, plan_options: list[str]
) -> None:
    root = _unpacked(project, corpus_root)
    report = run_tool("check", root, project.paths, ["--no-cache"])
    plan = run_tool("plan", root, project.paths, plan_options)
    result = score(
        load_expectation(project),
        findings_of(report, root),
        dependencies_of(plan, root),
        endpoints_of(plan, root),
    )
    SCORES[project.name] = result
    problems = result.problems()
    assert not problems, f"{project.pin}:\n" + "\n".join(problems)


def _unpacked(project: Project, corpus_root: Path) -> Path:
    target = corpus_root / project.name
    if target.exists():
        (top,) = [p for p in target.iterdir() if p.is_dir()]
        return top
    return unpack(fetch_sdist(project), target, project.paths)
