"""``asyncshift plan``: where each endpoint stands, and what holds it back."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from asyncshift.cli import main

DEPS = textwrap.dedent(
    """\
    from contextlib import contextmanager
    from typing import Annotated
    from fastapi import Depends, Request
    from sqlalchemy.orm import Session, sessionmaker, scoped_session

    SessionLocal = sessionmaker()
    Registry = scoped_session(SessionLocal)


    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()


    SessionDep = Annotated[Session, Depends(get_db)]


    @contextmanager
    def session_for_jobs():
        with SessionLocal() as session:
            yield session


    async def db_session_middleware(request: Request, call_next):
        request.state.db = SessionLocal()
        try:
            return await call_next(request)
        finally:
            request.state.db.close()
    """
)
ROUTES = textwrap.dedent(
    """\
    import time
    from fastapi import APIRouter, Depends, Request
    from app.deps import SessionDep, get_db

    router = APIRouter()


    @router.get("/ready")
    def ready(db: SessionDep):
        return db.get(User, 1)


    @router.post("/slow")
    def slow(db=Depends(get_db)):
        time.sleep(1)
        return db.get(User, 1)


    @router.get("/frozen")
    async def frozen(db: SessionDep):
        return db.get(User, 1)


    def audit():
        time.sleep(0.1)


    @router.get("/audited")
    def audited(db: SessionDep):
        audit()
        return db.get(User, 1)


    def get_state_db(request: Request):
        return request.state.db


    def listed(db=Depends(get_state_db)):
        return db.query(User).all()


    router.add_api_route("/listed", listed, methods=["POST"])


    @router.get("/health")
    async def health():
        return "ok"
    """
)


@pytest.fixture
def service(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "deps.py").write_text(DEPS)
    (tmp_path / "app" / "routes.py").write_text(ROUTES)
    return tmp_path


def test_plan_states_and_what_holds_an_endpoint_back(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--format", "json", str(service)]) == 0
    plan = json.loads(capsys.readouterr().out)
    states = {e["name"]: (e["route"], e["state"], e["holds_back"]) for e in plan["endpoints"]}
    assert states == {
        "ready": ("GET /ready", "sync, sync session", []),
        "slow": (
            "POST /slow",
            "sync, sync session",
            ["time.sleep() is non-database blocking work: it stays sync until that moves"],
        ),
        "frozen": ("GET /frozen", "async on a sync session (F4)", []),
        "audited": (
            "GET /audited",
            "sync, sync session",
            ["routes.audit -> time.sleep() is non-database blocking work, reached through calls"],
        ),
        "listed": ("POST /listed", "sync, sync session", []),
        "health": ("GET /health", "async", []),
    }
    lines = {e["name"]: e["line"] for e in plan["endpoints"]}
    assert (lines["ready"], lines["frozen"]) == (9, 20)  # where each `def` is
    assert [r.split(": ", 1)[1] for r in plan["registries"]] == [
        "Registry = scoped_session, thread-local (F1)"
    ]
    # Session dependencies are found by the type they hand out, never by name.
    assert [d.split(": ", 1)[1] for d in plan["dependencies"]] == [
        "get_db, sync session",
        "get_state_db, sync session",
    ]
    assert [d.split(": ", 1)[1] for d in plan["context_managers"]] == [
        "session_for_jobs, sync session"
    ]


def test_plan_as_markdown_for_a_pull_request(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--format", "markdown", str(service)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## asyncshift plan\n")
    assert "| `GET /frozen` frozen | `" in out and "| async on a sync session (F4) |" in out


def test_plan_leaves_pytest_fixtures_out_of_session_dependencies(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (service / "conftest.py").write_text(
        textwrap.dedent(
            """\
            import pytest
            from app.deps import SessionLocal

            @pytest.fixture(scope="function")
            def db():
                with SessionLocal() as session:
                    yield session
            """
        )
    )
    assert main(["plan", "--format", "json", str(service)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert not [d for d in plan["dependencies"] if "conftest.py" in d]
