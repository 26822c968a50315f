"""Speed of ``asyncshift check`` against libcst's bare parse of the same files, in one run.

    .venv/bin/python -m benchmarks.check_speed [--files 600] [PATH]

Without PATH it generates a FastAPI + SQLAlchemy service of --files modules in a temp folder
(endpoints, crud, dependencies; one module in ten with an F4 hazard). Prints files/s for
libcst's parse and re-emit alone (one process), for ``check`` cold with one and with two
processes, and warm (every file in the content-hash cache), and the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import libcst as cst

from asyncshift.check.run import check_paths
from asyncshift.runner import FactsCache, discover

MODULE = '''\
"""Module {n}."""
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import SessionLocal, get_db
from app.models import Item{n} as Item

router = APIRouter()


def get_item(db: Session, item_id: int) -> Item | None:
    return db.execute(select(Item).where(Item.id == item_id)).scalar_one_or_none()


def list_items(db: Session, offset: int = 0, limit: int = 100) -> list[Item]:
    return list(db.scalars(select(Item).offset(offset).limit(limit)))


@router.get("/items{n}/{{item_id}}")
def read_item(item_id: int, db: Annotated[Session, Depends(get_db)]) -> dict[str, object]:
    item = get_item(db, item_id)
    return {{"id": item_id, "found": item is not None}}


@router.get("/items{n}")
{maybe_async}def read_items(db: Annotated[Session, Depends(get_db)]) -> list[dict[str, object]]:
    return [{{"id": i.id}} for i in db.scalars(select(Item)).all()]


class Repository{n}:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return len(list_items(self.db))
'''


def generate(root: Path, files: int) -> None:
    package = root / "app" / "routes"
    package.mkdir(parents=True)
    for n in range(files):
        maybe_async = "async " if n % 10 == 0 else ""  # one module in ten has an F4 hazard
        (package / f"route_{n}.py").write_text(MODULE.format(n=n, maybe_async=maybe_async))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?")
    parser.add_argument("--files", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.path) if args.path else Path(tmp)
        if not args.path:
            generate(root, args.files)
        files = discover([root])
        sources = [f.read_text() for f in files]
        start = time.perf_counter()
        for source in sources:
            cst.parse_module(source).code  # noqa: B018 - parse and re-emit: libcst's floor
        bare = time.perf_counter() - start
        timings: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as cache_dir:
            cache = FactsCache(Path(cache_dir))
            for label, jobs, with_cache in (
                ("check, cold, --jobs 1", 1, None),
                ("check, cold, --jobs 2", 2, cache),  # fills the cache
                ("check, warm cache", 2, cache),
            ):
                start = time.perf_counter()
                report = check_paths([root], jobs=jobs, cache=with_cache)
                timings[label] = time.perf_counter() - start
    print(f"{len(files)} files, {len(report.findings)} findings")
    print(f"{'libcst parse + re-emit':<24} {bare:6.2f} s {len(files) / bare:8.1f} files/s")
    for label, seconds in timings.items():
        print(
            f"{label:<24} {seconds:6.2f} s {len(files) / seconds:8.1f} files/s"
            f"   {seconds / bare:5.2f}x bare parse"
        )
    warm, cold = timings["check, warm cache"], timings["check, cold, --jobs 2"]
    print(f"warm / cold (--jobs 2): {warm / cold:.2f}x")


if __name__ == "__main__":
    main()
