from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import func, select

from app import schemas
from app.db_context import db
from app.deps import CurrentUser
from app.models import Tag, item_tags

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("/", response_model=list[schemas.TagUsage])
def list_tags():
    rows = db.session.execute(
        select(Tag.name, func.count(item_tags.c.item_id))
        .outerjoin(item_tags, item_tags.c.tag_id == Tag.id)
        .group_by(Tag.id, Tag.name)
        .order_by(Tag.name)
    ).all()
    return [schemas.TagUsage(name=name, items=count) for name, count in rows]


@router.get("/{name}/items", response_model=list[schemas.Item])
def items_with_tag(name: str):
    tag = db.session.query(Tag).filter_by(name=name).first()
    if tag is None:
        raise HTTPException(status_code=404, detail="Tag not found")
    return tag.items


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tag(name: str, current_user: CurrentUser):
    tag = db.session.query(Tag).filter_by(name=name).first()
    if tag is None:
        raise HTTPException(status_code=404, detail="Tag not found")
    if any(item.owner_id != current_user.id for item in tag.items):
        raise HTTPException(status_code=403, detail="The tag is used on other users' items")
    db.session.delete(tag)
    db.session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
