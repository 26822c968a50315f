"""Engine, session factory and the thread-local session the older modules use."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

from app.config import settings

connect_args = {}
if settings.database_url.startswith("sqlite"):
    # FastAPI runs `def` endpoints in a thread pool, so one connection may serve several threads.
    connect_args["check_same_thread"] = False

engine = create_engine(
    settings.database_url,
    connect_args=connect_args,
    pool_pre_ping=True,
)

SessionLocal = sessionmaker(bind=engine, autocommit=False, autoflush=False)

# The session the reporting and audit code has always used: one per thread, created on first use.
ScopedSession = scoped_session(SessionLocal)


class Base(DeclarativeBase):
    pass
