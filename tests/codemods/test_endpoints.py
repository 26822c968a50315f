"""Step 3, endpoints: silent and refused cases first, then the rewrites."""

from __future__ import annotations

from tests.codemods.steps import check_noop, check_transformed, reports, run_step

STEP = "endpoints"

# A service after step 2: the sync dependency and its async twin side by side.
DB = """\
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from asyncshift import async_engine_from

engine = create_engine("sqlite:///app.db")
async_engine = async_engine_from(engine)
SessionLocal = sessionmaker(bind=engine)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_db)]
"""

CRUD = """\
from sqlalchemy.orm import Session

from app.models import User


def get_user(db: Session, user_id: int):
    return db.get(User, user_id)


def rename(name: str, session: Session, user_id: int):
    user = session.get(User, user_id)
    user.name = name
    session.commit()
    return user


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str):
        return self.session.query(User).filter_by(name=name).first()

    def count(self) -> int:
        return self.session.query(User).count()
"""

MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""


def service(routes: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/db.py": DB,
        "app/crud.py": CRUD,
        "app/models.py": MODELS,
        "app/routes.py": routes,
    }


def test_silent_for_async_endpoints_and_endpoints_without_a_session() -> None:
    check_noop(
        STEP,
        service(
            """\
            from fastapi import APIRouter

            from app.db import AsyncSessionDep

            router = APIRouter()


            @router.get("/health")
            def health():
                return {"ok": True}


            @router.get("/n")
            async def count(db: AsyncSessionDep):
                return await db.scalar("select 1")
            """
        ),
    )


REFUSED = {
    "blocking": (
        """\
        import time

        from fastapi import APIRouter

        from app.db import SessionDep

        router = APIRouter()


        @router.get("/slow")
        def slow(db: SessionDep):
            time.sleep(1)
            return db.scalar("select 1")
        """,
        "app/routes.py: line 12: endpoint slow left as it is: non-database blocking work "
        "(time.sleep()) would block the event loop",
    ),
    "event loop": (
        """\
        import asyncio

        from fastapi import APIRouter

        from app.db import SessionDep

        router = APIRouter()


        async def notify():
            pass


        def register(db):
            db.commit()
            asyncio.run(notify())


        @router.post("/r")
        def create(db: SessionDep):
            register(db)
        """,
        "app/routes.py: line 21: endpoint create left as it is: `register` reaches "
        "app.routes.register, which runs an event loop (asyncio.run())",
    ),
    "unresolved": (
        """\
        from fastapi import APIRouter
        from somewhere import paginate

        from app.db import SessionDep

        router = APIRouter()


        @router.get("/")
        def page(db: SessionDep):
            return paginate(db)
        """,
        "app/routes.py: line 11: endpoint page left as it is: passes the session to "
        "`paginate`, which is not a repository function or class",
    ),
    "query kept": (
        """\
        from fastapi import APIRouter

        from app.db import SessionDep
        from app.models import User

        router = APIRouter()


        @router.get("/")
        def names(db: SessionDep):
            query = db.query(User)
            return [u.name for u in query]
        """,
        "app/routes.py: line 11: endpoint names left as it is: a legacy Query from "
        "`db.query()` is kept past its expression (no `.all()`/`.first()`/... ends it "
        "there): it would fetch outside the bridge",
    ),
    "session as a value": (
        """\
        from fastapi import APIRouter

        from app.db import SessionDep

        router = APIRouter()


        @router.get("/")
        def leak(db: SessionDep):
            holder = {"db": db}
            return len(holder)
        """,
        "app/routes.py: line 10: endpoint leak left as it is: the session `db` is used as a "
        "value here (returned, stored or compared), which the step cannot follow",
    ),
}


def test_refused_endpoints_stay_as_they_are_and_say_why() -> None:
    for name, (routes, expected) in REFUSED.items():
        files = service(routes)
        check_noop(STEP, files)
        assert reports(STEP, files) == [expected], name


def test_no_async_twin_yet_is_refused() -> None:
    files = service(
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from app.db import SessionLocal

        router = APIRouter()


        def get_session():
            with SessionLocal() as session:
                yield session


        @router.get("/")
        def one(db: Session = Depends(get_session)):
            return db.scalar("select 1")
        """
    )
    check_noop(STEP, files)
    assert reports(STEP, files) == [
        "app/routes.py: line 15: endpoint one left as it is: the session dependency "
        "app.routes.get_session has no async twin `get_async_session` (step async-engine "
        "makes it where it can)"
    ]


def test_session_calls_are_awaited_queries_bridged_comments_kept() -> None:
    before = service(
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.db import SessionDep, get_db
        from app.models import User

        router = APIRouter()


        @router.get("/users/{user_id}")
        def read(user_id: int, db: SessionDep):
            # the row, or None
            return db.get(User, user_id)


        @router.get("/users")
        def every(db: Session = Depends(get_db)):
            names = db.execute(select(User.name)).scalars().all()
            n = db.query(User).filter(User.id > 0).count()
            return {"names": names, "n": n}


        @router.post("/users")
        def add(name: str, db: SessionDep):
            db.add(User(name=name))  # add stays sync
            db.commit()
        """
    )
    after = dict(before)
    after["app/routes.py"] = """\
        from fastapi import APIRouter, Depends
        from sqlalchemy import select

        from app.db import AsyncSessionDep, get_async_db
        from app.models import User
        from sqlalchemy.ext.asyncio import AsyncSession

        router = APIRouter()


        @router.get("/users/{user_id}")
        async def read(user_id: int, db: AsyncSessionDep):
            # the row, or None
            return await db.get(User, user_id)


        @router.get("/users")
        async def every(db: AsyncSession = Depends(get_async_db)):
            names = (await db.execute(select(User.name))).scalars().all()
            n = await db.run_sync(lambda db: db.query(User).filter(User.id > 0).count())
            return {"names": names, "n": n}


        @router.post("/users")
        async def add(name: str, db: AsyncSessionDep):
            db.add(User(name=name))  # add stays sync
            await db.commit()
        """
    check_transformed(STEP, before, after)


def test_legacy_code_goes_through_adapt_and_response_models_are_validated_in_the_bridge() -> None:
    before = service(
        """\
        from fastapi import APIRouter

        from app import crud
        from app.crud import UserRepository
        from app.db import SessionDep

        router = APIRouter()


        @router.get("/users/{user_id}", response_model=dict)
        def read(user_id: int, db: SessionDep):
            return crud.get_user(db, user_id)


        @router.put("/users/{user_id}")
        def rename(user_id: int, name: str, db: SessionDep):
            crud.rename(name, db, user_id)


        @router.get("/by-name/{name}")
        def by_name(name: str, db: SessionDep):
            repo = UserRepository(db)
            return {"user": repo.by_name(name), "n": UserRepository(db).count()}
        """
    )
    after = dict(before)
    after["app/routes.py"] = """\
        from fastapi import APIRouter

        from app import crud
        from app.crud import UserRepository
        from app.db import AsyncSessionDep
        from asyncshift import adapt, validate_in_bridge

        router = APIRouter()


        @router.get("/users/{user_id}", response_model=dict)
        async def read(user_id: int, db: AsyncSessionDep):
            return await validate_in_bridge(dict, await adapt(crud.get_user)(db, user_id))


        @router.put("/users/{user_id}")
        async def rename(user_id: int, name: str, db: AsyncSessionDep):
            await adapt(crud.rename)(name, db, user_id)


        @router.get("/by-name/{name}")
        async def by_name(name: str, db: AsyncSessionDep):
            repo = adapt(UserRepository)(db)
            return {"user": await repo.by_name(name), "n": await adapt(UserRepository)(db).count()}
        """
    check_transformed(STEP, before, after)


def test_a_dependency_that_takes_the_session_becomes_async_with_its_consumers() -> None:
    files = service(
        """\
        from typing import Annotated

        from fastapi import APIRouter, Depends, Header

        from app.crud import UserRepository
        from app.db import SessionDep

        router = APIRouter()


        def current_user(db: SessionDep, x_name: Annotated[str, Header()]):
            return UserRepository(db).by_name(x_name)


        CurrentUser = Annotated[dict, Depends(current_user)]


        @router.get("/me", response_model=dict)
        def me(user: CurrentUser):
            return user
        """
    )
    routes = run_step(STEP, files)["app/routes.py"]
    assert "async def current_user(db: AsyncSessionDep, x_name" in routes
    assert "return await adapt(UserRepository)(db).by_name(x_name)" in routes
    assert "async def me(user: CurrentUser):\n    return await validate_in_bridge(dict, user)" in (
        routes
    )


def test_a_dependency_stays_sync_when_a_consumer_left_sync_walks_what_it_returns() -> None:
    files = service(
        """\
        import time
        from typing import Annotated

        from fastapi import APIRouter, Depends, Header

        from app.crud import UserRepository
        from app.db import SessionDep
        from app.models import User

        router = APIRouter()


        def current_user(db: SessionDep, x_name: Annotated[str, Header()]) -> User:
            return UserRepository(db).by_name(x_name)


        CurrentUser = Annotated[User, Depends(current_user)]


        @router.get("/slow")
        def slow(user: CurrentUser):
            time.sleep(1)
            return {"user": user}
        """
    )
    check_noop(STEP, files)
    assert any(
        "dependency current_user left as it is: a consumer" in r for r in reports(STEP, files)
    )


def test_an_endpoint_that_opens_its_own_session_opens_the_async_twin() -> None:
    before = service(
        """\
        from fastapi import APIRouter
        from sqlalchemy.orm import Session

        from app import db
        from app.db import SessionLocal, engine
        from app.models import User

        router = APIRouter()


        @router.get("/users/{user_id}")
        def read_user(user_id: int):
            with Session(engine) as session:  # one per request
                return {"name": session.get(User, user_id).name}


        @router.post("/users")
        def create_user(name: str):
            with db.SessionLocal() as session:
                session.add(User(name=name))
                session.commit()
            return {"ok": True}
        """
    )
    after = {
        **before,
        "app/routes.py": """\
        from fastapi import APIRouter

        from app import db
        from app.db import SessionLocal, engine
        from app.models import User
        from asyncshift import async_twin
        from sqlalchemy.ext.asyncio import AsyncSession

        router = APIRouter()


        @router.get("/users/{user_id}")
        async def read_user(user_id: int):
            async with AsyncSession(async_twin(engine), expire_on_commit=False) as session:  # one per request
                return {"name": (await session.get(User, user_id)).name}


        @router.post("/users")
        async def create_user(name: str):
            async with db.AsyncSessionLocal() as session:
                session.add(User(name=name))
                await session.commit()
            return {"ok": True}
        """,  # noqa: E501 - as the step writes it
    }
    check_transformed(STEP, before, after)


def test_an_own_session_on_an_engine_it_cannot_resolve_is_refused() -> None:
    files = service(
        """\
        from fastapi import APIRouter
        from sqlalchemy.orm import Session

        from app.db import engine

        router = APIRouter()


        def pick(name):
            return engine


        @router.get("/count")
        def count(name: str):
            with Session(pick(name)) as session:
                return session.scalar("select count(*) from users")
        """
    )
    check_noop(STEP, files)
    assert reports(STEP, files) == [
        "app/routes.py: line 15: endpoint count left as it is: opens a session on an engine "
        "the model could not resolve to a module's engine (or with settings the async session "
        "does not take as written)"
    ]
