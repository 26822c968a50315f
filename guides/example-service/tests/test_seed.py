from __future__ import annotations

from sqlalchemy import select

from app import database, models, seed
from tests.conftest import engine


def test_seed_adds_demo_users_once(db_session):
    assert seed.seed(db_session) == 2
    assert seed.seed(db_session) == 0
    users = db_session.scalars(select(models.User).order_by(models.User.email)).all()
    assert [(u.email, len(u.items)) for u in users] == [
        ("ada@example.com", 2),
        ("grace@example.com", 1),
    ]


def test_seed_script_records_the_run(monkeypatch, capsys, client):
    monkeypatch.setattr(database, "engine", engine)
    seed.main()
    assert capsys.readouterr().out == "seeded 2 demo users\n"
    assert client.get("/admin/reports/activity").json() == [
        {"actor_id": None, "action": "seed", "detail": "2 demo users"}
    ]
    assert client.get("/admin/reports/summary").json()["users"] == 2
