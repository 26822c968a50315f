from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from app import models, notifications
from app.config import settings
from app.database import Base, ScopedSession, SessionLocal
from app.deps import get_db
from app.main import app
from app.security import hash_password

# In-memory SQLite by default; CI also runs the suite against MariaDB with
# TEST_DATABASE_URL=mysql+pymysql://user:password@127.0.0.1:3306/example_test
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")

if TEST_DATABASE_URL.startswith("sqlite"):
    engine = create_engine(
        TEST_DATABASE_URL,
        connect_args={"check_same_thread": False},
        poolclass=StaticPool,
    )
else:
    engine = create_engine(TEST_DATABASE_URL, pool_pre_ping=True)

TestingSessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)

# Code that does not go through get_db (the reports' ScopedSession, db.session) builds its
# sessions from SessionLocal: point it at the test database as well.
SessionLocal.configure(bind=engine)

# Hashing at production strength would make the suite slow.
settings.password_hash_iterations = 1_000


def override_get_db() -> Iterator[Session]:
    db = TestingSessionLocal()
    try:
        yield db
    finally:
        db.close()


app.dependency_overrides[get_db] = override_get_db


@pytest.fixture(autouse=True)
def _database() -> Iterator[None]:
    Base.metadata.create_all(bind=engine)
    yield
    ScopedSession.remove()
    Base.metadata.drop_all(bind=engine)


@pytest.fixture(autouse=True)
def _exports(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "export_dir", tmp_path / "exports")


@pytest.fixture(autouse=True)
def _outbox() -> Iterator[list[notifications.Message]]:
    notifications.transport.sent.clear()
    yield notifications.transport.sent


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


@pytest.fixture
def db_session() -> Iterator[Session]:
    session = TestingSessionLocal()
    try:
        yield session
    finally:
        session.close()


def make_user(db: Session, email: str, *, token: str, full_name: str | None = None) -> models.User:
    user = models.User(
        email=email,
        full_name=full_name,
        hashed_password=hash_password("correct horse"),
        api_token=token,
    )
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


@pytest.fixture
def alice(db_session: Session) -> models.User:
    return make_user(db_session, "alice@example.com", token="alice-token", full_name="Alice")


@pytest.fixture
def bob(db_session: Session) -> models.User:
    return make_user(db_session, "bob@example.com", token="bob-token")


@pytest.fixture
def alice_items(db_session: Session, alice: models.User) -> list[models.Item]:
    garden, kitchen = models.Tag(name="garden"), models.Tag(name="kitchen")
    items = []
    for title, description, tags in [
        ("Spade", "For digging", [garden]),
        ("Kettle", None, [kitchen]),
        ("Hose", None, [garden, kitchen]),
    ]:
        item = models.Item(title=title, description=description, owner_id=alice.id, tags=tags)
        db_session.add(item)
        db_session.flush()  # ids in the order of this list
        items.append(item)
    db_session.commit()
    return items


def auth(user: models.User) -> dict[str, str]:
    return {"X-API-Token": user.api_token}
