"""F3: a teardown that raises strands the session, and its connection, for later requests.

The legacy dependency commits after ``yield`` and only then removes the thread-local session;
when the commit raises (a duplicate key here), ``remove()`` never runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import String, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)

from asyncshift import SessionScopeMiddleware, request_scoped_session
from tests.support.mariadb import MariaDB

pytestmark = [pytest.mark.anyio, pytest.mark.mariadb, pytest.mark.timeout(60)]

REQUESTS = 12  # the third one repeats an existing tag


class Base(DeclarativeBase):
    pass


class Tag(Base):
    __tablename__ = "f3_tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


@pytest.fixture
def engine(mariadb: MariaDB) -> Iterator[Engine]:
    engine = create_engine(mariadb.sync_url, pool_size=3, max_overflow=0, pool_timeout=1)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Tag(name="taken"))
        session.commit()
    yield engine
    engine.dispose()


def service(registry: scoped_session[Session]) -> FastAPI:
    app = FastAPI()

    def get_db() -> Iterator[Session]:
        db = registry()
        yield db
        db.commit()  # cleanup that can raise, before the session is released
        registry.remove()

    @app.post("/tags/{name}")
    def add_tag(name: str, db: Session = Depends(get_db)) -> dict[str, str]:
        db.add(Tag(name=name))
        return {"name": name}

    return app


async def traffic(app: FastAPI, engine: Engine) -> tuple[int, list[int]]:
    """Returns how many fresh tags were lost, and the checked-out count after each request.

    One worker thread serves everything, as a quiet production thread pool effectively does,
    so that the outcome does not depend on which thread the pool hands out. FastAPI runs this
    teardown after the response is sent, so the client sees 200 either way; what was lost
    shows in the table.
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = 1
    names = [f"tag-{n}" for n in range(REQUESTS)]
    names[2] = "taken"
    checked_out: list[int] = []
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for name in names:
            await client.post(f"/tags/{name}")
            checked_out.append(engine.pool.checkedout())  # type: ignore[attr-defined]
    # A connection of its own: the pool under test may be exhausted by stranded sessions.
    counter = create_engine(engine.url)
    with counter.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Tag)).scalar_one()
    counter.dispose()
    lost = (REQUESTS - 1) + 1 - stored
    return lost, checked_out


async def test_legacy_teardown_that_raises_strands_connections(engine: Engine) -> None:
    app = service(scoped_session(sessionmaker(engine)))
    lost, checked_out = await traffic(app, engine)
    print(f"F3 legacy: fresh tags lost={lost} checked out after each request={checked_out}")
    assert checked_out[2:] == [1] * (REQUESTS - 2)  # stranded from the raising teardown on
    assert lost == REQUESTS - 3  # every later, valid request pays for it


async def test_scope_releases_everything_after_every_request(engine: Engine) -> None:
    app = service(request_scoped_session(sessionmaker(engine)))
    app.add_middleware(SessionScopeMiddleware)
    lost, checked_out = await traffic(app, engine)
    print(f"F3 asyncshift: fresh tags lost={lost} checked out after each request={checked_out}")
    assert (lost, checked_out) == (0, [0] * REQUESTS)
