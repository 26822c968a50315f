"""A two-minute look at what request scoping changes: ``python -m asyncshift.demo``.

The same legacy FastAPI service (``def`` endpoints on a module-level ``scoped_session``, never
removed) is served twice on SQLite: once as it is, once with its registry made by
``request_scoped_session`` and ``SessionScopeMiddleware`` added. Requests are plain ASGI calls
in this process, several at a time, so FastAPI's thread pool reuses its threads as in production.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import QueuePool

from asyncshift import SessionScopeMiddleware, request_scoped_session

REQUESTS = 24
AT_ONCE = 4


def legacy_service(registry: scoped_session[Session], seen: list[tuple[int, Session]]) -> FastAPI:
    app = FastAPI()

    @app.get("/orders/count")
    def count_orders() -> dict[str, int]:
        seen.append((threading.get_ident(), registry()))
        return {"orders": registry.execute(text("SELECT 42")).scalar_one()}

    return app


async def call(app: Any, path: str) -> int:
    """One HTTP request as a bare ASGI call; returns the status code."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"demo")],
        "client": ("127.0.0.1", 50000),
        "server": ("demo", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def serve(app: Any) -> list[int]:
    statuses: list[int] = []
    for _ in range(REQUESTS // AT_ONCE):
        statuses += await asyncio.gather(*(call(app, "/orders/count") for _ in range(AT_ONCE)))
    return statuses


def run_once(engine: Engine, scoped: bool) -> str:
    seen: list[tuple[int, Session]] = []
    factory = sessionmaker(engine)
    registry = request_scoped_session(factory) if scoped else scoped_session(factory)
    app = legacy_service(registry, seen)
    if scoped:
        app.add_middleware(SessionScopeMiddleware)
    statuses = asyncio.run(serve(app))
    threads = len({thread for thread, _ in seen})
    sessions = len({id(session) for _, session in seen})  # all still referenced: ids unique
    stranded = engine.pool.checkedout()  # type: ignore[attr-defined]
    engine.dispose()
    ok = statuses.count(200)
    return (
        f"  {ok}/{len(statuses)} requests OK on {threads} worker threads; "
        f"{sessions} distinct sessions; {stranded} connections still checked out afterwards"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"

        def engine() -> Engine:
            return create_engine(
                url, poolclass=QueuePool, connect_args={"check_same_thread": False}
            )

        print(f"asyncshift demo: {REQUESTS} requests, {AT_ONCE} at a time, to one legacy service")
        print("\nlegacy: thread-local scoped_session(), never removed")
        print(run_once(engine(), scoped=False))
        print(
            "  -> sessions and their connections stay with idle threads between requests: on\n"
            "     MySQL they outlive wait_timeout ('MySQL server has gone away', F1), and a\n"
            "     teardown that raises leaves them stuck for every later request (F3)."
        )
        print("\nasyncshift: request_scoped_session() + SessionScopeMiddleware, same endpoint code")
        print(run_once(engine(), scoped=True))
        print("  -> one session per request, closed when the request ends, whatever happened.")


if __name__ == "__main__":
    main()
