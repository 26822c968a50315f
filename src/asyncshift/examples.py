"""Where the legacy example service lives, in a source checkout and in an installed wheel.

The service (`guides/example-service` in the repository) ships inside the package as
`asyncshift/example_service/`, so the demo can copy it from any installation.
"""

from __future__ import annotations

import shutil
from pathlib import Path

_MARKER = Path("app") / "main.py"
# Files a run of the service leaves behind; a copy starts clean.
_RUN_LEFTOVERS = ("__pycache__", ".pytest_cache", "*.db", "exports")


def example_service_path() -> Path:
    """The folder holding the example service (`app/`, `tests/`, `pyproject.toml`)."""
    here = Path(__file__).resolve().parent
    candidates = (
        here / "example_service",  # installed from a wheel
        here.parents[1] / "guides" / "example-service",  # source checkout, editable install
    )
    for candidate in candidates:
        if (candidate / _MARKER).is_file():
            return candidate
    raise FileNotFoundError(
        "the example service is not where asyncshift expects it; looked in "
        + " and ".join(str(c) for c in candidates)
        + ". Reinstall asyncshift from its wheel, or run from a full source checkout."
    )


def copy_example_service(destination: Path) -> Path:
    """A clean copy of the example service at `destination` (which must not exist yet)."""
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(
            f"{destination} already exists; give copy_example_service() a new folder so "
            "nothing of yours is overwritten."
        )
    shutil.copytree(
        example_service_path(), destination, ignore=shutil.ignore_patterns(*_RUN_LEFTOVERS)
    )
    return destination
