"""Virtual environments with a project's era pins, and asyncshift installed without moving any."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.realworld.cache import CACHE, PIP_TIMEOUT, REPO, canonical, digest, locked, pip

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# Packages the codemod steps make the projects import besides asyncshift's own dependencies:
# step `async-engine` gives a SQLite engine its aiosqlite twin.
STEP_RUNTIME = ("aiosqlite",)


def environment(name: str, pins: tuple[str, ...]) -> tuple[Path, str]:
    """A virtual environment holding `pins` and asyncshift; returns its python and `pip check`."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    interpreter = f"{sys.implementation.name}{sys.version_info.major}.{sys.version_info.minor}"
    key = digest(interpreter, str(base), str(REPO), *pins)
    target = CACHE / "venvs" / f"{name}-{key}"
    python = target / "bin" / "python"
    with locked(f"venv-{name}-{key}"):
        if not (target / ".complete").exists():
            prune_orphans(target.parent)
            shutil.rmtree(target, ignore_errors=True)
            venv.create(target, with_pip=True, clear=True)
            pip(str(python), "install", "-q", *pins, what=f"installing the pins of {name}")
            install_asyncshift(python, name)
            (target / ".repo").write_text(str(REPO))
            (target / ".complete").write_text("\n".join(pins) + "\n")
    check = subprocess.run(
        [str(python), "-m", "pip", "check"], capture_output=True, text=True, timeout=PIP_TIMEOUT
    )
    return python, "" if check.returncode == 0 else check.stdout + check.stderr


def prune_orphans(folder: Path) -> None:
    """Drops environments whose repository is gone (CI clones), about 150 MB each."""
    for marker in folder.glob("*/.repo"):
        if not Path(marker.read_text()).is_dir():
            shutil.rmtree(marker.parent, ignore_errors=True)


def install_asyncshift(python: Path, name: str) -> None:
    """asyncshift from this repository, and only what is missing for it: no pin moves.

    The environment's own packages are frozen into a constraints file, so a requirement of
    asyncshift that only an upgrade could meet makes pip stop with the conflict instead.
    """
    frozen = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        timeout=PIP_TIMEOUT,
    ).stdout
    constraints = python.parent.parent / "era-constraints.txt"
    constraints.write_text(frozen)
    pip(str(python), "install", "-q", "--no-deps", "-e", str(REPO), what="installing asyncshift")
    pip(
        str(python),
        "install",
        "-q",
        "-c",
        str(constraints),
        *asyncshift_requirements(),
        *STEP_RUNTIME,
        what=f"installing what asyncshift needs into {name} without moving its pins",
    )


def asyncshift_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def installed_versions(python: Path) -> dict[str, str]:
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        timeout=PIP_TIMEOUT,
    ).stdout
    versions = {}
    for line in frozen.splitlines():
        name, _, version = line.partition("==")
        versions[canonical(name)] = version
    return versions
