from __future__ import annotations

from sqlalchemy import select

from app import models
from tests.conftest import auth


def test_register_returns_the_user_and_a_token(client, db_session, _outbox):
    response = client.post(
        "/users/",
        json={"email": "carol@example.com", "full_name": "Carol", "password": "s3cret-pass"},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["email"] == "carol@example.com"
    assert data["items"] == []
    assert len(data["api_token"]) == 64

    stored = db_session.scalars(
        select(models.User).where(models.User.email == "carol@example.com")
    ).one()
    assert stored.hashed_password.startswith("pbkdf2_sha256$")
    assert [(m.to, m.subject) for m in _outbox] == [("carol@example.com", "Welcome!")]


def test_register_twice_is_refused(client, alice):
    response = client.post("/users/", json={"email": alice.email, "password": "another-pass"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}


def test_register_validates_the_body(client):
    response = client.post("/users/", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 422


def test_read_user_includes_items_the_endpoint_never_loaded(client, alice, alice_items):
    response = client.get(f"/users/{alice.id}")
    assert response.status_code == 200
    data = response.json()
    assert data["email"] == "alice@example.com"
    assert [item["title"] for item in data["items"]] == ["Spade", "Kettle", "Hose"]
    assert [tag["name"] for tag in data["items"][2]["tags"]] == ["garden", "kitchen"]


def test_read_missing_user_is_404(client):
    response = client.get("/users/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_read_users_pages(client, alice, bob):
    assert [u["email"] for u in client.get("/users/").json()] == [alice.email, bob.email]
    assert [u["email"] for u in client.get("/users/?skip=1&limit=1").json()] == [bob.email]


def test_me_needs_a_valid_token(client, alice):
    assert client.get("/users/me").status_code == 401
    assert client.get("/users/me", headers={"X-API-Token": "nope"}).status_code == 401
    response = client.get("/users/me", headers=auth(alice))
    assert response.status_code == 200
    assert response.json()["full_name"] == "Alice"


def test_create_item_for_self(client, alice):
    response = client.post(
        f"/users/{alice.id}/items/",
        json={"title": "Lamp", "description": "Desk lamp"},
        headers=auth(alice),
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": response.json()["id"],
        "title": "Lamp",
        "description": "Desk lamp",
        "owner_id": alice.id,
        "tags": [],
    }
    assert [i["title"] for i in client.get(f"/users/{alice.id}").json()["items"]] == ["Lamp"]


def test_create_item_for_someone_else_is_forbidden(client, alice, bob):
    response = client.post(f"/users/{bob.id}/items/", json={"title": "Lamp"}, headers=auth(alice))
    assert response.status_code == 403


def test_deactivate_self_then_token_stops_working(client, db_session, alice, bob):
    assert client.delete(f"/users/{bob.id}", headers=auth(alice)).status_code == 403

    response = client.delete(f"/users/{alice.id}", headers=auth(alice))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.get("/users/me", headers=auth(alice)).status_code == 401

    db_session.rollback()  # a new transaction: under REPEATABLE READ the old one sees old rows
    assert db_session.get(models.User, alice.id).is_active is False
    assert [u["email"] for u in client.get("/users/active").json()] == [bob.email]


def test_active_users_come_with_their_items(client, alice, alice_items, bob):
    data = client.get("/users/active").json()
    assert [(u["email"], len(u["items"])) for u in data] == [(alice.email, 3), (bob.email, 0)]
