"""An engine derived with execution_options() on a full MariaDB pool: an error at once, not a
loop frozen for the whole pool_timeout (issue 8, item 10)."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from asyncshift import BlockingCallError, guard
from tests.support.mariadb import MariaDB

# Unguarded, the checkout below waits pool_timeout (60 s) on the loop: the test times out.
pytestmark = [pytest.mark.mariadb, pytest.mark.anyio, pytest.mark.timeout(20)]


async def test_a_derived_engine_on_a_full_pool_fails_at_once(mariadb: MariaDB) -> None:
    engine = create_engine(mariadb.sync_url, pool_size=1, max_overflow=0, pool_timeout=60)
    guard(engine)
    reader = engine.execution_options(isolation_level="READ COMMITTED")
    read_session = sessionmaker(bind=reader)
    held = await anyio.to_thread.run_sync(engine.connect)  # the pool's only connection
    try:
        with pytest.raises(BlockingCallError, match="checking out a connection"):
            read_session().execute(text("SELECT 1"))
    finally:
        await anyio.to_thread.run_sync(held.close)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    engine.dispose()
