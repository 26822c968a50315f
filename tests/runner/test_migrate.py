"""asyncshift migrate on the bundled example service: green steps stay, a red step is undone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asyncshift.cli import main
from asyncshift.examples import copy_example_service

TESTS = f"{sys.executable} -m pytest -q -p no:cacheprovider -x"


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = copy_example_service(tmp_path / "service")
    monkeypatch.chdir(target)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def test_migrate_runs_the_steps_then_the_tests_and_a_second_run_changes_nothing(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--to", "scope-sessions", "--test", TESTS, "."]) == 0
    out = capsys.readouterr().out
    assert "scope-sessions       3" in out and "passed" in out
    after = snapshot(service)
    assert "request_scoped_session(SessionLocal)" in after["app/database.py"].decode()
    assert main(["migrate", "--to", "scope-sessions", "--test", TESTS, "."]) == 0
    assert "no change" in capsys.readouterr().out
    assert snapshot(service) == after


def test_a_red_step_is_undone_byte_for_byte_and_the_run_stops(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(service)
    broken = f"{sys.executable} -c 'import sys; print(\"1 failed\"); sys.exit(1)'"
    assert main(["migrate", "--test", broken, "."]) == 1
    err = capsys.readouterr().err
    assert "stopped at scope-sessions; its changes were undone (3 file(s) restored" in err
    assert "1 failed" in err
    assert snapshot(service) == before


def test_commit_makes_one_commit_per_green_step_and_needs_a_clean_tree(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=service, capture_output=True, text=True, check=True
        ).stdout

    git("init", "-q")
    git("-c", "user.email=a@b.c", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=a@b.c", "-c", "user.name=t", "commit", "-qm", "legacy")
    (service / "notes.txt").write_text("uncommitted\n")
    (service / "app" / "extra.py").write_text("x = 1\n")
    assert main(["migrate", "--commit", "--to", "scope-sessions", "."]) == 2
    assert "needs a clean work tree" in capsys.readouterr().err
    (service / "app" / "extra.py").unlink()
    (service / "notes.txt").unlink()
    env_user = ["-c", "user.email=a@b.c", "-c", "user.name=t"]
    git(*env_user, "config", "user.email", "a@b.c")
    git("config", "user.name", "t")
    assert main(["migrate", "--commit", "--to", "scope-sessions", "--test", TESTS, "."]) == 0
    log = git("log", "--format=%s", "-n", "2").splitlines()
    assert log[0].startswith("asyncshift: scope-sessions")
    assert "app/db_context.py: line 36" in git("log", "-1", "--format=%b")
    assert git("status", "--porcelain") == ""
