"""Source distributions from the package index, fetched once and unpacked once."""

from __future__ import annotations

import re
import shutil
import sys
import tarfile
from pathlib import Path

from tests.realworld.cache import CACHE, HarnessError, locked, pip


def fetch_sdist(distribution: str, version: str | None) -> Path:
    folder = CACHE / "sdists"
    with locked(f"sdist-{distribution}"):
        cached = find_sdist(folder, distribution, version)
        if cached:
            return cached
        folder.mkdir(parents=True, exist_ok=True)
        requirement = f"{distribution}=={version}" if version else distribution
        pip(
            sys.executable,
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(folder),
            requirement,
            what=f"downloading the {requirement} sdist",
        )
        found = find_sdist(folder, distribution, version)
        if not found:
            raise HarnessError(
                f"pip download of {requirement} left no {distribution}-*.tar.gz in {folder}"
            )
        return found


def find_sdist(folder: Path, distribution: str, version: str | None) -> Path | None:
    # The folder is shared with other test groups: `fastapi-*.tar.gz` also matches
    # fastapi-crudrouter's sdist, so only a version (digits first, no dash) counts.
    candidates = [
        p
        for p in folder.glob(f"{distribution}-*.tar.gz")
        if re.fullmatch(r"\d[^-]*", sdist_version(p, distribution))
        and (version is None or sdist_version(p, distribution) == version)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda p: version_key(sdist_version(p, distribution)))


def sdist_version(sdist: Path, distribution: str) -> str:
    return sdist.name[len(distribution) + 1 : -len(".tar.gz")]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def extracted(sdist: Path) -> Path:
    stem = sdist.name[: -len(".tar.gz")]
    target = CACHE / "sources" / stem
    with locked(f"source-{stem}"):
        if not (target / ".complete").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(sdist) as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(target.parent, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    archive.extractall(target.parent)
            if not target.is_dir():
                raise HarnessError(f"{sdist.name} does not unpack into a {stem}/ folder")
            (target / ".complete").write_text("")
    return target
