"""Module names for the files of a repository, and where an import leads.

A file's module name comes from its package folders (each with ``__init__.py``), so ``src/``
layouts and tests get the names Python gives them. Namespace packages (folders without
``__init__.py``) are found by the tail of their path, but only when exactly one file answers to
it: two candidates leave the import unresolved rather than picking one.
"""

from __future__ import annotations

from pathlib import PurePath


def canonical_name(path: str, files: set[str]) -> str:
    parts = PurePath(path)
    stem = parts.stem
    folder = parts.parent
    names = [] if stem == "__init__" else [stem]
    while str(folder / "__init__.py") in files or (
        folder.name and (folder / "__init__.py").as_posix() in files
    ):
        names.insert(0, folder.name)
        folder = folder.parent
    return ".".join(names) or stem


def is_test_path(path: str) -> bool:
    pure = PurePath(path)
    name = pure.name
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in pure.parent.parts)
    )


class ModuleTable:
    def __init__(self, paths: list[str]) -> None:
        files = set(paths)
        self.name_of: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self._by_tail: dict[str, set[str]] = {}
        self._by_path: dict[str, str] = {}
        ambiguous: set[str] = set()
        for path in paths:
            name = canonical_name(path, files)
            self.name_of[path] = name
            if name in self.by_name:
                ambiguous.add(name)
            self.by_name.setdefault(name, path)
            self._by_path[PurePath(path).as_posix()] = path
            pure = PurePath(path)
            parts = [*pure.parent.parts, *([] if pure.stem == "__init__" else [pure.stem])]
            for start in range(len(parts)):
                # A root on sys.path is never inside a package: `docs/tutorial/fastapi/` (with
                # __init__.py above it) is not the `fastapi` that `import fastapi` finds.
                if start and str(PurePath(*parts[:start]) / "__init__.py") in files:
                    continue
                tail = ".".join(parts[start:])
                if tail:
                    self._by_tail.setdefault(tail, set()).add(path)
        for name in ambiguous:  # two files answer to it: leave it to the tails, or unresolved
            del self.by_name[name]

    def find(self, module: str) -> str | None:
        """The file of ``module``, or None when it is not in the repository or is ambiguous."""
        if module in self.by_name:
            return self.by_name[module]
        candidates = self._by_tail.get(module, set())
        return next(iter(candidates)) if len(candidates) == 1 else None

    def find_relative(self, importer: str, level: int, module: str) -> str | None:
        """``from ..pkg import x`` in ``importer``: the file of ``..pkg``, by folder."""
        folder = PurePath(importer).parent
        for _ in range(level - 1):
            folder = folder.parent
        target = folder.joinpath(*module.split(".")) if module else folder
        for candidate in (target.with_suffix(".py") if module else None, target / "__init__.py"):
            if candidate is not None and candidate.as_posix() in self._by_path:
                return self._by_path[candidate.as_posix()]
        return None

    def module_name(self, importer: str, level: int, module: str) -> str:
        """The dotted name an import refers to, also when its file is not in the repository."""
        if level == 0:
            return module
        base = self.name_of.get(importer, "").split(".")
        is_package = PurePath(importer).stem == "__init__"
        keep = len(base) - (level - 1) - (0 if is_package else 1)
        head = ".".join(base[: max(keep, 0)])
        return ".".join(p for p in (head, module) if p)
