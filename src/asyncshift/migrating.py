"""The `migrate` command's output: a line per step as it goes, a summary table at the end."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asyncshift.config import ConfigError, load_config
from asyncshift.runner.migrate import MigrateError, StepRun, migrate
from asyncshift.runner.steps import ladder

EXIT_CLEAN, EXIT_RED, EXIT_ERROR = 0, 1, 2


def measure(paths: list[str]) -> tuple[str, int]:
    """(endpoints with a session that are async / all of them, findings left)."""
    from asyncshift.check.registry import RULES
    from asyncshift.check.run import check_facts
    from asyncshift.model.repo import RepoModel
    from asyncshift.planning import ASYNC, NO_SESSION, make_plan
    from asyncshift.runner import discover, read_all

    facts = [r.facts for r in read_all(discover(paths)) if r.facts is not None]
    plan = make_plan(RepoModel(facts))
    with_session = [e for e in plan.endpoints if e.state != NO_SESSION]
    done = sum(e.state == ASYNC for e in with_session)
    findings = len(check_facts(facts, list(RULES)))
    return f"{done}/{len(with_session)} async", findings


def _line(run: StepRun) -> str:
    done = "already done" if run.tests == "no change" else f"{len(run.changed)} changed"
    created = f", {len(run.created)} created" if run.created else ""
    return f"{run.step}: {done}{created}; tests {run.tests}"


def run_migrate(args: argparse.Namespace) -> int:
    steps = ladder()
    if args.to is not None:
        names = [s.name for s in steps]
        if args.to not in names:
            print(
                f"asyncshift migrate: unknown step {args.to!r} (steps: {', '.join(names)})",
                file=sys.stderr,
            )
            return EXIT_ERROR
        steps = steps[: names.index(args.to) + 1]

    def record(run: StepRun) -> None:
        run.endpoints, run.findings = measure(args.paths)

    def show(run: StepRun) -> None:
        print(_line(run), file=sys.stderr, flush=True)

    before = StepRun("(before)", "")
    record(before)
    try:
        config = load_config(args.paths)
        result = migrate(
            steps, args.paths, args.test, args.commit, args.jobs, Path.cwd(), record, show, config
        )
    except (MigrateError, ConfigError) as error:
        print(f"asyncshift migrate: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{'step':<16} {'files':>5} {'endpoints':>14} {'findings':>8}  tests")
    print(f"{before.step:<16} {'':>5} {before.endpoints:>14} {before.findings:>8}")
    for run in result.runs:
        files = len(run.changed) + len(run.created)
        print(f"{run.step:<16} {files:>5} {run.endpoints:>14} {run.findings:>8}  {run.tests}")
    for run in result.runs:
        for line in run.left_alone:
            print(f"  {run.step}: left alone: {line}")
    if result.stopped_at is not None:
        run = result.runs[-1]
        for failure in run.failed_files:
            print(f"failed: {failure}", file=sys.stderr)
        if run.test_output:
            print(f"\nTests after {run.step} (last lines):\n{run.test_output}", file=sys.stderr)
        print(
            f"\nasyncshift migrate: stopped at {run.step}; its changes were undone "
            f"({len(run.changed)} file(s) restored, {len(run.created)} removed).",
            file=sys.stderr,
        )
        return EXIT_RED
    return EXIT_CLEAN
