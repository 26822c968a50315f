"""Facts cached by content hash, so an unchanged file is never parsed twice.

The key is the file's bytes plus the asyncshift version (a new version may collect other
facts); the path is not part of it, so a renamed or copied file hits the cache too.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import replace
from pathlib import Path

from asyncshift._version import __version__
from asyncshift.model.facts import FileFacts

DEFAULT_DIR = Path(".asyncshift_cache")


class FactsCache:
    def __init__(self, directory: Path = DEFAULT_DIR) -> None:
        self.directory = directory / f"facts-{__version__}"

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

    def put(self, key: str, facts: FileFacts) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(descriptor, "wb") as handle:
                pickle.dump(facts, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except OSError:
            pass  # a read-only checkout still gets checked, only not cached
