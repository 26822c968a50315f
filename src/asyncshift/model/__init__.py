"""The repository model: what one parse of each file tells about apps, sessions and engines."""

from asyncshift.model.facts import FileFacts, collect_facts
from asyncshift.model.repo import RepoFacts

__all__ = ["FileFacts", "RepoFacts", "collect_facts"]
