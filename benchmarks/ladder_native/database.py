"""The async engine and session factory, from DATABASE_URL (an async URL: mysql+asyncmy://...)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

# The same pool as the benchmark gives the example service's copies: 4 connections, no
# overflow, a long wait for a free one (a benchmark-only setting, see benchmarks/ladder_load.py).
engine = create_async_engine(
    os.environ["DATABASE_URL"],
    pool_pre_ping=True,
    pool_size=4,
    max_overflow=0,
    pool_timeout=30,
)

# expire_on_commit=False: objects stay readable after a commit without a (lazy, async) refresh.
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
