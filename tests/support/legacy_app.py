"""A legacy data layer as services have it: models, a crud module, a repository class.

Everything here takes a sync ``Session`` and knows nothing of asyncio; the tests run it through
``adapt()`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.engine import Result
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

PAGE_SIZE = 50  # a module constant: adapt(module) passes it through


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "adapt_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    items: Mapped[list[Item]] = relationship(back_populates="owner")


class Item(Base):
    __tablename__ = "adapt_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int] = mapped_column(ForeignKey("adapt_users.id"))
    owner: Mapped[User] = relationship(back_populates="items")


class UserNotFound(LookupError):
    pass


def create_user(db: Session, name: str) -> User:
    user = User(name=name)
    db.add(user)
    db.flush()
    return user


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user {user_id}")
    return user


def count_users(session: Session) -> int:
    return len(session.execute(select(User.id)).all())


def add_item(db: Session, user_id: int, title: str) -> Item:
    item = Item(title=title, owner=get_user(db, user_id))  # legacy calling legacy
    db.add(item)
    db.flush()
    return item


def iter_names(db: Session) -> Iterator[str]:
    for user in db.scalars(select(User).order_by(User.name)):
        yield user.name


def names_result(db: Session) -> Result[tuple[str]]:
    return db.execute(select(User.name).order_by(User.name))


def slugify(text: str) -> str:  # takes no session: not part of the data layer
    return text.lower().replace(" ", "-")


class UserRepository:
    """Users, the repository way."""

    table = "adapt_users"

    def __init__(self, db: Session, prefix: str = "") -> None:
        self.db = db
        self.prefix = prefix

    @property
    def label(self) -> str:
        return f"repo:{self.prefix}"

    def create(self, name: str) -> User:
        return create_user(self.db, self.prefix + name)

    def get(self, user_id: int) -> User:
        return get_user(self.db, user_id)

    def with_item(self, name: str, title: str) -> User:
        user = self.create(name)
        add_item(self.db, user.id, title)
        return user

    def _helper(self) -> None:  # private: not adapted, not exposed
        pass
