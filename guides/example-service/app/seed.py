"""Fill an empty database with demo data: `python -m app.seed` (run by the deploy job)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import audit, crud, database, models
from app.security import hash_password, new_api_token

DEMO_USERS = {
    "ada@example.com": ("Ada Lovelace", ["Notebook", "Difference engine"]),
    "grace@example.com": ("Grace Hopper", ["Compiler"]),
}


def seed(db: Session) -> int:
    """Adds the demo users that are missing; returns how many it added."""
    added = 0
    for email, (full_name, titles) in DEMO_USERS.items():
        if crud.get_user_by_email(db, email):
            continue
        user = models.User(
            email=email,
            full_name=full_name,
            hashed_password=hash_password("demo-password"),
            api_token=new_api_token(),
            items=[models.Item(title=title) for title in titles],
        )
        db.add(user)
        added += 1
    db.commit()
    return added


def main() -> None:
    models.Base.metadata.create_all(bind=database.engine)
    with database.session_scope() as db:
        added = seed(db)
    audit.record(None, "seed", f"{added} demo users")
    database.ScopedSession.remove()
    print(f"seeded {added} demo users")


if __name__ == "__main__":
    main()
