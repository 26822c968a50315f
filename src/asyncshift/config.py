"""``[tool.asyncshift]`` in the target's pyproject.toml: names asyncshift cannot infer, excludes.

[tool.asyncshift]
exclude = ["migrations/*", "scripts/legacy_*.py"]   # globs, relative to pyproject.toml
select = ["ASH00"]                                  # defaults for --select / --ignore
ignore = ["ASH007"]
session-factories = ["get_session", "SessionFactory"]  # names that make sync sessions
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the oldest-combination run
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

KEYS = {"exclude", "select", "ignore", "session-factories", "twin-names"}


class ConfigError(ValueError):
    """[tool.asyncshift] is malformed; the message says where and how."""


@dataclass(frozen=True)
class Config:
    root: Path | None = None
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    session_factories: tuple[str, ...] = ()
    # The async-engine step's names for twins, where the default is not wanted:
    # twin-names = { get_db = "get_session_async", SessionLocal = "AsyncSessionMaker" }
    twin_names: tuple[tuple[str, str], ...] = ()

    def excluded(self, path: Path) -> bool:
        if self.root is None or not self.exclude:
            return False
        try:
            relative = path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return False
        return any(fnmatch(relative, pattern) for pattern in self.exclude)


def _find_pyproject(start: Path) -> Path | None:
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate / "pyproject.toml"
        if (candidate / ".git").exists():
            return None  # the repository's root: do not read a pyproject.toml above it
    return None


def _strings(table: dict[str, object], key: str, where: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.asyncshift] {key} must be a list of strings")
    return tuple(value)


def load_config(paths: Iterable[str | Path]) -> Config:
    """The [tool.asyncshift] table of the pyproject.toml governing the first path, if any."""
    first = next(iter(paths), ".")
    pyproject = _find_pyproject(Path(first))
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{pyproject} is not valid TOML: {error}") from None
    table = data.get("tool", {}).get("asyncshift")
    if table is None:
        return Config(root=pyproject.parent)
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.asyncshift] must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(
            f"{pyproject}: unknown [tool.asyncshift] key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(KEYS))}"
        )
    return Config(
        root=pyproject.parent.resolve(),
        exclude=_strings(table, "exclude", pyproject),
        select=tuple(c.upper() for c in _strings(table, "select", pyproject)),
        ignore=tuple(c.upper() for c in _strings(table, "ignore", pyproject)),
        session_factories=_strings(table, "session-factories", pyproject),
        twin_names=_names(table, "twin-names", pyproject),
    )


def _names(table: dict[str, object], key: str, where: Path) -> tuple[tuple[str, str], ...]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.isidentifier() for k, v in value.items()
    ):
        raise ConfigError(
            f'{where}: [tool.asyncshift] {key} must be a table of name = "new_name" '
            "(Python identifiers)"
        )
    return tuple(sorted(value.items()))
