"""The repository model on its own: modules, imports, types, flow, routes."""

from __future__ import annotations

import textwrap

from asyncshift.model import types as t
from asyncshift.model.collect import collect_facts
from asyncshift.model.modules import ModuleTable
from asyncshift.model.repo import RepoModel
from asyncshift.planning import make_plan


def model(files: dict[str, str]) -> RepoModel:
    return RepoModel(collect_facts(p, textwrap.dedent(s)) for p, s in files.items())


def types_of(m: RepoModel, path: str, qualname: str, name: str) -> frozenset[t.Type]:
    _, frame = m.frames[f"{m.module_of(path)}.{qualname}"]
    return m.types(path, frame, ("n", name))


# -- modules ---------------------------------------------------------------------------------


def test_module_names_from_packages_src_layouts_and_namespace_tails() -> None:
    table = ModuleTable(
        [
            "src/shop/__init__.py",
            "src/shop/api/__init__.py",
            "src/shop/api/users.py",
            "tools/scripts/seed.py",
            "tests/conftest.py",
        ]
    )
    assert table.name_of["src/shop/api/users.py"] == "shop.api.users"
    assert table.name_of["src/shop/__init__.py"] == "shop"
    assert table.find("shop.api.users") == "src/shop/api/users.py"
    assert table.find("scripts.seed") == "tools/scripts/seed.py"  # a namespace package's tail
    assert table.find_relative("src/shop/api/users.py", 2, "") == "src/shop/__init__.py"
    assert table.module_name("src/shop/api/users.py", 1, "models") == "shop.api.models"


def test_ambiguous_namespace_tails_stay_unresolved() -> None:
    table = ModuleTable(["a/models.py", "b/models.py"])
    assert table.find("models") is None


# -- imports and re-exports --------------------------------------------------------------------


def test_reexports_through_init_aliases_and_relative_imports_resolve() -> None:
    m = model(
        {
            "app/__init__.py": "",
            "app/db/__init__.py": "from .session import SessionLocal as Factory\n",
            "app/db/session.py": (
                "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n"
            ),
            "app/api.py": """\
            import app.db as database
            from .db import Factory

            def one():
                a = Factory()
                b = database.Factory()
                return a, b
            """,
        }
    )
    assert types_of(m, "app/api.py", "one", "a") == {t.SYNC_SESSION}
    assert types_of(m, "app/api.py", "one", "b") == {t.SYNC_SESSION}


def test_star_imports_and_shadowing_locals_are_never_guessed() -> None:
    m = model(
        {
            "lib.py": "from sqlalchemy.orm import Session\n",
            "use.py": """\
            from lib import *

            def f():
                s = Session()
                return s
            """,
            "shadow.py": """\
            from sqlalchemy.orm import Session

            def g(Session):
                s = Session()
                return s
            """,
        }
    )
    assert types_of(m, "use.py", "f", "s") == frozenset()
    assert types_of(m, "shadow.py", "g", "s") == frozenset()


# -- types of what flows -----------------------------------------------------------------------


def test_sessions_flow_into_unannotated_parameters_from_resolved_callers() -> None:
    m = model(
        {
            "crud.py": """\
            def get_user(db, user_id):
                return db.get(object, user_id)

            def helper(db):
                return get_user(db, 1)
            """,
            "api.py": """\
            from sqlalchemy.orm import Session
            from sqlalchemy.ext.asyncio import AsyncSession
            from crud import helper

            def endpoint(db: Session):
                return helper(db)
            """,
        }
    )
    assert types_of(m, "crud.py", "get_user", "db") == {t.SYNC_SESSION}
    [op] = m.sessions.summary(*m.frames["crud.get_user"]).ops
    assert (op.method, op.kind, op.io) == ("get", "sync", True)


def test_a_wrapper_exposing_a_registry_session_and_request_state() -> None:
    m = model(
        {
            "db.py": """\
            from contextvars import ContextVar
            from fastapi import Request
            from sqlalchemy.orm import scoped_session, sessionmaker

            _request_id: ContextVar[str] = ContextVar("request_id")

            class Database:
                def __init__(self):
                    self._registry = scoped_session(sessionmaker(), scopefunc=_request_id.get)

                @property
                def session(self):
                    return self._registry()

            db = Database()

            def get_db():
                yield db.session

            async def middleware(request: Request, call_next):
                request.state.session = db.session
                return await call_next(request)

            def from_state(request: Request):
                return request.state.session
            """,
        }
    )
    assert m.provided_types("db.get_db") == {t.SCOPED_SYNC_SESSION}
    assert m.provided_types("db.from_state") == {t.SCOPED_SYNC_SESSION}


def test_orm_mapped_classes_and_relationships() -> None:
    m = model(
        {
            "models.py": """\
            from sqlalchemy import Column, ForeignKey, Integer
            from sqlalchemy.orm import declarative_base, relationship
            from sqlmodel import Field, Relationship, SQLModel

            Base = declarative_base()

            class Owner(Base):
                __tablename__ = "owners"
                pets = relationship("Pet", backref="owner")
                tags = relationship("Tag", lazy="selectin")

            class Pet(Base):
                __tablename__ = "pets"

            class Tag(Base):
                __tablename__ = "tags"

            class Team(SQLModel, table=True):
                heroes: list["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                pass

            class HeroRead(SQLModel):
                team: str
            """
        }
    )
    assert m.orm.is_mapped("models.Owner") and m.orm.is_mapped("models.Team")
    assert not m.orm.is_mapped("models.HeroRead")
    pets = m.orm.relationship("models.Owner", "pets")
    assert pets is not None and (pets.target, pets.lazy_loads) == ("models.Pet", True)
    backref = m.orm.relationship("models.Pet", "owner")
    assert backref is not None and backref.target == "models.Owner"
    tags = m.orm.relationship("models.Owner", "tags")
    assert tags is not None and not tags.lazy_loads
    heroes = m.orm.relationship("models.Team", "heroes")
    assert heroes is not None and (heroes.target, heroes.collection) == ("models.Hero", True)


# -- routes, prefixes, dependencies by type --------------------------------------------------------


SERVICE = {
    "app/__init__.py": "",
    "app/db.py": """\
    from sqlalchemy.orm import sessionmaker
    SessionLocal = sessionmaker()

    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    def get_http():
        import httpx
        with httpx.Client() as client:
            yield client
    """,
    "app/routers/__init__.py": "",
    "app/routers/users.py": """\
    from fastapi import APIRouter, Depends
    from app.db import get_db, get_http

    router = APIRouter(prefix="/users")

    @router.get("/{user_id}")
    def read_user(user_id: int, db=Depends(get_db)):
        return db.get(object, user_id)

    @router.get("/remote")
    def remote(client=Depends(get_http)):
        return client.get("/x")
    """,
    "app/main.py": """\
    from fastapi import FastAPI
    from app.routers import users

    def create_app():
        app = FastAPI()
        app.include_router(users.router, prefix="/api/v1")
        return app
    """,
}


def test_routes_carry_router_and_include_prefixes() -> None:
    m = model(SERVICE)
    routes = {e.fq: (e.verb, e.routes) for e in m.routes.endpoints}
    assert routes == {
        "app.routers.users.read_user": ("GET", ("/api/v1/users/{user_id}",)),
        "app.routers.users.remote": ("GET", ("/api/v1/users/remote",)),
    }


def test_plan_finds_session_dependencies_by_type_not_by_name() -> None:
    plan = make_plan(model(SERVICE))
    assert [d.split(": ", 1)[1] for d in plan.dependencies] == ["get_db, sync session"]
    states = {e.name: e.state for e in plan.endpoints}
    assert states == {"read_user": "sync, sync session", "remote": "no session"}


def test_a_package_folder_named_like_a_library_does_not_shadow_it() -> None:
    table = ModuleTable(
        [
            "docs/__init__.py",
            "docs/tutorial/__init__.py",
            "docs/tutorial/fastapi/__init__.py",
            "docs/tutorial/fastapi/app.py",
        ]
    )
    assert table.find("fastapi") is None
    assert table.find("docs.tutorial.fastapi.app") == "docs/tutorial/fastapi/app.py"
