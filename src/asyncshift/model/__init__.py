"""The repository model: one parse per file, names resolved through imports, types of what flows."""

from asyncshift.model.collect import collect_facts
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel

__all__ = ["FileFacts", "RepoModel", "collect_facts"]
