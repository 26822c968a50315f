"""Speed of ``asyncshift check`` against libcst's bare parse of the same files, in one run.

    .venv/bin/python -m benchmarks.check_speed [--files 600] [PATH]

Without PATH it generates a FastAPI + SQLAlchemy service of about --files modules in a temp
folder: layers that import each other (models with relationships, crud, repositories,
services, routers under one app factory); one router in ten has an async endpoint reaching
sync session I/O through every layer. Prints files/s for
libcst's parse and re-emit alone (one process), for ``check`` cold with one and with two
processes, and warm (every file in the content-hash cache), and the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst

from asyncshift.check.run import check_paths
from asyncshift.runner import FactsCache, discover

DB = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

engine = create_engine("sqlite://", pool_size=5, max_overflow=0, pool_timeout=None)
SessionLocal = sessionmaker(engine)


class Base(DeclarativeBase):
    pass


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""

MODEL = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base


class Owner{n}(Base):
    __tablename__ = "owners_{n}"
    id: Mapped[int] = mapped_column(primary_key=True)
    items: Mapped[list["Item{n}"]] = relationship(back_populates="owner")


class Item{n}(Base):
    __tablename__ = "items_{n}"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners_{n}.id"))
    owner: Mapped[Owner{n}] = relationship(back_populates="items")
"""

CRUD = """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.model_{n} import Item{n}, Owner{n}


def get_owner(db: Session, owner_id: int) -> Owner{n} | None:
    return db.get(Owner{n}, owner_id)


def list_items(db, offset=0, limit=100):
    return list(db.scalars(select(Item{n}).offset(offset).limit(limit)))
"""

REPOSITORY = """\
from app.crud import crud_{n}


class OwnerRepository{n}:
    def __init__(self, session):
        self.session = session

    def get(self, owner_id):
        return crud_{n}.get_owner(self.session, owner_id)

    def count_items(self):
        return len(crud_{n}.list_items(self.session))
"""

SERVICE = """\
import time

from app.crud.crud_{n} import list_items
from app.repositories.repository_{n} import OwnerRepository{n}


class Service{n}:
    def __init__(self, db):
        self.owners = OwnerRepository{n}(db)
        self.db = db

    def summary(self, owner_id):
        owner = self.owners.get(owner_id)
        return {{"owner": owner, "items": len(list_items(self.db))}}

    def slow_report(self):
        time.sleep(0.01)
        return self.owners.count_items()
"""

ROUTE = """\
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import get_db
from app.services.service_{n} import Service{n}

router = APIRouter(prefix="/owners{n}")
SessionDep = Annotated[Session, Depends(get_db)]


@router.get("/{{owner_id}}")
{maybe_async}def read_owner(owner_id: int, db: SessionDep):
    return Service{n}(db).summary(owner_id)


@router.get("/report")
def report(db: SessionDep):
    return Service{n}(db).slow_report()
"""

LAYERS = {
    "models": ("model", MODEL),
    "crud": ("crud", CRUD),
    "repositories": ("repository", REPOSITORY),
    "services": ("service", SERVICE),
    "routes": ("route", ROUTE),
}


def generate(root: Path, files: int) -> None:
    """A service in layers that import each other: models with relationships, a crud module,
    a repository class, a service and a router per group of five files; one router in ten
    has an async endpoint that reaches sync session I/O through all the layers (F4)."""
    app = root / "app"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "db.py").write_text(DB)
    groups = max(files // len(LAYERS), 1)
    for folder, (stem, template) in LAYERS.items():
        (app / folder).mkdir()
        (app / folder / "__init__.py").write_text("")
        for n in range(groups):
            maybe_async = "async " if n % 10 == 0 else ""
            (app / folder / f"{stem}_{n}.py").write_text(
                template.format(n=n, maybe_async=maybe_async)
            )
    imports = "\n".join(f"from app.routes import route_{n}" for n in range(groups))
    includes = "\n".join(
        f"    app.include_router(route_{n}.router, prefix='/api')" for n in range(groups)
    )
    (app / "main.py").write_text(
        f"from fastapi import FastAPI\n{imports}\n\n\ndef create_app():\n"
        f"    app = FastAPI()\n{includes}\n    return app\n"
    )


def bare_parse(files: list[Path]) -> float:
    """Seconds for libcst to parse and re-emit every file, in one process: the floor."""
    sources = [f.read_text() for f in files]
    start = time.perf_counter()
    for source in sources:
        cst.parse_module(source).code  # noqa: B018 - parse and re-emit
    return time.perf_counter() - start


def arguments(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("path", nargs="?")
    parser.add_argument("--files", type=int, default=600)
    return parser.parse_args()


@contextmanager
def measured_tree(doc: str) -> Iterator[tuple[Path, list[Path], float]]:
    """The tree to measure (PATH, or one generated in a temp folder), its files, and libcst's
    bare parse time over them."""
    args = arguments(doc)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.path) if args.path else Path(tmp)
        if not args.path:
            generate(root, args.files)
        files = discover([root])
        yield root, files, bare_parse(files)


def main() -> None:
    with measured_tree(__doc__) as (root, files, bare):
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
