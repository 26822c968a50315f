"""check: read every file once, merge the repository facts, run the selected rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncshift.check.rules  # noqa: F401 - registers the rules
from asyncshift.check.finding import Finding
from asyncshift.check.registry import RULES
from asyncshift.config import Config
from asyncshift.model.collect import collect_facts
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel
from asyncshift.runner import FactsCache, FileResult, discover, read_all


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files_read: int = 0
    skipped: list[FileResult] = field(default_factory=list)

    def by_rule(self) -> Counter[str]:
        return Counter(f.code for f in self.findings)


def selected_rules(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[str]:
    unknown = [c for c in (*select, *ignore) if not any(code.startswith(c) for code in RULES)]
    if unknown:
        raise ValueError(f"unknown rule code(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    chosen = [c for c in RULES if not select or any(c.startswith(s) for s in select)]
    return [c for c in chosen if not any(c.startswith(i) for i in ignore)]


def _suppressed(finding: Finding, facts: FileFacts) -> bool:
    codes = facts.suppressions.get(finding.line, set())
    return "*" in codes or finding.code in codes


def check_facts(
    files: Iterable[FileFacts], codes: Sequence[str], session_factories: Iterable[str] = ()
) -> list[Finding]:
    model = RepoModel(files, session_factories)
    findings = []
    for facts in model.files.values():
        for code in codes:
            findings += [f for f in RULES[code].run(facts, model) if not _suppressed(f, facts)]
    return sorted(set(findings))


def check_paths(
    paths: Iterable[str | Path],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    jobs: int = 1,
    cache: FactsCache | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
    config: Config | None = None,
) -> Report:
    """``progress(total)`` returns the per-file tick, for a progress bar."""
    config = config or Config()
    codes = selected_rules(select, ignore)
    report = Report()
    facts: list[FileFacts] = []
    files = [f for f in discover(paths) if not config.excluded(f)]
    run_key = _run_key(cache, files, codes, config) if cache is not None else None
    if cache is not None and run_key is not None:
        cached = cache.get_run(run_key)
        if isinstance(cached, Report):
            return cached
    tick = progress(len(files)) if progress is not None else None
    for result in read_all(files, jobs, cache, tick):
        if result.facts is not None:
            facts.append(result.facts)
            report.files_read += 1
        else:
            report.skipped.append(result)
    report.findings = check_facts(facts, codes, config.session_factories)
    if cache is not None and run_key is not None:
        cache.put_run(run_key, report)
    return report


def _run_key(
    cache: FactsCache, files: Sequence[Path], codes: Sequence[str], config: Config
) -> str | None:
    """Every file's path and content, the rules and the settings: the same key, the same
    findings. None when a file cannot be read (the run reports it instead)."""
    parts = [*codes, "|", *config.session_factories, "|"]
    for path in files:
        try:
            parts += [str(path), FactsCache.key(path.read_bytes())]
        except OSError:
            return None
    return cache.run_key(parts)


def check_source(source: str, path: str = "snippet.py", codes: Sequence[str] = ()) -> list[Finding]:
    """The pure text-in, findings-out core, for one file (tests, editors)."""
    return check_facts([collect_facts(path, source)], codes or list(RULES))
