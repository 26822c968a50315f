"""The dependency file gains what the twin needs: ``sqlalchemy[asyncio]`` (SQLAlchemy 2.1 no
longer brings greenlet by itself), the async driver for each sync one, and asyncshift.

Only a plain ``requirements*.txt`` or a PEP 621 ``[project] dependencies`` list is edited;
anything else (Poetry, setup.py, constraints with hashes) is reported with the lines to add.
"""

from __future__ import annotations

import re
from pathlib import Path

from asyncshift.model import types as t
from asyncshift.model.modules import is_test_path
from asyncshift.model.repo import RepoModel
from asyncshift.runner.steps import Report

ASYNC_DRIVERS = {
    "pymysql": "asyncmy",
    "mysqlclient": "asyncmy",
    "mysql-connector-python": "asyncmy",
    "psycopg2": "asyncpg",
    "psycopg2-binary": "asyncpg",
    "pg8000": "asyncpg",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def _names(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = _NAME.match(line.split("#", 1)[0])
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2) or ""
    return found


def _responsible(model: RepoModel, path: str) -> bool:
    """One file speaks for the repository: the first non-test file that makes a sync engine."""
    if "requirements.responsible" not in model.memo:
        model.memo["requirements.responsible"] = _first_engine_file(model)
    return model.memo["requirements.responsible"] == path


def _first_engine_file(model: RepoModel) -> str | None:
    for candidate in sorted(model.files):
        if is_test_path(candidate):
            continue
        facts = model.files[candidate]
        if any(
            model.external_names(candidate, frame, call.expr[1]) & t.CREATE_ENGINE
            for frame in facts.frames
            for call in frame.calls
        ):
            return candidate
    return None


def _uses_sqlite(model: RepoModel) -> bool:
    return any(
        value[0] == "str" and str(value[1]).startswith("sqlite")
        for facts in model.files.values()
        for frame in facts.frames
        for values in frame.locals.values()
        for value in values
    ) or any(
        arg[0] == "str" and str(arg[1]).startswith("sqlite")
        for facts in model.files.values()
        for frame in facts.frames
        for call in frame.calls
        for arg in call.expr[2]
    )


def _wanted(present: dict[str, str], sqlite: bool) -> list[str]:
    wanted = []
    if "asyncio" not in present.get("sqlalchemy", ""):
        wanted.append("sqlalchemy[asyncio]")
    drivers = {ASYNC_DRIVERS[name] for name in present if name in ASYNC_DRIVERS}
    if sqlite:
        drivers.add("aiosqlite")
    wanted += sorted(d for d in drivers if d not in present)
    if "asyncshift" not in present:
        wanted.append("asyncshift")
    return wanted


def _find(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        for candidate in [*sorted(folder.glob("requirements*.txt")), folder / "pyproject.toml"]:
            if candidate.is_file():
                return candidate
        if (folder / ".git").exists():
            break
    return None


def dependency_edits(model: RepoModel, path: str) -> tuple[dict[str, str], list[Report | str]]:
    if not _responsible(model, path):
        return {}, []
    target = _find(Path(path).resolve().parent)
    if target is None:
        return {}, [
            Report(
                1,
                "no requirements*.txt or pyproject.toml found: add "
                "sqlalchemy[asyncio], the async driver and asyncshift by hand",
            )
        ]
    text = target.read_text(encoding="utf-8")
    if target.name == "pyproject.toml":
        return _pyproject(target, text, _uses_sqlite(model))
    lines = text.splitlines()
    wanted = _wanted(_names(lines), _uses_sqlite(model))
    if not wanted:
        return {}, []
    if any(line.strip().startswith(("-e", "--hash")) or "--hash" in line for line in lines):
        return {}, [Report(1, f"{target} pins with hashes: add {', '.join(wanted)} by hand")]
    newline = "" if text.endswith("\n") or not text else "\n"
    added = "".join(f"{line}\n" for line in wanted)
    return {str(target): f"{text}{newline}# the async path (asyncshift async-engine)\n{added}"}, []


_DEPENDENCIES = re.compile(r"(?ms)^\[project\].*?^dependencies\s*=\s*\[(?P<body>.*?)^\]")


def _pyproject(target: Path, text: str, sqlite: bool) -> tuple[dict[str, str], list[Report | str]]:
    match = _DEPENDENCIES.search(text)
    if match is None:
        present: dict[str, str] = {}
        wanted = _wanted(present, sqlite)
        return {}, [
            Report(
                1,
                f"{target}: no [project] dependencies list to edit safely (Poetry?): add "
                f"{', '.join(wanted)} by hand",
            )
        ]
    body = match.group("body")
    entries = re.findall(r"[\"']([^\"']+)[\"']", body)
    wanted = _wanted(_names(entries), sqlite)
    if not wanted:
        return {}, []
    insert = "".join(f'    "{line}",\n' for line in wanted)
    start = match.start("body") + len(body)
    if body.strip() and not body.rstrip().endswith(","):
        stripped = body.rstrip()
        head = text[: match.start("body")] + stripped + ",\n"
        return {str(target): head + insert + text[start:]}, []
    return {str(target): text[:start] + insert + text[start:]}, []
