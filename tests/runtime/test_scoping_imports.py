"""Session scoping costs no web framework: WSGI apps and queue workers import no Starlette,
FastAPI, pydantic or anyio for ``session_scope`` and the registries (issue 8, item 17)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import asyncshift

SRC = Path(asyncshift.__file__).parent
HEAVY = ("starlette", "fastapi", "pydantic", "anyio")

# Refuses the heavy packages, then uses the scoping modules as a sync worker would.
WORKER = textwrap.dedent(
    """
    import importlib.abc, sys, types

    HEAVY = {heavy!r}

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY:
                raise ImportError(f"{{name}} imported by the scoping modules")
            return None

    sys.meta_path.insert(0, Refuse())
    if {bypass_init!r}:
        # The package's __init__ re-exports everything (adapt, guards, capacity...); load the
        # scoping modules on their own, as they are what a sync worker uses.
        package = types.ModuleType("asyncshift")
        package.__path__ = [{src!r}]
        sys.modules["asyncshift"] = package

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import sessionmaker
    import asyncshift.middleware
    from asyncshift.registries import request_scoped_session
    from asyncshift.scope import session_scope

    engine = create_engine("sqlite://")
    db = request_scoped_session(sessionmaker(engine))
    with session_scope():
        assert db.execute(text("SELECT 1")).scalar_one() == 1
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    assert loaded == [], loaded
    print("ok")
    """
)


def run_worker(bypass_init: bool) -> subprocess.CompletedProcess[str]:
    code = WORKER.format(heavy=HEAVY, bypass_init=bypass_init, src=str(SRC))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_scope_registries_and_middleware_import_no_web_framework() -> None:
    result = run_worker(bypass_init=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_through_the_package_once_its_other_modules_are_light() -> None:
    package_alone = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import asyncshift, sys; print(sorted({{m.split('.')[0] "
            f"for m in sys.modules}} & set({HEAVY!r})))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if package_alone.stdout.strip() != "[]":
        pytest.skip(f"`import asyncshift` itself still loads {package_alone.stdout.strip()}")
    result = run_worker(bypass_init=False)
    assert result.stdout.strip() == "ok", result.stderr
