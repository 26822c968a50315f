"""The repository model: what one parse of each file tells about apps, sessions and engines."""

from asyncshift.model.facts import collect_facts
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoFacts

__all__ = ["FileFacts", "RepoFacts", "collect_facts"]
