from __future__ import annotations

from app import models
from tests.conftest import auth


def test_read_items(client, alice_items):
    data = client.get("/items/").json()
    assert [item["title"] for item in data] == ["Spade", "Kettle", "Hose"]
    assert client.get("/items/?skip=2").json()[0]["title"] == "Hose"


def test_search_items_by_title_or_description(client, alice_items):
    assert [i["title"] for i in client.get("/items/search?q=dig").json()] == ["Spade"]
    data = client.get("/items/search?q=KETTLE").json()
    assert [(i["title"], [t["name"] for t in i["tags"]]) for i in data] == [("Kettle", ["kitchen"])]
    assert client.get("/items/search?q=nothing").json() == []
    assert client.get("/items/search?q=x").status_code == 422


def test_read_item_and_missing_item(client, alice_items):
    spade = alice_items[0]
    response = client.get(f"/items/{spade.id}")
    assert response.status_code == 200
    assert response.json()["tags"] == [{"id": spade.tags[0].id, "name": "garden"}]
    assert client.get("/items/999").status_code == 404


def test_owner_replaces_tags_creating_new_ones(client, db_session, alice, alice_items):
    kettle = alice_items[1]
    response = client.put(
        f"/items/{kettle.id}/tags", json={"tags": ["Kitchen", "electric", " "]}, headers=auth(alice)
    )
    assert response.status_code == 200, response.text
    assert [t["name"] for t in response.json()["tags"]] == ["electric", "kitchen"]
    db_session.rollback()  # a new transaction: under REPEATABLE READ the old one sees old rows
    assert {t.name for t in db_session.query(models.Tag)} == {"electric", "garden", "kitchen"}


def test_only_the_owner_tags_an_item(client, alice_items, bob):
    response = client.put(
        f"/items/{alice_items[0].id}/tags", json={"tags": ["x"]}, headers=auth(bob)
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "only the owner can tag an item"}


def test_tags_list_counts_items(client, alice_items, db_session):
    db_session.add(models.Tag(name="unused"))
    db_session.commit()
    assert client.get("/tags/").json() == [
        {"name": "garden", "items": 2},
        {"name": "kitchen", "items": 2},
        {"name": "unused", "items": 0},
    ]


def test_items_with_tag_walks_both_relationships(client, alice_items):
    data = client.get("/tags/garden/items").json()
    assert [(i["title"], [t["name"] for t in i["tags"]]) for i in data] == [
        ("Spade", ["garden"]),
        ("Hose", ["garden", "kitchen"]),
    ]
    assert client.get("/tags/nothing/items").status_code == 404


def test_delete_tag_through_the_request_session(client, db_session, alice, alice_items, bob):
    assert client.delete("/tags/garden", headers=auth(bob)).status_code == 403
    assert client.delete("/tags/garden", headers=auth(alice)).status_code == 204
    assert [t["name"] for t in client.get("/tags/").json()] == ["kitchen"]
    assert [t["name"] for t in client.get(f"/items/{alice_items[2].id}").json()["tags"]] == [
        "kitchen"
    ]
    assert client.delete("/tags/garden", headers=auth(alice)).status_code == 404
