from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus.corpus import Score, table

# Filled by the corpus tests, printed at the end of the run (whatever -s says).
SCORES: dict[str, Score] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "corpus: real-world projects from the package index, compared with hand-read ground truth"
        " (downloads once into ~/.cache/asyncshift-tests/sdists)",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SCORES:
        return
    terminalreporter.section("asyncshift corpus: findings against the hand-read ground truth")
    for line in table([SCORES[name] for name in sorted(SCORES)]):
        terminalreporter.write_line(line)
    for name in sorted(SCORES):
        for problem in SCORES[name].problems():
            terminalreporter.write_line(f"  {name}: {problem}")
        for _finding, entry in SCORES[name].known_false_positives:
            terminalreporter.write_line(
                f"  {name}: known false positive {entry.where()}: {entry.reason}"
            )


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def plan_options() -> list[str]:
    """`plan --no-cache` where this version of plan has it (issue 7 adds it)."""
    done = subprocess.run(
        [sys.executable, "-m", "asyncshift", "plan", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return ["--no-cache"] if "--no-cache" in done.stdout else []
