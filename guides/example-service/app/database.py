"""Engine, session factory and the thread-local session the older modules use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

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


@contextmanager
def session_scope() -> Iterator[Session]:
    """A transaction around a block of work, for code outside requests (scripts, jobs)."""
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


class Base(DeclarativeBase):
    pass
