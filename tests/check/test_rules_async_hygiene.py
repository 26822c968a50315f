"""ASH005-ASH008 and suppressions, on tiny snippets; silent cases first."""

from __future__ import annotations

import textwrap

from asyncshift.check import check_source
from tests.check.snippets import check_fires, check_noop

# -- ASH005 BaseHTTPMiddleware that manages sessions -------------------------------------------


def test_ash005_silent_for_middleware_without_sessions() -> None:
    check_noop(
        """\
        from starlette.middleware.base import BaseHTTPMiddleware

        class Timing(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                return await call_next(request)
        """,
        "ASH005",
    )


def test_ash005_fires_for_sessions_in_http_middleware() -> None:
    check_fires(
        """\
        from fastapi import FastAPI
        from starlette.middleware.base import BaseHTTPMiddleware
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())
        app = FastAPI()

        class DBSession(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                try:
                    return await call_next(request)
                finally:
                    Session.remove()

        @app.middleware("http")
        async def db_session(request, call_next):
            request.state.db = Session()
            return await call_next(request)
        """,
        "ASH005",
        [12, 16],
    )


# -- ASH006 close() where remove() is meant ----------------------------------------------------


def test_ash006_silent_for_remove_and_for_plain_sessions() -> None:
    check_noop(
        """\
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())
        SessionLocal = sessionmaker()
        Session.remove()

        def work():
            db = SessionLocal()
            db.close()
        """,
        "ASH006",
    )


def test_ash006_fires_for_close_on_a_registry() -> None:
    check_fires(
        """\
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())

        def teardown():
            Session.close()
        """,
        "ASH006",
        [5],
    )


# -- ASH007 blocking calls inside async def ----------------------------------------------------


def test_ash007_silent_in_sync_code_and_for_async_sleep() -> None:
    check_noop(
        """\
        import asyncio, time

        def slow():
            time.sleep(1)

        async def fine():
            await asyncio.sleep(1)
        """,
        "ASH007",
    )


def test_ash007_fires_for_blocking_calls_in_async_def() -> None:
    check_fires(
        """\
        import time
        import requests
        from subprocess import run

        async def handler():
            time.sleep(1)
            requests.get("http://example.test")
            run(["ls"])
        """,
        "ASH007",
        [6, 7, 8],
    )


def test_ash007_follows_the_call_graph_to_blocking_calls() -> None:
    found = check_source(
        textwrap.dedent(
            """\
            import time

            def backoff():
                time.sleep(1)

            def retry():
                backoff()

            async def handler():
                retry()
            """
        ),
        codes=["ASH007"],
    )
    assert [f.line for f in found] == [10]
    assert "snippet.retry -> snippet.backoff -> time.sleep()" in found[0].message


# -- ASH008 relationship reads in async def (heuristic) ----------------------------------------

MODELS = """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship, selectinload

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    items: Mapped[list["Item"]] = relationship(back_populates="owner")
    name: Mapped[str]

class Item(Base):
    __tablename__ = "items"
"""


def test_ash008_silent_for_columns_eager_loads_and_sync_code() -> None:
    check_noop(
        MODELS
        + """
async def names(db: AsyncSession):
    user = await db.get(User, 1)
    return user.name

async def eager(db: AsyncSession):
    user = (await db.execute(select(User).options(selectinload(User.items)))).scalar_one()
    return user.items

def sync_read(db):
    return db.get(User, 1).items

async def body(data: CreateUser):
    return data.items  # a request body's field, not a loaded object

def load_with_items(db):
    return db.get(User, 1, options=[selectinload(User.items)])

async def helper_loads(db: AsyncSession):
    user = await adapt(load_with_items)(db)
    return user.items
""",
        "ASH008",
    )


def test_ash008_fires_for_a_relationship_read_without_eager_loading() -> None:
    check_fires(
        MODELS
        + """
async def items(db: AsyncSession):
    user = await db.get(User, 1)
    return user.items

async def listed(db: AsyncSession):
    users = (await db.execute(select(User))).scalars().all()
    return [u.name for u in users if users[0].items]

async def looped(db: AsyncSession):
    for user in await db.scalars(select(User).options(selectinload(User.items))):
        user.items
    for other in await db.scalars(select(User)):
        other.items
""",
        "ASH008",
        [18, 28],
    )


# -- suppression comments ----------------------------------------------------------------------


def test_a_suppression_comment_silences_its_line_only() -> None:
    check_fires(
        """\
        import time

        async def handler():
            time.sleep(1)  # asyncshift: ignore[ASH007]
            time.sleep(2)  # asyncshift: ignore[ASH002]
            time.sleep(3)  # asyncshift: ignore
        """,
        "ASH007",
        [5],
    )
