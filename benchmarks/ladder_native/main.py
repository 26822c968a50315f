"""``GET /users/``: the example service's endpoint, natively async (``app.main:app`` there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from benchmarks.ladder_native import models, schemas
from benchmarks.ladder_native.database import get_db

app = FastAPI(title="Example service, hand-written async")

SessionDep = Annotated[AsyncSession, Depends(get_db)]


@app.get("/users/", response_model=list[schemas.User])
async def read_users(db: SessionDep, skip: int = 0, limit: int = 100) -> Sequence[models.User]:
    # Everything schemas.User reads is loaded here, in two more queries whatever the page size:
    # validation on the event loop must not lazy-load (it cannot, on an AsyncSession).
    query = (
        select(models.User)
        .order_by(models.User.id)
        .offset(skip)
        .limit(limit)
        .options(selectinload(models.User.items).selectinload(models.Item.tags))
    )
    return (await db.scalars(query)).all()
