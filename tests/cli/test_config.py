"""[tool.asyncshift] in the target's pyproject.toml."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from asyncshift.cli import main

HANDLER = textwrap.dedent(
    """\
    import time
    from app.db import get_session


    async def handler():
        time.sleep(1)
        db = get_session()
        return db.execute("SELECT 1")
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository's root: no pyproject above it is read
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "handler.py").write_text(HANDLER)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "old.py").write_text(HANDLER)
    return tmp_path


def codes(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str]]:
    return [(Path(d["path"]).parent.name, d["code"]) for d in json.loads(capsys.readouterr().out)]


def test_without_configuration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--no-cache", "--format", "json", str(project)])
    assert codes(capsys) == [("app", "ASH007"), ("migrations", "ASH007")]


def test_excludes_factories_and_default_selection(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.asyncshift]
            exclude = ["migrations/*"]
            session-factories = ["get_session"]
            ignore = ["ASH007"]
            """
        )
    )
    main(["check", "--no-cache", "--format", "json", str(project)])
    assert codes(capsys) == [("app", "ASH002")]  # get_session() is known to make sync sessions
    main(["check", "--no-cache", "--format", "json", "--ignore", "ASH002", str(project)])
    assert codes(capsys) == [("app", "ASH007")]  # the command line wins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.asyncshift\n", "is not valid TOML"),
        ("[tool.asyncshift]\nexclude = 'migrations'\n", "exclude must be a list of strings"),
        ("[tool.asyncshift]\nexcludes = []\n", "unknown [tool.asyncshift] key(s) excludes"),
    ],
)
def test_a_bad_configuration_is_a_clear_usage_error(
    project: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(text)
    assert main(["check", "--no-cache", str(project)]) == 2
    assert message in capsys.readouterr().err
    assert main(["plan", str(project)]) == 2
