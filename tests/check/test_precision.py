"""Issue 7's observations on real projects: each wrong finding is now a silent snippet, each
miss a reported one. Multi-file cases go through the repository model like a real run."""

from __future__ import annotations

import textwrap

from asyncshift.check.run import check_facts
from asyncshift.model.collect import collect_facts
from tests.check.snippets import check_fires, check_noop


def run(files: dict[str, str], code: str) -> list[tuple[str, int]]:
    facts = [collect_facts(path, textwrap.dedent(text)) for path, text in files.items()]
    return [(f.path, f.line) for f in check_facts(facts, [code])]


# -- chains through the call graph follow resolved calls only ----------------------------------


def test_a_registry_remove_is_not_an_unrelated_function_named_remove() -> None:
    check_noop(
        """\
        import time
        from sqlalchemy.orm import scoped_session, sessionmaker
        session = scoped_session(sessionmaker())

        def remove(key):
            time.sleep(1)

        async def teardown():
            session.remove()
        """,
        "ASH007",
    )


def test_a_main_in_another_module_is_not_this_main() -> None:
    assert (
        run(
            {
                "tool/render.py": """\
                import subprocess

                def main():
                    subprocess.run(["render"])
                """,
                "app/server.py": """\
                def main():
                    return 1

                async def start():
                    main()
                """,
            },
            "ASH007",
        )
        == []
    )


def test_a_call_is_followed_across_files_through_imports() -> None:
    found = run(
        {
            "app/__init__.py": "",
            "app/render.py": """\
            import subprocess

            def main():
                subprocess.run(["render"])
            """,
            "app/server.py": """\
            from . import render

            async def start():
                render.main()
            """,
        },
        "ASH007",
    )
    assert found == [("app/server.py", 4)]


# -- ASH002: creating a session is not I/O; request.state.db is ------------------------------


def test_creating_a_session_is_silent_and_state_db_io_in_middleware_is_reported() -> None:
    check_fires(
        """\
        from fastapi import FastAPI, Request
        from sqlalchemy.orm import scoped_session, sessionmaker
        Registry = scoped_session(sessionmaker())
        app = FastAPI()

        @app.middleware("http")
        async def db_session(request: Request, call_next):
            request.state.db = Registry()
            response = await call_next(request)
            request.state.db.commit()
            return response
        """,
        "ASH002",
        [10],
    )


# -- ASH001: only registries that outlive a call, outside tests --------------------------------


def test_ash001_silent_for_a_registry_made_and_used_inside_one_function() -> None:
    check_noop(
        """\
        from fastapi import FastAPI
        from sqlalchemy.orm import scoped_session, sessionmaker
        app = FastAPI()

        def run_job(engine):
            registry = scoped_session(sessionmaker(engine))
            try:
                registry().execute("SELECT 1")
            finally:
                registry.remove()
        """,
        "ASH001",
    )


def test_ash001_silent_for_a_test_suites_factory_registry() -> None:
    assert (
        run(
            {
                "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
                "tests/factories.py": """\
                from sqlalchemy.orm import scoped_session, sessionmaker
                TestSession = scoped_session(sessionmaker())
                """,
            },
            "ASH001",
        )
        == []
    )


# -- lifespan and startup work are not serving code --------------------------------------------


def test_startup_and_lifespan_work_is_not_reported() -> None:
    for code in ("ASH002", "ASH007"):
        check_noop(
            """\
            import time
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            from sqlalchemy.orm import Session, sessionmaker
            SessionLocal = sessionmaker()

            @asynccontextmanager
            async def lifespan(app):
                time.sleep(1)
                with SessionLocal() as db:
                    db.execute("SELECT 1")
                yield

            app = FastAPI(lifespan=lifespan)

            @app.on_event("startup")
            async def warm_up():
                time.sleep(1)
                with SessionLocal() as db:
                    db.commit()
            """,
            code,
        )


# -- ASH008: relationships are attributes of mapped classes, nothing else ----------------------

MODELS = """\
import re
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, relationship

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    items: Mapped[list["Item"]] = relationship()

class Item(Base):
    __tablename__ = "items"

class UserOut(BaseModel):
    items: list[str]

class Repos:
    def __init__(self, users):
        self.users = users
"""


def test_ash008_silent_for_names_that_only_look_like_relationships() -> None:
    check_noop(
        MODELS
        + """
async def parse(text):
    match = re.match("x", text)
    return match.group

async def schema(db: AsyncSession):
    out = UserOut(items=[])
    return out.items

async def containers(repos: Repos):
    return repos.users

async def client(http):
    response = await http.get("/users")
    return response.items
""",
        "ASH008",
    )


def test_ash008_silent_in_a_coroutine_run_by_asyncio_run_on_a_sync_session() -> None:
    check_noop(
        MODELS
        + """
import asyncio

async def export(db: Session):
    user = db.get(User, 1)
    return user.items

def export_sync(db: Session):
    return asyncio.run(export(db))
""",
        "ASH008",
    )


# -- misses that are now reported --------------------------------------------------------------


def test_unannotated_depends_session_and_a_repository_container_are_followed() -> None:
    found = run(
        {
            "app/__init__.py": "",
            "app/db.py": """\
            from sqlalchemy.orm import sessionmaker
            SessionLocal = sessionmaker()

            def get_session():
                with SessionLocal() as session:
                    yield session
            """,
            "app/repos.py": """\
            from dataclasses import dataclass

            class UserRepository:
                def __init__(self, session):
                    self.session = session

                def get_one(self, user_id):
                    return self.session.get(object, user_id)

            @dataclass
            class Repositories:
                users: UserRepository

            def build_repositories(session):
                return Repositories(users=UserRepository(session))
            """,
            "app/auth.py": """\
            from fastapi import Depends
            from .db import get_session
            from .repos import build_repositories

            async def current_user(token: str, session=Depends(get_session)):
                repos = build_repositories(session)
                user = repos.users.get_one(token)
                session.commit()
                return user
            """,
        },
        "ASH002",
    )
    assert found == [("app/auth.py", 7), ("app/auth.py", 8)]


def test_messages_name_the_resolved_chain() -> None:
    facts = [
        collect_facts(
            "app/crud.py",
            "from sqlalchemy.orm import Session\n\n"
            "def get_user(db: Session, user_id):\n    return db.get(object, user_id)\n",
        ),
        collect_facts(
            "app/api.py",
            "from sqlalchemy.orm import Session\nfrom crud import get_user\n\n"
            "async def read(db: Session):\n    return get_user(db, 1)\n",
        ),
    ]
    [finding] = check_facts(facts, ["ASH002"])
    assert (finding.path, finding.line, finding.col) == ("app/api.py", 5, 12)
    assert "crud.get_user -> sync session I/O (db.get)" in finding.message


# -- ASH009: an event loop on a request path ---------------------------------------------------


def test_ash009_silent_for_scripts_lifespan_and_awaited_coroutines() -> None:
    check_noop(
        """\
        import asyncio
        from fastapi import FastAPI
        app = FastAPI()

        async def fetch():
            return 1

        def cli():
            asyncio.run(fetch())

        @app.on_event("startup")
        def startup():
            asyncio.run(fetch())

        @app.get("/ok")
        async def ok():
            return await fetch()
        """,
        "ASH009",
    )


def test_ash009_fires_for_endpoints_dependencies_and_adapt_targets() -> None:
    check_fires(
        """\
        import asyncio
        from fastapi import Depends, FastAPI
        from asyncshift import adapt
        app = FastAPI()

        async def fetch():
            return 1

        def sync_fetch():
            return asyncio.get_event_loop().run_until_complete(fetch())

        def dependency():
            return sync_fetch()

        @app.get("/report")
        def report(value=Depends(dependency)):
            return asyncio.run(fetch())

        def legacy(db):
            return sync_fetch()

        async def bridged(session):
            return await adapt(legacy)(session)
        """,
        "ASH009",
        [13, 17, 20],
    )
