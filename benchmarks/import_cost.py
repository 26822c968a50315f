"""What `import asyncshift` costs, from `python -X importtime`, measured in fresh interpreters.

    .venv/bin/python -m benchmarks.import_cost [--runs 7] [--src PATH]

A WSGI app or a queue worker that only needs ``session_scope`` should pay for asyncshift and
SQLAlchemy, not for FastAPI, Starlette and pydantic. Each run starts a new interpreter with
``-X importtime -c "import asyncshift"`` and reads the cumulative microseconds of the top-level
modules; figures are medians over runs. ``--src`` points at another checkout's ``src`` folder
(say, an older commit unpacked with ``git archive <commit> src | tar -x -C /tmp/old``) to
measure before/after in one run on this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

WATCHED = ("asyncshift", "sqlalchemy", "fastapi", "starlette", "pydantic", "anyio")
_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def cumulative_times(code: str, src: Path | None) -> dict[str, int]:
    """µs spent importing each watched package (absent: not imported at all).

    ``-X importtime`` prints children before their parent, indented deeper. A package's cost
    is the sum of the cumulative times of its modules whose parent import is outside it (so
    ``starlette`` and ``starlette.types``, imported side by side, both count).
    """
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    lines = [
        (len(m.group(3)), m.group(4), int(m.group(2)))
        for m in map(_LINE.match, done.stderr.splitlines())
        if m
    ]
    times: dict[str, int] = {}
    for index, (indent, name, cumulative) in enumerate(lines):
        package = name.partition(".")[0]
        if package not in WATCHED:
            continue
        parent = next((n for i, n, _ in lines[index + 1 :] if i < indent), None)
        if parent is None or parent.partition(".")[0] != package:
            times[package] = times.get(package, 0) + cumulative
    return times


def measure(code: str, runs: int, src: Path | None) -> dict[str, float]:
    samples = [cumulative_times(code, src) for _ in range(runs)]
    names = {name for sample in samples for name in sample}
    return {name: statistics.median(s.get(name, 0) for s in samples) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--src", type=Path, help="another checkout's src folder to compare")
    args = parser.parse_args()

    floor = measure("import sqlalchemy.orm, sqlalchemy.ext.asyncio", args.runs, None)
    floor_ms = floor["sqlalchemy"] / 1000
    subjects = [("this checkout", None)] + ([(f"--src {args.src}", args.src)] if args.src else [])
    print(f"python -X importtime, median of {args.runs} fresh interpreters\n")
    header = f"{'import asyncshift from':<40} {'asyncshift ms':>14} {'x sqlalchemy':>13}"
    print(f"{header}  web stack pulled in")
    for label, src in subjects:
        times = measure("import asyncshift", args.runs, src)
        total_ms = times.get("asyncshift", 0) / 1000
        web = [
            f"{name} {times[name] / 1000:.0f} ms"
            for name in ("fastapi", "starlette", "pydantic")
            if name in times
        ]
        print(
            f"{label:<40} {total_ms:>14.1f} {total_ms / floor_ms:>12.2f}x  "
            f"{', '.join(web) or 'none'}"
        )
    print(f"\nfloor: import sqlalchemy.orm + sqlalchemy.ext.asyncio = {floor_ms:.1f} ms")


if __name__ == "__main__":
    main()
