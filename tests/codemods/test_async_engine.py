"""Step 2, async-engine: silent cases first."""

from __future__ import annotations

from pathlib import Path

from asyncshift.cli import main
from tests.codemods.steps import check_noop, check_transformed, reports

STEP = "async-engine"


def test_silent_without_sync_engines_and_for_engines_inside_functions() -> None:
    check_noop(
        STEP,
        {
            "db.py": """\
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine)
            """,
            "tests/test_x.py": """\
            from sqlalchemy import create_engine

            def test_startup(tmp_path):
                engine = create_engine(f"sqlite:///{tmp_path}/x.db")
            """,
        },
    )


def test_a_sessionmaker_without_a_bind_is_reported() -> None:
    files = {
        "db.py": """\
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker()
        """
    }
    check_noop(STEP, files)
    assert reports(STEP, files) == [
        "db.py: line 2: sessionmaker SessionLocal has no engine bound where it is made: add "
        "`AsyncSessionLocal = async_sessionmaker(<async engine>, expire_on_commit=False)` by hand"
    ]


def test_twins_beside_engine_sessionmaker_dependency_alias_and_test_override() -> None:
    check_transformed(
        STEP,
        {
            "app/__init__.py": "",
            "app/db.py": """\
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker

            engine = create_engine("sqlite:///app.db")  # the service's database
            SessionLocal = sessionmaker(bind=engine, autoflush=False)


            def get_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()


            SessionDep = Annotated[Session, Depends(get_db)]
            """,
            "tests/conftest.py": """\
            import pytest
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker
            from sqlalchemy.pool import StaticPool

            from app.db import get_db
            from app.main import app

            engine = create_engine("sqlite://", poolclass=StaticPool)
            TestingSessionLocal = sessionmaker(bind=engine)


            def override_get_db():
                with TestingSessionLocal() as session:
                    yield session


            app.dependency_overrides[get_db] = override_get_db


            @pytest.fixture
            def session():
                with TestingSessionLocal() as session:
                    yield session
            """,
        },
        {
            "app/__init__.py": "",
            "app/db.py": """\
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker
            from asyncshift import async_engine_from
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            engine = create_engine("sqlite:///app.db")  # the service's database
            async_engine = async_engine_from(engine)
            SessionLocal = sessionmaker(bind=engine, autoflush=False)
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
            """,
            "tests/conftest.py": """\
            import pytest
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker
            from sqlalchemy.pool import StaticPool

            from app.db import get_async_db, get_db
            from app.main import app
            from asyncshift import async_engine_from
            from sqlalchemy.ext.asyncio import async_sessionmaker

            engine = create_engine("sqlite://", poolclass=StaticPool)
            async_engine = async_engine_from(engine)
            TestingSessionLocal = sessionmaker(bind=engine)
            AsyncTestingSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


            def override_get_db():
                with TestingSessionLocal() as session:
                    yield session


            async def override_get_async_db():
                async with AsyncTestingSessionLocal() as session:
                    yield session


            app.dependency_overrides[get_db] = override_get_db
            app.dependency_overrides[get_async_db] = override_get_async_db


            @pytest.fixture
            def session():
                with TestingSessionLocal() as session:
                    yield session
            """,
        },
    )


def test_the_requirements_gain_the_async_path_once(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("fastapi\nSQLAlchemy>=2.0\nPyMySQL==1.1.1\n")
    (tmp_path / "db.py").write_text(
        'from sqlalchemy import create_engine\nengine = create_engine("mysql+pymysql://x")\n'
    )
    assert main(["apply", STEP, str(tmp_path)]) == 1
    assert (tmp_path / "requirements.txt").read_text().splitlines()[3:] == [
        "# the async path (asyncshift async-engine)",
        "sqlalchemy[asyncio]",
        "asyncmy",
        "asyncshift",
    ]
    assert main(["apply", STEP, str(tmp_path)]) == 0  # nothing left to add


def test_a_pyproject_dependency_list_is_extended(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\ndependencies = [\n    "sqlalchemy[asyncio]>=2",\n'
        '    "psycopg2-binary"\n]\n'
    )
    (tmp_path / "db.py").write_text(
        'from sqlalchemy import create_engine\nengine = create_engine("postgresql://x")\n'
    )
    assert main(["apply", STEP, str(tmp_path)]) == 1
    assert (tmp_path / "pyproject.toml").read_text() == (
        '[project]\nname = "svc"\ndependencies = [\n    "sqlalchemy[asyncio]>=2",\n'
        '    "psycopg2-binary",\n    "asyncpg",\n    "asyncshift",\n]\n'
    )


def test_twin_names_come_from_the_configuration_when_given(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.asyncshift]\ntwin-names = { engine = "aengine", get_db = "get_db_async" }\n'
    )
    (tmp_path / "db.py").write_text(
        "from sqlalchemy import create_engine\n"
        "from sqlalchemy.orm import sessionmaker\n"
        'engine = create_engine("sqlite:///x.db")\n'
        "SessionLocal = sessionmaker(bind=engine)\n\n\n"
        "def get_db():\n    with SessionLocal() as db:\n        yield db\n"
    )
    assert main(["apply", STEP, str(tmp_path / "db.py")]) == 1
    text = (tmp_path / "db.py").read_text()
    assert "aengine = async_engine_from(engine)" in text
    assert "AsyncSessionLocal = async_sessionmaker(aengine, expire_on_commit=False)" in text
    assert "async def get_db_async():" in text
    assert main(["apply", STEP, str(tmp_path / "db.py")]) == 0


def test_no_twin_for_a_session_class_on_an_engine_it_cannot_resolve() -> None:
    check_noop(
        STEP,
        {
            "db.py": """\
            from sqlmodel import Session


            def get_session(engine):
                with Session(engine) as session:
                    yield session


            def get_other(bind):
                with Session(bind=bind, info={"x": 1}) as session:
                    yield session
            """
        },
    )


def test_a_session_class_dependency_twin_follows_the_engine_when_it_runs() -> None:
    check_transformed(
        STEP,
        {
            "main.py": """\
            from sqlmodel import Session, create_engine

            engine = create_engine("sqlite:///database.db")


            def get_session():
                with Session(engine, autoflush=False) as session:
                    yield session
            """
        },
        {
            "main.py": """\
            from sqlmodel import Session, create_engine
            from asyncshift import async_engine_from, async_twin
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_engine("sqlite:///database.db")
            async_engine = async_engine_from(engine)


            def get_session():
                with Session(engine, autoflush=False) as session:
                    yield session


            async def get_async_session():
                async with AsyncSession(async_twin(engine), autoflush=False, expire_on_commit=False) as session:
                    yield session
            """  # noqa: E501 - the twin as the step writes it
        },
    )


ALT_MAIN = """\
from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from .database import SessionLocal

app = FastAPI()


@app.middleware("http")
async def db_session_middleware(request: Request, call_next):
    try:
        request.state.db = SessionLocal()
        response = await call_next(request)
    finally:
        request.state.db.close()
    return response


def get_db(request: Request):
    return request.state.db
"""
DATABASE = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.ext.asyncio import async_sessionmaker
from asyncshift import async_engine_from

engine = create_engine("sqlite:///app.db")
async_engine = async_engine_from(engine)
SessionLocal = sessionmaker(bind=engine)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
"""


def test_a_request_state_dependency_gets_the_twin_of_what_its_middleware_stores() -> None:
    # Two apps in two packages, each with its own sessionmaker: neither sees the other's store.
    files = {
        f"{package}/{name}": text
        for package in ("one", "two")
        for name, text in (("__init__.py", ""), ("database.py", DATABASE), ("main.py", ALT_MAIN))
    }
    twin = (
        "\n\nasync def get_async_db():\n"
        "    async with AsyncSessionLocal() as session:\n"
        "        yield session\n"
    )
    after = {
        path: text.replace(
            "from .database import SessionLocal\n",
            "from .database import SessionLocal\nfrom one.database import AsyncSessionLocal\n"
            if path.startswith("one")
            else "from .database import SessionLocal\nfrom two.database import AsyncSessionLocal\n",
        )
        + twin
        if path.endswith("main.py")
        else text
        for path, text in files.items()
    }
    check_transformed(STEP, files, after)


def test_no_request_state_twin_when_the_stores_disagree() -> None:
    other = ALT_MAIN.replace(
        "    return request.state.db\n",
        "    return request.state.db\n\n\n"
        "@app.middleware('http')\n"
        "async def replica(request: Request, call_next):\n"
        "    request.state.db = ReplicaSession()\n"
        "    return await call_next(request)\n",
    ).replace("import SessionLocal", "import ReplicaSession, SessionLocal")
    database = DATABASE + "ReplicaSession = sessionmaker(bind=engine)\n"
    check_noop(STEP, {"app/__init__.py": "", "app/database.py": database, "app/main.py": other})


def test_a_test_override_by_a_closure_gets_async_override_of_it() -> None:
    main = """\
    from fastapi import FastAPI
    from sqlmodel import Session, create_engine
    from asyncshift import async_engine_from, async_twin
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine = create_engine("sqlite:///database.db")
    async_engine = async_engine_from(engine)
    app = FastAPI()


    def get_session():
        with Session(engine) as session:
            yield session


    async def get_async_session():
        async with AsyncSession(async_twin(engine), expire_on_commit=False) as session:
            yield session
    """
    test = """\
    from app.main import app, get_session


    def test_create_hero(session):
        def get_session_override():
            return session  # the fixture's session

        app.dependency_overrides[get_session] = get_session_override
        assert app


    def test_with_parameters(session):
        def override(request):
            return session

        app.dependency_overrides[get_session] = override
    """
    check_transformed(
        STEP,
        {"app/__init__.py": "", "app/main.py": main, "tests/test_main.py": test},
        {
            "app/__init__.py": "",
            "app/main.py": main,
            "tests/test_main.py": """\
            from app.main import app, get_async_session, get_session
            from asyncshift import async_override


            def test_create_hero(session):
                def get_session_override():
                    return session  # the fixture's session

                app.dependency_overrides[get_session] = get_session_override
                app.dependency_overrides[get_async_session] = async_override(get_session_override)
                assert app


            def test_with_parameters(session):
                def override(request):
                    return session

                app.dependency_overrides[get_session] = override
            """,
        },
    )
