from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from app import crud, schemas
from app.deps import CurrentUser, SessionDep, get_db
from app.repositories import UserRepository
from app.services import EmailAlreadyRegistered, UserService

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/", response_model=schemas.UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(user: schemas.UserCreate, db: SessionDep):
    try:
        return UserService(db).register(user)
    except EmailAlreadyRegistered:
        raise HTTPException(status_code=400, detail="Email already registered") from None


@router.get("/", response_model=list[schemas.User])
def read_users(skip: int = 0, limit: int = 100, db: Session = Depends(get_db)):
    return crud.get_users(db, skip=skip, limit=limit)


@router.get("/active", response_model=list[schemas.User])
def read_active_users(db: SessionDep):
    return UserRepository(db).active_with_items()


@router.get("/me", response_model=schemas.User)
def read_me(current_user: CurrentUser):
    return current_user


@router.get("/{user_id}", response_model=schemas.User)
def read_user(user_id: int, db: SessionDep):
    db_user = crud.get_user(db, user_id=user_id)
    if db_user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return db_user


@router.post("/{user_id}/items/", response_model=schemas.Item, status_code=status.HTTP_201_CREATED)
def create_item_for_user(
    user_id: int, item: schemas.ItemCreate, db: SessionDep, current_user: CurrentUser
):
    if current_user.id != user_id:
        raise HTTPException(status_code=403, detail="Items can only be added to your own account")
    return crud.create_user_item(db=db, item=item, user_id=user_id)


@router.delete("/{user_id}", response_model=schemas.User)
def deactivate_user(user_id: int, db: SessionDep, current_user: CurrentUser):
    user = UserService(db).deactivate(user_id, actor=current_user)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return user
