"""The response models of ``GET /users/`` (guides/example-service/app/schemas.py), as is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class Item(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    id: int
    owner_id: int
    tags: list[TagRead] = []


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=255)
    full_name: str | None = None
    id: int
    is_active: bool
    items: list[Item] = []
