"""Facts cached by content hash, so an unchanged file is never parsed twice.

The key is the file's bytes; the cache folder is named after the code that collects the facts
(a fingerprint of the model package's source), so any change to what is collected starts a
fresh cache. The path is not part of the key: a renamed or copied file hits the cache too.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import asyncshift.model
from asyncshift.model.records import FileFacts

DEFAULT_DIR = Path(".asyncshift_cache")


def _fingerprint(*folders: Path) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for module in sorted(folder.rglob("*.py")):
            digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def _model_fingerprint() -> str:
    return _fingerprint(Path(asyncshift.model.__file__).parent)


def _rules_fingerprint() -> str:
    import asyncshift.check

    return _fingerprint(
        Path(asyncshift.model.__file__).parent, Path(asyncshift.check.__file__).parent
    )


class FactsCache:
    _fingerprint: str | None = None

    def __init__(self, directory: Path = DEFAULT_DIR) -> None:
        if FactsCache._fingerprint is None:
            FactsCache._fingerprint = _model_fingerprint()
        self.directory = directory / f"facts-{FactsCache._fingerprint}"

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    def get(self, key: str, path: str) -> FileFacts | None:
        try:
            facts = pickle.loads(self._file(key).read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None  # absent or unreadable: parse again
        return replace(facts, path=path) if isinstance(facts, FileFacts) else None

    def _ignore_in_git(self) -> None:
        """As ruff, mypy and pytest do: the cache folder ignores itself, so a checked
        repository's ``git status`` stays clean."""
        marker = self.directory.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# Created by asyncshift automatically.\n*\n", encoding="utf-8")

    # -- whole runs: an unchanged repository answers without building the model --------------

    _rules: str | None = None

    def run_key(self, parts: Iterable[str]) -> str:
        if FactsCache._rules is None:
            FactsCache._rules = _rules_fingerprint()
        digest = hashlib.sha256(FactsCache._rules.encode())
        for part in parts:
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return digest.hexdigest()

    def get_run(self, key: str) -> object | None:
        try:
            value: object = pickle.loads(
                (self.directory.parent / "runs" / f"{key}.pickle").read_bytes()
            )
            return value
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def put_run(self, key: str, value: object) -> None:
        self._store(self.directory.parent / "runs" / f"{key}.pickle", value)

    def put(self, key: str, facts: FileFacts) -> None:
        self._store(self._file(key), facts)

    def _store(self, target: Path, value: object) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._ignore_in_git()
            descriptor, temporary = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(descriptor, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except OSError:
            pass  # a read-only checkout still gets checked, only not cached
