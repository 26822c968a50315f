"""The ``asyncshift`` command line: argument parsing and output only."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from asyncshift._version import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> list[str]:
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncshift",
        description=(
            "Move a FastAPI + SQLAlchemy service from sync sessions to async ones, "
            "one safe step at a time."
        ),
    )
    parser.add_argument("--version", action="version", version=f"asyncshift {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="report where F1-F4 lurk (read-only)",
        description="Report hazards with stable codes. Exit 0: clean; 1: findings; 2: error.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument("--format", choices=("text", "json", "github"), default="text")
    check.add_argument("--select", type=_codes, default=[], help="only these codes (prefixes)")
    check.add_argument("--ignore", type=_codes, default=[], help="not these codes (prefixes)")
    check.add_argument("--jobs", "-j", type=int, default=1, help="parse in N processes")
    check.add_argument(
        "--no-cache", action="store_true", help="do not read or write .asyncshift_cache/"
    )

    plan = commands.add_parser(
        "plan", help="show where each endpoint stands on the ladder and what holds it back"
    )
    plan.add_argument("paths", nargs="*", metavar="PATH")
    plan.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    plan.add_argument("--jobs", "-j", type=int, default=1, help="parse in N processes")
    plan.add_argument("--no-cache", action="store_true", help="parse every file afresh")

    migrate = commands.add_parser(
        "migrate",
        help="run the ladder: each step, then your tests; stop and undo at the first red step",
        description=(
            "Apply the ladder's steps in order from wherever the code stands, running the test "
            "command after each; the first step that leaves the tests red is undone and the run "
            "stops. Exit 0: green; 1: a step was undone; 2: usage or internal error."
        ),
    )
    migrate.add_argument("paths", nargs="*", metavar="PATH")
    migrate.add_argument("--to", metavar="STEP", help="stop after this step")
    migrate.add_argument(
        "--test", metavar="CMD", help="the project's test command, e.g. 'pytest -q'"
    )
    migrate.add_argument("--commit", action="store_true", help="commit each green step on its own")
    migrate.add_argument("--jobs", "-j", type=int, default=1, help="work in N processes")

    commands.add_parser("rules", help="list the check rules and their codes")
    commands.add_parser("steps", help="list the migration ladder's steps, in order")

    apply = commands.add_parser(
        "apply",
        help="apply one ladder step",
        description="Apply one step. Exit 0: nothing changed; 1: changed (or would); 2: error.",
    )
    apply.add_argument("step", metavar="STEP")
    apply.add_argument("paths", nargs="*", metavar="PATH")
    apply.add_argument("--jobs", "-j", type=int, default=1, help="work in N processes")
    how = apply.add_mutually_exclusive_group()
    how.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    how.add_argument("--check", action="store_true", help="exit 1 if anything would change")
    return parser


def _check(args: argparse.Namespace) -> int:
    from asyncshift.check.output import render, summary
    from asyncshift.check.run import check_paths
    from asyncshift.config import load_config
    from asyncshift.runner import FactsCache

    cache = None if args.no_cache else FactsCache()
    with _progress_bar() as progress:
        try:
            config = load_config(args.paths)
            select = args.select or list(config.select)
            ignore = args.ignore or list(config.ignore)
            report = check_paths(args.paths, select, ignore, args.jobs, cache, progress, config)
        except ValueError as error:
            print(f"asyncshift check: {error}", file=sys.stderr)
            return EXIT_ERROR
    rendered = render(report, args.format)
    if rendered or args.format == "json":
        print(rendered)
    print(summary(report), file=sys.stderr)
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


def _plan(args: argparse.Namespace) -> int:
    from asyncshift.config import ConfigError, load_config
    from asyncshift.model.repo import RepoModel
    from asyncshift.planning import make_plan, render_plan
    from asyncshift.runner import FactsCache, discover, read_all

    try:
        config = load_config(args.paths)
    except ConfigError as error:
        print(f"asyncshift plan: {error}", file=sys.stderr)
        return EXIT_ERROR
    files = [f for f in discover(args.paths) if not config.excluded(f)]
    cache = None if args.no_cache else FactsCache()
    results = read_all(files, max(args.jobs, 1), cache)
    facts = (r.facts for r in results if r.facts is not None)
    model = RepoModel(facts, config.session_factories)
    print(render_plan(make_plan(model), args.format))
    for skipped in (r for r in results if r.facts is None):
        print(f"{skipped.status}: {skipped.path}: {skipped.reason}", file=sys.stderr)
    return EXIT_CLEAN


@contextmanager
def _progress_bar() -> Iterator[Callable[[int], Callable[[], None]] | None]:
    """A rich progress bar on a terminal; nothing in CI or when output is piped."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:

        def start(total: int) -> Callable[[], None]:
            task = bar.add_task("reading", total=total)
            return lambda: bar.advance(task)

        yield start


def _rules() -> int:
    from asyncshift.check import RULES

    for rule in RULES.values():
        print(f"{rule.code}  {rule.name:<28} {rule.summary}")
    return EXIT_CLEAN


def _steps() -> int:
    from asyncshift.runner.steps import ladder

    steps = ladder()
    if not steps:
        print("no steps yet: the migration ladder is being built (see guides/cli.md)")
    for position, step in enumerate(steps, start=1):
        print(f"{position}. {step.name:<16} {step.summary}")
    return EXIT_CLEAN


def _apply(args: argparse.Namespace) -> int:
    from asyncshift.runner.apply import Mode, apply_step
    from asyncshift.runner.steps import STEPS, ladder

    step = STEPS.get(args.step)
    if step is None:
        known = ", ".join(s.name for s in ladder()) or "none yet"
        print(f"asyncshift apply: unknown step {args.step!r} (steps: {known})", file=sys.stderr)
        return EXIT_ERROR
    from asyncshift.config import ConfigError, load_config

    try:
        config = load_config(args.paths)
    except ConfigError as error:
        print(f"asyncshift apply: {error}", file=sys.stderr)
        return EXIT_ERROR
    mode: Mode = "diff" if args.diff else "check" if args.check else "write"
    report = apply_step(step, args.paths, mode, jobs=args.jobs, config=config)
    for outcome in report.outcomes:
        if outcome.diff and mode == "diff":
            print(outcome.diff, end="")
        for line in outcome.reports:
            print(f"{outcome.path}: left alone: {line}", file=sys.stderr)
        if outcome.status in ("skipped", "failed"):
            print(f"{outcome.status}: {outcome.path}: {outcome.reason}", file=sys.stderr)
    verb = "would change" if mode != "write" else "changed"
    print(
        f"{step.name}: {report.count('changed')} files {verb}, {report.count('unchanged')} "
        f"unchanged, {report.count('skipped')} skipped, {report.count('failed')} failed",
        file=sys.stderr,
    )
    if report.count("failed"):
        return EXIT_ERROR
    return EXIT_FINDINGS if report.count("changed") else EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        # Paths may come after options (`apply STEP --diff src/`): argparse leaves those over.
        args, leftover = parser.parse_known_args(argv)
        if leftover and (not hasattr(args, "paths") or any(a.startswith("-") for a in leftover)):
            parser.error(f"unrecognized arguments: {' '.join(leftover)}")
    except SystemExit as exit_:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exit_.code or 0)
    if hasattr(args, "paths"):
        args.paths = [*(args.paths or []), *leftover] or ["."]
    if args.command is None:
        parser.print_help()
        return EXIT_CLEAN
    if args.command == "check":
        return _check(args)
    if args.command == "plan":
        return _plan(args)
    if args.command in ("steps", "apply", "migrate"):
        # Importing the package registers the steps (a mapped package: mypy cannot follow it).
        importlib.import_module("asyncshift.codemods")
        if args.command == "migrate":
            from asyncshift.migrating import run_migrate

            return run_migrate(args)
        return _steps() if args.command == "steps" else _apply(args)
    return _rules()


if __name__ == "__main__":
    sys.exit(main())
