"""Business rules, on top of the crud functions and the repositories."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from app import audit, crud, models, notifications, schemas
from app.repositories import ItemRepository, UserRepository
from app.security import hash_password, new_api_token


class EmailAlreadyRegistered(Exception):
    pass


class NotAllowed(Exception):
    pass


class UserService:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.users = UserRepository(db)
        self.items = ItemRepository(db)

    def register(self, user_in: schemas.UserCreate) -> models.User:
        if crud.get_user_by_email(self.db, user_in.email):
            raise EmailAlreadyRegistered(user_in.email)
        user = self.users.add(
            models.User(
                email=user_in.email,
                full_name=user_in.full_name,
                hashed_password=hash_password(user_in.password),
                api_token=new_api_token(),
            )
        )
        audit.record(user.id, "register", user.email)
        # The mail client is async-only; this code runs in a worker thread, so it gets its own loop.
        asyncio.run(notifications.send_welcome_email(user.email, user.full_name))
        return user

    def deactivate(self, user_id: int, actor: models.User) -> models.User | None:
        if actor.id != user_id:
            raise NotAllowed("users can only deactivate themselves")
        user = crud.get_user(self.db, user_id)
        if user is None:
            return None
        self.users.deactivate(user)
        audit.record(actor.id, "deactivate", user.email)
        return user

    def tag_item(self, item_id: int, names: list[str], actor: models.User) -> models.Item | None:
        item = self.items.get(item_id)
        if item is None:
            return None
        if item.owner_id != actor.id:
            raise NotAllowed("only the owner can tag an item")
        item = self.items.replace_tags(item, crud.get_or_create_tags(self.db, names))
        audit.record(actor.id, "tag", f"item {item.id}: {', '.join(t.name for t in item.tags)}")
        return item
