"""How the scope closes sync sessions: one ROLLBACK per connection, outside connections kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from asyncshift import request_scoped_session, session_scope


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool)
    yield engine
    engine.dispose()


def record_rollbacks(engine: Engine) -> list[str]:
    calls: list[str] = []
    event.listen(engine, "rollback", lambda conn: calls.append("rollback"))
    event.listen(
        engine.pool,
        "reset",
        lambda dbapi, record, state: calls.append(
            "pool skips its reset" if state.transaction_was_reset else "pool rolls back again"
        ),
    )
    return calls


def test_scope_end_rolls_back_once_where_session_close_does_twice(engine: Engine) -> None:
    calls = record_rollbacks(engine)
    factory = sessionmaker(engine)
    with factory() as session:  # the plain close, for comparison
        session.execute(text("SELECT 1"))
    assert calls == ["rollback", "pool rolls back again"]
    calls.clear()

    registry = request_scoped_session(factory)
    with session_scope():
        registry.execute(text("SELECT 1"))
    assert calls == ["rollback", "pool skips its reset"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_connection_handed_to_the_session_from_outside_stays_open(engine: Engine) -> None:
    connection = engine.connect()
    outer = connection.begin()  # the join-an-external-transaction pattern of test suites
    registry = request_scoped_session(sessionmaker(bind=connection))
    with session_scope():
        registry.execute(text("CREATE TABLE t (x INTEGER)"))
    assert not connection.closed and outer.is_active
    assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    outer.rollback()
    connection.close()
