"""Plain functions over a session: the oldest data-access code in the service."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import models, schemas


def get_user(db: Session, user_id: int) -> models.User | None:
    return db.query(models.User).filter(models.User.id == user_id).first()


def get_user_by_email(db: Session, email: str) -> models.User | None:
    return db.query(models.User).filter(models.User.email == email).first()


def get_users(db: Session, skip: int = 0, limit: int = 100) -> list[models.User]:
    return db.query(models.User).order_by(models.User.id).offset(skip).limit(limit).all()


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(models.User)) or 0


def get_items(db: Session, skip: int = 0, limit: int = 100) -> list[models.Item]:
    return list(db.scalars(select(models.Item).order_by(models.Item.id).offset(skip).limit(limit)))


def search_items(db: Session, text: str, limit: int = 20) -> list[models.Item]:
    pattern = f"%{text}%"
    stmt = (
        select(models.Item)
        .where(models.Item.title.ilike(pattern) | models.Item.description.ilike(pattern))
        .order_by(models.Item.id)
        .limit(limit)
    )
    return list(db.scalars(stmt))


def create_user_item(db: Session, item: schemas.ItemCreate, user_id: int) -> models.Item:
    db_item = models.Item(**item.model_dump(), owner_id=user_id)
    db.add(db_item)
    db.commit()
    db.refresh(db_item)
    return db_item


def get_or_create_tags(db: Session, names: list[str]) -> list[models.Tag]:
    wanted = sorted({name.strip().lower() for name in names if name.strip()})
    existing = {
        tag.name: tag for tag in db.scalars(select(models.Tag).where(models.Tag.name.in_(wanted)))
    }
    for name in wanted:
        if name not in existing:
            existing[name] = models.Tag(name=name)
            db.add(existing[name])
    return [existing[name] for name in wanted]
