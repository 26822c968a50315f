"""SessionScopeMiddleware on real FastAPI apps, through real ASGI clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI, WebSocket
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import QueuePool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from asyncshift import SessionScopeMiddleware, SessionScopeWSGIMiddleware, request_scoped_session

pytestmark = pytest.mark.anyio


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(
        f"sqlite:///{tmp_path}/db.sqlite",
        poolclass=QueuePool,
        pool_size=10,
        connect_args={"check_same_thread": False},
    )
    yield engine
    engine.dispose()


def checked_out(engine: Engine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


def make_app(registry: scoped_session[Session]) -> tuple[FastAPI, list[tuple[int, Session]]]:
    app = FastAPI()
    seen: list[tuple[int, Session]] = []  # holding the sessions keeps their ids unique

    @app.get("/sync")
    def sync_endpoint() -> dict[str, int]:
        registry.execute(text("SELECT 1"))  # legacy code, untouched: no remove(), no close()
        seen.append((threading.get_ident(), registry()))
        return {"ok": 1}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def rows() -> Iterator[bytes]:
            for n in range(3):
                yield str(registry.execute(text(f"SELECT {n}")).scalar_one()).encode()

        return StreamingResponse(rows())

    @app.get("/background")
    def background(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(lambda: seen.append((0, registry())))
        registry.execute(text("SELECT 1"))
        return {"ok": 1}

    return app, seen


async def test_pass_through_for_lifespan_and_no_sessions() -> None:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"hello": "world"}

    app.add_middleware(SessionScopeMiddleware)
    with TestClient(app) as client:  # runs the lifespan through the middleware
        assert client.get("/").json() == {"hello": "world"}


async def test_sync_endpoints_get_a_fresh_session_per_request_on_reused_threads(
    engine: Engine,
) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    app, seen = make_app(registry)
    app.add_middleware(SessionScopeMiddleware)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for _ in range(10):
            assert (await client.get("/sync")).status_code == 200
            assert checked_out(engine) == 0
    threads = [thread for thread, _ in seen]
    sessions = [session for _, session in seen]
    assert len(set(threads)) < len(threads), "the thread pool should have reused a thread"
    assert len({id(s) for s in sessions}) == len(sessions)


async def test_without_the_middleware_a_reused_thread_keeps_its_session(engine: Engine) -> None:
    # The F1 mechanism in miniature: a thread-local session survives its request.
    registry = scoped_session(sessionmaker(engine))
    app, seen = make_app(registry)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for _ in range(10):
            await client.get("/sync")
    by_thread: dict[int, set[int]] = {}
    for thread, session in seen:
        by_thread.setdefault(thread, set()).add(id(session))
    assert any(len(ids) == 1 for ids in by_thread.values())
    assert len({id(s) for _, s in seen}) < len(seen)
    assert checked_out(engine) > 0  # connections stay with idle threads
    engine.dispose()


async def test_streaming_bodies_and_background_tasks_are_inside_the_scope(
    engine: Engine,
) -> None:
    registry = request_scoped_session(sessionmaker(engine), strict=True)
    app, seen = make_app(registry)
    app.add_middleware(SessionScopeMiddleware)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/stream")).text == "012"
        assert (await client.get("/background")).status_code == 200
    assert [thread for thread, _ in seen] == [0]  # the background task found its scope
    assert checked_out(engine) == 0


async def test_code_under_someone_elses_base_http_middleware_is_covered(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine), strict=True)
    app, _ = make_app(registry)

    class Timing(BaseHTTPMiddleware):  # runs the app in a task of its own
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    app.add_middleware(Timing)
    app.add_middleware(SessionScopeMiddleware)  # added last: outermost
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for _ in range(3):
            assert (await client.get("/stream")).text == "012"
    assert checked_out(engine) == 0


async def test_a_websocket_connection_is_one_scope(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine), strict=True)
    app = FastAPI()
    sessions: list[Session] = []

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        for _ in range(3):
            n = int(await websocket.receive_text())
            sessions.append(registry())
            await websocket.send_text(str(registry.execute(text(f"SELECT {n} + 1")).scalar()))
        await websocket.close()

    app.add_middleware(SessionScopeMiddleware)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        for n in range(3):
            ws.send_text(str(n))
            assert ws.receive_text() == str(n + 1)
    assert len({id(s) for s in sessions}) == 1
    assert checked_out(engine) == 0


def test_wsgi_twin_scopes_the_call_and_the_response_body(engine: Engine) -> None:
    registry = request_scoped_session(sessionmaker(engine), strict=True)
    seen: list[Session] = []

    def legacy_wsgi_app(environ: dict[str, object], start_response: object) -> Iterator[bytes]:
        seen.append(registry())
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        yield str(registry.execute(text("SELECT 7")).scalar()).encode()
        seen.append(registry())

    app = SessionScopeWSGIMiddleware(legacy_wsgi_app)
    for _ in range(2):
        body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *a: None)
        assert b"".join(body) == b"7"
        body.close()  # type: ignore[attr-defined]
        assert checked_out(engine) == 0
    assert seen[0] is seen[1] and seen[2] is seen[3] and seen[0] is not seen[2]
