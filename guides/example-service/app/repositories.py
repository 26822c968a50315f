"""Repository classes: the newer data-access code, one object per request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import models


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> models.User | None:
        return self.session.get(models.User, user_id)

    def by_token(self, token: str) -> models.User | None:
        return self.session.scalars(
            select(models.User).where(models.User.api_token == token)
        ).one_or_none()

    def add(self, user: models.User) -> models.User:
        self.session.add(user)
        self.session.commit()
        self.session.refresh(user)
        return user

    def deactivate(self, user: models.User) -> None:
        user.is_active = False
        self.session.commit()

    def active_with_items(self) -> list[models.User]:
        stmt = (
            select(models.User)
            .where(models.User.is_active.is_(True))
            .options(selectinload(models.User.items))
            .order_by(models.User.id)
        )
        return list(self.session.scalars(stmt))


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, item_id: int) -> models.Item | None:
        return self.session.get(models.Item, item_id)

    def replace_tags(self, item: models.Item, tags: list[models.Tag]) -> models.Item:
        item.tags = tags
        self.session.commit()
        self.session.refresh(item)
        return item
