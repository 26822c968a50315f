from __future__ import annotations

from app import crud, schemas
from app.db_context import db
from app.repositories import UserRepository


def test_get_user(db_session, alice):
    assert crud.get_user(db_session, alice.id).email == "alice@example.com"
    assert crud.get_user(db_session, 999) is None


def test_get_user_by_email_and_count(db_session, alice, bob):
    assert crud.get_user_by_email(db_session, "bob@example.com").id == bob.id
    assert crud.get_user_by_email(db_session, "nobody@example.com") is None
    assert crud.count_users(db_session) == 2


def test_create_user_item(db_session, alice):
    item = crud.create_user_item(db_session, schemas.ItemCreate(title="Rake"), user_id=alice.id)
    assert item.id is not None
    assert [i.title for i in crud.get_items(db_session)] == ["Rake"]
    db_session.refresh(alice)
    assert [i.title for i in alice.items] == ["Rake"]


def test_get_or_create_tags_reuses_existing_ones(db_session, alice_items):
    tags = crud.get_or_create_tags(db_session, ["garden", "Shed", "shed"])
    assert [t.name for t in tags] == ["garden", "shed"]
    assert tags[0].id is not None and tags[1].id is None


def test_repository_finds_users_by_token(db_session, alice):
    users = UserRepository(db_session)
    assert users.by_token("alice-token").id == alice.id
    assert users.by_token("missing") is None
    users.deactivate(users.get(alice.id))
    assert users.active_with_items() == []


def test_request_session_helper_outside_requests(alice):
    with db():
        assert db.session.get(type(alice), alice.id).email == alice.email
