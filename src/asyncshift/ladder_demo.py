"""The main job: the bundled legacy service, migrated step by step, its tests green after each.

    python -m asyncshift.ladder_demo [--keep FOLDER]

Copies the example service (sync FastAPI + SQLAlchemy, on SQLite) to a scratch folder, runs its
own test suite, shows `plan`, then runs `asyncshift migrate --test ...` over every step of the
ladder that exists, and shows `plan` again. Offline; nothing outside the scratch folder changes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asyncshift.examples import copy_example_service


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "1"}  # no progress bars: this is a transcript
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, check=False)


def _tests() -> str:
    return f"{sys.executable} -m pytest -q -p no:cacheprovider -x"


def _plan_summary(cwd: Path) -> str:
    done = _run([sys.executable, "-m", "asyncshift", "plan", "--no-cache", "."], cwd)
    return done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="migrate a copy in this new folder, and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = copy_example_service(args.keep or Path(scratch) / "example-service")
        print(f"The legacy example service, copied to {folder}")
        started = time.perf_counter()
        first = _run(_tests().split(), folder)
        summary = first.stdout.strip().splitlines()[-1] if first.stdout.strip() else "?"
        print(f"  its own tests before any step: {summary}")
        if first.returncode != 0:
            print(first.stdout[-2000:], first.stderr[-2000:], sep="\n")
            return 1
        print(f"  plan before: {_plan_summary(folder)}\n")
        print(f"$ asyncshift migrate --test '{_tests()}' .")
        migrated = _run(
            [sys.executable, "-m", "asyncshift", "migrate", "--test", _tests(), "."], folder
        )
        print(migrated.stdout.rstrip())
        if migrated.returncode != 0:
            print(migrated.stderr.rstrip())
        print(f"\n  plan after: {_plan_summary(folder)}")
        check = _run([sys.executable, "-m", "asyncshift", "check", "--no-cache", "."], folder)
        print(f"  check after: {check.stderr.strip().splitlines()[0]}")
        print(f"  {time.perf_counter() - started:.1f} s in all")
        return migrated.returncode


if __name__ == "__main__":
    sys.exit(main())
