"""The ladder on code nobody here wrote: FastAPI's SQL tutorial and SQLModel's FastAPI tutorial.
After each step their own tests, unmodified but by the codemod, pass in their own environments
(FastAPI 0.115 with pydantic 1 and anyio 3; current SQLModel), `migrate` undoes a red step, and
after `endpoints` at least 95% of the endpoints that use a session are `async def` on an async one
(as `asyncshift plan` counts them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncshift.cli import main
from asyncshift.model import types as t
from asyncshift.model.repo import RepoModel
from asyncshift.planning import ASYNC_ON_SYNC_SESSION, SYNC_WITH_SESSION, make_plan, session_kinds
from asyncshift.runner import discover, read_all
from tests.realworld.tutorials import TUTORIALS, Project, prepare

pytestmark = [pytest.mark.realworld, pytest.mark.timeout(1200)]
STEPS = ("scope-sessions", "async-engine", "endpoints", "depends")


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
        if step in ("endpoints", "depends"):
            on_async, using = async_share(copy.folder)
            print(f"{project.name} {step}: {on_async}/{using} session endpoints async")
            assert on_async >= 0.95 * using > 0


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
    command = ["migrate", "--test", copy.shell_test_command(), "."]
    assert main(command) == 0
    print(capsys.readouterr().out)
    assert async_share(copy.folder)[0] >= 0.95 * async_share(copy.folder)[1]


def async_share(folder: Path) -> tuple[int, int]:
    """(routes async on an async session, routes that use a session at all), over the
    project's own code (its tests left out): a session received through a dependency or
    opened in the body, as `asyncshift plan` tells them apart."""
    results = read_all(discover([str(folder)]), 1, None)
    model = RepoModel(r.facts for r in results if r.facts is not None)
    held = {(e.path, e.line) for e in make_plan(model).endpoints if e.state in HELD}
    on_async = using = 0
    for endpoint in model.routes.endpoints:
        if model.serving.is_test(endpoint.path):
            continue
        routes = len(endpoint.routes or ("?",))
        if (endpoint.path, endpoint.frame.line) in held:
            using += routes
        elif endpoint.is_async and _on_async_session(model, endpoint.path, endpoint.fq):
            on_async += routes
            using += routes
    return on_async, using


HELD = (SYNC_WITH_SESSION, ASYNC_ON_SYNC_SESSION)


def _on_async_session(model: RepoModel, path: str, fq: str) -> bool:
    if session_kinds(model, path, fq) == {t.ASYNC}:
        return True
    frame = model.frames[fq][1]
    return any(t.ASYNC_SESSION in model.types(path, frame, call.expr) for call in frame.calls)
