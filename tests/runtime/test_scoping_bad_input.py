"""Registries given the wrong thing fail at the call, saying what was given, what is expected,
and the fix; nothing is half-built and nothing leaks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from asyncshift import request_scoped_session, session_scope, task_scoped_session


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool)
    yield engine
    engine.dispose()


def test_task_scoped_session_refuses_a_sync_sessionmaker(engine: Engine) -> None:
    with pytest.raises(TypeError) as error:
        task_scoped_session(sessionmaker(engine))  # type: ignore[arg-type]
    message = str(error.value)
    assert "sessionmaker" in message and "async_sessionmaker" in message
    assert "request_scoped_session" in message  # the fix for sync sessions
    assert "async_engine_from" in message  # the fix for async ones


def test_request_scoped_session_refuses_an_async_sessionmaker(tmp_path: Path) -> None:
    async_engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/db.sqlite", poolclass=AsyncAdaptedQueuePool
    )
    with pytest.raises(TypeError) as error:
        request_scoped_session(async_sessionmaker(async_engine))  # type: ignore[arg-type]
    message = str(error.value)
    assert "async_sessionmaker" in message and "task_scoped_session" in message
    assert engine_checked_out(async_engine.sync_engine) == 0


@pytest.mark.parametrize("given", ["engine", "connection", "session", "string"])
def test_request_scoped_session_refuses_what_is_not_a_session_factory(
    engine: Engine, given: str
) -> None:
    with engine.connect() as connection:
        wrong = {
            "engine": engine,
            "connection": connection,
            "session": sessionmaker(engine)(),
            "string": "sqlite://",
        }[given]
        with pytest.raises(TypeError) as error:
            request_scoped_session(wrong)  # type: ignore[arg-type]
    message = str(error.value)
    assert type(wrong).__name__ in message
    assert "request_scoped_session(sessionmaker(" in message


@pytest.mark.parametrize("given", ["engine", "async engine", "string"])
def test_task_scoped_session_refuses_what_is_not_a_session_factory(
    engine: Engine, tmp_path: Path, given: str
) -> None:
    wrong = {
        "engine": engine,
        "async engine": create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite"),
        "string": "sqlite+aiosqlite://",
    }[given]
    with pytest.raises(TypeError) as error:
        task_scoped_session(wrong)  # type: ignore[arg-type]
    message = str(error.value)
    assert type(wrong).__name__ in message
    assert "task_scoped_session(async_sessionmaker(" in message


def test_a_plain_factory_function_is_still_accepted(engine: Engine) -> None:
    factory = sessionmaker(engine)
    registry = request_scoped_session(lambda: factory())  # type: ignore[arg-type]
    with session_scope():
        assert registry() is registry()


def test_task_scoped_session_from_sync_code_says_what_to_use(tmp_path: Path) -> None:
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    registry = task_scoped_session(async_sessionmaker(async_engine))
    for use in (registry, registry.registry.has):
        with pytest.raises(RuntimeError) as error:
            use()
        message = str(error.value)
        assert "no asyncio task" in message or "outside an asyncio task" in message
        assert "request_scoped_session" in message
        assert "no running event loop" not in message
    with session_scope(), pytest.raises(RuntimeError, match="outside an asyncio task"):
        registry()
    asyncio.run(async_engine.dispose())


def engine_checked_out(engine: Engine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]
