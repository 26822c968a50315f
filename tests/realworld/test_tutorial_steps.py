"""The ladder on code nobody here wrote: FastAPI's SQL tutorial and SQLModel's FastAPI tutorial.
After each step their own tests, unmodified but by the codemod, pass in their own environments
(FastAPI 0.115 with pydantic 1 and anyio 3; current SQLModel), and `migrate` undoes a red step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncshift.cli import main
from tests.realworld.tutorials import TUTORIALS, Project, prepare

pytestmark = [pytest.mark.realworld, pytest.mark.timeout(1200)]
STEPS = ("scope-sessions", "async-engine")


@pytest.fixture(scope="module", params=sorted(TUTORIALS))
def project(request: pytest.FixtureRequest) -> Project:
    return prepare(request.param)


def test_own_tests_stay_green_after_each_step_and_a_second_run_changes_nothing(
    project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = project.copy_to(tmp_path / "project")
    monkeypatch.chdir(copy.folder)
    for step in STEPS:
        code = main(["apply", step, "."])
        err = capsys.readouterr().err
        print(f"{project.name} {step}: {err.strip().splitlines()[-1]}")
        assert code in (0, 1), err
        run = copy.run_tests()
        assert run.ok, f"{step}: {run.output[-6000:]}"
        assert run.passed >= TUTORIALS[project.name].expected_tests
        assert main(["apply", step, "--check", "."]) == 0, "a second run must change nothing"
        capsys.readouterr()


def test_migrate_carries_them_and_undoes_a_red_step(
    project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = project.copy_to(tmp_path / "project")
    monkeypatch.chdir(copy.folder)
    before = {p: p.read_bytes() for p in copy.folder.rglob("*.py")}
    assert main(["migrate", "--test", "exit 1", "."]) == 1
    assert {p: p.read_bytes() for p in copy.folder.rglob("*.py")} == before
    capsys.readouterr()
    # Steps 3 and 4 are not green on the tutorials yet (issue 10 stays open): the FastAPI
    # tutorial's per-module test runner hangs after `endpoints`; migrate stops before them.
    command = ["migrate", "--to", STEPS[-1], "--test", copy.shell_test_command(), "."]
    assert main(command) == 0
    print(capsys.readouterr().out)
