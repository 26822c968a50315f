"""Admin reports. Older than the rest of the API: it uses the thread's session directly."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

from fastapi import APIRouter, Depends
from sqlalchemy import func

from app import audit, schemas
from app.config import settings
from app.database import ScopedSession
from app.deps import CurrentUser, release_thread_session
from app.models import Item, Tag, User

router = APIRouter(
    prefix="/reports", tags=["reports"], dependencies=[Depends(release_thread_session)]
)


@router.get("/summary")
def summary() -> dict[str, int]:
    return {
        "users": ScopedSession.query(func.count(User.id)).scalar(),
        "active_users": ScopedSession.query(func.count(User.id)).filter(User.is_active).scalar(),
        "items": ScopedSession.query(func.count(Item.id)).scalar(),
        "tags": ScopedSession.query(func.count(Tag.id)).scalar(),
    }


@router.post("/users-export", response_model=schemas.ExportResult)
def export_users(current_user: CurrentUser):
    users = ScopedSession.query(User).order_by(User.id).all()
    settings.export_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = settings.export_dir / f"users-{stamp}.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "email", "full_name", "active", "items"])
        for user in users:
            writer.writerow(
                [user.id, user.email, user.full_name or "", user.is_active, len(user.items)]
            )
    audit.record(current_user.id, "export", path.name)
    return schemas.ExportResult(file=path.name, rows=len(users))


@router.get("/activity", response_model=list[schemas.AuditEntry])
def activity(limit: int = 50):
    return audit.recent(limit)
