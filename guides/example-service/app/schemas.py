from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class ItemBase(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None


class ItemCreate(ItemBase):
    pass


class Item(ItemBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    tags: list[TagRead] = []


class UserBase(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=255)
    full_name: str | None = None


class UserCreate(UserBase):
    password: str = Field(min_length=8)


class User(UserBase):
    """What the API shows of a user: the endpoints return the ORM object, items and all."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    is_active: bool
    items: list[Item] = []


class UserCreated(User):
    api_token: str


class ItemTags(BaseModel):
    tags: list[str] = Field(max_length=20)


class TagUsage(BaseModel):
    name: str
    items: int


class ExportResult(BaseModel):
    file: str
    rows: int


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    actor_id: int | None
    action: str
    detail: str
