"""Two public projects whose own tests judge each codemod step.

FastAPI's legacy "SQL (Relational) Databases" tutorial (fastapi 0.115.0 sdist) and SQLModel's
FastAPI tutorial (the current sqlmodel sdist) are fetched with
`pip download --no-deps --no-binary :all:`, never committed, and assembled into scratch
projects: the tutorial's code and its tests, plus the minimal glue those tests need (package
`__init__` files, a pytest configuration, a per-module runner for FastAPI's). Each gets a virtual
environment with the pins of its era, with asyncshift installed into it without upgrading any
of them.

Everything is cached under `~/.cache/asyncshift-tests` (or `$ASYNCSHIFT_TEST_CACHE`): the sdists,
their extracted sources, the assembled projects and the virtual environments (keyed by pin set,
interpreter and repository). A test never works in the cache: it copies the project first.

    project = prepare("fastapi-sql-databases").copy_to(tmp_path)
    ...apply a step to project.folder...
    result = project.run_tests()
    assert result.ok, result.output
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - Python 3.10
    pass

from tests.realworld.cache import CACHE, HarnessError, digest, locked
from tests.realworld.environments import environment, installed_versions
from tests.realworld.sdists import extracted, fetch_sdist, sdist_version

TEST_TIMEOUT = 300  # seconds for one run of a tutorial's tests

__all__ = ["TUTORIALS", "HarnessError", "Project", "TestRun", "prepare", "summary_counts"]

# --- the two tutorials -------------------------------------------------------------------------

# FastAPI's pytest settings from its 0.115.0 pyproject.toml, plus one ignore: FastAPI's CI of that
# era resolved SQLAlchemy 1.4 (through `databases<0.7`), where `sqlalchemy.ext.declarative` was not
# deprecated yet; asyncshift needs SQLAlchemy 2.0, which warns about it.
FASTAPI_PYTEST_INI = (
    "[pytest]\n"
    "addopts = --strict-config --strict-markers --ignore=docs_src -p no:cacheprovider\n"
    "xfail_strict = true\n"
    "filterwarnings =\n"
    "    error\n"
    "    ignore:starlette.middleware.wsgi is deprecated and will be removed in a future release"
    "\\..*:DeprecationWarning:starlette\n"
    "    ignore:'crypt' is deprecated and slated for removal in Python 3.13:DeprecationWarning\n"
    "    ignore:.*declarative_base.*:sqlalchemy.exc.MovedIn20Warning\n"
)

# FastAPI's tutorial tests share the file `./sql_app.db` between test modules through a module-level
# engine. SQLAlchemy 1.4 opened SQLite files with NullPool, so every module saw its own fresh file;
# SQLAlchemy 2.0 pools file connections, so a later module would see the earlier module's deleted
# file. One pytest process per test module restores what the tests were written against.
RUN_PER_MODULE = '''\
"""Runs the tests one pytest process per test module and prints the added-up summary."""

import re
import subprocess
import sys
from pathlib import Path

TOTALS = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")
PATTERN = r"(\\d+) (passed|failed|errors?|skipped|xfailed|xpassed)"

modules = sorted(p for root in sys.argv[1:] for p in Path(root).rglob("test_*.py"))
totals = dict.fromkeys(TOTALS, 0)
status = 0
for module in modules:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(module)], capture_output=True, text=True
    )
    print(run.stdout, run.stderr, sep="", end="")
    summary = [line for line in run.stdout.splitlines() if re.search(r" in [\\d.]+s", line)]
    for count, word in re.findall(PATTERN, summary[-1] if summary else ""):
        totals["errors" if word.startswith("error") else word] += int(count)
    if run.returncode not in (0, 5):
        status = 1
print(", ".join(f"{n} {word}" for word, n in totals.items() if n or word in ("passed", "failed")))
sys.exit(status)
'''


@dataclass(frozen=True)
class Tutorial:
    name: str
    distribution: str
    version: str | None  # None: the newest release, fetched once and then reused from the cache
    copy: tuple[str, ...]  # paths inside the sdist: files or folders
    glue: Mapping[str, str]  # files written into the project, path -> text
    pins: tuple[str, ...]  # "{version}" stands for the sdist's version
    test_command: tuple[str, ...]  # run with the project's python, in its folder
    expected_tests: int  # at least this many pass before any step (a guard against silent skips)


TUTORIALS: dict[str, Tutorial] = {
    t.name: t
    for t in (
        Tutorial(
            name="fastapi-sql-databases",
            distribution="fastapi",
            version="0.115.0",
            copy=(
                "docs_src/sql_databases",
                "tests/__init__.py",
                "tests/utils.py",
                "tests/test_tutorial/__init__.py",
                "tests/test_tutorial/test_sql_databases",
            ),
            glue={
                "docs_src/__init__.py": "",
                "pytest.ini": FASTAPI_PYTEST_INI,
                "run_tests.py": RUN_PER_MODULE,
            },
            pins=(
                "fastapi=={version}",
                "starlette==0.38.6",
                "pydantic==1.10.18",
                "anyio==3.7.1",
                "sqlalchemy==2.0.32",
                "httpx==0.27.2",
                "pytest==7.4.4",
                "dirty-equals==0.6.0",
            ),
            test_command=("run_tests.py", "tests/test_tutorial/test_sql_databases"),
            expected_tests=45,
        ),
        Tutorial(
            name="sqlmodel-fastapi",
            distribution="sqlmodel",
            version=None,
            copy=(
                "docs_src/__init__.py",
                "docs_src/tutorial/__init__.py",
                "docs_src/tutorial/fastapi",
                "tests/__init__.py",
                "tests/conftest.py",
                "tests/test_tutorial/__init__.py",
                "tests/test_tutorial/test_fastapi",
            ),
            glue={"pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n"},
            pins=(
                "sqlmodel=={version}",
                "fastapi",
                "httpx",
                "pytest",
                "dirty-equals",
                "coverage",
            ),
            test_command=("-m", "pytest", "-q", "tests/test_tutorial/test_fastapi"),
            expected_tests=19,
        ),
    )
}


# --- what a test works with --------------------------------------------------------------------


@dataclass(frozen=True)
class TestRun:
    returncode: int
    output: str
    seconds: float
    counts: Mapping[str, int] = field(default_factory=dict)

    __test__ = False  # not a pytest test class

    @property
    def passed(self) -> int:
        return self.counts.get("passed", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("errors", 0)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and self.passed > 0


@dataclass(frozen=True)
class Project:
    name: str
    folder: Path
    python: Path
    test_command: tuple[str, ...]  # full argv, run in `folder`
    versions: Mapping[str, str]  # what the environment holds: name -> version
    conflicts: str = ""  # `pip check` output after asyncshift went in; empty when consistent

    def copy_to(self, destination: Path) -> Project:
        """A working copy: the cached project itself must never change."""
        target = destination / self.name
        shutil.copytree(self.folder, target, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
        return replace(self, folder=target)

    def shell_test_command(self) -> str:
        """The test command as one shell line, for `asyncshift migrate --test "..."`."""
        return (
            f"cd {shlex.quote(str(self.folder))} && "
            f"env -u PYTHONPATH -u PYTEST_ADDOPTS -u DATABASE_URL PYTHONDONTWRITEBYTECODE=1 "
            f'PATH={shlex.quote(str(self.python.parent))}:"$PATH" {shlex.join(self.test_command)}'
        )

    def run_tests(self, timeout: float = TEST_TIMEOUT) -> TestRun:
        env = {
            **os.environ,
            # Subprocesses of the tests (SQLModel's runs `coverage`) must find the project's tools.
            "PATH": f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(self.python.parent.parent),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for name in ("PYTHONPATH", "PYTEST_ADDOPTS", "DATABASE_URL"):
            env.pop(name, None)
        started = time.monotonic()
        try:
            run = subprocess.run(
                self.test_command,
                cwd=self.folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout
            return TestRun(-1, f"timed out after {timeout}s\n{output or ''}", timeout)
        output = run.stdout + run.stderr
        return TestRun(run.returncode, output, time.monotonic() - started, summary_counts(output))


def summary_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line (`3 failed, 42 passed, 1 warning in 2.1s`)."""
    pattern = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")
    for line in reversed(output.splitlines()):
        found = pattern.findall(line)
        if found:
            return {("errors" if word.startswith("error") else word): int(n) for n, word in found}
    return {}


def prepare(name: str) -> Project:
    """The tutorial `name` assembled and installed, from the cache when it is there.

    Cold, this downloads the sdist and about twenty wheels; warm, it only checks markers.
    """
    try:
        tutorial = TUTORIALS[name]
    except KeyError:
        raise HarnessError(
            f"no tutorial named {name!r}; the harness knows {', '.join(sorted(TUTORIALS))}"
        ) from None
    sdist = fetch_sdist(tutorial.distribution, tutorial.version)
    version = sdist_version(sdist, tutorial.distribution)
    folder = assemble(tutorial, sdist)
    pins = tuple(pin.format(version=version) for pin in tutorial.pins)
    python, conflicts = environment(tutorial.name, pins)
    return Project(
        name=tutorial.name,
        folder=folder,
        python=python,
        test_command=(str(python), *tutorial.test_command),
        versions=installed_versions(python),
        conflicts=conflicts,
    )


def assemble(tutorial: Tutorial, sdist: Path) -> Path:
    source = extracted(sdist)
    key = digest(
        sdist.name, *tutorial.copy, *(f"{k}\n{v}" for k, v in sorted(tutorial.glue.items()))
    )
    target = CACHE / "projects" / f"{tutorial.name}-{key}"
    with locked(f"project-{tutorial.name}-{key}"):
        if (target / ".complete").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        for relative in tutorial.copy:
            origin = source / relative
            if origin.is_dir():
                shutil.copytree(origin, target / relative)
            elif origin.is_file():
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / relative)
            else:
                raise HarnessError(
                    f"{relative} is not in {sdist.name}: the tutorial moved; update "
                    f"TUTORIALS[{tutorial.name!r}].copy in {__file__}"
                )
        for relative, text in tutorial.glue.items():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_text(text)
        (target / ".complete").write_text("")
    return target
