"""Facts of the whole repository, merged from every file's facts, and the call graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from asyncshift.model.records import FileFacts, FunctionFact

MAX_DEPTH = 8  # a chain longer than this is reported as not found rather than followed


@dataclass
class RepoFacts:
    files: list[FileFacts] = field(default_factory=list)
    has_asgi_app: bool = False
    sync_factories: set[str] = field(default_factory=set)
    scoped_registry_names: set[str] = field(default_factory=set)
    session_aliases: set[str] = field(default_factory=set)
    relationships: set[str] = field(default_factory=set)
    # By simple name: the call graph is name-based, so two functions of one name are merged.
    functions: dict[str, list[FunctionFact]] = field(default_factory=dict)

    @classmethod
    def merge(cls, files: Iterable[FileFacts], session_factories: Iterable[str] = ()) -> RepoFacts:
        """``session_factories``: names the files do not reveal ([tool.asyncshift])."""
        repo = cls(files=list(files), sync_factories=set(session_factories))
        for facts in repo.files:
            repo.has_asgi_app |= facts.has_asgi_app
            repo.sync_factories |= facts.sync_factories
            repo.session_aliases |= facts.session_aliases
            repo.relationships |= facts.relationships
            repo.scoped_registry_names |= {r.name for r in facts.scoped_registries}
            for function in facts.functions:
                repo.functions.setdefault(function.name, []).append(function)
        return repo

    def _does_session_io(self, function: FunctionFact) -> str | None:
        known = self.sync_factories | self.session_aliases
        for factory in function.session_io:
            if factory == "" or factory in known:
                return "sync session I/O"
        return None

    def _does_blocking(self, function: FunctionFact) -> str | None:
        return f"{function.blocking[0]}()" if function.blocking else None

    def _chain(self, name: str, leaf: Callable[[FunctionFact], str | None]) -> list[str] | None:
        """The call path from sync function ``name`` down to what ``leaf`` reports, if any."""
        seen: set[str] = set()

        def walk(current: str, depth: int) -> list[str] | None:
            if current in seen or depth > MAX_DEPTH:
                return None
            seen.add(current)
            for function in self.functions.get(current, []):
                if function.is_async:
                    continue  # called without await it does not run: not this rule's concern
                found = leaf(function)
                if found:
                    return [current, found]
                for callee in function.calls:
                    rest = walk(callee, depth + 1)
                    if rest:
                        return [current, *rest]
            return None

        return walk(name, 0)

    def session_io_chain(self, name: str) -> list[str] | None:
        return self._chain(name, self._does_session_io)

    def blocking_chain(self, name: str) -> list[str] | None:
        return self._chain(name, self._does_blocking)
