"""Per-file outcomes: read, or skipped with the reason; one bad file never stops a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import libcst as cst

from asyncshift.model.facts import FileFacts, collect_facts


@dataclass(frozen=True)
class FileResult:
    path: str
    status: Literal["read", "skipped", "failed"]
    facts: FileFacts | None = None
    reason: str = ""


def read_facts(path: Path) -> FileResult:
    name = str(path)
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return FileResult(
            name, "skipped", reason=f"not UTF-8 ({error.reason} at byte {error.start})"
        )
    except OSError as error:
        return FileResult(name, "skipped", reason=f"unreadable ({error.strerror})")
    try:
        return FileResult(name, "read", facts=collect_facts(name, source))
    except cst.ParserSyntaxError as error:
        return FileResult(
            name, "skipped", reason=f"does not parse (line {error.raw_line}: {error.message})"
        )
    except Exception as error:  # an internal error in one file must not stop the others
        return FileResult(name, "failed", reason=f"internal error: {type(error).__name__}: {error}")
