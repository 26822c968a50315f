"""Finding the files of a repository and reading each one once."""

from asyncshift.runner.discover import discover
from asyncshift.runner.results import FileResult, read_facts

__all__ = ["FileResult", "discover", "read_facts"]
