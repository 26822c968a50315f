"""F1: 'MySQL server has gone away' after a quiet spell, although pool_pre_ping=True.

A thread-local ``scoped_session`` keeps its session, and the connection inside it, on a worker
thread that FastAPI reuses; the connection idles past the server's ``wait_timeout`` without ever
going back to the pool, so pre-ping never sees it. Here the server's timeout is 2 s instead of a
night.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from asyncshift import SessionScopeMiddleware, request_scoped_session
from tests.support.mariadb import MariaDB

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(60)]

WAIT_TIMEOUT = 2  # seconds the server lets a connection idle
QUIET = WAIT_TIMEOUT + 1
CLIENTS = 6
ROUNDS = 3


@pytest.fixture
def engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = create_engine(
        mariadb.sync_url,
        pool_pre_ping=True,
        pool_size=CLIENTS,
        max_overflow=0,
        pool_timeout=5,
        connect_args={"init_command": f"SET SESSION wait_timeout = {WAIT_TIMEOUT}"},
    )
    yield engine
    engine.dispose()


def service(registry: scoped_session[Session]) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    errors: list[str] = []

    @app.exception_handler(Exception)
    async def record(request: Request, exc: Exception) -> JSONResponse:
        errors.append(str(exc))
        return JSONResponse({"error": str(exc)}, status_code=500)

    @app.get("/now")
    def now() -> dict[str, str]:
        # The legacy endpoint: reads through the registry, never commits or removes.
        return {"now": str(registry.execute(text("SELECT NOW(6)")).scalar_one())}

    return app, errors


async def traffic(app: FastAPI, engine: Engine) -> tuple[int, int, int]:
    """ROUNDS bursts of CLIENTS concurrent requests, each after a quiet spell.

    Returns the requests that succeeded and failed, and the most connections left checked
    out of the pool once a burst was over.
    """
    ok = failed = stranded = 0
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for round_ in range(ROUNDS):
            if round_:
                await asyncio.sleep(QUIET)
            responses = await asyncio.gather(*(client.get("/now") for _ in range(CLIENTS)))
            ok += sum(r.status_code == 200 for r in responses)
            failed += sum(r.status_code != 200 for r in responses)
            stranded = max(stranded, engine.pool.checkedout())  # type: ignore[attr-defined]
    return ok, failed, stranded


async def test_legacy_thread_local_scoped_session_fails_after_a_quiet_spell(
    engine: Engine,
) -> None:
    registry = scoped_session(sessionmaker(engine))
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    app, errors = service(registry)
    ok, failed, stranded = await traffic(app, engine)
    print(f"F1 legacy: ok={ok} failed={failed} stranded={stranded}")
    assert failed > 0, "the legacy pattern should have hit a dead connection"
    assert any("(2006, " in error or "(2013, " in error for error in errors), errors[:3]
    assert stranded > 0  # connections that stayed with idle threads between bursts


async def test_request_scoped_session_with_the_middleware_never_fails(
    engine: Engine,
) -> None:
    registry = request_scoped_session(sessionmaker(engine))
    app, errors = service(registry)
    app.add_middleware(SessionScopeMiddleware)
    ok, failed, stranded = await traffic(app, engine)
    print(f"F1 asyncshift: ok={ok} failed={failed} stranded={stranded}")
    assert errors == []
    assert (ok, failed, stranded) == (CLIENTS * ROUNDS, 0, 0)
