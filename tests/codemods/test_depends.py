"""Step 4, depends: silent cases first, then the moves to the async session."""

from __future__ import annotations

from tests.codemods.steps import check_noop, check_transformed, reports
from tests.codemods.test_endpoints import service

STEP = "depends"


def test_silent_for_sync_code_and_async_code_on_the_async_session() -> None:
    check_noop(
        STEP,
        service(
            """\
            from fastapi import APIRouter

            from app.db import AsyncSessionDep, SessionDep, SessionLocal

            router = APIRouter()


            @router.get("/a")
            def sync_one(db: SessionDep):
                with SessionLocal() as other:
                    return other.scalar("select 1")


            @router.get("/b")
            async def async_one(db: AsyncSessionDep):
                return await db.scalar("select 1")
            """
        ),
    )


def test_an_async_generator_that_yields_a_sync_session_is_left_alone_and_reported() -> None:
    files = service(
        """\
        from app.db import SessionLocal


        async def job():
            with SessionLocal() as db:
                db.commit()
                return db
        """
    )
    check_noop(STEP, files)
    assert reports(STEP, files) == [
        "app/routes.py: line 7: async function job left as it is: the session `db` is used as "
        "a value here (returned, stored or compared), which the step cannot follow"
    ]


def test_thread_hand_offs_become_adapt_calls_on_the_async_dependency() -> None:
    before = service(
        """\
        from fastapi import APIRouter
        from starlette.concurrency import run_in_threadpool

        from app import crud
        from app.db import SessionDep

        router = APIRouter()


        @router.get("/users/{user_id}")
        async def read(user_id: int, db: SessionDep):
            # the query still needs a thread
            return await run_in_threadpool(crud.get_user, db, user_id)
        """
    )
    after = dict(before)
    after["app/routes.py"] = """\
        from fastapi import APIRouter

        from app import crud
        from app.db import AsyncSessionDep
        from asyncshift import adapt

        router = APIRouter()


        @router.get("/users/{user_id}")
        async def read(user_id: int, db: AsyncSessionDep):
            # the query still needs a thread
            return await adapt(crud.get_user)(db, user_id)
        """
    check_transformed(STEP, before, after)


def test_with_sessionlocal_in_async_code_opens_the_async_twin() -> None:
    before = service(
        """\
        from app import crud
        from app.db import SessionLocal
        from app.models import User


        async def nightly(user_id: int) -> None:
            with SessionLocal() as db:  # one transaction
                db.add(User(name="x"))
                crud.rename("y", db, user_id)
                db.commit()
        """
    )
    after = dict(before)
    after["app/routes.py"] = """\
        from app import crud
        from app.db import AsyncSessionLocal
        from app.models import User
        from asyncshift import adapt


        async def nightly(user_id: int) -> None:
            async with AsyncSessionLocal() as db:  # one transaction
                db.add(User(name="x"))
                await adapt(crud.rename)("y", db, user_id)
                await db.commit()
        """
    check_transformed(STEP, before, after)
