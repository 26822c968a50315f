"""Where the real-world harness keeps what it downloads and builds, and its small tools.

Everything lives under `~/.cache/asyncshift-tests` (or `$ASYNCSHIFT_TEST_CACHE`), shared by the
test groups and by concurrent pytest runs (one builder per entry, by file lock).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ASYNCSHIFT_TEST_CACHE") or Path.home() / ".cache" / "asyncshift-tests")
PIP_TIMEOUT = 600  # seconds for one pip command; a cold cache installs about 20 packages


class HarnessError(RuntimeError):
    """The harness could not download, assemble or install a project."""


@contextmanager
def locked(key: str) -> Iterator[None]:
    """One builder at a time per cache entry (two pytest runs may share the cache)."""
    (CACHE / "locks").mkdir(parents=True, exist_ok=True)
    with (CACHE / "locks" / f"{key}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip(python: str, *args: str, what: str) -> None:
    run = subprocess.run(
        [python, "-m", "pip", *args, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    if run.returncode != 0:
        raise HarnessError(
            f"{what} failed (pip {' '.join(args)}, exit {run.returncode}):\n"
            f"{run.stdout[-3000:]}{run.stderr[-3000:]}"
        )


def digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
