"""Facts of the whole repository, merged from every file's facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asyncshift.model.records import FileFacts


@dataclass
class RepoFacts:
    files: list[FileFacts] = field(default_factory=list)
    has_asgi_app: bool = False
    sync_factories: set[str] = field(default_factory=set)
    scoped_registry_names: set[str] = field(default_factory=set)
    session_aliases: set[str] = field(default_factory=set)

    @classmethod
    def merge(cls, files: Iterable[FileFacts]) -> RepoFacts:
        repo = cls(files=list(files))
        for facts in repo.files:
            repo.has_asgi_app |= facts.has_asgi_app
            repo.sync_factories |= facts.sync_factories
            repo.session_aliases |= facts.session_aliases
            repo.scoped_registry_names |= {r.name for r in facts.scoped_registries}
        return repo
