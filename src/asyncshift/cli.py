"""The ``asyncshift`` command line: argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from asyncshift._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncshift",
        description=(
            "Move a FastAPI + SQLAlchemy service from sync sessions to async ones, "
            "one safe step at a time."
        ),
    )
    parser.add_argument("--version", action="version", version=f"asyncshift {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0  # pragma: no cover - no subcommands yet


if __name__ == "__main__":
    sys.exit(main())
