from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from app import crud, schemas
from app.deps import CurrentUser, SessionDep
from app.repositories import ItemRepository
from app.services import UserService

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/", response_model=list[schemas.Item])
def read_items(db: SessionDep, skip: int = 0, limit: int = 100):
    return crud.get_items(db, skip=skip, limit=limit)


@router.get("/search", response_model=list[schemas.Item])
async def search_items(db: SessionDep, q: str = Query(min_length=2)):
    # Started the move to async: the query itself still needs a thread.
    return await run_in_threadpool(crud.search_items, db, q)


@router.get("/{item_id}", response_model=schemas.Item)
def read_item(item_id: int, db: SessionDep):
    item = ItemRepository(db).get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@router.put("/{item_id}/tags", response_model=schemas.Item)
def set_item_tags(item_id: int, body: schemas.ItemTags, db: SessionDep, current_user: CurrentUser):
    item = UserService(db).tag_item(item_id, body.tags, actor=current_user)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item
