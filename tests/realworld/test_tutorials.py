"""Both tutorials' own tests pass today, before any step, in their own environments.

Marked `realworld`: the first run downloads two sdists and about twenty wheels into
~/.cache/asyncshift-tests (several minutes on a cold cache); later runs reuse them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.realworld.tutorials import TUTORIALS, HarnessError, Project, prepare, summary_counts

pytestmark = [pytest.mark.realworld, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module", params=sorted(TUTORIALS))
def project(request: pytest.FixtureRequest) -> Project:
    return prepare(request.param)


def test_own_tests_pass_before_any_step(project: Project, tmp_path: Path) -> None:
    run = project.copy_to(tmp_path).run_tests()
    print(f"{project.name}: {run.passed} passed, {run.failed} failed in {run.seconds:.1f}s")
    assert run.ok, run.output[-6000:]
    assert run.passed >= TUTORIALS[project.name].expected_tests, run.output[-3000:]


def test_the_shell_test_command_runs_the_same_tests(project: Project, tmp_path: Path) -> None:
    copy = project.copy_to(tmp_path)
    run = subprocess.run(
        ["bash", "-c", copy.shell_test_command()],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert summary_counts(run.stdout)["passed"] >= TUTORIALS[project.name].expected_tests


def test_the_cached_project_is_left_untouched(project: Project, tmp_path: Path) -> None:
    before = sorted(p.relative_to(project.folder) for p in project.folder.rglob("*"))
    project.copy_to(tmp_path).run_tests()
    assert sorted(p.relative_to(project.folder) for p in project.folder.rglob("*")) == before


def test_asyncshift_went_in_without_moving_the_era_pins(project: Project) -> None:
    assert project.conflicts == "", project.conflicts
    if project.name == "fastapi-sql-databases":
        assert project.versions["fastapi"] == "0.115.0"
        assert project.versions["pydantic"].startswith("1.")
        assert project.versions["anyio"].startswith("3.")
        assert project.versions["starlette"] == "0.38.6"
    # What the steps make the project import is there: asyncshift (from this repository), the
    # async engine and the SQLite async driver.
    probe = subprocess.run(
        [
            str(project.python),
            "-c",
            "import asyncshift, aiosqlite, sqlalchemy.ext.asyncio; print(asyncshift.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert str(Path(__file__).resolve().parents[2] / "src") in probe.stdout


def test_a_broken_tutorial_fails_its_tests(project: Project, tmp_path: Path) -> None:
    """The tests are a real judge: a tutorial whose endpoints lose their data goes red."""
    copy = project.copy_to(tmp_path)
    if project.name == "fastapi-sql-databases":
        targets = sorted(copy.folder.glob("docs_src/sql_databases/*/crud.py"))
        old = "return db.query(models.User).filter(models.User.id == user_id).first()"
        new = "return None"
    else:
        targets = sorted(copy.folder.glob("docs_src/tutorial/fastapi/*/tutorial00*.py"))
        old = "heroes = session.exec(select(Hero).offset(offset).limit(limit)).all()"
        new = "heroes = []"
    changed = 0
    for path in targets:
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new))
            changed += 1
    assert changed, f"the breaking edit found nothing to change in {targets}"
    run = copy.run_tests()
    assert not run.ok and run.failed > 0, run.output[-3000:]


def test_unknown_tutorial_is_a_clear_error() -> None:
    with pytest.raises(HarnessError, match="fastapi-sql-databases, sqlmodel-fastapi"):
        prepare("flask-tutorial")
