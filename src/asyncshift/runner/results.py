"""Per-file outcomes: read, or skipped with the reason; one bad file never stops a run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Literal

from asyncshift.model.collect import collect_facts
from asyncshift.model.records import FileFacts
from asyncshift.runner.cache import FactsCache


@dataclass(frozen=True)
class FileResult:
    path: str
    status: Literal["read", "skipped", "failed"]
    facts: FileFacts | None = None
    reason: str = ""


def read_facts(path: Path, cache: FactsCache | None = None) -> FileResult:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return FileResult(name, "skipped", reason=f"unreadable ({error.strerror})")
    key = FactsCache.key(data) if cache is not None else ""
    if cache is not None and (cached := cache.get(key, name)) is not None:
        return FileResult(name, "read", facts=cached)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return FileResult(
            name, "skipped", reason=f"not UTF-8 ({error.reason} at byte {error.start})"
        )
    try:
        facts = collect_facts(name, source)
    except SyntaxError as error:
        return FileResult(
            name,
            "skipped",
            reason=f"does not parse (line {error.lineno}: {error.msg}); it is left as it is",
        )
    except ValueError as error:  # source with NUL bytes
        return FileResult(name, "skipped", reason=f"does not parse ({error}); it is left as it is")
    except Exception as error:  # an internal error in one file must not stop the others
        return FileResult(name, "failed", reason=f"internal error: {type(error).__name__}: {error}")
    if cache is not None:
        cache.put(key, facts)
    return FileResult(name, "read", facts=facts)


def read_all(
    paths: Sequence[Path],
    jobs: int = 1,
    cache: FactsCache | None = None,
    progress: Callable[[], None] | None = None,
) -> list[FileResult]:
    """Every file's result, in order; ``jobs`` > 1 parses in that many processes.

    ``progress`` is called once per file read, for a progress bar.
    """
    tick = progress or (lambda: None)
    results = []
    if jobs <= 1 or len(paths) < 2 * jobs:
        for path in paths:
            results.append(read_facts(path, cache))
            tick()
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(read_facts, paths, repeat(cache), chunksize=16):
            results.append(result)
            tick()
    return results
