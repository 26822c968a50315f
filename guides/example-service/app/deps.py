from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

from app import models
from app.database import ScopedSession, SessionLocal
from app.repositories import UserRepository


def get_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


SessionDep = Annotated[Session, Depends(get_db)]


def get_current_user(
    db: SessionDep, x_api_token: Annotated[str | None, Header()] = None
) -> models.User:
    user = UserRepository(db).by_token(x_api_token) if x_api_token else None
    if user is None or not user.is_active:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="A valid X-API-Token header is required",
        )
    return user


CurrentUser = Annotated[models.User, Depends(get_current_user)]


def release_thread_session() -> Iterator[None]:
    """Routers that use `ScopedSession` close it when their request is done."""
    yield
    ScopedSession.close()
