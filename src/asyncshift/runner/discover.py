"""Which Python files a run covers: git's view where there is one, else a filtered walk."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

SKIPPED_DIRS = {
    ".git", ".hg", ".venv", "venv", "env", ".env", "node_modules", "build", "dist",
    "__pycache__", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
    "site-packages", ".asyncshift_cache",
}  # fmt: skip


def _git_files(directory: Path) -> list[Path] | None:
    """Tracked and untracked-but-not-ignored .py files, honouring every .gitignore."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.py"],
            cwd=directory,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    files = [directory / name for name in listed.decode().split("\0") if name]
    return [f for f in files if f.is_file() and not (SKIPPED_DIRS & set(f.parts))]


def _walk(directory: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        found += [Path(root) / f for f in sorted(files) if f.endswith(".py")]
    return found


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Every Python file under ``paths``; a file named explicitly is always included."""
    seen: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_file():
            seen[path] = None
            continue
        files = _git_files(path)
        for file in files if files is not None else _walk(path):
            seen[file] = None
    return sorted(seen)
