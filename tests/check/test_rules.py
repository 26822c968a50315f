"""ASH001-ASH004: the four failures, on tiny snippets; silent cases first."""

from __future__ import annotations

import textwrap

from asyncshift.check import check_source
from tests.check.snippets import APP, check_fires, check_noop

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
    from asyncshift.model.collect import collect_facts

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
    assert (
        "snippet.get_user_name -> snippet.get_user -> sync session I/O (db.get)" in found[0].message
    )


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
    assert "snippet.Reports._rows -> sync session I/O (db.execute)" in found[0].message


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
    from asyncshift.model.collect import collect_facts
    from asyncshift.model.repo import RepoModel

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
    endpoints = RepoModel([facts]).routes.endpoints
    assert [(e.fq, e.verb, e.routes) for e in endpoints] == [
        ("views.Items.list_items", "GET", ("/items",))
    ]


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
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())
        SessionLocal = sessionmaker()

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
        [8, 16],
    )
