"""Each rule on tiny snippets: the cases that must stay silent first, then those that fire."""

from __future__ import annotations

import textwrap

from asyncshift.check import check_source

APP = "from fastapi import FastAPI\napp = FastAPI()\n"


def findings(source: str, code: str) -> list[int]:
    return [f.line for f in check_source(textwrap.dedent(source), codes=[code])]


def check_noop(source: str, code: str) -> None:
    assert findings(source, code) == []


def check_fires(source: str, code: str, lines: list[int]) -> None:
    assert findings(source, code) == lines


# -- ASH001 thread-local scoped_session in an ASGI app ----------------------------------------


def test_ash001_silent_without_an_asgi_app() -> None:
    check_noop(
        """\
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())
        """,
        "ASH001",
    )


def test_ash001_silent_for_request_scoping_and_a_custom_scopefunc() -> None:
    check_noop(
        APP
        + """\
from sqlalchemy.orm import scoped_session, sessionmaker
from asyncshift import request_scoped_session
Session = request_scoped_session(sessionmaker())
Other = scoped_session(sessionmaker(), scopefunc=current_request_id)
""",
        "ASH001",
    )


def test_ash001_fires_for_thread_local_registries() -> None:
    check_fires(
        APP
        + """\
import threading
from sqlalchemy import orm
Session = orm.scoped_session(orm.sessionmaker())
Again = orm.scoped_session(orm.sessionmaker(), scopefunc=threading.get_ident)
""",
        "ASH001",
        [5, 6],
    )


# -- ASH002 sync session I/O inside async def -------------------------------------------------


def test_ash002_silent_for_sync_endpoints_and_awaited_async_sessions() -> None:
    check_noop(
        """\
        from sqlalchemy.orm import Session
        from sqlalchemy.ext.asyncio import AsyncSession

        def read(db: Session):
            return db.execute("SELECT 1")

        async def read_async(db: AsyncSession):
            return await db.execute("SELECT 1")
        """,
        "ASH002",
    )


def test_ash002_silent_for_names_that_are_not_sync_sessions() -> None:
    check_noop(
        """\
        from sqlalchemy.ext.asyncio import async_sessionmaker
        AsyncSessionLocal = async_sessionmaker()

        async def handler(cache):
            cache.get("key")
            async with AsyncSessionLocal() as db:
                await db.commit()
        """,
        "ASH002",
    )


def test_ash002_fires_for_annotated_made_and_registry_sessions() -> None:
    check_fires(
        """\
        from typing import Annotated
        from fastapi import Depends
        from sqlalchemy.orm import Session, scoped_session, sessionmaker
        SessionLocal = sessionmaker()
        Registry = scoped_session(SessionLocal)

        async def a(db: Annotated[Session, Depends(get_db)]):
            db.query(User).all()

        async def b():
            with SessionLocal() as db:
                db.commit()

        async def c():
            Registry.execute("SELECT 1")

        async def d(engine):
            with Session(engine) as s:
                s.get(User, 1)
        """,
        "ASH002",
        [8, 12, 15, 19],
    )


def test_ash002_follows_annotated_aliases_across_files() -> None:
    from asyncshift.check.run import check_facts
    from asyncshift.model.facts import collect_facts

    deps = collect_facts(
        "deps.py",
        "from typing import Annotated\nfrom fastapi import Depends\n"
        "from sqlalchemy.orm import Session\n"
        "SessionDep = Annotated[Session, Depends(get_db)]\n",
    )
    routes = collect_facts(
        "routes.py",
        "from deps import SessionDep\n\n"
        "async def read(db: SessionDep, request: Request):\n"
        "    request.get('x')\n"
        "    return db.exec(select(User)).all()\n",
    )
    found = check_facts([deps, routes], ["ASH002"])
    assert [(f.path, f.line) for f in found] == [("routes.py", 5)]


LEGACY_CRUD = """\
from sqlalchemy.orm import Session

def get_user(db: Session, user_id):
    return db.get(User, user_id)

def get_user_name(db, user_id):
    return get_user(db, user_id).name

def format_name(name):
    return name.title()
"""


def test_ash002_silent_for_awaited_adapted_calls_and_io_free_helpers() -> None:
    check_noop(
        LEGACY_CRUD
        + """
async def handler(db):
    name = await adapt(get_user_name)(db, 1)
    return format_name(name)
""",
        "ASH002",
    )


def test_ash002_follows_the_call_graph_to_sync_session_io() -> None:
    found = check_source(
        LEGACY_CRUD
        + """
async def handler(db):
    return get_user_name(db, 1)
""",
        codes=["ASH002"],
    )
    assert [(f.line, f.code) for f in found] == [(13, "ASH002")]
    assert "get_user_name -> get_user -> sync session I/O" in found[0].message


def test_ash002_follows_self_method_calls() -> None:
    found = check_source(
        textwrap.dedent(
            """\
            from sqlalchemy.orm import Session

            class Reports:
                def _rows(self, db: Session):
                    return db.execute("SELECT 1").all()

                async def build(self, db):
                    return self._rows(db)
            """
        ),
        codes=["ASH002"],
    )
    assert [f.line for f in found] == [8]
    assert "_rows -> sync session I/O" in found[0].message


def test_ash002_sync_engine_checkouts_but_not_async_with() -> None:
    check_fires(
        """\
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine
        engine = create_engine(URL)
        async_engine = create_async_engine(URL)

        async def report():
            with engine.connect() as conn:
                conn.execute("SELECT 1")
            async with async_engine.connect() as conn:
                await conn.execute("SELECT 1")
        """,
        "ASH002",
        [7],
    )


def test_class_based_view_methods_are_endpoints() -> None:
    from asyncshift.model.facts import collect_facts

    facts = collect_facts(
        "views.py",
        textwrap.dedent(
            """\
            from fastapi import APIRouter
            router = APIRouter()

            @cbv(router)
            class Items:
                @router.get("/items")
                def list_items(self):
                    return []
            """
        ),
    )
    assert [(e.name, e.route) for e in facts.endpoints] == [("list_items", "GET /items")]


# -- ASH003 pool smaller than the thread pool --------------------------------------------------


def test_ash003_silent_for_big_or_quick_pools_and_untuned_engines() -> None:
    check_noop(
        APP
        + """\
from sqlalchemy import create_engine
a = create_engine(URL, pool_size=30, max_overflow=10, pool_timeout=None)
b = create_engine(URL, pool_size=4, max_overflow=0, pool_timeout=5)
c = create_engine(URL)
d = create_engine(URL, pool_size=size)
""",
        "ASH003",
    )


def test_ash003_fires_for_small_pools_that_wait_long() -> None:
    check_fires(
        APP
        + """\
from sqlalchemy import create_engine
a = create_engine(URL, pool_size=4, max_overflow=0, pool_timeout=None)
b = create_engine(URL, pool_size=10)
""",
        "ASH003",
        [4, 5],
    )


# -- ASH004 cleanup that can raise before the session is released ------------------------------


def test_ash004_silent_when_release_comes_first_or_in_finally() -> None:
    check_noop(
        """\
        def get_db():
            db = SessionLocal()
            try:
                yield db
                db.commit()
            finally:
                db.close()

        def plain():
            db.commit()
            db.close()
        """,
        "ASH004",
    )


def test_ash004_fires_when_commit_precedes_release() -> None:
    check_fires(
        """\
        def get_db():
            db = Session()
            yield db
            db.commit()
            Session.remove()

        def get_other():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.commit()
                db.close()
        """,
        "ASH004",
        [4, 12],
    )


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
        from starlette.middleware.base import BaseHTTPMiddleware
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())

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
        [10, 14],
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
    assert "retry -> backoff -> time.sleep()" in found[0].message


# -- ASH008 relationship reads in async def (heuristic) ----------------------------------------

MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

class User(DeclarativeBase):
    items: Mapped[list["Item"]] = relationship(back_populates="owner")
    name: Mapped[str]
"""


def test_ash008_silent_for_columns_eager_loads_and_sync_code() -> None:
    check_noop(
        MODELS
        + """
async def names(db):
    user = await db.get(User, 1)
    return user.name

async def eager(db):
    user = (await db.execute(select(User).options(selectinload(User.items)))).scalar_one()
    return user.items

def sync_read(db):
    return db.get(User, 1).items

async def body(data: CreateUser):
    return data.items  # a request body's field, not a loaded object

def load_with_items(db):
    return db.get(User, 1, options=[selectinload(User.items)])

async def helper_loads(db):
    user = await adapt(load_with_items)(db)
    return user.items
""",
        "ASH008",
    )


def test_ash008_fires_for_a_relationship_read_without_eager_loading() -> None:
    check_fires(
        MODELS
        + """
async def items(db):
    user = await db.get(User, 1)
    return user.items
""",
        "ASH008",
        [7],
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
