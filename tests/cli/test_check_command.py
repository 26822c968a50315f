"""``asyncshift check`` on real files in temporary repositories."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from asyncshift.cli import main

LEGACY = textwrap.dedent(
    """\
    from fastapi import FastAPI
    from sqlalchemy.orm import scoped_session, sessionmaker

    app = FastAPI()
    Session = scoped_session(sessionmaker())


    @app.get("/")
    async def index():
        return Session.execute("SELECT 1").scalar()
    """
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(LEGACY)
    return tmp_path


def test_clean_tree_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert main(["check", str(tmp_path)]) == 0
    assert "1 file read, 0 findings" in capsys.readouterr().err


def test_findings_exit_1_in_ruff_style_text(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(repo)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{repo}/app/main.py:5:11: ASH001 `Session` is a thread-local scoped_session in an ASGI "
        "app: FastAPI reuses worker threads, so sessions and their connections outlive requests "
        "('MySQL server has gone away', F1). Use request_scoped_session(...) and add "
        "SessionScopeMiddleware",
        out[1],
    ]
    assert out[1].startswith(f"{repo}/app/main.py:10:12: ASH002 `Session.execute()`")


def test_json_and_github_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--format", "json", str(repo)])
    data = json.loads(capsys.readouterr().out)
    assert [(d["code"], d["line"]) for d in data] == [("ASH001", 5), ("ASH002", 10)]
    main(["check", "--format", "github", "--select", "ASH002", str(repo)])
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"::warning file={repo}/app/main.py,line=10,col=12,title=ASH002::")


def test_select_and_ignore(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--ignore", "ASH001,ASH002", str(repo)]) == 0
    assert main(["check", "--select", "ASH001", str(repo)]) == 1
    assert "ASH002" not in capsys.readouterr().out


def test_unknown_codes_are_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--select", "ASH999", str(repo)]) == 2
    assert "unknown rule code(s) ASH999" in capsys.readouterr().err
    assert main(["check", "--format", "xml", str(repo)]) == 2


def test_bad_files_are_reported_and_skipped_never_fatal(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "broken.py").write_text("def oops(:\n")
    (repo / "latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    assert main(["check", str(repo)]) == 1  # the good file is still checked
    err = capsys.readouterr().err
    assert "2 files read" not in err and "1 file read, 2 findings" in err
    assert f"skipped: {repo}/broken.py: does not parse (line 1" in err
    assert f"skipped: {repo}/latin1.py: not UTF-8" in err


def test_gitignore_and_virtualenvs_are_respected(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "vendored.py").write_text(LEGACY)
    (repo / "generated").mkdir()
    (repo / "generated" / "old.py").write_text(LEGACY)
    (repo / ".gitignore").write_text("generated/\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert main(["check", "--format", "json", str(repo)]) == 1
    paths = {d["path"] for d in json.loads(capsys.readouterr().out)}
    assert paths == {f"{repo}/app/main.py"}


def test_rules_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    codes = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert codes == [f"ASH00{n}" for n in range(1, 10)]


def test_console_script_runs(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asyncshift", "check", str(repo)], capture_output=True, text=True
    )
    assert result.returncode == 1 and "ASH001" in result.stdout
