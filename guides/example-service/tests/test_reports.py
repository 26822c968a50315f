from __future__ import annotations

import csv

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from app import database
from app.config import settings
from app.main import create_app
from tests.conftest import auth


def test_summary_counts_rows_seeded_through_the_session(client, alice, alice_items, bob):
    assert client.get("/admin/reports/summary").json() == {
        "users": 2,
        "active_users": 2,
        "items": 3,
        "tags": 2,
    }


def test_export_writes_a_csv_file_and_audits_it(client, alice, alice_items, bob):
    response = client.post("/admin/reports/users-export", headers=auth(alice))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rows"] == 2

    with (settings.export_dir / result["file"]).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["id", "email", "full_name", "active", "items"],
        [str(alice.id), "alice@example.com", "Alice", "True", "3"],
        [str(bob.id), "bob@example.com", "", "True", "0"],
    ]

    activity = client.get("/admin/reports/activity").json()
    assert activity == [{"actor_id": alice.id, "action": "export", "detail": result["file"]}]


def test_export_needs_a_user(client):
    assert client.post("/admin/reports/users-export").status_code == 401


def test_activity_lists_newest_first(client, alice, alice_items):
    client.put(f"/items/{alice_items[0].id}/tags", json={"tags": ["tools"]}, headers=auth(alice))
    client.post("/users/", json={"email": "dan@example.com", "password": "long-enough"})
    actions = [entry["action"] for entry in client.get("/admin/reports/activity").json()]
    assert actions == ["register", "tag"]
    assert len(client.get("/admin/reports/activity?limit=1").json()) == 1


def test_startup_creates_the_tables(tmp_path, monkeypatch):
    file_engine = create_engine(f"sqlite:///{tmp_path / 'startup.db'}")
    monkeypatch.setattr(database, "engine", file_engine)
    with TestClient(create_app()) as client:
        assert client.get("/health").json() == {"status": "ok"}
    assert {"users", "items", "tags", "item_tags", "audit_entries"} <= set(
        inspect(file_engine).get_table_names()
    )
    file_engine.dispose()
