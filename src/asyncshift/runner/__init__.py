"""Finding the files of a repository and reading each one once."""

from asyncshift.runner.cache import FactsCache
from asyncshift.runner.discover import discover
from asyncshift.runner.results import FileResult, read_all, read_facts

__all__ = ["FactsCache", "FileResult", "discover", "read_all", "read_facts"]
