"""The ``asyncshift`` command line: argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--format", choices=("text", "json", "github"), default="text")
    check.add_argument("--select", type=_codes, default=[], help="only these codes (prefixes)")
    check.add_argument("--ignore", type=_codes, default=[], help="not these codes (prefixes)")

    commands.add_parser("rules", help="list the check rules and their codes")
    return parser


def _check(args: argparse.Namespace) -> int:
    from asyncshift.check.output import render, summary
    from asyncshift.check.run import check_paths

    try:
        report = check_paths(args.paths, args.select, args.ignore)
    except ValueError as error:
        print(f"asyncshift check: {error}", file=sys.stderr)
        return EXIT_ERROR
    rendered = render(report, args.format)
    if rendered or args.format == "json":
        print(rendered)
    print(summary(report), file=sys.stderr)
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


def _rules() -> int:
    from asyncshift.check import RULES

    for rule in RULES.values():
        print(f"{rule.code}  {rule.name:<28} {rule.summary}")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_CLEAN
    if args.command == "check":
        return _check(args)
    return _rules()


if __name__ == "__main__":
    sys.exit(main())
